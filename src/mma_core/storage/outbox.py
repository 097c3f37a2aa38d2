"""Where the notification outbox keeps its tracking position and its planned deliveries: its own
tables in the programme's database (``mma_delivery_tracking``, ``mma_delivery_outbox``), or memory
for ``memory://``. The outbox (``mma_core.outbox.delivery``) decides what to send; this module
only stores it, so the migrations and the health check can reach the tables without the outbox.
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, uuid5

import attrs

from mma_core.language.i18n import _
from mma_core.storage.schema import schema_prefix

__all__ = [
    "DEAD",
    "DELIVERED",
    "DROPPED",
    "PENDING",
    "DeliveryBusy",
    "MemoryOutboxStore",
    "OutboxRow",
    "OutboxStore",
    "SQLOutboxStore",
    "outbox_store",
]

PENDING, DELIVERED, DEAD, DROPPED = "pending", "delivered", "dead", "dropped"


class DeliveryBusy(RuntimeError):
    """Another delivery run holds the outbox's lease."""


@attrs.frozen
class OutboxRow:
    """One planned delivery: an event (or deadline), a channel and the rule that asked for it."""

    event_id: str
    channel: str
    key: str  # "PLUGIN:RULE"
    position: int  # the event's notification position; 0 for a deadline
    event_type: str
    code: str | None
    due_on: date | None
    status: str = PENDING
    attempts: int = 0
    next_at: datetime | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None

    @property
    def plugin(self) -> str:
        return self.key.split(":", 1)[0]

    @property
    def rule(self) -> str:
        return self.key.split(":", 1)[1]

    @property
    def delivery_id(self) -> str:
        return str(uuid5(NAMESPACE_URL, f"/deliveries/{self.event_id}/{self.channel}/{self.key}"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "position": self.position,
            "event_type": self.event_type,
            "code": self.code,
            "channel": self.channel or None,
            "rule": self.key,
            "status": self.status,
            "attempts": self.attempts,
            "next_attempt_at": None if self.next_at is None else self.next_at.isoformat(),
            "last_error": self.last_error,
            "delivery_id": self.delivery_id,
        }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def _dt(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _day(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


class OutboxStore:
    """Where the outbox keeps its position and its rows."""

    def position(self) -> int:
        raise NotImplementedError

    def plan(self, rows: Sequence[OutboxRow], position: int | None) -> int:
        """Add the rows not planned yet and (if given) move the position, atomically.
        Returns how many rows were new."""
        raise NotImplementedError

    def rows(self, status: str | None = None) -> list[OutboxRow]:
        raise NotImplementedError

    def update(self, row: OutboxRow) -> None:
        raise NotImplementedError

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the store's delivery lock for a run; :class:`DeliveryBusy` if another has it.
        The lock dies with its process, so a killed run never blocks the next."""
        raise NotImplementedError
        yield


class MemoryOutboxStore(OutboxStore):
    def __init__(self) -> None:
        self._position = 0
        self._rows: dict[tuple[str, str, str], OutboxRow] = {}
        self._lock = threading.Lock()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with _memory_lock(self):
            yield

    def position(self) -> int:
        return self._position

    def plan(self, rows: Sequence[OutboxRow], position: int | None) -> int:
        with self._lock:
            new = 0
            for row in rows:
                key = (row.event_id, row.channel, row.key)
                if key not in self._rows:
                    self._rows[key] = row
                    new += 1
            if position is not None:
                self._position = max(self._position, position)
            return new

    def rows(self, status: str | None = None) -> list[OutboxRow]:
        with self._lock:
            found = [r for r in self._rows.values() if status is None or r.status == status]
        return sorted(found, key=lambda r: (r.position, r.event_id, r.key, r.channel))

    def update(self, row: OutboxRow) -> None:
        with self._lock:
            self._rows[(row.event_id, row.channel, row.key)] = row


_MEMORY_STORES: weakref.WeakKeyDictionary[Any, MemoryOutboxStore] = weakref.WeakKeyDictionary()

_COLUMNS = (
    "event_id, channel, rule, position, event_type, code, due_on, status, attempts, next_at, "
    "last_error, delivered_at"
)


class SQLOutboxStore(OutboxStore):
    """The outbox tables in the programme's own SQLite or PostgreSQL database."""

    def __init__(self, datastore: Any, *, postgres: bool, create: bool = True) -> None:
        self.datastore = datastore
        self.postgres = postgres
        prefix = schema_prefix(datastore) if postgres else ""
        self.tracking = f"{prefix}mma_delivery_tracking"
        self.outbox = f"{prefix}mma_delivery_outbox"
        if not create:  # a role that may not run DDL: the tables exist (mma store upgrade)
            return
        with self._transaction() as c:
            c.execute(
                f"CREATE TABLE IF NOT EXISTS {self.tracking} ("
                "name TEXT PRIMARY KEY, position BIGINT NOT NULL)"
            )
            c.execute(
                f"CREATE TABLE IF NOT EXISTS {self.outbox} ("
                "event_id TEXT NOT NULL, channel TEXT NOT NULL, rule TEXT NOT NULL, "
                "position BIGINT NOT NULL, event_type TEXT NOT NULL, code TEXT, due_on TEXT, "
                "status TEXT NOT NULL, attempts INTEGER NOT NULL, next_at TEXT, "
                "last_error TEXT, delivered_at TEXT, PRIMARY KEY (event_id, channel, rule))"
            )

    def _sql(self, statement: str) -> str:
        return statement.replace("?", "%s") if self.postgres else statement

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        with self.datastore.transaction(commit=True) as cursor:
            yield cursor

    def position(self) -> int:
        with self._transaction() as c:
            c.execute(self._sql(f"SELECT position FROM {self.tracking} WHERE name=?"), ("outbox",))  # noqa: S608
            row = c.fetchone()
        return 0 if row is None else int(row["position"])

    def plan(self, rows: Sequence[OutboxRow], position: int | None) -> int:
        new = 0
        with self._transaction() as c:
            for row in rows:
                c.execute(
                    self._sql(
                        f"SELECT 1 FROM {self.outbox} WHERE event_id=? AND channel=? AND rule=?"  # noqa: S608
                    ),
                    (row.event_id, row.channel, row.key),
                )
                if c.fetchone() is not None:
                    continue
                c.execute(
                    self._sql(
                        f"INSERT INTO {self.outbox} ({_COLUMNS}) "  # noqa: S608
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    ),
                    self._values(row),
                )
                new += 1
            if position is not None:
                c.execute(
                    self._sql(
                        f"INSERT INTO {self.tracking} (name, position) VALUES (?, ?) "  # noqa: S608
                        "ON CONFLICT (name) DO UPDATE SET position = excluded.position "
                        f"WHERE excluded.position > {self.tracking}.position"
                    ),
                    ("outbox", position),
                )
        return new

    @staticmethod
    def _values(row: OutboxRow) -> tuple[Any, ...]:
        return (
            row.event_id,
            row.channel,
            row.key,
            row.position,
            row.event_type,
            row.code,
            None if row.due_on is None else row.due_on.isoformat(),
            row.status,
            row.attempts,
            _iso(row.next_at),
            row.last_error,
            _iso(row.delivered_at),
        )

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        if self.postgres:
            with self._advisory_lock():
                yield
            return
        pool = self.datastore.pool
        if pool.is_sqlite_memory_mode:
            with _memory_lock(self):
                yield
            return
        with _file_lock(Path(str(pool.db_name) + ".notify-lock")):
            yield

    @contextmanager
    def _advisory_lock(self) -> Iterator[None]:
        key = int.from_bytes(hashlib.sha256(self.outbox.encode()).digest()[:8], "big", signed=True)
        with self.datastore.get_connection() as conn:
            row = conn.execute("SELECT pg_try_advisory_lock(%s) AS locked", (key,)).fetchone()
            if not row["locked"]:
                raise DeliveryBusy(_("another delivery run holds the outbox; try again later"))
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (key,))

    def rows(self, status: str | None = None) -> list[OutboxRow]:
        where = "" if status is None else "WHERE status=?"
        with self._transaction() as c:
            c.execute(
                self._sql(
                    f"SELECT {_COLUMNS} FROM {self.outbox} {where} "  # noqa: S608
                    "ORDER BY position, event_id, rule, channel"
                ),
                () if status is None else (status,),
            )
            found = c.fetchall()
        return [
            OutboxRow(
                event_id=r["event_id"],
                channel=r["channel"],
                key=r["rule"],
                position=int(r["position"]),
                event_type=r["event_type"],
                code=r["code"],
                due_on=_day(r["due_on"]),
                status=r["status"],
                attempts=int(r["attempts"]),
                next_at=_dt(r["next_at"]),
                last_error=r["last_error"],
                delivered_at=_dt(r["delivered_at"]),
            )
            for r in found
        ]

    def update(self, row: OutboxRow) -> None:
        with self._transaction() as c:
            c.execute(
                self._sql(
                    f"UPDATE {self.outbox} SET status=?, attempts=?, next_at=?, "  # noqa: S608
                    "last_error=?, delivered_at=? WHERE event_id=? AND channel=? AND rule=?"
                ),
                (
                    row.status,
                    row.attempts,
                    _iso(row.next_at),
                    row.last_error,
                    _iso(row.delivered_at),
                    row.event_id,
                    row.channel,
                    row.key,
                ),
            )


_PROCESS_LOCKS: weakref.WeakKeyDictionary[Any, threading.Lock] = weakref.WeakKeyDictionary()


@contextmanager
def _memory_lock(owner: Any) -> Iterator[None]:
    lock = _PROCESS_LOCKS.setdefault(owner, threading.Lock())
    if not lock.acquire(blocking=False):
        raise DeliveryBusy(_("another delivery run is going on in this process"))
    try:
        yield
    finally:
        lock.release()


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on a file beside the SQLite store, released when the process ends."""
    import fcntl

    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DeliveryBusy(
                _("another delivery run holds the outbox; try again later")
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def outbox_store(env: Mapping[str, str], recorder: Any, *, create: bool = True) -> OutboxStore:
    """The outbox store of a programme (its ``env`` and ``recorder``): its own tables in the
    same database, or a store kept per recorder in memory."""
    module = env.get("PERSISTENCE_MODULE", "")
    if module == "eventsourcing.sqlite":
        return SQLOutboxStore(recorder.datastore, postgres=False, create=create)
    if module == "eventsourcing.postgres":
        return SQLOutboxStore(recorder.datastore, postgres=True, create=create)
    store = _MEMORY_STORES.get(recorder)
    if store is None:
        store = _MEMORY_STORES[recorder] = MemoryOutboxStore()
    return store
