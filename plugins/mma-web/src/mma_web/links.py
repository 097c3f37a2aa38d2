"""Answer links: a one-time, expiring, revocable token bound to one municipality.

The token itself is shown once, when the link is made (to print on the invitation letter);
the store keeps only its SHA-256 digest, in a table of this plugin's own, ``mma_web_links``,
in the same database as the events (SQLite file or PostgreSQL schema). A link is not an event:
making or revoking one changes nothing in the programme's history, and the answer given through
it is recorded as ordinary events ``by`` the municipality with origin ``web``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from mma_core import MunicipalityCode, Programme
from mma_web.db import Database
from mma_web.tokens import Principal, Role, digest

TABLE = "mma_web_links"
DEFAULT_DAYS = 30
SELECT_LINKS = (
    "SELECT link_id, digest, code, created_by, created_at, expires_at, used_at, revoked_at"
)


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
    """The links table in a :class:`~mma_web.db.Database`."""

    def __init__(
        self,
        database: Database,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = database
        self.clock = clock
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS {t} ("
            "link_id TEXT PRIMARY KEY, digest TEXT NOT NULL UNIQUE, code TEXT NOT NULL, "
            "created_by TEXT NOT NULL, created_at TEXT NOT NULL, expires_at TEXT NOT NULL, "
            "used_at TEXT, revoked_at TEXT)",
            t=TABLE,
        )

    @classmethod
    def for_programme(cls, programme: Programme) -> LinkStore:
        """In the programme's own database; an in-memory store gets an in-memory table."""
        return cls(Database.for_programme(programme))

    @classmethod
    def in_memory(cls) -> LinkStore:
        return cls(Database.in_memory())

    def _rows(self, text: str, params: Sequence[Any]) -> list[Any]:
        return self.db.rows(text, params, t=TABLE)

    def create(self, code: str, *, by: str, days: int = DEFAULT_DAYS) -> tuple[str, Link]:
        """A new link for ``code``; returns the token (shown only now) and the link."""
        parsed = MunicipalityCode.parse(code).value
        if not 1 <= days <= 366:
            raise ValueError("a link is valid for 1 to 366 days")
        token = secrets.token_urlsafe(32)
        now = self.clock()
        link_id = secrets.token_hex(6)
        self.db.execute(
            "INSERT INTO {t} (link_id, digest, code, created_by, created_at, expires_at, "
            "used_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
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
            t=TABLE,
        )
        return token, self._get("link_id", link_id) or _never()

    def get(self, link_id: str) -> Link | None:
        return self._get("link_id", link_id)

    def _get(self, column: str, value: str) -> Link | None:
        query = {
            "link_id": SELECT_LINKS + " FROM {t} WHERE link_id = ?",
            "digest": SELECT_LINKS + " FROM {t} WHERE digest = ?",
        }[column]
        rows = self._rows(query, [value])
        return _link(rows[0]) if rows else None

    def resolve(self, token: str) -> Link | None:
        """The link the token opens, if it can still be used. Opening a link does not use it
        up: only recording its answer does (:meth:`use`)."""
        link = self._get("digest", digest(token))
        return link if link is not None and link.usable(self.clock()) else None

    def use(self, link: Link) -> bool:
        """Mark the link used; ``False`` if it was used or revoked meanwhile."""
        return (
            self.db.execute(
                "UPDATE {t} SET used_at = ? WHERE link_id = ? AND used_at IS NULL "
                "AND revoked_at IS NULL",
                (self.clock().isoformat(), link.link_id),
                t=TABLE,
            )
            == 1
        )

    def release(self, link: Link) -> None:
        """Undo :meth:`use` when the answer could not be recorded: the link works again."""
        self.db.execute("UPDATE {t} SET used_at = NULL WHERE link_id = ?", (link.link_id,), t=TABLE)

    def revoke(self, link_id: str) -> bool:
        return (
            self.db.execute(
                "UPDATE {t} SET revoked_at = ? WHERE link_id = ? AND revoked_at IS NULL",
                (self.clock().isoformat(), link_id),
                t=TABLE,
            )
            == 1
        )

    def links(self, code: str | None = None) -> list[Link]:
        if code is None:
            rows = self._rows(SELECT_LINKS + " FROM {t} ORDER BY created_at", [])
        else:
            rows = self._rows(
                SELECT_LINKS + " FROM {t} WHERE code = ? ORDER BY created_at",
                [MunicipalityCode.parse(code).value],
            )
        return [_link(row) for row in rows]


def _never() -> Link:
    raise RuntimeError("the link just written cannot be read back")
