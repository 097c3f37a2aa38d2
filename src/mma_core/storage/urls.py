"""Store URLs: one URL names one programme (``memory://``, ``sqlite:///path`` or
``postgresql://user:pw@host/db``), read into eventsourcing's environment from the URL alone."""

from __future__ import annotations

from urllib.parse import parse_qs, unquote, urlsplit

from mma_core.domain.errors import InvalidInput
from mma_core.language.i18n import N_, _

DEFAULT_STORE = "sqlite:///mma.sqlite"
# urllib's reasons for a malformed URL, in the reader's language (they hold no password).
_URL_REASONS = {
    "Invalid IPv6 URL": N_("an IPv6 address in brackets is not closed"),
    "Port out of range 0-65535": N_("the port is not a number from 0 to 65535"),
}


def store_env(url: str) -> dict[str, str]:
    """The eventsourcing environment for a store URL, from the URL alone."""
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
            "SQLITE_LOCK_TIMEOUT": "30",
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
            "POSTGRES_LOCK_TIMEOUT": "30",
            "POSTGRES_POOL_SIZE": "4",
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
