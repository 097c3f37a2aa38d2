"""Where the read models live: beside the events, in the same store.

SQLite: tables in the same file; PostgreSQL: tables in the same schema; ``memory://``: dicts in
the same process. Each batch of view changes is written in ONE transaction together with the
tracking position (the notification id of the last event it reflects) and checked against the
position it started from. A crash loses the whole batch or nothing, and a second updater that
ran meanwhile makes this batch roll back instead of applying events twice: exactly once.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any, Protocol

import attrs

from mma_core.domain.values import CostLine
from mma_core.storage.locks import DDL_LOCK  # the lock the application takes for its tables
from mma_core.storage.schema import schema_prefix
from mma_core.views.asof_index import BUSINESS, IndexState
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
    # The as-of index: states to write (a recorded-time state never replaces one), and the
    # municipalities whose business states are all written again (their old ones go first).
    index: list[IndexState] = attrs.field(factory=list)
    index_reset: frozenset[str] = frozenset()
    offers: list[tuple[str, int]] = attrs.field(factory=list)  # (reference, position) made


@attrs.frozen
class CostChunk:
    """Up to ``CHUNK_LINES`` consecutive ledger lines of one municipality, in ledger order:
    what ``MunicipalityView.costs`` reads, so a municipality with 10,000 cost lines reads 40
    rows, not 10,000 (reading a row costs far more than decoding a line)."""

    chunk: int  # its place among the municipality's chunks, from 0
    entries: tuple[CostEntry, ...]


CHUNK_LINES = 256
Key = tuple[str, ...]  # a line as a chunk keeps it: the ledger row's date and cost columns


def line_key(row: tuple[Any, ...]) -> Key:
    """The key of a ledger row (``LedgerLine.row()``): its date and cost columns."""
    return (row[2], *row[4:])


@attrs.define
class ChunkDoc:
    """A chunk as stored: its distinct keys once, then each line as an index into them."""

    keys: list[Key] = attrs.field(factory=list)
    lines: list[int] = attrs.field(factory=list)
    _index: dict[Key, int] = attrs.field(factory=dict)

    @classmethod
    def from_json(cls, text: str) -> ChunkDoc:
        data = json.loads(text)
        keys = [tuple(key) for key in data["keys"]]
        return cls(keys, data["lines"], {key: n for n, key in enumerate(keys)})

    def to_json(self) -> str:
        return json.dumps({"keys": self.keys, "lines": self.lines}, separators=(",", ":"))

    def add(self, key: Key) -> None:
        n = self._index.get(key)
        if n is None:
            n = self._index[key] = len(self.keys)
            self.keys.append(key)
        self.lines.append(n)


def chunked(keys: Iterable[Key], tail: tuple[int, ChunkDoc] | None) -> list[tuple[int, ChunkDoc]]:
    """The chunks ``keys`` fill after ``tail`` (the municipality's last chunk, or ``None``):
    the tail itself first when it had room, then new ones. The tail is extended in place."""
    chunk, doc = tail if tail is not None else (0, ChunkDoc())
    changed = [(chunk, doc)]
    for key in keys:
        if len(doc.lines) >= CHUNK_LINES:
            chunk, doc = chunk + 1, ChunkDoc()
            changed.append((chunk, doc))
        doc.add(key)
    return [(n, d) for n, d in changed if d.lines]


class _Entries:
    """Builds each distinct dated cost once: a municipality's lines hold a handful of distinct
    costs on a few hundred days, and the entries are frozen values the ledger can share."""

    def __init__(self) -> None:
        self.lines: dict[tuple[Any, ...], CostLine] = {}
        self.entries: dict[tuple[Any, ...], CostEntry] = {}

    def entry(self, key: tuple[Any, ...]) -> CostEntry:
        found = self.entries.get(key)
        if found is None:
            line = self.lines.get(key[1:])
            if line is None:
                # The ledger's cost columns are named as CostLine's fields.
                fields = dict(zip(LEDGER_COLUMNS[4:], key[1:], strict=True))
                line = self.lines[key[1:]] = CostLine.from_dict(fields)
            found = self.entries[key] = CostEntry(date.fromisoformat(key[0]), line)
        return found

    def chunk(self, chunk: int, doc: ChunkDoc) -> CostChunk:
        entries = [self.entry(key) for key in doc.keys]
        return CostChunk(chunk, tuple([entries[n] for n in doc.lines]))


LEDGER_TYPES = {
    name: "bigint" if name == "position" else "integer" if name == "idx" else "text"
    for name in LEDGER_COLUMNS
}
CHUNK_TYPES = {"code": "text", "chunk": "integer", "lines": "integer", "doc": "text"}
CHUNK_CONFLICT = "ON CONFLICT (code, chunk) DO UPDATE SET lines=excluded.lines, doc=excluded.doc"
INDEX_TYPES = {
    "code": "text",
    "axis": "text",
    "point": "text",
    "version": "bigint",
    "state": "text",
    "bucket": "text",
}
INDEX_REPLACE = (
    "ON CONFLICT (code, axis, point) DO UPDATE SET version=excluded.version, "
    "state=excluded.state, bucket=excluded.bucket"
)
INDEX_KEEP = "ON CONFLICT (code, axis, point) DO NOTHING"


def nearest(states: Iterable[IndexState], axis: str, point: str) -> dict[str, IndexState]:
    """Per municipality, its state of ``axis`` latest at or before ``point``; on the business
    axis, when it has none that early, its first (the state before its first dated event)."""
    found: dict[str, IndexState] = {}
    for state in sorted(states, key=lambda s: s.point):
        if state.axis != axis:
            continue
        if state.point <= point or (axis == BUSINESS and state.code not in found):
            found[state.code] = state
    return found


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

    def cost_chunks(self, code: str, *, first: int = 0, last: int | None = None) -> list[CostChunk]:
        """``code``'s cost lines in chunks, from chunk number ``first`` on (to ``last``), in
        ledger order."""

    def chunk_sizes(self, code: str) -> list[tuple[int, int]]:
        """(chunk number, lines in it) of each of ``code``'s chunks, in order."""

    def index_states(self, axis: str, point: str, code: str | None = None) -> list[IndexState]:
        """The as-of index's states nearest ``point`` (see ``nearest``), of ``code`` or all."""

    def index_last(self, code: str) -> IndexState | None:
        """``code``'s latest business state of the as-of index."""

    def codes(self) -> list[str]:
        """Every municipality's code, in registration order."""

    def offer_references(self) -> list[str]:
        """Every offer's reference, in the order they were made."""


class MemoryViewStore:
    """The views of a ``memory://`` store: as volatile as its events."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tracking = Tracking(0, None)
        self._municipalities: dict[str, tuple[int, str]] = {}
        self._sessions: dict[str, tuple[str, str]] = {}
        self._ledger: dict[tuple[int, int], LedgerLine] = {}
        self._index: dict[tuple[str, str, str], IndexState] = {}
        self._offers: dict[str, int] = {}

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
            reset = batch.index_reset
            for at in [k for k in self._index if k[0] in reset and k[1] == BUSINESS]:
                del self._index[at]
            for state in batch.index:
                at = (state.code, state.axis, state.point)
                if state.axis == BUSINESS or at not in self._index:
                    self._index[at] = state
            self._offers.update(batch.offers)
            self._tracking = batch.end

    def reset(self) -> None:
        with self._lock:
            self._tracking = Tracking(0, None)
            self._municipalities.clear()
            self._sessions.clear()
            self._ledger.clear()
            self._index.clear()
            self._offers.clear()

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

    def cost_chunks(self, code: str, *, first: int = 0, last: int | None = None) -> list[CostChunk]:
        entries = _Entries()
        chunks = chunked((line_key(line.row()) for line in self.ledger(code)), None)
        return [
            entries.chunk(n, doc) for n, doc in chunks if n >= first and (last is None or n <= last)
        ]

    def chunk_sizes(self, code: str) -> list[tuple[int, int]]:
        chunks = chunked((line_key(line.row()) for line in self.ledger(code)), None)
        return [(n, len(doc.lines)) for n, doc in chunks]

    def index_states(self, axis: str, point: str, code: str | None = None) -> list[IndexState]:
        with self._lock:
            states = [s for s in self._index.values() if code is None or s.code == code]
        return list(nearest(states, axis, point).values())

    def offer_references(self) -> list[str]:
        with self._lock:
            return sorted(self._offers, key=self._offers.__getitem__)

    def codes(self) -> list[str]:
        with self._lock:
            rows = sorted(
                (registered, code) for code, (registered, _) in self._municipalities.items()
            )
        return [code for _, code in rows]

    def index_last(self, code: str) -> IndexState | None:
        with self._lock:
            states = [s for s in self._index.values() if s.code == code and s.axis == BUSINESS]
        return max(states, key=lambda s: s.point, default=None)


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
        self.chunks_table = f"{qualify}mma_views_cost_chunks"
        self.index_table = f"{qualify}mma_views_asof"
        self.offers_table = f"{qualify}mma_views_offers"
        self.qualify = qualify
        # Each municipality's last chunk as this store last wrote it, valid while the tracking
        # position is still ``_tails_at``: a rebuild's batches extend chunks without reading.
        self._tails: dict[str, tuple[int, ChunkDoc]] = {}
        self._tails_at: int | None = None

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
            # Each municipality's lines again, CHUNK_LINES to a row (MunicipalityView.costs).
            f"CREATE TABLE IF NOT EXISTS {self.chunks_table} ("
            "code TEXT NOT NULL, chunk INTEGER NOT NULL, lines INTEGER NOT NULL, "
            "doc TEXT NOT NULL, PRIMARY KEY (code, chunk))",
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
                # Asked again under the lock: another process may have created everything
                # since. Its DDL again would hold a SHARE lock on the ledger (CREATE INDEX IF
                # NOT EXISTS takes one even when the index exists) and then wait for the
                # tracking row, which a process catching up holds while it waits to insert
                # into the ledger: a deadlock (seen with eight writers opening a new store).
                if self._ready(c):
                    return
            for statement in statements:
                c.execute(statement)
            self._fill_chunks(c)
            self._create_index(c)

    def _create_index(self, c: Any) -> None:
        """The as-of index's table. A store whose views were written before the index was
        kept has its views emptied here, in the same transaction: the next catch-up rebuilds
        them and the index with them (an index missing states would answer wrongly)."""
        c.execute(
            "SELECT name FROM sqlite_master WHERE name=?"
            if self.mark == "?"
            else "SELECT to_regclass(%s) AS name",
            (self.index_table,),
        )
        row = c.fetchone()
        c.execute(
            "SELECT name FROM sqlite_master WHERE name=?"
            if self.mark == "?"
            else "SELECT to_regclass(%s) AS name",
            (self.offers_table,),
        )
        offers = c.fetchone()
        if all(found is not None and found["name"] is not None for found in (row, offers)):
            return
        c.execute(
            f"CREATE TABLE IF NOT EXISTS {self.offers_table} ("
            "reference TEXT PRIMARY KEY, position BIGINT NOT NULL)"
        )
        c.execute(
            f"CREATE TABLE IF NOT EXISTS {self.index_table} ("
            "code TEXT NOT NULL, axis TEXT NOT NULL, point TEXT NOT NULL, "
            "version BIGINT NOT NULL, state TEXT NOT NULL, bucket TEXT NOT NULL, "
            "PRIMARY KEY (code, axis, point))"
        )
        c.execute(
            self._sql(
                f"UPDATE {self.tracking_table} SET position=0, latest=NULL WHERE name=?"  # noqa: S608
            ),
            (TRACKING_NAME,),
        )
        for table in self._view_tables():
            c.execute(f"DELETE FROM {table}")  # noqa: S608

    def _view_tables(self) -> tuple[str, ...]:
        return (
            self.municipalities_table,
            self.sessions_table,
            self.ledger_table,
            self.chunks_table,
            self.index_table,
            self.offers_table,
        )

    def _fill_chunks(self, c: Any) -> None:
        """Derive the chunks from the ledger of a store written before they were kept (in
        the transaction that created their table; nothing to do when it has rows)."""
        c.execute(f"SELECT 1 FROM {self.chunks_table} LIMIT 1")  # noqa: S608
        if c.fetchone() is not None:
            return
        # Hold the tracking row, as every batch does, so none lands between read and fill.
        c.execute(
            self._sql(f"UPDATE {self.tracking_table} SET position=position WHERE name=?"),  # noqa: S608
            (TRACKING_NAME,),
        )
        c.execute(
            f"SELECT {', '.join(LEDGER_COLUMNS)} FROM {self.ledger_table} "  # noqa: S608
            "ORDER BY position, idx"
        )
        rows = [tuple(row[name] for name in LEDGER_COLUMNS) for row in c.fetchall()]
        self._write_chunks(c, rows, {})

    def _ready(self, c: Any = None) -> bool:
        """Every table and the index exist, and the tracking row: read from the catalog,
        which takes no lock on the tables (in the transaction of cursor ``c`` if given)."""
        names = (
            self.tracking_table,
            self.municipalities_table,
            self.sessions_table,
            self.ledger_table,
            self.chunks_table,
            self.index_table,
            self.offers_table,
        )
        if self.mark == "?":
            found = self._read(
                f"SELECT name FROM sqlite_master WHERE name IN ({', '.join('?' * 8)})",  # noqa: S608
                (*names, self.ledger_index),
                c,
            )
        else:
            found = self._read(
                "SELECT name FROM unnest(?::text[]) AS wanted(name) "
                "WHERE to_regclass(name) IS NOT NULL",
                ([*names, f"{self.qualify}{self.ledger_index}"],),
                c,
            )
        if len(found) < len(names) + 1:
            return False
        tracked = self._read(
            f"SELECT 1 FROM {self.tracking_table} WHERE name=?",  # noqa: S608
            (TRACKING_NAME,),
            c,
        )
        return bool(tracked)

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        with self.datastore.transaction(commit=True) as c:
            yield c

    def _sql(self, statement: str) -> str:
        return statement.replace("?", self.mark)

    def _read(self, statement: str, params: Sequence[Any] = (), c: Any = None) -> list[Any]:
        if c is not None:
            c.execute(self._sql(statement), tuple(params))
            return list(c.fetchall())
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(self._sql(statement), tuple(params))
            rows: list[Any] = cursor.fetchall()
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
        tails = self._tails if self._tails_at == batch.start.position else {}
        self._tails, self._tails_at = {}, None  # until this batch is committed
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
            self._insert(
                c,
                self.municipalities_table,
                {"code": "text", "registered": "bigint", "doc": "text"},
                [(code, reg, doc) for code, (reg, doc) in batch.municipalities.items()],
                "ON CONFLICT (code) DO UPDATE SET doc=excluded.doc",
            )
            self._insert(
                c,
                self.sessions_table,
                {"session_id": "text", "starts_at": "text", "doc": "text"},
                [(sid, starts, doc) for sid, (starts, doc) in batch.sessions.items()],
                "ON CONFLICT (session_id) "
                "DO UPDATE SET starts_at=excluded.starts_at, doc=excluded.doc",
            )
            if batch.ledger:
                rows = [line.row() for line in batch.ledger]
                self._insert(c, self.ledger_table, LEDGER_TYPES, rows)
                self._write_chunks(c, rows, tails)
            self._write_index(c, batch)
            self._insert(
                c,
                self.offers_table,
                {"reference": "text", "position": "bigint"},
                batch.offers,
                "ON CONFLICT (reference) DO NOTHING",
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

        self._tails, self._tails_at = tails, batch.end.position

    def _write_index(self, c: Any, batch: Batch) -> None:
        for code in sorted(batch.index_reset):
            c.execute(
                self._sql(f"DELETE FROM {self.index_table} WHERE code=? AND axis=?"),  # noqa: S608
                (code, BUSINESS),
            )
        business = [s.row() for s in batch.index if s.axis == BUSINESS]
        recorded = [s.row() for s in batch.index if s.axis != BUSINESS]
        self._insert(c, self.index_table, INDEX_TYPES, business, INDEX_REPLACE)
        self._insert(c, self.index_table, INDEX_TYPES, recorded, INDEX_KEEP)

    def _write_chunks(
        self, c: Any, rows: list[tuple[Any, ...]], tails: dict[str, tuple[int, ChunkDoc]]
    ) -> None:
        """Append the batch's ledger rows to each municipality's last chunk and new ones;
        ``tails`` (updated here) holds the last chunks known at the batch's start, the
        others are read."""
        by_code: dict[str, list[Key]] = {}
        for row in rows:
            by_code.setdefault(row[3], []).append(line_key(row))
        put: list[tuple[Any, ...]] = []
        for code, keys in by_code.items():
            tail = tails.get(code)
            if tail is None:
                c.execute(
                    self._sql(
                        f"SELECT chunk, doc FROM {self.chunks_table} "  # noqa: S608
                        "WHERE code=? ORDER BY chunk DESC LIMIT 1"
                    ),
                    (code,),
                )
                row = c.fetchone()
                if row is not None:
                    tail = (int(row["chunk"]), ChunkDoc.from_json(row["doc"]))
            changed = chunked(keys, tail)
            put.extend((code, n, len(doc.lines), doc.to_json()) for n, doc in changed)
            tails[code] = changed[-1]
        self._insert(c, self.chunks_table, CHUNK_TYPES, put, CHUNK_CONFLICT)

    def _insert(
        self,
        c: Any,
        table: str,
        types: dict[str, str],
        rows: list[tuple[Any, ...]],
        conflict: str = "",
    ) -> None:
        """Insert ``rows`` (values of the ``types``' columns, in order) in one statement."""
        if not rows:
            return
        columns = ", ".join(types)
        if self.mark == "?":
            marks = ", ".join("?" * len(types))
            c.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({marks}) {conflict}",  # noqa: S608
                rows,
            )
            return
        # PostgreSQL: one statement with an array per column, not one per row (a batch of
        # 2,000 ledger lines was 2,000 statements, most of a rebuild's time on the server).
        # Sent in binary (%b): as text, each string of the arrays is escaped by a regex.
        arrays = ", ".join(f"%b::{kind}[]" for kind in types.values())
        c.execute(
            f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays}) {conflict}",  # noqa: S608
            [list(values) for values in zip(*rows, strict=True)],
        )

    def reset(self) -> None:
        self._tails, self._tails_at = {}, None
        with self._transaction() as c:
            c.execute(
                self._sql(
                    f"UPDATE {self.tracking_table} SET position=0, latest=NULL WHERE name=?"  # noqa: S608
                ),
                (TRACKING_NAME,),
            )
            for table in self._view_tables():
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

    def cost_chunks(self, code: str, *, first: int = 0, last: int | None = None) -> list[CostChunk]:
        rows = self._read(
            f"SELECT chunk, doc FROM {self.chunks_table} "  # noqa: S608
            "WHERE code=? AND chunk >= ? AND chunk <= ? ORDER BY chunk",
            (code, first, 2**31 - 1 if last is None else last),
        )
        entries = _Entries()
        return [entries.chunk(int(row["chunk"]), ChunkDoc.from_json(row["doc"])) for row in rows]

    # -- the rows as stored, for verification (mma_core.audit.derived) --------------------

    def raw_tracking(self, c: Any = None) -> tuple[Any, Any] | None:
        """The tracking row's position and latest date as stored, or None."""
        rows = self._read(
            f"SELECT position, latest FROM {self.tracking_table} WHERE name=?",  # noqa: S608
            (TRACKING_NAME,),
            c,
        )
        return None if not rows else (rows[0]["position"], rows[0]["latest"])

    def raw_municipalities(self, c: Any = None) -> dict[str, tuple[Any, Any]]:
        """code -> (registered, doc), as stored."""
        rows = self._read(
            f"SELECT code, registered, doc FROM {self.municipalities_table}",  # noqa: S608
            (),
            c,
        )
        return {row["code"]: (row["registered"], row["doc"]) for row in rows}

    def raw_sessions(self, c: Any = None) -> dict[str, tuple[Any, Any]]:
        """session id -> (starts at, doc), as stored."""
        rows = self._read(
            f"SELECT session_id, starts_at, doc FROM {self.sessions_table}",  # noqa: S608
            (),
            c,
        )
        return {row["session_id"]: (row["starts_at"], row["doc"]) for row in rows}

    def raw_ledger_page(
        self, after: tuple[int, int], limit: int, c: Any = None
    ) -> list[tuple[Any, ...]]:
        """Up to ``limit`` ledger rows after (position, idx), in ledger order, as stored."""
        columns = ", ".join(LEDGER_COLUMNS)
        rows = self._read(
            f"SELECT {columns} FROM {self.ledger_table} "  # noqa: S608
            "WHERE position > ? OR (position = ? AND idx > ?) ORDER BY position, idx LIMIT ?",
            (after[0], after[0], after[1], limit),
            c,
        )
        return [tuple(row[name] for name in LEDGER_COLUMNS) for row in rows]

    def raw_chunk(self, code: str, chunk: int, c: Any = None) -> tuple[Any, Any] | None:
        """(lines, doc) of one cost chunk, as stored."""
        rows = self._read(
            f"SELECT lines, doc FROM {self.chunks_table} WHERE code=? AND chunk=?",  # noqa: S608
            (code, chunk),
            c,
        )
        return None if not rows else (rows[0]["lines"], rows[0]["doc"])

    def raw_chunk_counts(self, c: Any = None) -> dict[str, int]:
        """code -> how many cost chunks are stored."""
        rows = self._read(
            f"SELECT code, COUNT(*) AS n FROM {self.chunks_table} GROUP BY code",  # noqa: S608
            (),
            c,
        )
        return {row["code"]: int(row["n"]) for row in rows}

    def raw_index_page(
        self, after: tuple[str, str, str] | None, limit: int, c: Any = None
    ) -> list[tuple[Any, ...]]:
        """Up to ``limit`` as-of index rows after the key (code, axis, point), in key order,
        as stored (the columns of ``IndexState.row``)."""
        columns = ", ".join(INDEX_TYPES)
        where = ""
        params: tuple[str, ...] = ()
        if after is not None:
            where = "WHERE code > ? OR (code = ? AND (axis > ? OR (axis = ? AND point > ?))) "
            params = after[:1] + after[:2] + after[1:]
        rows = self._read(
            f"SELECT {columns} FROM {self.index_table} {where}"  # noqa: S608
            "ORDER BY code, axis, point LIMIT ?",
            (*params, limit),
            c,
        )
        return [tuple(row[name] for name in INDEX_TYPES) for row in rows]

    def raw_offers(self, c: Any = None) -> dict[str, Any]:
        """reference -> position of each offer made, as stored."""
        rows = self._read(
            f"SELECT reference, position FROM {self.offers_table}",  # noqa: S608
            (),
            c,
        )
        return {row["reference"]: row["position"] for row in rows}

    def chunk_sizes(self, code: str) -> list[tuple[int, int]]:
        rows = self._read(
            f"SELECT chunk, lines FROM {self.chunks_table} WHERE code=? ORDER BY chunk",  # noqa: S608
            (code,),
        )
        return [(int(row["chunk"]), int(row["lines"])) for row in rows]

    def index_states(self, axis: str, point: str, code: str | None = None) -> list[IndexState]:
        columns = ", ".join(f"t.{name}" for name in INDEX_TYPES)
        where, params = ("", ()) if code is None else (" AND code=?", (code,))
        # Per municipality the latest point at or before ``point`` (and, on the business
        # axis, the first point of those that have none that early), found in the primary
        # key's index alone; then only those states are read.
        found: dict[str, IndexState] = {}
        nearest_point = (
            f"SELECT code, MAX(point) AS point FROM {self.index_table} "  # noqa: S608
            f"WHERE axis=? AND point <= ?{where} GROUP BY code"
        )
        first_point = (
            f"SELECT code, MIN(point) AS point FROM {self.index_table} "  # noqa: S608
            f"WHERE axis=?{where} GROUP BY code HAVING MIN(point) > ?"
        )
        for points, args in (
            (nearest_point, (axis, point, *params)),
            (first_point, (axis, *params, point)),
        ):
            if points is first_point and axis != BUSINESS:
                break
            rows = self._read(
                f"SELECT {columns} FROM {self.index_table} t JOIN ({points}) m "  # noqa: S608
                "ON t.code = m.code AND t.point = m.point WHERE t.axis=?",
                (*args, axis),
            )
            for row in rows:
                found.setdefault(row["code"], IndexState.from_row(row))
        return list(found.values())

    def offer_references(self) -> list[str]:
        rows = self._read(
            f"SELECT reference FROM {self.offers_table} ORDER BY position"  # noqa: S608
        )
        return [row["reference"] for row in rows]

    def codes(self) -> list[str]:
        rows = self._read(
            f"SELECT code FROM {self.municipalities_table} ORDER BY registered, code"  # noqa: S608
        )
        return [row["code"] for row in rows]

    def index_last(self, code: str) -> IndexState | None:
        rows = self._read(
            f"SELECT {', '.join(INDEX_TYPES)} FROM {self.index_table} "  # noqa: S608
            "WHERE code=? AND axis=? ORDER BY point DESC LIMIT 1",
            (code, BUSINESS),
        )
        return IndexState.from_row(rows[0]) if rows else None


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
