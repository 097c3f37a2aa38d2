"""How a programme is wired to its store: the recorder, mapper, repository and snapshot store
for its URL (SQLite, PostgreSQL or memory), the officials' keys table and its key-encryption key,
and the lock that retried commands take turns on. ``Programme`` adds the commands and queries.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.application import Application, Repository
from eventsourcing.persistence import JSONTranscoder, Mapper
from eventsourcing.utils import Environment

from mma_core.application.repository import CopyingRepository
from mma_core.storage import (
    KeyStore,
    MemoryRecorder,
    SQLiteRecorder,
    create_private,
    postgres_recorder_class,
)
from mma_core.storage.cipher import Keyring, StoreMapper
from mma_core.storage.locks import DDL_LOCK, RETRY_LOCK, advisory_lock
from mma_core.storage.privacy import KeyWrapper, new_key
from mma_core.storage.signals import Signal
from mma_core.storage.transcodings import register_transcodings

AGGREGATE_CACHE_SIZE = "1000"


class StoredApplication(Application[UUID]):
    """An eventsourcing application wired to this library's stores (see the module)."""

    def __init__(
        self, env: dict[str, str] | None, *, keyring: Keyring | None, create: bool
    ) -> None:
        self.keyring = keyring
        self._key_wrapper: KeyWrapper | None = None
        self.create_tables = create  # False: never run DDL (see mma_core.application.migrations)
        # How store failures name the store (no password) and what to strip from them.
        self.store_label: str = "the programme's store"
        self.store_secrets: tuple[str, ...] = ()
        self.follow_signal = Signal()  # wakes this programme's followers after each write
        self._memory_retry_lock = threading.Lock()
        super().__init__(env)

    def construct_env(self, name: str, env: Any = None) -> Environment:
        # Built from the URL alone: eventsourcing would merge os.environ, and a stray
        # PROGRAMME_SQLITE_DBNAME would send events to another file than the URL names.
        values = {"AGGREGATE_CACHE_MAXSIZE": AGGREGATE_CACHE_SIZE, "IS_SNAPSHOTTING_ENABLED": "y"}
        if not self.create_tables:
            values["CREATE_TABLE"] = "n"  # also eventsourcing's own (snapshot) tables
        values.update(dict(env or {}))
        return Environment(name, values)

    def construct_snapshot_store(self) -> Any:
        if self.env.get("PERSISTENCE_MODULE", "") == "eventsourcing.postgres":
            # As for the events: services opening a fresh store at once wait for one another.
            with advisory_lock(self.factory.datastore, DDL_LOCK):  # type: ignore[attr-defined]
                return super().construct_snapshot_store()
        return super().construct_snapshot_store()

    def construct_repository(self) -> Repository[UUID]:
        repository = super().construct_repository()
        maxsize = self.env.get(self.AGGREGATE_CACHE_MAXSIZE)
        return CopyingRepository(
            event_store=repository.event_store,
            snapshot_store=repository.snapshot_store,
            cache_maxsize=int(maxsize) if maxsize else None,
            fastforward=repository.fastforward,
            fastforward_skipping=repository.fastforward_skipping,
            deepcopy_from_cache=repository.deepcopy_from_cache,
        )

    def construct_mapper(self) -> Mapper[UUID]:
        # Seals each state bound to its row when a keyring is set (mma_core.storage.cipher).
        return StoreMapper(self.construct_transcoder(), self.keyring)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_transcodings(transcoder)

    def construct_recorder(self) -> Any:
        module = self.env.get("PERSISTENCE_MODULE", "")
        if module == "eventsourcing.sqlite":
            # 0600 from the start (SQLite gives the WAL and -shm files the same mode).
            create_private(self.env.get("SQLITE_DBNAME", ""))
            recorder: Any = SQLiteRecorder(datastore=self.factory.datastore)  # type: ignore[attr-defined]
        elif module == "eventsourcing.postgres":
            # psycopg records a statement as prepared before a pipeline runs it; when a
            # conflict aborts the pipeline, the next use fails with "prepared statement
            # _pg3_N does not exist". Conflicts are routine here (retried commands), so the
            # connections do not prepare statements at all.
            self.factory.datastore.pool.kwargs["prepare_threshold"] = None  # type: ignore[attr-defined]
            recorder = postgres_recorder_class()(
                datastore=self.factory.datastore,  # type: ignore[attr-defined]
                events_table_name=f"{self.name.lower()}_events",
            )
            # Several services opening a fresh store at once would race on the DDL
            # ("tuple concurrently updated"): one creates the tables while the others wait.
            if self.create_tables:
                with advisory_lock(self.factory.datastore, DDL_LOCK):  # type: ignore[attr-defined]
                    recorder.create_table()
            return recorder
        else:
            return MemoryRecorder()
        if self.create_tables:
            recorder.create_table()
        return recorder

    def _notify(self, recordings: list[Any]) -> None:
        super()._notify(recordings)
        self.follow_signal.notify()

    @property
    def keys(self) -> KeyStore:
        recorder: Any = self.recorder
        return recorder  # type: ignore[no-any-return]

    @property
    def key_wrapper(self) -> KeyWrapper:
        """The key-encryption key of the officials' keys table (see docs/security.md): the
        store cipher; else a key file beside an SQLite store; else (memory) one per process;
        a PostgreSQL store without a store cipher keeps the keys bare."""
        if self._key_wrapper is None:
            module = self.env.get("PERSISTENCE_MODULE", "")
            if self.keyring is not None:
                self._key_wrapper = KeyWrapper(self.keyring)
            elif module == "eventsourcing.sqlite":
                db = self.env.get("SQLITE_DBNAME", "")
                self._key_wrapper = KeyWrapper(kek_file=Path(f"{db}.kek"))
            elif module == "eventsourcing.popo":
                self._key_wrapper = KeyWrapper(Keyring([new_key()]))
            else:
                self._key_wrapper = KeyWrapper()
        return self._key_wrapper

    @contextmanager
    def _retry_lock(self) -> Iterator[None]:
        """Exclusive among every process writing to this store: a PostgreSQL advisory lock,
        a lock on a file beside an SQLite store, a thread lock for ``memory://``."""
        module = self.env.get("PERSISTENCE_MODULE", "")
        if module == "eventsourcing.postgres":
            with advisory_lock(self.factory.datastore, RETRY_LOCK):  # type: ignore[attr-defined]
                yield
        elif module == "eventsourcing.sqlite" and self.env.get("SQLITE_DBNAME") != ":memory:":
            import fcntl

            path = f"{self.env.get('SQLITE_DBNAME')}.retry-lock"
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)  # closing releases the lock
        else:
            with self._memory_retry_lock:
                yield
