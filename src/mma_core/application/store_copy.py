"""Copy a whole store to another: SQLite to PostgreSQL, PostgreSQL to SQLite, or either to
itself elsewhere (``mma store copy``, ``mma store backup`` and ``restore``).

The copy keeps what the evidence rests on, byte for byte: every event with its position and
its stored state (sealed states stay sealed: the store cipher binds them to their aggregate,
version and topic, never to a store), every audit leaf with its recorded time and the leaf
counter, so the tree and every checkpoint signed on the source verify on the copy. The
officials' keys are opened with the source's key-encryption key and sealed again with the
destination's (an SQLite store keeps its own beside the file; see ``docs/security.md``). The
derived data (read models, outbox with its delivery state, stored snapshots) and the schema
version are copied as they are.

The source is read in one snapshot (a read transaction; writers go on meanwhile) and streamed
in pages, so memory stays bounded whatever the store's size. The destination must be empty;
it is written in one transaction, so a copy that fails leaves it as empty as it was. Before it
reports done, the copy is verified: every leaf recomputed from its copied event, every chain,
and the tree's root must be the source's.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import attrs

from mma_core.application.migrations import SCHEMA_VERSION, read_version, record_version
from mma_core.application.wiring import StoredApplication, key_wrapper_for
from mma_core.audit.merkle import StreamingTree
from mma_core.audit.sources import ALTERED, leaf_of, open_reader
from mma_core.audit.verify import verify
from mma_core.domain.errors import InvalidInput
from mma_core.domain.jsonable import JSONReady
from mma_core.language.i18n import _
from mma_core.storage import describe, schema_prefix, store_env
from mma_core.storage.cipher import keyring_from, write_private
from mma_core.storage.errors import StoreMisconfigured, advice_for, translated
from mma_core.storage.keys import KeyStore
from mma_core.storage.outbox import SQLOutboxStore
from mma_core.views.store import SqlViewStore

PAGE = 2000  # rows read and written at a time
# The derived tables copied as they are, where the source has them (the same on both stores).
PLAIN_TABLES = (
    "mma_views_tracking",
    "mma_views_municipalities",
    "mma_views_sessions",
    "mma_views_ledger",
    "mma_views_cost_chunks",
    "mma_views_asof",
    "mma_views_offers",
    "mma_delivery_tracking",
    "mma_delivery_outbox",
)
Progress = Callable[[str, int, int], None]  # (what, done, total)


class CopyNotVerified(Exception):
    """The copy was written but does not verify against its source: do not use it."""

    code = "copy_not_verified"

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "type": type(self).__name__, "message": str(self)}


@attrs.frozen
class CopyResult(JSONReady):
    """What a copy wrote, and the tree it verified: ``size`` leaves with root ``root``."""

    source: str
    destination: str
    events: int
    leaves: int
    keys: int
    snapshots: int
    derived_rows: int
    schema_version: int
    size: int
    root: str
    seconds: float


class _Store(StoredApplication):
    name = "Programme"  # the tables bear the Programme's name (programme_events on PostgreSQL)


class _Side:
    """One store of a copy, opened without DDL, with its tables' names."""

    def __init__(self, url: str, keyring: Any) -> None:
        self.url = url
        self.label = describe(url)
        self.env = store_env(url)
        self.secrets = (self.env.get("POSTGRES_PASSWORD", ""),)
        module = self.env["PERSISTENCE_MODULE"]
        if module == "eventsourcing.popo":
            raise InvalidInput(
                _("a copy goes from one stored store to another; memory:// holds nothing to copy")
            )
        self.postgres = module == "eventsourcing.postgres"
        with translated(self.label, self.secrets):
            self.app = _Store(self.env, keyring=keyring, create=False)
            self.prefix = schema_prefix(self.app.factory.datastore) if self.postgres else ""  # type: ignore[attr-defined]
        self.wrapper = key_wrapper_for(self.env, keyring)
        self.mark = "%s" if self.postgres else "?"
        if self.postgres:
            self.events = self.prefix + "programme_events"
            self.snapshots = self.prefix + "programme_snapshots"
            self.keys = self.prefix + "programme_official_keys"
            self.leaves = self.prefix + "programme_leaves"
        else:
            self.events, self.snapshots = "stored_events", "stored_snapshots"
            self.keys, self.leaves = "mma_official_keys", "mma_leaves"

    def close(self) -> None:
        self.app.close()

    def table(self, name: str) -> str:
        return self.prefix + name

    def exists(self, conn: Any, table: str) -> bool:
        """Whether ``table`` exists (``conn``: a connection or a cursor of this store)."""
        if self.postgres:
            statement, params = "SELECT to_regclass(%s) AS found", (table,)
        else:
            statement = "SELECT 1 AS found FROM sqlite_master WHERE type='table' AND name=?"
            params = (table,)
        result = conn.execute(statement, params)
        row = (result if result is not None else conn).fetchone()
        if row is None:
            return False
        found = row["found"] if isinstance(row, dict) else row[0]
        return found is not None

    def rows(self, conn: Any, statement: str) -> Iterator[tuple[Any, ...]]:
        """The rows of ``statement`` in pages (a server-side cursor on PostgreSQL)."""
        if self.postgres:
            from psycopg.rows import tuple_row

            with conn.cursor(name=f"mma_copy_{time.monotonic_ns()}", row_factory=tuple_row) as c:
                c.itersize = PAGE
                c.execute(statement)
                while batch := c.fetchmany(PAGE):
                    yield from batch
        else:
            cursor = conn.execute(statement)
            while batch := cursor.fetchmany(PAGE):
                yield from batch

    def columns(self, conn: Any, table: str) -> list[str]:
        if self.postgres:
            from psycopg.rows import tuple_row

            with conn.cursor(row_factory=tuple_row) as c:
                c.execute(f"SELECT * FROM {table} LIMIT 0")  # noqa: S608 - a constant name
                return [d.name for d in c.description or ()]
        cursor = conn.execute(f"SELECT * FROM {table} LIMIT 0")  # noqa: S608
        return [d[0] for d in cursor.description]

    def aggregate(self, value: Any) -> Any:
        """An aggregate id as this store keeps it (PostgreSQL a UUID, SQLite 32 hex digits)."""
        key = value if isinstance(value, UUID) else UUID(str(value))
        return key if self.postgres else key.hex


def _refuse_missing(url: str) -> None:
    """Refuse an SQLite source whose file does not exist (opening it would create one)."""
    env = store_env(url)
    if (
        env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite"
        and not Path(env["SQLITE_DBNAME"]).exists()
    ):
        label = describe(url)
        raise StoreMisconfigured(
            _("there is no store at {store}").format(store=label),
            store=label,
            reason="missing_store",
            advice=advice_for("missing_store"),
        )


def _holds_history(side: _Side) -> bool:
    """Whether the store has events, leaves or keys (its tables may or may not exist)."""
    recorder: Any = side.app.recorder
    with recorder.datastore.transaction(commit=False) as c:
        for table in (side.events, side.leaves, side.keys):
            if not side.exists(c, table):
                continue
            c.execute(f"SELECT 1 AS found FROM {table} LIMIT 1")  # noqa: S608 - a constant name
            if c.fetchone() is not None:
                return True
    return False


def _create_tables(side: _Side) -> None:
    """Every table of this version, as ``Programme.open`` and ``mma store upgrade`` make them."""
    app = side.app
    app.create_tables = True
    recorder: Any = app.recorder
    recorder.create_table()
    if app.snapshots is not None:
        snapshots: Any = app.snapshots.recorder
        snapshots.create_table()
    if side.postgres:  # the read models' tables, as views.store.store_for places them
        SqlViewStore(recorder.datastore, qualify=side.prefix, mark="%s").create_tables()
    else:
        SqlViewStore(recorder.datastore).create_tables()
    SQLOutboxStore(recorder.datastore, postgres=side.postgres, create=True)


@contextmanager
def _writing(side: _Side) -> Iterator[Any]:
    """One transaction on the destination: committed when the block ends, else rolled back."""
    recorder: Any = side.app.recorder
    if side.postgres:
        with (
            recorder.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor() as cursor,
        ):
            yield cursor
        return
    conn = sqlite3.connect(recorder.datastore.pool.db_name, isolation_level=None)
    try:
        conn.execute("PRAGMA busy_timeout=5000")
        conn.execute("BEGIN IMMEDIATE")
        cursor = conn.cursor()
        try:
            yield cursor
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    finally:
        conn.close()


def _insert(
    side: _Side, cursor: Any, table: str, columns: Sequence[str], rows: Iterable[Any]
) -> int:
    statement = (
        f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 - constant names
        f"VALUES ({', '.join([side.mark] * len(columns))})"
    )
    written = 0
    page: list[Any] = []
    for row in rows:
        page.append(row)
        if len(page) == PAGE:
            cursor.executemany(statement, page)
            written += len(page)
            page = []
    if page:
        cursor.executemany(statement, page)
        written += len(page)
    return written


def _counted(
    rows: Iterable[Any], what: str, total: int, progress: Progress | None
) -> Iterator[Any]:
    done = 0
    for row in rows:
        yield row
        done += 1
        if progress is not None and done % PAGE == 0:
            progress(what, done, total)
    if progress is not None:
        progress(what, done, total)


def copy_store(
    source: str,
    destination: str,
    *,
    cipher_key: str | None = None,
    progress: Progress | None = None,
    checkpoints: Sequence[str] = (),
    public_keys: Sequence[Any] = (),
) -> CopyResult:
    """Copy the store at ``source`` into the empty store at ``destination`` and verify it.

    ``cipher_key`` (else ``MMA_CIPHER_KEY`` / ``MMA_CIPHER_KEY_FILE``) is the store cipher, if
    the source has one: it seals the officials' keys on both sides (the events stay sealed as
    they are). ``progress(what, done, total)`` is told how far each part is. ``checkpoints``
    (signed notes) with ``public_keys`` are verified against the copy as well.

    Raises :class:`InvalidInput` for a destination that holds a history (nothing is written),
    :class:`StoreMisconfigured` for a source that is missing or not at this version, and
    :class:`CopyNotVerified` should the copy not verify (the destination is then emptied
    again: the copy is not left for anyone to use).
    """
    started = time.perf_counter()
    if store_env(source) == store_env(destination):
        raise InvalidInput(_("the source and the destination are the same store"))
    keyring = keyring_from(cipher_key)
    _refuse_missing(source)
    src = _Side(source, keyring)
    try:
        dst = _Side(destination, keyring)
        try:
            return _copy(src, dst, progress, checkpoints, public_keys, started)
        finally:
            dst.close()
    finally:
        src.close()


def _copy(
    src: _Side,
    dst: _Side,
    progress: Progress | None,
    checkpoints: Sequence[str],
    public_keys: Sequence[Any],
    started: float,
) -> CopyResult:
    with translated(src.label, src.secrets):
        version = read_version(src.app)
    if version != SCHEMA_VERSION:
        raise StoreMisconfigured(
            _(
                "the store {store} is at schema version {found}, this mma_core copies "
                "version {version}: run 'mma store upgrade' on it first"
            ).format(store=src.label, found=version, version=SCHEMA_VERSION),
            store=src.label,
            reason="schema_version",
        )  # the message says what to run
    with translated(dst.label, dst.secrets):
        if _holds_history(dst):
            raise InvalidInput(
                _(
                    "the destination {store} is not empty: a copy goes only into an empty "
                    "store, never over a history"
                ).format(store=dst.label)
            )
        _create_tables(dst)
        record_version(dst.app, version)
    tree = StreamingTree()
    counts: dict[str, int] = {}
    with (
        translated(src.label, src.secrets),
        open_reader(src.app.recorder) as reader,
        translated(dst.label, dst.secrets),
        _writing(dst) as out,
    ):
        conn: Any = getattr(reader, "conn")  # noqa: B009 - both stored readers have one
        total_leaves = reader.counter()
        keys: KeyStore = src.app.keys
        total_events = keys.count_events()

        def events() -> Iterator[tuple[Any, ...]]:
            for position, aggregate, version_, topic, state in reader.event_rows():
                if aggregate.startswith(ALTERED) or topic.startswith(ALTERED):
                    raise CopyNotVerified(
                        _(
                            "the source holds an event at position {position} that its "
                            "recorder did not write; run 'mma audit verify' on it"
                        ).format(position=position)
                    )
                yield position, dst.aggregate(aggregate), version_, topic, state

        position_column = "notification_id" if dst.postgres else "rowid"
        counts["events"] = _insert(
            dst,
            out,
            dst.events,
            (position_column, "originator_id", "originator_version", "topic", "state"),
            _counted(events(), "events", total_events, progress),
        )

        def leaves() -> Iterator[tuple[Any, ...]]:
            for row in reader.leaf_rows():
                tree.append(leaf_of(row).hash())
                yield tuple(row)

        counts["leaves"] = _insert(
            dst,
            out,
            dst.leaves,
            ("seq", "aggregate_id", "version", "topic", "recorded_at", "state_sha256", "prev"),
            _counted(leaves(), "leaves", total_leaves, progress),
        )
        _set_counters(dst, out, total_leaves)

        def sealed_keys() -> Iterator[tuple[str, bytes]]:
            statement = f"SELECT official_id, key FROM {src.keys} ORDER BY official_id"  # noqa: S608
            for official_id, stored in src.rows(conn, statement):
                key = src.wrapper.unwrap(str(official_id), bytes(stored))
                yield str(official_id), dst.wrapper.wrap(str(official_id), key)

        counts["keys"] = _insert(dst, out, dst.keys, ("official_id", "key"), sealed_keys())

        def snapshots() -> Iterator[tuple[Any, ...]]:
            statement = (
                "SELECT originator_id, originator_version, topic, state "  # noqa: S608
                f"FROM {src.snapshots}"
            )
            for aggregate, version_, topic, state in src.rows(conn, statement):
                yield dst.aggregate(aggregate), version_, topic, bytes(state)

        counts["snapshots"] = (
            _insert(
                dst,
                out,
                dst.snapshots,
                ("originator_id", "originator_version", "topic", "state"),
                snapshots(),
            )
            if src.exists(conn, src.snapshots)
            else 0
        )
        derived = 0
        for name in PLAIN_TABLES:
            out.execute(f"DELETE FROM {dst.table(name)}")  # noqa: S608 - derived of no events
            if not src.exists(conn, src.table(name)):
                continue
            columns = src.columns(conn, src.table(name))
            statement = f"SELECT {', '.join(columns)} FROM {src.table(name)}"  # noqa: S608
            derived += _insert(dst, out, dst.table(name), columns, src.rows(conn, statement))
        counts["derived"] = derived
    size, root = tree.size, tree.root()
    try:
        _check(dst, size, root, checkpoints, public_keys, progress)
    except CopyNotVerified:
        with translated(dst.label, dst.secrets):
            _undo(dst)  # a copy that does not verify is not left for anyone to use
        raise
    return CopyResult(
        source=src.label,
        destination=dst.label,
        events=counts["events"],
        leaves=counts["leaves"],
        keys=counts["keys"],
        snapshots=counts["snapshots"],
        derived_rows=counts["derived"],
        schema_version=version,
        size=size,
        root=root.hex(),
        seconds=round(time.perf_counter() - started, 3),
    )


def _undo(dst: _Side) -> None:
    """Empty the destination again, in one transaction: every row the copy wrote, and the
    counters, as before it (the tables and the schema version stay)."""
    with _writing(dst) as out:
        if not dst.postgres:
            out.execute("PRAGMA secure_delete=ON")  # the keys' cells zeroed, as an erasure's
        for table in (dst.events, dst.leaves, dst.keys, dst.snapshots):
            out.execute(f"DELETE FROM {table}")  # noqa: S608 - constant names
        for name in PLAIN_TABLES:
            out.execute(f"DELETE FROM {dst.table(name)}")  # noqa: S608
        if dst.postgres:
            out.execute(
                f"UPDATE {dst.table('programme_leaf_counter')} SET last = 0 WHERE id = 1"  # noqa: S608
            )
            out.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'notification_id'), 1, false)",
                (dst.events,),
            )
        else:
            out.execute("DELETE FROM sqlite_sequence WHERE name = ?", (dst.leaves,))


def _set_counters(dst: _Side, out: Any, counter: int) -> None:
    """The leaf counter as the source's, and (PostgreSQL) the events' id sequence past the
    last copied position, so the next event gets the next number on either store."""
    if dst.postgres:
        out.execute(
            f"UPDATE {dst.table('programme_leaf_counter')} SET last = %s WHERE id = 1",  # noqa: S608
            (counter,),
        )
        last = f"(SELECT MAX(notification_id) FROM {dst.events})"  # noqa: S608 - constant
        out.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'notification_id'), "
            f"GREATEST({last}, 1), {last} IS NOT NULL)",
            (dst.events,),
        )
        return
    out.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = ?", (counter, dst.leaves))
    if out.rowcount == 0 and counter:
        out.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (dst.leaves, counter))


def _check(
    dst: _Side,
    size: int,
    root: bytes,
    checkpoints: Sequence[str],
    public_keys: Sequence[Any],
    progress: Progress | None,
) -> None:
    """Verify the written copy; :class:`CopyNotVerified` unless it holds the source's tree."""
    done = [0]

    def advance(n: int) -> None:
        done[0] += n
        if progress is not None:
            progress("verifying", done[0], size)

    with translated(dst.label, dst.secrets), open_reader(dst.app.recorder) as reader:
        result = verify(reader, list(checkpoints), list(public_keys), advance)
    if not result.ok:
        raise CopyNotVerified(
            _("the copy in {store} does not verify: {problem}; do not use it").format(
                store=dst.label, problem=result.problem
            )
        )
    if (result.size, result.root) != (size, root):
        raise CopyNotVerified(
            _(
                "the copy in {store} holds {copied} leaves with root {copied_root}, the source "
                "{size} with root {root}; do not use it"
            ).format(
                store=dst.label,
                copied=result.size,
                copied_root=result.root.hex(),
                size=size,
                root=root.hex(),
            )
        )


def private_file(path: Path) -> None:
    """Create ``path`` empty with mode ``0600``; refuse one that exists."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InvalidInput(
            _("{path} exists already: a backup is never written over a file").format(path=path)
        ) from None
    os.close(fd)


def _remove_store_files(path: Path) -> None:
    for name in (path.name, f"{path.name}-wal", f"{path.name}-shm", f"{path.name}.kek"):
        (path.parent / name).unlink(missing_ok=True)


def backup_store(
    source: str,
    path: str | Path,
    *,
    cipher_key: str | None = None,
    progress: Progress | None = None,
) -> CopyResult:
    """An online, consistent copy of the store at ``source`` in the new SQLite file ``path``
    (mode ``0600``; an existing file is refused), verified before it returns.

    An SQLite store is copied by SQLite's backup API, in one step that sees one snapshot
    (writers go on meanwhile), with its officials' key file beside it as ``path.kek``; a
    PostgreSQL store by :func:`copy_store` into the file. A backup that fails or does not
    verify is removed."""
    target = Path(path)
    src_env = store_env(source)
    if src_env["PERSISTENCE_MODULE"] != "eventsourcing.sqlite":
        _Side(source, None).close()  # reachable, before a file is made
        private_file(target)
        try:
            return copy_store(
                source, f"sqlite:///{target}", cipher_key=cipher_key, progress=progress
            )
        except BaseException:
            _remove_store_files(target)
            raise
    started = time.perf_counter()
    label = describe(source)
    db = src_env["SQLITE_DBNAME"]
    _refuse_missing(source)
    private_file(target)
    try:
        with translated(label, (), db):
            src = sqlite3.connect(db)
            try:
                out = sqlite3.connect(target)
                try:
                    src.backup(out)  # one step: one snapshot of the source
                    out.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
                finally:
                    out.close()
            finally:
                src.close()
        kek = Path(f"{db}.kek")
        if kek.exists():
            write_private(Path(f"{target}.kek"), kek.read_bytes())
        return _verified_file(label, target, cipher_key, progress, started)
    except BaseException:
        _remove_store_files(target)
        raise


def _verified_file(
    label: str, target: Path, cipher_key: str | None, progress: Progress | None, started: float
) -> CopyResult:
    """Verify the SQLite store written to ``target`` and count what it holds."""
    copy = _Side(f"sqlite:///{target}", keyring_from(cipher_key))
    try:
        with translated(copy.label, (), str(target)):
            version = read_version(copy.app)
            with open_reader(copy.app.recorder) as reader:
                size = reader.counter()
            done = [0]

            def advance(n: int) -> None:
                done[0] += n
                if progress is not None:
                    progress("verifying", done[0], size)

            with open_reader(copy.app.recorder) as reader:
                result = verify(reader, (), (), advance)
            if not result.ok:
                raise CopyNotVerified(
                    _("the copy in {store} does not verify: {problem}; do not use it").format(
                        store=copy.label, problem=result.problem
                    )
                )
            conn = sqlite3.connect(target)
            try:
                count = {
                    table: int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])  # noqa: S608
                    for table in (copy.events, copy.keys, copy.snapshots)
                }
            finally:
                conn.close()
    finally:
        copy.close()
    return CopyResult(
        source=label,
        destination=copy.label,
        events=count[copy.events],
        leaves=result.size,
        keys=count[copy.keys],
        snapshots=count[copy.snapshots],
        derived_rows=0,
        schema_version=version or 0,
        size=result.size,
        root=result.root.hex(),
        seconds=round(time.perf_counter() - started, 3),
    )


def restore_store(
    path: str | Path,
    destination: str,
    *,
    cipher_key: str | None = None,
    progress: Progress | None = None,
) -> CopyResult:
    """Copy the backup file ``path`` into the empty store at ``destination``, verified."""
    return copy_store(
        f"sqlite:///{Path(path)}", destination, cipher_key=cipher_key, progress=progress
    )


__all__ = [
    "PAGE",
    "CopyNotVerified",
    "CopyResult",
    "backup_store",
    "copy_store",
    "restore_store",
]
