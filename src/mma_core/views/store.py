"""Where the read models live: beside the events, in the same store.

SQLite: tables in the same file; PostgreSQL: tables in the same schema; ``memory://``: dicts in
the same process. Each batch of view changes is written in ONE transaction together with the
tracking position (the notification id of the last event it reflects) and checked against the
position it started from. A crash loses the whole batch or nothing, and a second updater that
ran meanwhile makes this batch roll back instead of applying events twice: exactly once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any, Protocol

import attrs

from mma_core.domain.values import CostLine
from mma_core.storage.locks import DDL_LOCK  # the lock the application takes for its tables
from mma_core.storage.schema import schema_prefix
from mma_core.views.records import (
    LEDGER_COLUMNS,
    LedgerLine,
    MunicipalityRecord,
    SessionRecord,
)
from mma_core.views.source import ViewSource
from mma_core.views.state import CostEntry

TRACKING_NAME = "views"


@attrs.frozen
class Tracking:
    """How far the views reflect the log: the last position applied, and the latest business
    date among the municipality events applied (an as-of guard for "now" queries)."""

    position: int
    latest: date | None


@attrs.frozen
class Batch:
    """The view changes from one run of events, to write with the new tracking position."""

    start: Tracking
    end: Tracking
    municipalities: dict[str, tuple[int, str]]  # code -> (registration position, record JSON)
    sessions: dict[str, tuple[str, str]]  # session id -> (starts at, record JSON)
    ledger: list[LedgerLine]


class Conflict(Exception):
    """Another updater moved the position since this batch started; nothing was written."""


class ViewStore(Protocol):
    def tracking(self) -> Tracking: ...

    def write(self, batch: Batch) -> None:
        """Write the batch and its end position atomically, or raise :class:`Conflict`."""

    def reset(self) -> None:
        """Empty every view and set the position to 0, in one transaction."""

    def municipalities(self) -> list[MunicipalityRecord]: ...

    def sessions(self) -> list[SessionRecord]: ...

    def ledger(self, code: str | None = None, *, after: int = 0) -> list[LedgerLine]:
        """The ledger lines (of ``code``, if given) charged after position ``after``."""

    def costs(self, code: str, *, after: int = 0) -> list[tuple[int, CostEntry]]:
        """``code``'s cost lines after position ``after``, with their positions."""


class MemoryViewStore:
    """The views of a ``memory://`` store: as volatile as its events."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tracking = Tracking(0, None)
        self._municipalities: dict[str, tuple[int, str]] = {}
        self._sessions: dict[str, tuple[str, str]] = {}
        self._ledger: dict[tuple[int, int], LedgerLine] = {}

    def tracking(self) -> Tracking:
        with self._lock:
            return self._tracking

    def write(self, batch: Batch) -> None:
        with self._lock:
            if self._tracking != batch.start:
                raise Conflict
            for code, (registered, doc) in batch.municipalities.items():
                first = self._municipalities.get(code, (registered, doc))[0]
                self._municipalities[code] = (first, doc)
            self._sessions.update(batch.sessions)
            for line in batch.ledger:
                key = (line.position, line.index)
                if key in self._ledger:
                    raise AssertionError(f"ledger line {key} written twice")
                self._ledger[key] = line
            self._tracking = batch.end

    def reset(self) -> None:
        with self._lock:
            self._tracking = Tracking(0, None)
            self._municipalities.clear()
            self._sessions.clear()
            self._ledger.clear()

    def municipalities(self) -> list[MunicipalityRecord]:
        with self._lock:
            rows = sorted(self._municipalities.values())
        return [MunicipalityRecord.from_json(doc) for _, doc in rows]

    def sessions(self) -> list[SessionRecord]:
        with self._lock:
            rows = sorted(self._sessions.items(), key=lambda item: (item[1][0], item[0]))
        return [SessionRecord.from_json(doc) for _, (_, doc) in rows]

    def ledger(self, code: str | None = None, *, after: int = 0) -> list[LedgerLine]:
        with self._lock:
            keys = sorted(key for key in self._ledger if key[0] > after)
            lines = [self._ledger[key] for key in keys]
        return [line for line in lines if code is None or line.code == code]

    def costs(self, code: str, *, after: int = 0) -> list[tuple[int, CostEntry]]:
        return [(x.position, CostEntry(x.on, x.line)) for x in self.ledger(code, after=after)]


class SqlViewStore:
    """The views as tables next to the events: SQLite or PostgreSQL (same schema).

    ``datastore`` is the eventsourcing datastore of the events; ``qualify`` turns a table name
    into what the SQL names (schema-qualified on PostgreSQL); ``mark`` is the placeholder.
    """

    def __init__(self, datastore: Any, *, qualify: str = "", mark: str = "?") -> None:
        self.datastore = datastore
        self.mark = mark
        self.tracking_table = f"{qualify}mma_views_tracking"
        self.municipalities_table = f"{qualify}mma_views_municipalities"
        self.sessions_table = f"{qualify}mma_views_sessions"
        self.ledger_table = f"{qualify}mma_views_ledger"
        self.ledger_index = "mma_views_ledger_by_code"
        self.qualify = qualify

    def create_tables(self) -> None:
        statements = [
            f"CREATE TABLE IF NOT EXISTS {self.tracking_table} ("
            "name TEXT PRIMARY KEY, position BIGINT NOT NULL, latest TEXT)",
            f"CREATE TABLE IF NOT EXISTS {self.municipalities_table} ("
            "code TEXT PRIMARY KEY, registered BIGINT NOT NULL, doc TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {self.sessions_table} ("
            "session_id TEXT PRIMARY KEY, starts_at TEXT NOT NULL, doc TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {self.ledger_table} ("
            "position BIGINT NOT NULL, idx INTEGER NOT NULL, on_date TEXT NOT NULL, "
            "code TEXT NOT NULL, kind TEXT NOT NULL, amount TEXT NOT NULL, payer TEXT NOT NULL, "
            "payee TEXT NOT NULL, calculator TEXT NOT NULL, calculator_version TEXT NOT NULL, "
            "tariff_id TEXT NOT NULL, PRIMARY KEY (position, idx))",
            # A municipality's lines without reading everyone's (MunicipalityView.costs).
            f"CREATE INDEX IF NOT EXISTS {self.ledger_index} ON {self.ledger_table} "
            "(code, position, idx)",
            f"INSERT INTO {self.tracking_table} (name, position, latest) "  # noqa: S608
            f"VALUES ('{TRACKING_NAME}', 0, NULL) ON CONFLICT (name) DO NOTHING",
        ]
        if self._ready():
            # Nothing to create: no DDL, no write, no lock either. On SQLite a deferred
            # transaction that reads the schema and then writes fails at once ("database is
            # locked") when another process committed meanwhile; on PostgreSQL the DDL's table
            # locks and the tracking row's insert could deadlock with another process catching
            # its views up. Many processes opening one store would trip on either.
            return
        with self._transaction() as c:
            if self.mark == "%s":
                # Several services opening a fresh store at once would race on the DDL.
                c.execute("SELECT pg_advisory_xact_lock(%s)", (DDL_LOCK,))
            for statement in statements:
                c.execute(statement)

    def _ready(self) -> bool:
        """Every table and the index exist, and the tracking row: read from the catalog,
        which takes no lock on the tables."""
        names = (
            self.tracking_table,
            self.municipalities_table,
            self.sessions_table,
            self.ledger_table,
        )
        if self.mark == "?":
            found = self._read(
                f"SELECT name FROM sqlite_master WHERE name IN ({', '.join('?' * 5)})",  # noqa: S608
                (*names, self.ledger_index),
            )
        else:
            found = self._read(
                "SELECT name FROM unnest(?::text[]) AS wanted(name) "
                "WHERE to_regclass(name) IS NOT NULL",
                ([*names, f"{self.qualify}{self.ledger_index}"],),
            )
        if len(found) < len(names) + 1:
            return False
        tracked = self._read(
            f"SELECT 1 FROM {self.tracking_table} WHERE name=?",  # noqa: S608
            (TRACKING_NAME,),
        )
        return bool(tracked)

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        with self.datastore.transaction(commit=True) as c:
            yield c

    def _sql(self, statement: str) -> str:
        return statement.replace("?", self.mark)

    def _read(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(self._sql(statement), tuple(params))
            rows: list[Any] = c.fetchall()
            return rows

    def tracking(self) -> Tracking:
        rows = self._read(
            f"SELECT position, latest FROM {self.tracking_table} WHERE name=?",  # noqa: S608
            (TRACKING_NAME,),
        )
        if not rows:
            return Tracking(0, None)
        latest = rows[0]["latest"]
        return Tracking(
            int(rows[0]["position"]), None if latest is None else date.fromisoformat(latest)
        )

    def write(self, batch: Batch) -> None:
        with self._transaction() as c:
            # A write first: it takes the lock (SQLite's BEGIN is deferred; on PostgreSQL
            # the row lock), so the position read next is the latest committed one.
            c.execute(
                self._sql(
                    f"UPDATE {self.tracking_table} SET position=position WHERE name=?"  # noqa: S608
                ),
                (TRACKING_NAME,),
            )
            c.execute(
                self._sql(
                    f"SELECT position FROM {self.tracking_table} WHERE name=?"  # noqa: S608
                ),
                (TRACKING_NAME,),
            )
            row = c.fetchone()
            if row is None or int(row["position"]) != batch.start.position:
                raise Conflict
            if batch.municipalities:
                c.executemany(
                    self._sql(
                        f"INSERT INTO {self.municipalities_table} (code, registered, doc) "  # noqa: S608
                        "VALUES (?, ?, ?) ON CONFLICT (code) DO UPDATE SET doc=excluded.doc"
                    ),
                    [(code, reg, doc) for code, (reg, doc) in batch.municipalities.items()],
                )
            if batch.sessions:
                c.executemany(
                    self._sql(
                        f"INSERT INTO {self.sessions_table} (session_id, starts_at, doc) "  # noqa: S608
                        "VALUES (?, ?, ?) ON CONFLICT (session_id) "
                        "DO UPDATE SET starts_at=excluded.starts_at, doc=excluded.doc"
                    ),
                    [(sid, starts, doc) for sid, (starts, doc) in batch.sessions.items()],
                )
            if batch.ledger:
                marks = ", ".join("?" * len(LEDGER_COLUMNS))
                c.executemany(
                    self._sql(
                        f"INSERT INTO {self.ledger_table} ({', '.join(LEDGER_COLUMNS)}) "  # noqa: S608
                        f"VALUES ({marks})"
                    ),
                    [line.row() for line in batch.ledger],
                )
            latest = batch.end.latest
            c.execute(
                self._sql(
                    f"UPDATE {self.tracking_table} SET position=?, latest=? WHERE name=?"  # noqa: S608
                ),
                (
                    batch.end.position,
                    None if latest is None else latest.isoformat(),
                    TRACKING_NAME,
                ),
            )

    def reset(self) -> None:
        with self._transaction() as c:
            c.execute(
                self._sql(
                    f"UPDATE {self.tracking_table} SET position=0, latest=NULL WHERE name=?"  # noqa: S608
                ),
                (TRACKING_NAME,),
            )
            for table in (self.municipalities_table, self.sessions_table, self.ledger_table):
                c.execute(f"DELETE FROM {table}")  # noqa: S608

    def municipalities(self) -> list[MunicipalityRecord]:
        rows = self._read(
            f"SELECT doc FROM {self.municipalities_table} ORDER BY registered, code"  # noqa: S608
        )
        return [MunicipalityRecord.from_json(row["doc"]) for row in rows]

    def sessions(self) -> list[SessionRecord]:
        rows = self._read(
            f"SELECT doc FROM {self.sessions_table} ORDER BY starts_at, session_id"  # noqa: S608
        )
        return [SessionRecord.from_json(row["doc"]) for row in rows]

    def ledger(self, code: str | None = None, *, after: int = 0) -> list[LedgerLine]:
        columns = ", ".join(LEDGER_COLUMNS)
        if code is None:
            rows = self._read(
                f"SELECT {columns} FROM {self.ledger_table} WHERE position > ? "  # noqa: S608
                "ORDER BY position, idx",
                (after,),
            )
        else:
            rows = self._read(
                f"SELECT {columns} FROM {self.ledger_table} WHERE code=? "  # noqa: S608
                "AND position > ? ORDER BY position, idx",
                (code, after),
            )
        return [LedgerLine.from_row(row) for row in rows]

    def costs(self, code: str, *, after: int = 0) -> list[tuple[int, CostEntry]]:
        # on_date, code, then the cost line's six columns: code is the same on every row.
        columns = ", ".join(LEDGER_COLUMNS[2:])
        rows = self._read(
            f"SELECT position, {columns} FROM {self.ledger_table} WHERE code=? "  # noqa: S608
            "AND position > ? ORDER BY position, idx",
            (code, after),
        )
        # A municipality's thousands of lines hold a handful of distinct costs on a few hundred
        # days: each line, and each dated entry, is built (and validated) once; the entries are
        # frozen values, so the ledger shares them.
        lines: dict[tuple[Any, ...], CostLine] = {}
        entries: dict[tuple[Any, ...], CostEntry] = {}
        found: list[tuple[int, CostEntry]] = []
        append = found.append
        for row in rows:
            values = tuple(row.values()) if isinstance(row, dict) else tuple(row)
            key = values[1:]
            entry = entries.get(key)
            if entry is None:
                line = lines.get(values[3:])
                if line is None:
                    names = ("position", *LEDGER_COLUMNS[2:])
                    record = {**dict(zip(names, values, strict=True)), "idx": 0, "code": code}
                    line = lines[values[3:]] = LedgerLine.from_row(record).line
                entry = entries[key] = CostEntry(date.fromisoformat(values[1]), line)
            append((int(values[0]), entry))
        return found


def store_for(app: ViewSource) -> ViewStore:
    """The view store that sits beside ``app``'s events."""
    module = app.env.get("PERSISTENCE_MODULE", "")
    if module == "eventsourcing.sqlite":
        store = SqlViewStore(app.factory.datastore)
    elif module == "eventsourcing.postgres":
        datastore = app.factory.datastore
        store = SqlViewStore(datastore, qualify=schema_prefix(datastore), mark="%s")
    else:
        return MemoryViewStore()
    if app.create_tables:  # False: a role that may not run DDL
        store.create_tables()
    return store
