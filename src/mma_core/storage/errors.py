"""Failures of the store itself, as opposed to broken rules, each with a stable code, in the
reader's language, with advice that fits.

Two kinds, because a service must know whether trying again can help:

- **transient** (:class:`StoreUnavailable`, and :class:`StoreBusy` for a lock not got in
  time): a lost connection, a server starting or restarting, another process holding the
  write lock, a full disk. The same call may succeed a moment later; retry it with the same
  ``request_id`` so that a command that did go through is not recorded twice.
- **permanent** (:class:`StoreMisconfigured`: a folder or database that does not exist, a
  schema missing under ``create=False``, a schema version newer than this library;
  :class:`StoreForbidden`: the database role or the file's permissions do not allow it).
  Trying again changes nothing: a person must act first.

Every one is a :class:`StoreError` (never a ``DomainError``), with the driver's error chained as
``__cause__`` and no password in the message; ``transient`` says which kind it is, ``reason``
what exactly (``connection``, ``busy``, ``disk_full``, ``missing_folder``, ...).
"""

from __future__ import annotations

import errno
import functools
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, ParamSpec, TypeVar

from eventsourcing.persistence import IntegrityError, PersistenceError

from mma_core.domain.jsontypes import JSONObject
from mma_core.language.i18n import _

P = ParamSpec("P")
T = TypeVar("T")


class StoreError(Exception):
    """The store could not be used. ``transient``: whether trying again may help."""

    code: ClassVar[str] = "store_error"
    transient: ClassVar[bool] = False

    http_status: ClassVar[int] = 500  # permanent: no retry will help

    def __init__(
        self, message: str, *, store: str = "", reason: str = "", advice: str = ""
    ) -> None:
        super().__init__(f"{message}; {advice}" if advice else message)
        self.store = store
        self.reason = reason
        self.advice = advice

    def __reduce__(self) -> Any:
        return _rebuild, (type(self), str(self), self.store, self.reason, self.advice)

    def to_dict(self, lang: str | None = None) -> JSONObject:
        """As ``DomainError.to_dict``; ``lang`` is accepted for the same signature (a store's
        failure is reported as the driver words it)."""
        return {
            "code": self.code,
            "type": type(self).__name__,
            "message": str(self),
            "municipality": None,
            "details": {
                "store": self.store,
                "reason": self.reason,
                "transient": self.transient,
                "advice": self.advice,
            },
        }


def _rebuild(cls: type[StoreError], text: str, store: str, reason: str, advice: str) -> StoreError:
    error = cls.__new__(cls)
    Exception.__init__(error, text)
    error.store, error.reason, error.advice = store, reason, advice
    return error


class StoreUnavailable(StoreError):
    """The store could not be reached or used for now (disconnected, restarting, too busy).

    Nothing is known to have been written: retry later, with the same ``request_id`` so that a
    command that did go through is not recorded twice.
    """

    code: ClassVar[str] = "store_unavailable"
    transient: ClassVar[bool] = True
    http_status: ClassVar[int] = 503  # with Retry-After: trying again may help


class StoreBusy(StoreUnavailable):
    """Another process held the store's lock longer than the lock timeout (``MMA_LOCK_TIMEOUT``,
    ``lock_timeout=``). Nothing was written; try again in a moment."""

    code: ClassVar[str] = "store_busy"


class StoreMisconfigured(StoreError):
    """The store cannot be used as configured (a missing folder or database, tables missing,
    a schema version this library cannot use): trying again will not help."""

    code: ClassVar[str] = "store_misconfigured"


class StoreForbidden(StoreError):
    """The database role or the file's permissions do not allow what was asked."""

    code: ClassVar[str] = "store_forbidden"


class StoreVersionError(StoreMisconfigured):
    """The store's schema is of another version than this library can use: written by a newer
    version of the library, or older and waiting for ``mma store upgrade``."""

    code: ClassVar[str] = "store_version"


def advice_for(reason: str, store: str = "") -> str:
    """What a person should do about a store failure of this ``reason``, in their language."""
    if reason == "busy":
        return _(
            "another process holds the store's lock; try again in a moment (with the same "
            "request_id), or allow a longer wait with MMA_LOCK_TIMEOUT"
        )
    if reason == "disk_full":
        return _("the disk is full: make space on it, then try again")
    if reason == "disk_io":
        return _(
            "the store's file could not be written (a full disk, a file size limit, or a "
            "failing disk): make space or check the disk, then try again"
        )
    if reason == "missing_folder":
        return _(
            "the folder of the store file does not exist: create it or correct the store URL; "
            "trying again will not help"
        )
    if reason in ("missing_database", "missing_store"):
        return _(
            "the database or store named does not exist: create it or correct the store URL; "
            "trying again will not help"
        )
    if reason == "missing_tables":
        return _(
            "the store's tables are missing: run 'mma store upgrade' once, with a database "
            "role that may create tables; trying again will not help"
        )
    if reason == "not_a_store":
        return _("the file is not an SQLite database: correct the store URL")
    if reason == "schema_version":
        return _("see the message for the command that brings store and library together")
    if reason == "forbidden":
        return _(
            "grant the database role (or the account running mma) the rights it lacks, see "
            "docs/operations.md; trying again will not help"
        )
    if reason == "authentication":
        return _("check the user name and password in the store URL; trying again will not help")
    return _(
        "try again in a moment (with the same request_id); if it lasts, check that the "
        "database server runs and can be reached"
    )


_TRANSIENT_SQLSTATE_CLASSES = ("08", "40", "53", "57", "58", "55")
_SQLSTATE_REASONS = {
    "42501": "forbidden",
    "28P01": "authentication",
    "28000": "authentication",
    "3D000": "missing_database",
    "3F000": "missing_database",
    "42P01": "missing_tables",
    "55P03": "busy",
    "53100": "disk_full",
}


def _sqlstate(error: BaseException) -> str | None:
    seen: BaseException | None = error
    while seen is not None:
        state = getattr(seen, "sqlstate", None)
        if isinstance(state, str) and state:
            return state
        seen = seen.__cause__
    return None


def _sqlite_error(error: BaseException) -> sqlite3.Error | None:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, sqlite3.Error):
            return seen
        seen = seen.__cause__
    return None


def classify(error: BaseException, path: str = "") -> tuple[type[StoreError], str]:
    """The class and reason of a store failure (``path``: an SQLite store's file)."""
    if isinstance(error, StoreError):
        return type(error), error.reason
    state = _sqlstate(error)
    if state is not None:
        reason = _SQLSTATE_REASONS.get(state, "")
        if reason in ("forbidden", "authentication"):
            return StoreForbidden, reason
        if reason in ("missing_database", "missing_tables"):
            return StoreMisconfigured, reason
        if reason == "busy":
            return StoreBusy, reason
        if state[:2] in _TRANSIENT_SQLSTATE_CLASSES:
            return StoreUnavailable, reason or "connection"
        return StoreMisconfigured, "database"
    text = str(_sqlite_error(error) or error).lower()
    # libpq's refusals at connection time carry no SQLSTATE: their words say what it was.
    if "password authentication failed" in text or ("role" in text and "does not exist" in text):
        return StoreForbidden, "authentication"
    if "database" in text and "does not exist" in text:
        return StoreMisconfigured, "missing_database"
    if "permission denied for database" in text:
        return StoreForbidden, "forbidden"
    if "locked" in text or "busy" in text:
        return StoreBusy, "busy"
    if "disk is full" in text or "database or disk is full" in text:
        return StoreUnavailable, "disk_full"
    if "disk i/o error" in text:  # SQLite's word for a write refused: EFBIG, EIO
        return StoreUnavailable, "disk_io"
    if "readonly" in text or "read-only" in text or "permission denied" in text:
        return StoreForbidden, "forbidden"
    if "no such table" in text:
        return StoreMisconfigured, "missing_tables"
    if "file is not a database" in text:
        return StoreMisconfigured, "not_a_store"
    if "unable to open database file" in text or "cannot create the file" in text:
        return _file_problem(path)
    return StoreUnavailable, "connection"


def _file_problem(path: str) -> tuple[type[StoreError], str]:
    """Why an SQLite file could not be opened: its folder missing, or not ours to use."""
    if path:
        folder = Path(path).parent
        if not folder.is_dir():
            return StoreMisconfigured, "missing_folder"
        if not os.access(folder, os.W_OK | os.X_OK) or (
            Path(path).exists() and not os.access(path, os.R_OK | os.W_OK)
        ):
            return StoreForbidden, "forbidden"
    return StoreUnavailable, "connection"


def from_os_error(error: OSError, store: str, path: str) -> StoreError:
    """A store error for a file that could not be created or opened."""
    cls: type[StoreError]
    if error.errno == errno.ENOENT:
        cls, reason = StoreMisconfigured, "missing_folder"
    elif error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        cls, reason = StoreForbidden, "forbidden"
    elif error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        cls, reason = StoreUnavailable, "disk_full"
    else:
        cls, reason = _file_problem(path)
    if reason in ("missing_folder", "forbidden", "disk_full"):
        # The advice names the cause in the reader's language; the system's own words for it
        # are English and would only repeat it.
        message = _("the store {store} cannot be used").format(store=store)
    else:
        detail = error.strerror or type(error).__name__
        message = _("the store {store} cannot be used ({detail})").format(
            store=store, detail=detail
        )
    return cls(message, store=store, reason=reason, advice=advice_for(reason, store))


def _is_store_failure(error: BaseException) -> bool:
    if isinstance(error, IntegrityError | sqlite3.IntegrityError):
        return False  # a conflict between writers: the command retries it
    if isinstance(error, PersistenceError | sqlite3.Error):
        return True
    try:
        import psycopg
    except ImportError:  # pragma: no cover - PostgreSQL support not installed
        return False
    return isinstance(error, psycopg.OperationalError | psycopg.InterfaceError | psycopg.Error)


def redact(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def store_error(
    error: BaseException, store: str, secrets: tuple[str, ...] = (), path: str = ""
) -> StoreError:
    """The :class:`StoreError` for a driver's failure: classified, explained, redacted."""
    detail = str(error).strip().splitlines()[0] if str(error).strip() else ""
    detail = redact(detail, secrets)
    cls, reason = classify(error, path)
    kind = type(error).__name__
    if cls is StoreBusy:
        what = _("the store {store} is busy ({kind}: {detail})")
    elif cls is StoreUnavailable:
        what = _("the store {store} is unavailable ({kind}: {detail})")
    elif cls is StoreForbidden:
        what = _("the store {store} may not be used this way ({kind}: {detail})")
    else:
        what = _("the store {store} cannot be used as configured ({kind}: {detail})")
    message = what.format(store=store, kind=kind, detail=detail)
    return cls(message, store=store, reason=reason, advice=advice_for(reason, store))


@contextmanager
def translated(store: str, secrets: tuple[str, ...] = (), path: str = "") -> Iterator[None]:
    """Raise the store's own failures as a :class:`StoreError` of the kind that fits.

    ``store`` names the store without its password (``storage.describe``); ``secrets`` are
    removed from the driver's message should it repeat one; ``path`` is an SQLite store's
    file, to tell a missing folder from a permission denied.
    """
    try:
        yield
    except StoreError:
        raise
    except Exception as error:
        if not _is_store_failure(error):
            raise
        raise store_error(error, store, secrets, path) from error


def guarded(method: Callable[P, T]) -> Callable[P, T]:
    """Run a Programme method with its store failures raised as a :class:`StoreError`."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        self: Any = args[0]
        with translated(self.store_label, self.store_secrets, store_path(self)):
            return method(*args, **kwargs)

    return wrapper


def store_path(app: Any) -> str:
    """An SQLite store's file ('' for the other stores)."""
    env = getattr(app, "env", None)
    if env is None or env.get("PERSISTENCE_MODULE", "") != "eventsourcing.sqlite":
        return ""
    return str(env.get("SQLITE_DBNAME", ""))


__all__ = [
    "StoreBusy",
    "StoreError",
    "StoreForbidden",
    "StoreMisconfigured",
    "StoreUnavailable",
    "StoreVersionError",
    "advice_for",
    "classify",
    "guarded",
    "store_error",
    "translated",
]
