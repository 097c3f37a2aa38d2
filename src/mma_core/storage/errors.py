"""Failures of the store itself, as opposed to broken rules.

A locked SQLite file, a lost PostgreSQL connection or an exhausted connection pool says nothing
about the command: the same call may succeed a moment later. They reach the caller as
:class:`StoreUnavailable` (never a ``DomainError``), with the driver's error chained as
``__cause__`` and no password in the message.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar, ParamSpec, TypeVar

from eventsourcing.persistence import IntegrityError, PersistenceError

from mma_core.domain.jsontypes import JSONObject

P = ParamSpec("P")
T = TypeVar("T")


class StoreUnavailable(Exception):
    """The store could not be reached or used (locked, disconnected, too busy).

    Nothing is known to have been written: retry later, with the same ``request_id`` so that a
    command that did go through is not recorded twice.
    """

    code: ClassVar[str] = "store_unavailable"
    http_status: ClassVar[int] = 503

    def __init__(self, message: str, *, store: str = "") -> None:
        super().__init__(message)
        self.store = store

    def to_dict(self, lang: str | None = None) -> JSONObject:
        """As ``DomainError.to_dict``; ``lang`` is accepted for the same signature (a store's
        failure is reported as the driver words it)."""
        return {
            "code": self.code,
            "type": type(self).__name__,
            "message": str(self),
            "municipality": None,
            "details": {"store": self.store},
        }


class StoreVersionError(StoreUnavailable):
    """The store's schema is of another version than this library can use: written by a newer
    version of the library, or older and waiting for ``mma store upgrade``."""

    code: ClassVar[str] = "store_version"


def _is_store_failure(error: BaseException) -> bool:
    if isinstance(error, IntegrityError | sqlite3.IntegrityError):
        return False  # a conflict between writers: the command retries it
    if isinstance(error, PersistenceError | sqlite3.Error):
        return True
    try:
        import psycopg
    except ImportError:  # pragma: no cover - PostgreSQL support not installed
        return False
    return isinstance(error, psycopg.OperationalError | psycopg.InterfaceError)


def redact(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


@contextmanager
def translated(store: str, secrets: tuple[str, ...] = ()) -> Iterator[None]:
    """Raise the store's own failures as :class:`StoreUnavailable`.

    ``store`` names the store without its password (``storage.describe``); ``secrets`` are
    removed from the driver's message should it repeat one.
    """
    try:
        yield
    except StoreUnavailable:
        raise
    except Exception as error:
        if not _is_store_failure(error):
            raise
        detail = str(error).strip().splitlines()[0] if str(error).strip() else ""
        detail = redact(detail, secrets)
        kind = type(error).__name__
        message = f"the store {store} is unavailable ({kind}: {detail}); try again later"
        raise StoreUnavailable(message, store=store) from error


def guarded(method: Callable[P, T]) -> Callable[P, T]:
    """Run a Programme method with its store failures raised as :class:`StoreUnavailable`."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        self: Any = args[0]
        with translated(self.store_label, self.store_secrets):
            return method(*args, **kwargs)

    return wrapper


__all__ = ["StoreUnavailable", "StoreVersionError", "guarded", "translated"]
