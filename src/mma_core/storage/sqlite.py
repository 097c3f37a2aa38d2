"""The SQLite recorder: eventsourcing's, with the officials' keys and the audit leaves written
in the events' own transaction."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.persistence import OperationalError, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

from mma_core.domain.errors import ErasureIncomplete
from mma_core.language.i18n import _
from mma_core.storage.keys import ERASE_KEYS, ERASE_WAIT_MS, KEYS, WIPE_AGAIN, ErasureCheck
from mma_core.storage.leaf_format import Leaf, LeafChain, recorded_now
from mma_core.storage.leaves import LEAF_COLUMNS, LEAVES, leaf_of_row, leaf_row


def create_private(path: str) -> None:
    """Create an SQLite store file with mode ``0600`` before SQLite opens it: SQLite then
    gives its WAL and shared-memory files the same mode. An existing file keeps its mode."""
    if not path or path.startswith("file:") or ":memory:" in path:
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except FileNotFoundError:
        # Not a passing failure: waiting will not make the folder. Say what to do instead.
        from mma_core.storage.errors import StoreUnavailable

        folder = os.path.dirname(path) or "."
        raise StoreUnavailable(
            _(
                "the store {store} cannot be made: the folder {folder} does not exist; make it "
                "first, or give --store a file in a folder that exists"
            ).format(store=f"sqlite:///{path}", folder=folder),
            store=f"sqlite:///{path}",
        ) from None
    except OSError as error:
        # As SQLite's own failure to open would be: the store cannot be used (exit status 3).
        raise OperationalError(
            _("cannot create the file {path}: {reason}").format(
                path=path, reason=error.strerror or type(error).__name__
            )
        ) from None
    os.close(fd)


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
            [leaf_row(leaf) for leaf in leaves],
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
