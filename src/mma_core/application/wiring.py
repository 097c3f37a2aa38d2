"""How a programme is wired to its store: the recorder, mapper, repository and snapshot store
for its URL (SQLite, PostgreSQL or memory), the officials' keys table and its key-encryption key,
and the lock that retried commands take turns on. ``Programme`` adds the commands and queries.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.application import Application, Repository
from eventsourcing.persistence import JSONTranscoder, Mapper
from eventsourcing.utils import Environment

from mma_core.application.repository import CopyingRepository
from mma_core.language.i18n import _, number
from mma_core.storage import (
    KeyStore,
    MemoryRecorder,
    SQLiteRecorder,
    create_private,
    postgres_recorder_class,
)
from mma_core.storage.cipher import Keyring, StoreMapper
from mma_core.storage.errors import StoreBusy, advice_for
from mma_core.storage.locks import DDL_LOCK, RETRY_LOCK, advisory_lock
from mma_core.storage.privacy import KeyWrapper, new_key
from mma_core.storage.signals import Signal
from mma_core.storage.transcodings import register_transcodings
from mma_core.storage.urls import DEFAULT_LOCK_TIMEOUT, LOCK_TIMEOUT_KEY

AGGREGATE_CACHE_SIZE = "1000"


def key_wrapper_for(env: Mapping[str, str], keyring: Keyring | None) -> KeyWrapper:
    """The key-encryption key of a store's officials' keys table, for its environment: the
    store cipher's ``keyring``; else the key file beside an SQLite store; else none (a
    PostgreSQL store without a store cipher keeps the keys bare)."""
    if keyring is not None:
        return KeyWrapper(keyring)
    if env.get("PERSISTENCE_MODULE", "") == "eventsourcing.sqlite":
        return KeyWrapper(kek_file=Path(f"{env.get('SQLITE_DBNAME', '')}.kek"))
    return KeyWrapper()


def probe_postgres(datastore: Any) -> None:
    """Connect once, directly, before the pool does: the server's own answer (a database that
    does not exist, a password refused, nothing listening) comes back at once and with its
    SQLSTATE, where the pool would retry it quietly until its timeout and then say only that
    it got no connection."""
    import psycopg

    kwargs = {k: v for k, v in datastore.pool.kwargs.items() if k != "row_factory"}
    kwargs["connect_timeout"] = max(1, int(datastore.pool.timeout))
    with psycopg.connect(**kwargs):
        pass


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
        self.own_position = 0  # the last position this programme wrote (see _notify)
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
            from mma_core.storage.postgres import bounded_retries

            with advisory_lock(self.factory.datastore, DDL_LOCK):  # type: ignore[attr-defined]
                store = super().construct_snapshot_store()
            bounded_retries(store.recorder)
            return store
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
            # Every wait for a lock is bounded, not only the events table's (eventsourcing's
            # SET LOCAL): the read models', the outbox's, the advisory locks'. A wait that runs
            # out raises lock_not_available, which reaches the caller as StoreBusy.
            self.factory.datastore.pool.kwargs["options"] = (  # type: ignore[attr-defined]
                f"-c lock_timeout={int(self.lock_timeout * 1000)}"
            )
            probe_postgres(self.factory.datastore)  # type: ignore[attr-defined]
            recorder = postgres_recorder_class()(
                datastore=self.factory.datastore,  # type: ignore[attr-defined]
                events_table_name=f"{self.name.lower()}_events",
            )
            from mma_core.storage.postgres import bounded_retries

            bounded_retries(recorder)
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

    @property
    def lock_timeout(self) -> float:
        """The bound, in seconds, on every wait for a lock (``MMA_LOCK_TIMEOUT``, 5 s)."""
        text = self.env.get(LOCK_TIMEOUT_KEY)
        return float(text) if text else DEFAULT_LOCK_TIMEOUT

    def _busy(self) -> StoreBusy:
        """The error for a lock not got within the lock timeout."""
        return StoreBusy(
            _("the store {store} is busy: a lock was not free within {seconds} s").format(
                store=self.store_label, seconds=number(self.lock_timeout, 1)
            ),
            store=self.store_label,
            reason="busy",
            advice=advice_for("busy"),
        )

    def _notify(self, recordings: list[Any]) -> None:
        super()._notify(recordings)
        if recordings:
            # The last position this programme itself wrote: its queries read their own
            # writes even while another process holds the write lock (views.models).
            last = max(int(r.notification.id) for r in recordings)
            self.own_position = max(self.own_position, last)
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
            if self.env.get("PERSISTENCE_MODULE", "") == "eventsourcing.popo":
                self._key_wrapper = KeyWrapper(self.keyring or Keyring([new_key()]))
            else:
                self._key_wrapper = key_wrapper_for(dict(self.env), self.keyring)
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
                deadline = time.monotonic() + self.lock_timeout
                while True:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if time.monotonic() >= deadline:
                            raise self._busy() from None
                        time.sleep(0.01)
                yield
            finally:
                os.close(fd)  # closing releases the lock
        else:
            with self._memory_retry_lock:
                yield
