"""A service opening a PostgreSQL store while another writes to it: nobody deadlocks.

Each test replays one interleaving step by step: a raw connection plays the writer, taking its
locks in the order the library's own writers take them, and the opener runs in a thread. Both
interleavings deadlocked before their fix (PostgreSQL then aborts one side: the test sees it).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from psycopg import sql

from mma_core import Programme
from mma_core.views.store import TRACKING_NAME, SqlViewStore

pytestmark = pytest.mark.postgres


def _waiting_for_a_lock(server: str, except_pid: int) -> bool:
    with psycopg.connect(server, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> %s",
            (except_pid,),
        ).fetchone()
    return bool(row and row[0])


@contextmanager
def _writer(server: str, url: str) -> Iterator[psycopg.Connection[Any]]:
    """A connection in the store's schema, its transaction rolled back at the end."""
    schema = url.rsplit("schema=", 1)[1]
    with psycopg.connect(server) as conn:
        conn.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        try:
            yield conn
        finally:
            conn.rollback()


@contextmanager
def _opening(
    opener: Callable[[], object], server: str, writer: psycopg.Connection[Any]
) -> Iterator[list[BaseException]]:
    """Run ``opener`` in a thread until it ends or waits for a lock; yield the list its error
    will be in; after the block, wait for it to end."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            opener()
        except BaseException as error:  # reported by the caller's assertion
            errors.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 5
    while thread.is_alive() and time.monotonic() < deadline:
        if _waiting_for_a_lock(server, writer.info.backend_pid):
            break
        time.sleep(0.05)
    yield errors
    thread.join(timeout=30)
    assert not thread.is_alive()


def test_a_late_opener_leaves_the_tables_alone_while_another_catches_up(
    postgres_url: str,
    postgres_server: str,
    open_programme: Callable[[str], Programme],
) -> None:
    """CI met this with eight writers opening a new store: a process found the read models'
    tables missing, waited for the DDL lock while another created them, then ran the DDL
    again. ``CREATE INDEX IF NOT EXISTS`` holds a SHARE lock on the ledger even when the index
    exists, and the tracking row's insert then waited for a process catching up, which held
    that row and waited to insert into the ledger."""
    prog = open_programme(postgres_url)
    prog.register_registry("noord-holland-2019", by="setup")
    prog.overview()  # the read models' tables exist and are caught up
    made = prog.views.store
    assert isinstance(made, SqlViewStore)

    # The late opener: its look at the catalog happened before the tables were committed.
    late = SqlViewStore(made.datastore, qualify=made.qualify, mark=made.mark)
    checked_early = late._ready

    def ready(c: Any = None) -> bool:
        return False if c is None else checked_early(c)

    late._ready = ready  # type: ignore[method-assign]

    with _writer(postgres_server, postgres_url) as catching_up:
        # A batch's first step: hold the tracking row.
        catching_up.execute(
            "UPDATE mma_views_tracking SET position = position WHERE name = %s",
            (TRACKING_NAME,),
        )
        with _opening(late.create_tables, postgres_server, catching_up) as errors:
            # The batch's next step: its ledger lines.
            catching_up.execute(
                "INSERT INTO mma_views_ledger VALUES "
                "(999999, 0, '2020-01-01', 'GM0363', 'k', '0', 'p', 'q', 'c', '1', 't')"
            )
    assert errors == []


def test_opening_a_fresh_store_while_a_service_writes_its_first_events(
    postgres_url: str,
    postgres_server: str,
    open_programme: Callable[[str], Programme],
) -> None:
    """Opening a store with no leaves yet looks for events to give leaves to. It took the leaf
    counter's row and then the events table's lock; a writer takes that lock and then the row."""
    prog = open_programme(postgres_url)
    recorder: Any = prog.recorder
    events, counter = recorder.events_table_name, recorder.counter_table

    with _writer(postgres_server, postgres_url) as writing:
        writing.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(sql.Identifier(events)))
        with _opening(recorder._backfill_leaves, postgres_server, writing) as errors:
            try:
                writing.execute(
                    sql.SQL("UPDATE {} SET last = last + 1 WHERE id = 1").format(
                        sql.Identifier(counter)
                    )
                )
            except psycopg.Error as error:
                errors.append(error)
            writing.rollback()
    assert errors == []
