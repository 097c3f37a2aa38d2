"""Opening a store whose read-model tables another process has just created, while a third
catches its read models up: nobody deadlocks.

The interleaving that CI once met with eight writers opening a new PostgreSQL store: a process
found the tables missing, waited for the DDL lock while another created them, then ran the DDL
again. ``CREATE INDEX IF NOT EXISTS`` holds a SHARE lock on the ledger even when the index
exists, and the tracking row's insert then waited for a process catching up, which held that
row and waited to insert into the ledger.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from psycopg import sql

from mma_core import Programme
from mma_core.views.store import TRACKING_NAME, SqlViewStore

pytestmark = pytest.mark.postgres


def _lock_waits(server: str, except_pid: int) -> int:
    with psycopg.connect(server, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> %s",
            (except_pid,),
        ).fetchone()
    return int(row[0]) if row else 0


def test_a_late_opener_leaves_the_tables_alone_while_another_catches_up(
    postgres_url: str,
    postgres_server: str,
    open_programme: Callable[[str], Programme],
) -> None:
    prog = open_programme(postgres_url)
    prog.register_registry("noord-holland-2019", by="setup")
    prog.overview()  # the read models' tables exist and are caught up
    made = prog.views.store
    assert isinstance(made, SqlViewStore)
    schema = postgres_url.rsplit("schema=", 1)[1]

    # The late opener: its look at the catalog happened before the tables were committed.
    late = SqlViewStore(made.datastore, qualify=made.qualify, mark=made.mark)
    checked_early = late._ready

    def ready(c: Any = None) -> bool:
        return False if c is None else checked_early(c)

    late._ready = ready  # type: ignore[method-assign]

    with psycopg.connect(postgres_server) as catching_up:
        catching_up.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        # A batch's first step: hold the tracking row.
        catching_up.execute(
            "UPDATE mma_views_tracking SET position = position WHERE name = %s",
            (TRACKING_NAME,),
        )
        errors: list[BaseException] = []

        def open_late() -> None:
            try:
                late.create_tables()
            except BaseException as error:  # reported by the assertion below
                errors.append(error)

        opener = threading.Thread(target=open_late)
        opener.start()
        deadline = time.monotonic() + 5
        while opener.is_alive() and time.monotonic() < deadline:
            if _lock_waits(postgres_server, catching_up.info.backend_pid):
                break
            time.sleep(0.05)
        # The batch's next step: its ledger lines.
        catching_up.execute(
            "INSERT INTO mma_views_ledger VALUES "
            "(999999, 0, '2020-01-01', 'GM0363', 'k', '0', 'p', 'q', 'c', '1', 't')"
        )
        catching_up.rollback()
        opener.join(timeout=30)
    assert not opener.is_alive()
    assert errors == []
