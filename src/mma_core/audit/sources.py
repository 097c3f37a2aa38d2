"""Read a store's events and leaves for verification and export: one consistent snapshot,
streamed in batches, whatever the store's size."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain, starmap
from typing import Any, Protocol
from uuid import UUID

from mma_core.storage import (
    LEAF_COLUMNS,
    LEAF_NAMES,
    LEAVES,
    MemoryRecorder,
    SQLiteRecorder,
    leaf_row,
    postgres_recorder_class,
    store_env,
)
from mma_core.storage.leaf_format import Leaf, aggregate_key
from mma_core.storage.leaves import LeafRow as LeafRow  # the audit reads it from here

BATCH = 2000
EVENTS_TABLE_POSTGRES = "programme_events"  # as the Programme application names it


@dataclass(frozen=True, slots=True)
class StoredRow:
    """An event row as stored: its store position (rowid or notification id) and bytes."""

    position: int
    aggregate_id: str
    version: int
    topic: str
    state: bytes


# An event row, strictly read (see stored_row): position, aggregate id, version, topic, state.
EventRow = tuple[int, str, int, str, bytes]


class Reader(Protocol):
    def counter(self) -> int:
        """The highest leaf number the store ever handed out."""

    def leaves(self) -> Iterator[tuple[Leaf, Leaf | None]]:
        """Every leaf in sequence order, each with its aggregate's leaf of the version before."""

    def events(self) -> Iterator[StoredRow]:
        """Every event row in store order."""

    def leaf_rows(self) -> Iterator[LeafRow]:
        """Every leaf row in sequence order, the values as stored."""

    def event_rows(self) -> Iterator[EventRow]:
        """Every event row in store order, as :func:`event_row` reads it."""

    def leaf(self, aggregate_id: str, version: int) -> Leaf | None: ...

    def has_event(self, aggregate_id: str, version: int) -> bool: ...


def _text(value: Any) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "replace")
    return "" if value is None else str(value)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (ValueError, TypeError):
        return -1


_HEX = frozenset("0123456789abcdef")
ALTERED = "altered:"  # marks a stored value not in the form the recorder writes


def _event_id(value: Any) -> str:
    """The aggregate id as stored: a UUID (PostgreSQL) or its 32 lower-case hex digits
    (SQLite). Any other form (upper case, bytes, ...) hides the event from the library, so it
    is marked and never matches a leaf."""
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, str) and len(value) == 32 and _HEX.issuperset(value):
        return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"
    return ALTERED + _text(value)


def event_row(position: Any, aggregate_id: Any, version: Any, topic: Any, state: Any) -> EventRow:
    """An event row, strictly: a value of another type than the recorder stores is marked."""
    return (
        _int(position),
        _event_id(aggregate_id),
        version if isinstance(version, int) and not isinstance(version, bool) else -1,
        topic if isinstance(topic, str) else ALTERED + _text(topic),
        (
            bytes(state)
            if isinstance(state, bytes | bytearray | memoryview)
            else (ALTERED + _text(state)).encode("utf-8", "surrogateescape")
        ),
    )


def stored_row(position: Any, aggregate_id: Any, version: Any, topic: Any, state: Any) -> StoredRow:
    return StoredRow(*event_row(position, aggregate_id, version, topic, state))


def leaf_of(row: LeafRow) -> Leaf:
    """A leaf from a stored leaf row, its values read leniently (a tampered value still reads)."""
    leaf = _leaf(row)
    assert leaf is not None
    return leaf


def _batches(cursor: Any) -> Iterator[Any]:
    return chain.from_iterable(iter(lambda: cursor.fetchmany(BATCH), []))


def _leaf(row: Any, offset: int = 0) -> Leaf | None:
    if row[offset] is None:
        return None
    prev = row[offset + 6]
    return Leaf(
        seq=_int(row[offset]),
        aggregate_id=_text(row[offset + 1]),
        version=_int(row[offset + 2]),
        topic=_text(row[offset + 3]),
        recorded_at=_text(row[offset + 4]),
        state_sha256=_text(row[offset + 5]),
        prev=None if prev is None else _text(prev),
    )


def _uuid(aggregate_id: str) -> UUID | None:
    try:
        return UUID(aggregate_id)
    except ValueError:
        return None


def _prefixed(alias: str) -> str:
    return ", ".join(f"{alias}.{name} AS {alias}_{name}" for name in LEAF_NAMES)


class SQLiteReader:
    def __init__(self, conn: sqlite3.Connection, events_table: str) -> None:
        self.conn = conn
        self.events_table = events_table

    def _stream(self, statement: str, params: tuple[Any, ...] = ()) -> Iterator[Any]:
        cursor = self.conn.execute(statement, params)
        while batch := cursor.fetchmany(BATCH):
            yield from batch

    def counter(self) -> int:
        row = self.conn.execute(
            "SELECT seq FROM sqlite_sequence WHERE name=?", (LEAVES,)
        ).fetchone()
        return 0 if row is None else int(row[0])

    def leaves(self) -> Iterator[tuple[Leaf, Leaf | None]]:
        statement = (
            f"SELECT {_prefixed('l')}, {_prefixed('p')} FROM {LEAVES} l "  # noqa: S608
            f"LEFT JOIN {LEAVES} p ON p.aggregate_id = l.aggregate_id "
            "AND p.version = l.version - 1 ORDER BY l.seq"
        )
        for row in self._stream(statement):
            leaf = _leaf(row)
            assert leaf is not None
            yield leaf, _leaf(row, len(LEAF_NAMES))

    def events(self) -> Iterator[StoredRow]:
        return starmap(StoredRow, self.event_rows())

    def leaf_rows(self) -> Iterator[LeafRow]:
        statement = f"SELECT {LEAF_COLUMNS} FROM {LEAVES} ORDER BY seq"  # noqa: S608
        return _batches(self.conn.execute(statement))

    def event_rows(self) -> Iterator[EventRow]:
        statement = (
            "SELECT rowid, originator_id, originator_version, topic, state "  # noqa: S608
            f"FROM {self.events_table} ORDER BY rowid"
        )
        return starmap(event_row, _batches(self.conn.execute(statement)))

    def leaf(self, aggregate_id: str, version: int) -> Leaf | None:
        row = self.conn.execute(
            f"SELECT {LEAF_COLUMNS} FROM {LEAVES} WHERE aggregate_id=? AND version=?",  # noqa: S608
            (aggregate_id, version),
        ).fetchone()
        return None if row is None else _leaf(row)

    def has_event(self, aggregate_id: str, version: int) -> bool:
        key = _uuid(aggregate_id)
        if key is None:
            return False
        row = self.conn.execute(
            f"SELECT 1 FROM {self.events_table} "  # noqa: S608
            "WHERE originator_id=? AND originator_version=?",
            (key.hex, version),
        ).fetchone()
        return row is not None


class MemoryReader:
    def __init__(self, recorder: MemoryRecorder) -> None:
        with recorder._database_lock:
            self.rows = [
                StoredRow(
                    i + 1,
                    aggregate_key(s.originator_id),
                    s.originator_version,
                    s.topic,
                    s.state,
                )
                for i, s in enumerate(recorder._stored_events)
            ]
            self._leaves = list(recorder.leaves)
            self.index = dict(recorder.leaf_index)
            self._counter = recorder.leaf_counter
        self.keys = {(r.aggregate_id, r.version) for r in self.rows}

    def counter(self) -> int:
        return self._counter

    def leaves(self) -> Iterator[tuple[Leaf, Leaf | None]]:
        for leaf in self._leaves:
            yield leaf, self.index.get((leaf.aggregate_id, leaf.version - 1))

    def events(self) -> Iterator[StoredRow]:
        yield from self.rows

    def leaf_rows(self) -> Iterator[LeafRow]:
        for leaf in self._leaves:
            yield leaf_row(leaf)

    def event_rows(self) -> Iterator[EventRow]:
        for row in self.rows:
            yield row.position, row.aggregate_id, row.version, row.topic, row.state

    def leaf(self, aggregate_id: str, version: int) -> Leaf | None:
        return self.index.get((aggregate_id, version))

    def has_event(self, aggregate_id: str, version: int) -> bool:
        return (aggregate_id, version) in self.keys


class PostgresReader:
    def __init__(self, conn: Any, recorder: Any) -> None:
        from psycopg.sql import SQL, Identifier

        self.conn = conn
        self.SQL = SQL
        self.names = {
            "schema": Identifier(recorder.datastore.schema),
            "events": Identifier(recorder.events_table_name),
            "leaves": Identifier(recorder.leaves_table),
            "counter": Identifier(recorder.counter_table),
        }
        self._cursors: list[Any] = []

    def close(self) -> None:
        """Close the server-side cursors a stopped walk left open, inside the transaction."""
        for cursor in self._cursors:
            if not cursor.closed:
                cursor.close()

    def _sql(self, statement: str) -> Any:
        return self.SQL(statement).format(**self.names)

    def _stream(self, statement: str, row_factory: Any = None) -> Iterator[Any]:
        name = f"mma_audit_{len(self._cursors) + 1}"
        if row_factory is None:
            cursor = self.conn.cursor(name=name)
        else:
            cursor = self.conn.cursor(name=name, row_factory=row_factory)
        self._cursors.append(cursor)
        with cursor:
            cursor.itersize = BATCH
            cursor.execute(self._sql(statement))
            while batch := cursor.fetchmany(BATCH):
                yield from batch

    def counter(self) -> int:
        with self.conn.cursor() as cursor:
            cursor.execute(self._sql("SELECT last FROM {schema}.{counter} WHERE id = 1"))
            row = cursor.fetchone()
            return 0 if row is None else int(row["last"])

    def leaves(self) -> Iterator[tuple[Leaf, Leaf | None]]:
        statement = (
            f"SELECT {_prefixed('l')}, {_prefixed('p')} FROM {{schema}}.{{leaves}} l "  # noqa: S608
            "LEFT JOIN {schema}.{leaves} p ON p.aggregate_id = l.aggregate_id "
            "AND p.version = l.version - 1 ORDER BY l.seq"
        )
        for row in self._stream(statement):
            values = list(row.values())
            leaf = _leaf(values)
            assert leaf is not None
            yield leaf, _leaf(values, len(LEAF_NAMES))

    def events(self) -> Iterator[StoredRow]:
        return starmap(StoredRow, self.event_rows())

    def leaf_rows(self) -> Iterator[LeafRow]:
        from psycopg.rows import tuple_row

        statement = f"SELECT {LEAF_COLUMNS} FROM {{schema}}.{{leaves}} ORDER BY seq"  # noqa: S608
        return self._stream(statement, tuple_row)

    def event_rows(self) -> Iterator[EventRow]:
        from psycopg.rows import tuple_row

        statement = (
            "SELECT notification_id, originator_id, originator_version, topic, state "
            "FROM {schema}.{events} ORDER BY notification_id"
        )
        return starmap(event_row, self._stream(statement, tuple_row))

    def leaf(self, aggregate_id: str, version: int) -> Leaf | None:
        with self.conn.cursor() as cursor:
            cursor.execute(
                self._sql(
                    f"SELECT {LEAF_COLUMNS} FROM {{schema}}.{{leaves}} "  # noqa: S608
                    "WHERE aggregate_id = %s AND version = %s"
                ),
                (aggregate_id, version),
            )
            row = cursor.fetchone()
            return None if row is None else _leaf(list(row.values()))

    def has_event(self, aggregate_id: str, version: int) -> bool:
        if _uuid(aggregate_id) is None:
            return False
        with self.conn.cursor() as cursor:
            cursor.execute(
                self._sql(
                    "SELECT 1 AS found FROM {schema}.{events} "
                    "WHERE originator_id = %s AND originator_version = %s"
                ),
                (UUID(aggregate_id), version),
            )
            return cursor.fetchone() is not None


@contextmanager
def open_reader(recorder: Any) -> Iterator[Reader]:
    """A reader over one snapshot of the recorder's store."""
    if isinstance(recorder, SQLiteRecorder):
        conn = sqlite3.connect(recorder.datastore.pool.db_name, isolation_level=None)
        # TEXT that is not UTF-8 (written by hand) must not stop the walk: keep its bytes.
        conn.text_factory = lambda data: data.decode("utf-8", "surrogateescape")
        try:
            conn.execute("BEGIN")  # one read transaction: every query sees the same snapshot
            yield SQLiteReader(conn, recorder.events_table_name)
        finally:
            conn.rollback()
            conn.close()
    elif isinstance(recorder, MemoryRecorder):
        yield MemoryReader(recorder)
    elif hasattr(recorder, "leaves_table"):
        with recorder.datastore.get_connection() as conn, conn.transaction(force_rollback=True):
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            reader = PostgresReader(conn, recorder)
            try:
                yield reader
            finally:
                reader.close()
    else:
        raise TypeError(f"no audit reader for {type(recorder).__name__}")


@contextmanager
def open_recorder(url: str) -> Iterator[Any]:
    """The store's recorder alone, without the application: no event is decoded, so neither a
    cipher key nor a readable first event is needed to audit a store."""
    env = store_env(url)
    module = env["PERSISTENCE_MODULE"]
    if module == "eventsourcing.sqlite":
        from eventsourcing.sqlite import SQLiteDatastore

        datastore = SQLiteDatastore(
            env["SQLITE_DBNAME"], lock_timeout=int(env.get("SQLITE_LOCK_TIMEOUT", "30"))
        )
        try:
            recorder: Any = SQLiteRecorder(datastore)
            recorder.create_table()
            yield recorder
        finally:
            datastore.close()
    elif module == "eventsourcing.postgres":
        from eventsourcing.postgres import PostgresFactory
        from eventsourcing.utils import Environment

        factory = PostgresFactory(Environment("Programme", env))
        try:
            # Conflict-aborted pipelines confuse psycopg's prepared statements; prepare none.
            kwargs: Any = factory.datastore.pool.kwargs
            kwargs["prepare_threshold"] = None
            recorder = postgres_recorder_class()(
                datastore=factory.datastore, events_table_name=EVENTS_TABLE_POSTGRES
            )
            recorder.create_table()
            yield recorder
        finally:
            factory.close()
    else:
        yield MemoryRecorder()
