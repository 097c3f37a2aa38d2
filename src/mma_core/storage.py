"""Store URLs and the recorders behind them.

One URL names one programme: ``memory://``, ``sqlite:///path`` or ``postgresql://user:pw@host/db``.
The recorders extend eventsourcing's own with the table of officials' keys, written in the same
transaction as the event that announces a key or its erasure, with a look-up of the global
position of an aggregate's events (the notification id), and with the audit leaves: one
``mma-leaf/v1`` per stored event, written in the event's own transaction, numbered by a sequence
that is never handed out twice (see ``docs/audit-format.md``).
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit
from uuid import UUID

import attrs
from eventsourcing.persistence import IntegrityError as PersistenceIntegrityError
from eventsourcing.persistence import OperationalError, StoredEvent
from eventsourcing.popo import POPOApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

from mma_core.audit.leaves import HistoryAltered, Leaf, LeafChain, recorded_now
from mma_core.domain.errors import ErasureIncomplete, InvalidInput

DEFAULT_STORE = "sqlite:///mma.sqlite"
KEYS = "official_keys"  # save() keyword: {official_id: key} to store with the events
ERASE_KEYS = "erase_official_keys"  # save() keyword: [official_id] whose keys to delete
LEAVES = "mma_leaves"  # the SQLite table of audit leaves
LEAF_COLUMNS = "seq, aggregate_id, version, topic, recorded_at, state_sha256, prev"
LEAF_NAMES = tuple(LEAF_COLUMNS.split(", "))
ERASE_WAIT_MS = 5000  # how long an erasure waits for readers before it reports them
# PostgreSQL: how long to retry a rewrite that had to keep rows an open transaction may see
# (any transaction in the database holds the horizon back; most end within seconds).
ERASE_RETRY_SECONDS = 15.0
WIPE_AGAIN = "run 'mma official wipe' (Programme.wipe_erased_keys) once no other process reads it"


@attrs.frozen
class ErasureCheck:
    """What the store did and checked to remove a deleted key's bytes, and what it cannot."""

    store: str
    verified: tuple[str, ...]
    not_checked: tuple[str, ...]


def create_private(path: str) -> None:
    """Create an SQLite store file with mode ``0600`` before SQLite opens it: SQLite then
    gives its WAL and shared-memory files the same mode. An existing file keeps its mode."""
    if not path or path.startswith("file:") or ":memory:" in path:
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError as error:
        # As SQLite's own failure to open would be: the store cannot be used (exit status 3).
        raise OperationalError(
            f"cannot create the file {path}: {error.strerror or type(error).__name__}"
        ) from None
    os.close(fd)


def schema_prefix(datastore: Any) -> str:
    """``"schema".`` for the PostgreSQL datastore's schema, quoted by psycopg's
    ``sql.Identifier`` (the schema comes from the store URL: never pasted into SQL by hand)."""
    from psycopg import sql

    with datastore.get_connection() as conn:
        return str(sql.Identifier(datastore.schema).as_string(conn)) + "."


def _file_holds(path: Path, needle: bytes, chunk: int = 1 << 20) -> bool:
    """Whether ``needle`` occurs in the file, read in chunks that overlap by its length."""
    if not needle or not path.exists():
        return False
    tail = b""
    with path.open("rb") as stream:
        while block := stream.read(chunk):
            if needle in tail + block:
                return True
            tail = block[-(len(needle) - 1) :] if len(needle) > 1 else b""
    return False


def leaf_of_row(row: Sequence[Any]) -> Leaf:
    """A leaf from a row of LEAF_COLUMNS."""
    return Leaf(
        seq=int(row[0]),
        aggregate_id=str(row[1]),
        version=int(row[2]),
        topic=str(row[3]),
        recorded_at=str(row[4]),
        state_sha256=str(row[5]),
        prev=None if row[6] is None else str(row[6]),
    )


class KeyStore(Protocol):
    def select_official_key(self, official_id: str) -> bytes | None: ...

    def select_positions(self, originator_id: UUID) -> dict[int, int]: ...

    def select_existing(self, originator_ids: Sequence[UUID]) -> set[UUID]:
        """Which of these aggregates have events (one query, for bulk recording)."""
        ...

    def select_page(
        self, originator_id: UUID, after: int | None, limit: int | None, latest: bool
    ) -> list[tuple[int, int]]:
        """(version, position) of the aggregate's events after position ``after``, at most
        ``limit`` (the last ones if ``latest``), in position order: one page of a history."""
        ...

    def count_events(self) -> int: ...


def store_env(url: str) -> dict[str, str]:
    """The eventsourcing environment for a store URL, from the URL alone."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number from 0 to 65535
    except ValueError as error:
        # urllib's reasons ("Port out of range 0-65535", "Invalid IPv6 URL") hold no password.
        raise InvalidInput(
            f"the store URL is malformed ({error}); e.g. sqlite:///mma.sqlite or "
            "postgresql://USER:PASSWORD@HOST:5432/DB"
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
            raise InvalidInput(f"store URL {url!r} names no file; e.g. sqlite:///mma.sqlite")
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
                "a postgresql:// store needs the PostgreSQL driver, which is not installed: "
                "pip install 'mma-core[postgres]'"
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
        f"store URL scheme {scheme!r} is not supported; use memory://, sqlite:///PATH or "
        "postgresql://USER:PASSWORD@HOST:PORT/DB"
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


class SQLiteRecorder(SQLiteApplicationRecorder):
    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS mma_official_keys ("
            "official_id TEXT PRIMARY KEY, key BLOB NOT NULL)",
            # AUTOINCREMENT: a number once handed out (also of a deleted last row) never returns.
            f"CREATE TABLE IF NOT EXISTS {LEAVES} ("
            "seq INTEGER PRIMARY KEY AUTOINCREMENT, "
            "aggregate_id TEXT NOT NULL, "
            "version INTEGER NOT NULL, "
            "topic TEXT NOT NULL, "
            "recorded_at TEXT NOT NULL, "
            "state_sha256 TEXT NOT NULL, "
            "prev TEXT, "
            "UNIQUE (aggregate_id, version))",
        ]

    def _create_table(self, c: SQLiteCursor) -> None:
        super()._create_table(c)
        if self.leaf_counter(c) == 0:
            self._backfill_leaves(c)

    def leaf_counter(self, c: SQLiteCursor) -> int:
        """The highest leaf number ever handed out (0 before the first)."""
        c.execute("SELECT seq FROM sqlite_sequence WHERE name=?", (LEAVES,))
        row = c.fetchone()
        return 0 if row is None else int(row[0])

    def _backfill_leaves(self, c: SQLiteCursor) -> None:
        """Give leaves to the events of a store written before leaves existed, in store order.

        Runs only when no leaf was ever written; their recorded time is the time of the backfill.
        """
        c.execute(
            f"SELECT originator_id, originator_version, topic, state "  # noqa: S608
            f"FROM {self.events_table_name} ORDER BY rowid"
        )
        rows = c.fetchall()
        if not rows:
            return
        chain = LeafChain(1, recorded_now())
        leaves = [
            chain.add(row[0], int(row[1]), str(row[2]), bytes(row[3]), lambda _: None)
            for row in rows
        ]
        self._write_leaves(c, leaves)

    def _write_leaves(self, c: SQLiteCursor, leaves: Sequence[Leaf]) -> None:
        c.executemany(
            f"INSERT INTO {LEAVES} ({LEAF_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
            [
                (
                    leaf.seq,
                    leaf.aggregate_id,
                    leaf.version,
                    leaf.topic,
                    leaf.recorded_at,
                    leaf.state_sha256,
                    leaf.prev,
                )
                for leaf in leaves
            ],
        )

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # The events first: SQLite's BEGIN is deferred, and only a write takes the lock that
        # makes the leaf numbers and the previous leaves read below this transaction's own.
        ids = super()._insert_events(c, stored_events, **kwargs)

        def previous(aggregate_id: str) -> Leaf | None:
            c.execute(
                f"SELECT {LEAF_COLUMNS} FROM {LEAVES} WHERE aggregate_id=? "  # noqa: S608
                "ORDER BY version DESC LIMIT 1",
                (aggregate_id,),
            )
            row = c.fetchone()
            return None if row is None else leaf_of_row(row)

        chain = LeafChain(self.leaf_counter(c) + 1, recorded_now())
        self._write_leaves(
            c,
            [
                chain.add(s.originator_id, s.originator_version, s.topic, s.state, previous)
                for s in stored_events
            ],
        )
        keys: Mapping[str, bytes] = kwargs.get(KEYS) or {}
        for official_id, key in keys.items():
            c.execute("INSERT INTO mma_official_keys VALUES (?, ?)", (official_id, key))
        erase: Sequence[str] = kwargs.get(ERASE_KEYS) or ()
        if erase:
            # Overwrite freed pages, so the key's bytes do not linger in the file.
            c.execute("PRAGMA secure_delete=ON")
            for official_id in erase:
                c.execute("DELETE FROM mma_official_keys WHERE official_id=?", (official_id,))
        return ids

    def select_official_key(self, official_id: str) -> bytes | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT key FROM mma_official_keys WHERE official_id=?", (official_id,))
            row = c.fetchone()
            return None if row is None else bytes(row[0])

    def select_positions(self, originator_id: UUID) -> dict[int, int]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT originator_version, rowid FROM {self.events_table_name} "  # noqa: S608
                "WHERE originator_id=?",
                (originator_id.hex,),
            )
            return {int(row[0]): int(row[1]) for row in c.fetchall()}

    def select_page(
        self, originator_id: UUID, after: int | None, limit: int | None, latest: bool
    ) -> list[tuple[int, int]]:
        statement = (
            f"SELECT originator_version, rowid FROM {self.events_table_name} "  # noqa: S608
            "WHERE originator_id=? AND rowid > ? ORDER BY rowid "
            + ("DESC " if latest else "")
            + "LIMIT ?"
        )
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement, (originator_id.hex, after or 0, -1 if limit is None else limit))
            page = [(int(row[0]), int(row[1])) for row in c.fetchall()]
        return sorted(page, key=lambda item: item[1])

    def select_existing(self, originator_ids: Sequence[UUID]) -> set[UUID]:
        found: set[UUID] = set()
        with self.datastore.transaction(commit=False) as c:
            for start in range(0, len(originator_ids), 500):
                chunk = [i.hex for i in originator_ids[start : start + 500]]
                c.execute(
                    f"SELECT DISTINCT originator_id FROM {self.events_table_name} "  # noqa: S608
                    f"WHERE originator_id IN ({', '.join('?' * len(chunk))})",
                    chunk,
                )
                found.update(UUID(row[0]) for row in c.fetchall())
        return found

    def count_events(self) -> int:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT COUNT(*) FROM {self.events_table_name}")  # noqa: S608
            return int(c.fetchone()[0])

    def after_erasure(self, erased: bytes | None = None) -> ErasureCheck:
        """Fold the WAL into the main file and empty it, then check that the erased key's
        stored bytes (``erased``) are in neither; raise :class:`ErasureIncomplete` if not.

        The key row was deleted with ``secure_delete``, which zeroes its cell in the page
        written to the WAL; the checkpoint copies that page over the file's. A reader holding
        an older snapshot keeps the WAL from being folded: that is reported, not waited out.
        """
        db = Path(self.datastore.pool.db_name)
        wal = Path(f"{db}-wal")
        with self.datastore.get_connection(commit=True) as conn:
            cursor = conn.cursor()
            cursor.execute("PRAGMA busy_timeout")
            waited = int(cursor.fetchone()[0])
            cursor.execute(f"PRAGMA busy_timeout={ERASE_WAIT_MS}")
            try:
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                busy, frames, folded = (int(v) for v in cursor.fetchone())
            finally:
                cursor.execute(f"PRAGMA busy_timeout={waited}")
        wal_size = wal.stat().st_size if wal.exists() else 0
        problems = []
        if busy or wal_size or frames != folded:
            problems.append(
                f"another connection holds a read transaction, so the WAL could not be folded "
                f"into the file and emptied ({folded} of {max(frames, 0)} frames folded, "
                f"{wal_size} bytes left in {wal.name})"
            )
        if erased is not None:
            for path in (db, wal):
                if _file_holds(path, erased):
                    problems.append(f"the erased key's bytes are still in {path.name}")
        if problems:
            raise ErasureIncomplete(
                "the key was deleted but its bytes are not yet gone from the store: "
                + "; ".join(problems)
                + f"; {WIPE_AGAIN}"
            )
        verified = ["the key row was deleted with secure_delete (its cell zeroed)"]
        verified.append(f"the WAL was folded into {db.name} and emptied ({folded} frames)")
        if erased is not None:
            verified.append(f"the key's stored bytes are absent from {db.name} and its WAL")
        return ErasureCheck(
            store="sqlite",
            verified=tuple(verified),
            not_checked=(
                "copies of the store file (backups, snapshots) and blocks the file system or "
                "disk has not reused yet",
            ),
        )


class MemoryRecorder(POPOApplicationRecorder):
    def __init__(self) -> None:
        super().__init__()
        self._keys: dict[str, bytes] = {}
        self._keys_lock = threading.Lock()
        self.leaves: list[Leaf] = []
        self.leaf_index: dict[tuple[str, int], Leaf] = {}
        self._last_leaf: dict[str, Leaf] = {}
        self.leaf_counter = 0

    def _update_table(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # Runs under the recorder's lock, after the uniqueness check.
        ids = super()._update_table(stored_events, **kwargs)
        chain = LeafChain(self.leaf_counter + 1, recorded_now())
        for s in stored_events:
            leaf = chain.add(
                s.originator_id, s.originator_version, s.topic, s.state, self._last_leaf.get
            )
            self.leaves.append(leaf)
            self.leaf_index[(leaf.aggregate_id, leaf.version)] = leaf
            self._last_leaf[leaf.aggregate_id] = leaf
        self.leaf_counter = chain.next_seq - 1
        with self._keys_lock:
            self._keys.update(kwargs.get(KEYS) or {})
            for official_id in kwargs.get(ERASE_KEYS) or ():
                self._keys.pop(official_id, None)
        return ids

    def select_official_key(self, official_id: str) -> bytes | None:
        return self._keys.get(official_id)

    def select_positions(self, originator_id: UUID) -> dict[int, int]:
        with self._database_lock:
            index = self._stored_events_index[str(originator_id)]
            return {version: position + 1 for version, position in index.items()}

    def select_existing(self, originator_ids: Sequence[UUID]) -> set[UUID]:
        with self._database_lock:
            return {i for i in originator_ids if self._stored_events_index.get(str(i))}

    def select_page(
        self, originator_id: UUID, after: int | None, limit: int | None, latest: bool
    ) -> list[tuple[int, int]]:
        page = sorted(self.select_positions(originator_id).items(), key=lambda item: item[1])
        return _page(page, after, limit, latest)

    def count_events(self) -> int:
        with self._database_lock:
            return len(self._stored_events)

    def after_erasure(self, erased: bytes | None = None) -> ErasureCheck:
        return ErasureCheck(
            store="memory",
            verified=("the key was removed from memory",),
            not_checked=("memory pages the process has freed but the system not reused",),
        )


def _page(
    page: list[tuple[int, int]], after: int | None, limit: int | None, latest: bool
) -> list[tuple[int, int]]:
    if after is not None:
        page = [item for item in page if item[1] > after]
    if limit is None:
        return page
    return (page[len(page) - limit :] if limit else []) if latest else page[:limit]


def postgres_recorder_class() -> type[Any]:
    """Built on first use, so that psycopg is needed only by PostgreSQL users."""
    from eventsourcing.postgres import PostgresApplicationRecorder
    from psycopg import Cursor
    from psycopg.rows import DictRow
    from psycopg.sql import SQL, Identifier

    class PostgresRecorder(PostgresApplicationRecorder):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            if self.datastore.enable_db_functions:
                raise InvalidInput(
                    "the audit leaves are written by the recorder's own inserts; "
                    "do not enable the PostgreSQL insert functions"
                )
            prefix = self.events_table_name.replace("_events", "")
            self.keys_table = prefix + "_official_keys"
            self.leaves_table = prefix + "_leaves"
            self.counter_table = prefix + "_leaf_counter"
            self.sql_create_statements.append(
                SQL(
                    "CREATE TABLE IF NOT EXISTS {schema}.{table} ("
                    "official_id text PRIMARY KEY, key bytea NOT NULL)"
                ).format(
                    schema=Identifier(self.datastore.schema), table=Identifier(self.keys_table)
                )
            )
            self.sql_create_statements.append(
                self._leaves_sql(
                    "CREATE TABLE IF NOT EXISTS {schema}.{leaves} ("
                    "seq bigint PRIMARY KEY, "
                    "aggregate_id text NOT NULL, "
                    "version bigint NOT NULL, "
                    "topic text NOT NULL, "
                    "recorded_at text NOT NULL, "
                    "state_sha256 text NOT NULL, "
                    "prev text, "
                    "UNIQUE (aggregate_id, version))"
                )
            )
            # The leaf numbers come from a counter row, updated in the event's transaction
            # under the events table's lock: no gaps when a transaction rolls back (as a
            # sequence would leave), and never lowered when rows are deleted.
            self.sql_create_statements.append(
                self._leaves_sql(
                    "CREATE TABLE IF NOT EXISTS {schema}.{counter} ("
                    "id smallint PRIMARY KEY CHECK (id = 1), last bigint NOT NULL)"
                )
            )
            self.sql_create_statements.append(
                self._leaves_sql(
                    "INSERT INTO {schema}.{counter} VALUES (1, 0) ON CONFLICT (id) DO NOTHING"
                )
            )

        def create_table(self) -> None:
            super().create_table()
            self._backfill_leaves()

        def _backfill_leaves(self) -> None:
            """Give leaves to the events of a store written before leaves existed, in store
            order; only when no leaf number was ever handed out."""
            with self.datastore.transaction(commit=True) as curs:
                curs.execute(
                    self._leaves_sql("SELECT last FROM {schema}.{counter} WHERE id = 1 FOR UPDATE")
                )
                row = curs.fetchone()
                if row is None or int(row["last"]) != 0:
                    return
                self._lock_table(curs)
                curs.execute(
                    self._leaves_sql(
                        "SELECT originator_id, originator_version, topic, state "
                        "FROM {schema}.{events} ORDER BY notification_id"
                    )
                )
                chain = LeafChain(1, recorded_now())
                leaves = [
                    chain.add(
                        r["originator_id"],
                        int(r["originator_version"]),
                        str(r["topic"]),
                        bytes(r["state"]),
                        lambda _: None,
                    )
                    for r in curs.fetchall()
                ]
                if leaves:
                    self._write_leaves(curs, leaves)
                    curs.execute(
                        self._leaves_sql("UPDATE {schema}.{counter} SET last = %s WHERE id = 1"),
                        (len(leaves),),
                    )

        def _write_leaves(self, curs: Cursor[DictRow], leaves: Sequence[Leaf]) -> None:
            curs.executemany(
                self._leaves_sql(
                    f"INSERT INTO {{schema}}.{{leaves}} ({LEAF_COLUMNS}) "  # noqa: S608
                    "VALUES (%s, %s, %s, %s, %s, %s, %s)"
                ),
                [
                    (
                        leaf.seq,
                        leaf.aggregate_id,
                        leaf.version,
                        leaf.topic,
                        leaf.recorded_at,
                        leaf.state_sha256,
                        leaf.prev,
                    )
                    for leaf in leaves
                ],
            )

        def _leaves_sql(self, statement: str) -> Any:
            return SQL(statement).format(
                schema=Identifier(self.datastore.schema),
                leaves=Identifier(self.leaves_table),
                counter=Identifier(self.counter_table),
                events=Identifier(self.events_table_name),
            )

        def _insert_leaves(
            self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent]
        ) -> None:
            # Under the events table's EXCLUSIVE lock (taken first), so leaf numbers follow
            # commit order like the notification ids, and in the events' transaction: raised
            # here, an error rolls back everything (eventsourcing swallows errors raised after
            # the events' insert and commits).
            self._lock_table(curs)
            curs.execute(
                self._leaves_sql(
                    "UPDATE {schema}.{counter} SET last = last + %s WHERE id = 1 RETURNING last"
                ),
                (len(stored_events),),
            )
            row = curs.fetchone()
            assert row is not None, "the leaf counter row is missing"
            first = int(row["last"]) - len(stored_events) + 1
            wanted = sorted({str(s.originator_id) for s in stored_events})
            last: dict[str, Leaf] = {}
            curs.execute(
                self._leaves_sql(
                    f"SELECT DISTINCT ON (aggregate_id) {LEAF_COLUMNS} "  # noqa: S608
                    "FROM {schema}.{leaves} WHERE aggregate_id = ANY(%s) "
                    "ORDER BY aggregate_id, version DESC"
                ),
                (wanted,),
            )
            for r in curs.fetchall():
                leaf = leaf_of_row([r[name] for name in LEAF_NAMES])
                last[leaf.aggregate_id] = leaf
            chain = LeafChain(first, recorded_now())
            try:
                leaves = [
                    chain.add(s.originator_id, s.originator_version, s.topic, s.state, last.get)
                    for s in stored_events
                ]
            except HistoryAltered as error:
                # The leaves are written before the events here: the event may exist because
                # another writer stored it first. That is a conflict to retry, not tampering.
                curs.execute(
                    self._leaves_sql(
                        "SELECT 1 AS found FROM {schema}.{events} "
                        "WHERE originator_id = %s AND originator_version = %s"
                    ),
                    (UUID(error.aggregate_id), error.version),
                )
                if curs.fetchone() is not None:
                    raise PersistenceIntegrityError(
                        f"aggregate {error.aggregate_id} version {error.version} was stored "
                        "by another writer"
                    ) from None
                raise
            self._write_leaves(curs, leaves)

        def _keys_sql(self, statement: str) -> Any:
            return SQL(statement).format(
                schema=Identifier(self.datastore.schema), table=Identifier(self.keys_table)
            )

        def _insert_events(
            self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
        ) -> None:
            super()._insert_events(curs, stored_events, **kwargs)
            if stored_events:
                self._insert_leaves(curs, stored_events)
            for official_id, key in (kwargs.get(KEYS) or {}).items():
                curs.execute(
                    self._keys_sql("INSERT INTO {schema}.{table} VALUES (%s, %s)"),
                    (official_id, key),
                )
            for official_id in kwargs.get(ERASE_KEYS) or ():
                curs.execute(
                    self._keys_sql("DELETE FROM {schema}.{table} WHERE official_id=%s"),
                    (official_id,),
                )

        def select_official_key(self, official_id: str) -> bytes | None:
            with self.datastore.get_connection() as conn, conn.cursor() as curs:
                curs.execute(
                    self._keys_sql("SELECT key FROM {schema}.{table} WHERE official_id=%s"),
                    (official_id,),
                )
                row = curs.fetchone()
                return None if row is None else bytes(row["key"])

        def select_positions(self, originator_id: UUID) -> dict[int, int]:
            statement = SQL(
                "SELECT originator_version, notification_id FROM {schema}.{table} "
                "WHERE originator_id=%s"
            ).format(
                schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name)
            )
            with self.datastore.get_connection() as conn, conn.cursor() as curs:
                curs.execute(statement, (originator_id,))
                return {
                    int(r["originator_version"]): int(r["notification_id"]) for r in curs.fetchall()
                }

        def select_page(
            self, originator_id: UUID, after: int | None, limit: int | None, latest: bool
        ) -> list[tuple[int, int]]:
            statement = SQL(
                "SELECT originator_version, notification_id FROM {schema}.{table} "  # noqa: S608
                "WHERE originator_id=%s AND notification_id > %s ORDER BY notification_id "
                + ("DESC " if latest else "")
                + "LIMIT %s"
            ).format(
                schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name)
            )
            with self.datastore.get_connection() as conn, conn.cursor() as curs:
                curs.execute(statement, (originator_id, after or 0, limit))
                page = [
                    (int(r["originator_version"]), int(r["notification_id"]))
                    for r in curs.fetchall()
                ]
            return sorted(page, key=lambda item: item[1])

        def select_existing(self, originator_ids: Sequence[UUID]) -> set[UUID]:
            statement = SQL(
                "SELECT DISTINCT originator_id FROM {schema}.{table} WHERE originator_id = ANY(%s)"
            ).format(
                schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name)
            )
            with self.datastore.get_connection() as conn, conn.cursor() as curs:
                curs.execute(statement, (list(originator_ids),))
                return {UUID(str(r["originator_id"])) for r in curs.fetchall()}

        def count_events(self) -> int:
            statement = SQL("SELECT COUNT(*) AS n FROM {schema}.{table}").format(
                schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name)
            )
            with self.datastore.get_connection() as conn, conn.cursor() as curs:
                curs.execute(statement)
                row = curs.fetchone()
                return 0 if row is None else int(row["n"])

        def after_erasure(self, erased: bytes | None = None) -> ErasureCheck:
            """Rewrite the keys table with ``VACUUM FULL``, so the deleted row's bytes are not
            in its data file: a plain VACUUM leaves a removed tuple's bytes in the page's free
            space. The table holds one short row per official, so the rewrite is quick; it
            locks the table meanwhile. A transaction that still sees the old row keeps it:
            VACUUM reports such rows, and then the erasure is reported incomplete."""
            from psycopg import errors

            kept = 0
            deadline = time.monotonic() + ERASE_RETRY_SECONDS
            while True:
                details: list[str] = []

                def note(diag: Any, details: list[str] = details) -> None:
                    details.append(f"{diag.message_primary or ''} {diag.message_detail or ''}")

                with self.datastore.get_connection() as conn:
                    conn.add_notice_handler(note)
                    try:
                        # Not to hang behind a transaction that holds the table: report it.
                        conn.execute(f"SET lock_timeout = {ERASE_WAIT_MS}")
                        conn.execute(self._keys_sql("VACUUM (FULL, VERBOSE) {schema}.{table}"))
                    except errors.LockNotAvailable:
                        raise ErasureIncomplete(
                            "the key was deleted but the keys table could not be rewritten: "
                            f"another transaction holds it; {WIPE_AGAIN}"
                        ) from None
                    finally:
                        conn.remove_notice_handler(note)
                        conn.execute("RESET lock_timeout")
                found = [
                    int(m.group(1))
                    for d in details
                    if (m := re.search(r"(\d+) dead row versions cannot be removed yet", d))
                ]
                if not found:
                    # "skipping ... only table or database owner can vacuum it": nothing was
                    # rewritten, so nothing may be claimed.
                    raise ErasureIncomplete(
                        "the key was deleted but the keys table was not rewritten ("
                        + " ".join(" ".join(details).split())[:200]
                        + "); the store's database user must own the keys table to VACUUM it"
                    )
                kept = sum(found)
                # An open transaction anywhere in the database keeps rows it might see.
                if not kept or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            if kept:
                raise ErasureIncomplete(
                    f"the key was deleted but {kept} dead row version(s) of the keys table "
                    "cannot be removed yet: another transaction may still see them; " + WIPE_AGAIN
                )
            return ErasureCheck(
                store="postgresql",
                verified=(
                    "the key row was deleted",
                    "the keys table was rewritten (VACUUM FULL) with no dead row left behind",
                ),
                not_checked=(
                    "the write-ahead log (pg_wal) until checkpoints recycle its segments",
                    "WAL archives and base backups, for as long as they are kept",
                    "the old data file's blocks, until the file system reuses them",
                ),
            )

    return PostgresRecorder
