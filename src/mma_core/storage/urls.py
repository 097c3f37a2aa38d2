"""Store URLs: one URL names one programme (``memory://``, ``sqlite:///path`` or
``postgresql://user:pw@host/db``), read into eventsourcing's environment from the URL alone."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from urllib.parse import parse_qs, unquote, urlsplit

from mma_core.domain.errors import InvalidInput
from mma_core.language.i18n import N_, _

DEFAULT_STORE = "sqlite:///mma.sqlite"
LOCK_TIMEOUT_ENV = "MMA_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT = 5.0  # seconds a command waits for a lock before StoreBusy
CONNECT_TIMEOUT = 5  # seconds, at least, a command waits for a PostgreSQL connection
LOCK_TIMEOUT_KEY = "MMA_LOCK_TIMEOUT"  # the bound, in seconds, as the store's environment keeps it
# urllib's reasons for a malformed URL, in the reader's language (they hold no password).
_URL_REASONS = {
    "Invalid IPv6 URL": N_("an IPv6 address in brackets is not closed"),
    "Port out of range 0-65535": N_("the port is not a number from 0 to 65535"),
}


def lock_timeout_from(value: float | None, env: Mapping[str, str] | None = None) -> float:
    """The bound on every wait for a lock: ``value`` if given, else ``MMA_LOCK_TIMEOUT``, else
    5 seconds. A number of seconds above 0, else :class:`InvalidInput`."""
    name = "lock_timeout"
    if value is None:
        name = LOCK_TIMEOUT_ENV
        text = (os.environ if env is None else env).get(LOCK_TIMEOUT_ENV, "").strip()
        if not text:
            return DEFAULT_LOCK_TIMEOUT
        try:
            value = float(text)
        except ValueError:
            value = math.nan
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise InvalidInput(_("{name} is a number of seconds above 0, e.g. 5").format(name=name))
    return float(value)


def store_env(url: str, *, lock_timeout: float | None = None) -> dict[str, str]:
    """The eventsourcing environment for a store URL, from the URL alone (and the bound on
    lock waits: ``lock_timeout``, else ``MMA_LOCK_TIMEOUT``, else 5 seconds)."""
    bound = lock_timeout_from(lock_timeout)
    # eventsourcing takes whole seconds: SQLite's busy timeout, PostgreSQL's lock_timeout.
    whole = str(max(1, math.ceil(bound)))
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number from 0 to 65535
    except ValueError as error:
        # urllib's reasons ("Port out of range 0-65535", "Invalid IPv6 URL") hold no password.
        raise InvalidInput(
            _(
                "the store URL is malformed ({error}); e.g. sqlite:///mma.sqlite or "
                "postgresql://USER:PASSWORD@HOST:5432/DB"
            ).format(error=_(_URL_REASONS[str(error)]) if str(error) in _URL_REASONS else error)
        ) from None
    scheme = parts.scheme.lower()
    if scheme == "memory":
        return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    if scheme == "sqlite":
        path = unquote(parts.path if not parts.netloc else parts.netloc + parts.path)
        # sqlite:///relative.db -> "/relative.db"; sqlite:////abs/path.db -> "//abs/path.db"
        if path.startswith("//") or path.startswith("/"):
            path = path[1:]
        if not path:
            raise InvalidInput(
                _("store URL {url} names no file; e.g. sqlite:///mma.sqlite").format(url=repr(url))
            )
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": path,
            "SQLITE_LOCK_TIMEOUT": whole,
            LOCK_TIMEOUT_KEY: repr(bound),
        }
    if scheme in ("postgresql", "postgres"):
        try:
            import psycopg  # noqa: F401 - only to say what is missing, before eventsourcing fails
        except ImportError:
            raise InvalidInput(
                _(
                    "a postgresql:// store needs the PostgreSQL driver, which is not installed: "
                    "pip install 'mma-core[postgres]'"
                )
            ) from None
        query = parse_qs(parts.query)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": unquote(parts.path.lstrip("/")) or "postgres",
            "POSTGRES_HOST": parts.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            "POSTGRES_SCHEMA": query.get("schema", ["public"])[0],
            "POSTGRES_LOCK_TIMEOUT": whole,
            # How long a command waits for a connection (the server stopped, restarting):
            # then StoreUnavailable, never a wait of eventsourcing's default 30 s.
            "POSTGRES_CONNECT_TIMEOUT": str(max(CONNECT_TIMEOUT, math.ceil(bound))),
            "POSTGRES_POOL_SIZE": "4",
            LOCK_TIMEOUT_KEY: repr(bound),
        }
    raise InvalidInput(
        _(
            "store URL scheme {scheme} is not supported; use memory://, sqlite:///PATH or "
            "postgresql://USER:PASSWORD@HOST:PORT/DB"
        ).format(scheme=repr(scheme))
    )


def describe(url: str) -> str:
    """The URL without its password, for messages and logs."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(a malformed URL)"
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url
