"""PostgreSQL: the recorder writes a save's leaves, keys and events in one transaction of its own
making (an explicit BEGIN and COMMIT in one pipeline). Whatever fails inside it, found by the
recorder (a version another writer stored first) or by the server (a key row that exists),
writes nothing and leaves no transaction open on the pooled connection, holding the events
table's lock. Skipped when the server is unreachable (unless MMA_REQUIRE_POSTGRES=1)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit
from uuid import UUID, uuid4

import psycopg
import pytest
from eventsourcing.persistence import RecordConflictError, StoredEvent
from psycopg import errors, sql

from mma_core import Programme
from mma_core.storage import KEYS

pytestmark = pytest.mark.postgres


def _event(aggregate: UUID, version: int) -> StoredEvent:
    return StoredEvent(originator_id=aggregate, originator_version=version, topic="t", state=b"{}")


def _table_is_free(url: str) -> bool:
    """Whether another connection gets the events table's write lock at once."""
    schema = parse_qs(urlsplit(url).query)["schema"][0]
    with psycopg.connect(url.split("?")[0]) as conn:
        conn.execute("SET lock_timeout = '200ms'")
        try:
            conn.execute(
                sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(
                    sql.Identifier(schema, "programme_events")
                )
            )
        except errors.LockNotAvailable:
            return False
        finally:
            conn.rollback()
    return True


def _rows(url: str, table: str, aggregate: UUID) -> list[int]:
    schema = parse_qs(urlsplit(url).query)["schema"][0]
    column, kind = (
        ("originator_id", "originator_version")
        if table == "programme_events"
        else ("aggregate_id", "version")
    )
    with psycopg.connect(url.split("?")[0]) as conn:
        rows = conn.execute(
            sql.SQL("SELECT {} FROM {} WHERE {}::text = %s ORDER BY 1").format(
                sql.Identifier(kind), sql.Identifier(schema, table), sql.Identifier(column)
            ),
            (str(aggregate),),
        ).fetchall()
    return [int(r[0]) for r in rows]


def test_a_failed_write_leaves_nothing_written_and_nothing_locked(postgres_url: str) -> None:
    with Programme.open(postgres_url) as prog:
        recorder = prog.recorder
        aggregate = uuid4()
        recorder.insert_events([_event(aggregate, 1)])
        # Found by the recorder between the leaf counter's read and the insert: the version
        # is stored already.
        with pytest.raises(RecordConflictError):
            recorder.insert_events([_event(aggregate, 1)])
        assert _table_is_free(postgres_url)
        recorder.insert_events([_event(aggregate, 2)])
        # Found by the server at the commit's sync: the key row exists.
        recorder.insert_events([_event(aggregate, 3)], **{KEYS: {"GM0363-1": b"k" * 32}})
        with pytest.raises(RecordConflictError):
            recorder.insert_events([_event(aggregate, 4)], **{KEYS: {"GM0363-1": b"k" * 32}})
        assert _table_is_free(postgres_url)
        assert _rows(postgres_url, "programme_events", aggregate) == [1, 2, 3]
        assert _rows(postgres_url, "programme_leaves", aggregate) == [1, 2, 3]
        # Every pooled connection still writes; the leaf numbers have no gap.
        for version in range(4, 12):
            recorder.insert_events([_event(aggregate, version)])
        assert _rows(postgres_url, "programme_leaves", aggregate) == list(range(1, 12))
        assert prog.event_count() == 11
        assert prog.last_position() > 0
