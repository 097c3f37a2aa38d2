"""Answer links: a one-time, expiring, revocable token bound to one municipality.

The token itself is shown once, when the link is made (to print on the invitation letter);
the store keeps only its SHA-256 digest, in a table of this plugin's own, ``mma_web_links``,
in the same database as the events (SQLite file or PostgreSQL schema). A link is not an event:
making or revoking one changes nothing in the programme's history, and the answer given through
it is recorded as ordinary events ``by`` the municipality with origin ``web``.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from mma_core import MunicipalityCode, Programme
from mma_web.tokens import Principal, Role, digest

TABLE = "mma_web_links"
DEFAULT_DAYS = 30
COLUMNS = "link_id, digest, code, created_by, created_at, expires_at, used_at, revoked_at"
Cursor = Any


@attrs.frozen
class Link:
    link_id: str
    code: str
    created_by: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None

    def usable(self, now: datetime) -> bool:
        return self.used_at is None and self.revoked_at is None and now < self.expires_at

    @property
    def principal(self) -> Principal:
        """The municipality answering: recorded as ``by`` on what it answers."""
        return Principal(Role.MUNICIPALITY, f"gemeente {self.code}", self.link_id, self.code)


def _time(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))


def _link(row: Any) -> Link:
    values = dict(row)
    return Link(
        link_id=str(values["link_id"]),
        code=str(values["code"]),
        created_by=str(values["created_by"]),
        created_at=_time(values["created_at"]) or datetime.now(UTC),
        expires_at=_time(values["expires_at"]) or datetime.now(UTC),
        used_at=_time(values["used_at"]),
        revoked_at=_time(values["revoked_at"]),
    )


class LinkStore:
    """The links table over a transaction factory (``?`` or ``%s`` placeholders)."""

    def __init__(
        self,
        transaction: Callable[[], AbstractContextManager[Cursor]],
        *,
        table: str = TABLE,
        placeholder: str = "?",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._transaction = transaction
        self.table = table
        self.clock = clock
        self._p = placeholder
        with self._transaction() as cursor:
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {table} ("
                "link_id TEXT PRIMARY KEY, digest TEXT NOT NULL UNIQUE, code TEXT NOT NULL, "
                "created_by TEXT NOT NULL, created_at TEXT NOT NULL, expires_at TEXT NOT NULL, "
                "used_at TEXT, revoked_at TEXT)"
            )

    @classmethod
    def for_programme(cls, programme: Programme) -> LinkStore:
        """In the programme's own database; an in-memory store gets an in-memory table."""
        datastore = getattr(programme.factory, "datastore", None)
        module = programme.env.get("PERSISTENCE_MODULE", "")
        if datastore is not None and module == "eventsourcing.postgres":
            schema = getattr(datastore, "schema", "public")

            def pg() -> AbstractContextManager[Cursor]:
                return datastore.transaction(commit=True)  # type: ignore[no-any-return]

            return cls(pg, table=f'"{schema}".{TABLE}', placeholder="%s")
        if datastore is not None and module == "eventsourcing.sqlite":

            def lite() -> AbstractContextManager[Cursor]:
                return datastore.transaction(commit=True)  # type: ignore[no-any-return]

            return cls(lite)
        return cls.in_memory()

    @classmethod
    def in_memory(cls) -> LinkStore:
        connection = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        connection.row_factory = sqlite3.Row
        lock = threading.Lock()

        @contextmanager
        def transaction() -> Iterator[sqlite3.Cursor]:
            with lock:
                cursor = connection.cursor()
                cursor.execute("BEGIN")
                try:
                    yield cursor
                except BaseException:
                    connection.rollback()
                    raise
                connection.commit()

        return cls(transaction)

    def _sql(self, text: str) -> str:
        return text.replace("?", self._p).replace("{table}", self.table)

    def _rows(self, text: str, params: Sequence[Any]) -> list[Any]:
        with self._transaction() as cursor:
            cursor.execute(self._sql(text), tuple(params))
            return list(cursor.fetchall())

    def create(self, code: str, *, by: str, days: int = DEFAULT_DAYS) -> tuple[str, Link]:
        """A new link for ``code``; returns the token (shown only now) and the link."""
        parsed = MunicipalityCode.parse(code).value
        if not 1 <= days <= 366:
            raise ValueError("a link is valid for 1 to 366 days")
        token = secrets.token_urlsafe(32)
        now = self.clock()
        link_id = secrets.token_hex(6)
        with self._transaction() as cursor:
            cursor.execute(
                self._sql(f"INSERT INTO {{table}} ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),  # noqa: S608 - constant table and columns
                (
                    link_id,
                    digest(token),
                    parsed,
                    by,
                    now.isoformat(),
                    (now + timedelta(days=days)).isoformat(),
                    None,
                    None,
                ),
            )
        return token, self._get("link_id", link_id) or _never()

    def get(self, link_id: str) -> Link | None:
        return self._get("link_id", link_id)

    def _get(self, column: str, value: str) -> Link | None:
        rows = self._rows(f"SELECT {COLUMNS} FROM {{table}} WHERE {column} = ?", [value])  # noqa: S608 - constant table and columns
        return _link(rows[0]) if rows else None

    def resolve(self, token: str) -> Link | None:
        """The link the token opens, if it can still be used."""
        link = self._get("digest", digest(token))
        return link if link is not None and link.usable(self.clock()) else None

    def use(self, link: Link) -> bool:
        """Mark the link used; ``False`` if it was used or revoked meanwhile."""
        with self._transaction() as cursor:
            cursor.execute(
                self._sql(
                    "UPDATE {table} SET used_at = ? WHERE link_id = ? AND used_at IS NULL "
                    "AND revoked_at IS NULL"
                ),
                (self.clock().isoformat(), link.link_id),
            )
            return _changed(cursor)

    def release(self, link: Link) -> None:
        """Undo :meth:`use` when the answer could not be recorded: the link works again."""
        with self._transaction() as cursor:
            cursor.execute(
                self._sql("UPDATE {table} SET used_at = NULL WHERE link_id = ?"), (link.link_id,)
            )

    def revoke(self, link_id: str) -> bool:
        with self._transaction() as cursor:
            cursor.execute(
                self._sql(
                    "UPDATE {table} SET revoked_at = ? WHERE link_id = ? AND revoked_at IS NULL"
                ),
                (self.clock().isoformat(), link_id),
            )
            return _changed(cursor)

    def links(self, code: str | None = None) -> list[Link]:
        if code is None:
            rows = self._rows(f"SELECT {COLUMNS} FROM {{table}} ORDER BY created_at", [])  # noqa: S608 - constant table and columns
        else:
            rows = self._rows(
                f"SELECT {COLUMNS} FROM {{table}} WHERE code = ? ORDER BY created_at",  # noqa: S608 - constant table and columns
                [MunicipalityCode.parse(code).value],
            )
        return [_link(row) for row in rows]


def _changed(cursor: Cursor) -> bool:
    """Whether the UPDATE changed one row (eventsourcing wraps SQLite's cursor)."""
    return bool(getattr(cursor, "sqlite_cursor", cursor).rowcount == 1)


def _never() -> Link:
    raise RuntimeError("the link just written cannot be read back")
