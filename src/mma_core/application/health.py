"""``Programme.health()``: whether the store answers, its schema version, how far the read
models and the outbox lag behind the log. Never raises: a failure is reported in the result."""

from __future__ import annotations

import sqlite3
import time
from typing import TYPE_CHECKING, Any

import attrs

from mma_core.application.migrations import SCHEMA_VERSION, read_version
from mma_core.application.ports import Host
from mma_core.domain.jsonable import JSONReady
from mma_core.language.i18n import _, number
from mma_core.storage import schema_prefix
from mma_core.storage.errors import translated
from mma_core.storage.outbox import outbox_store

if TYPE_CHECKING:  # pragma: no cover
    pass


@attrs.frozen
class Health(JSONReady):
    """A programme's health. ``ok``: the store answers at this library's schema version.

    ``view_lag`` is how many positions the read models are behind the log, ``outbox_backlog``
    how many events the outbox has not planned yet plus the notifications waiting to be sent
    (``None`` where that part could not be read; ``error`` says why).

    ``busy``: another process has held the store's write lock for longer than the lock
    timeout (``MMA_LOCK_TIMEOUT``), so commands fail with ``store_busy`` meanwhile;
    ``lock_held_seconds`` says how long (on SQLite: at least the timeout, which health waited).
    A busy store is not ``ok``.
    """

    ok: bool
    store: str
    reachable: bool
    schema_version: int | None
    expected_schema_version: int
    last_position: int | None
    view_position: int | None
    view_lag: int | None
    outbox_position: int | None
    outbox_backlog: int | None
    error: str | None
    busy: bool = False
    lock_held_seconds: float | None = None


def write_lock_held(programme: Host) -> float | None:
    """How long another connection has held the store's write lock, if it holds it.

    PostgreSQL says when the transaction holding the events table's lock began. SQLite says
    only whether the lock is free: health waits for it up to the lock timeout, and a lock
    still held then has been held at least that long."""
    module = programme.env.get("PERSISTENCE_MODULE", "")
    if module == "eventsourcing.sqlite":
        path = str(programme.env.get("SQLITE_DBNAME", ""))
        if ":memory:" in path:
            return None
        started = time.monotonic()
        probe = sqlite3.connect(path, timeout=programme.lock_timeout, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) and "busy" not in str(error):
                raise
            return time.monotonic() - started
        finally:
            probe.close()
        return None
    if module == "eventsourcing.postgres":
        recorder: Any = programme.recorder
        table = f"{schema_prefix(recorder.datastore)}{recorder.events_table_name}"
        with recorder.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT EXTRACT(EPOCH FROM (clock_timestamp() - a.xact_start)) AS held "
                "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'relation' AND l.relation = to_regclass(%s) AND l.granted "
                "AND l.mode IN ('ExclusiveLock', 'AccessExclusiveLock') "
                "AND a.pid <> pg_backend_pid() ORDER BY held DESC LIMIT 1",
                (table,),
            )
            row = c.fetchone()
        return None if row is None or row["held"] is None else float(row["held"])
    return None


def health(programme: Host) -> Health:
    label, secrets = programme.store_label, programme.store_secrets
    errors: list[str] = []
    last = version = view = outbox = backlog = None
    reachable = False
    try:
        with translated(label, secrets):
            last = int(programme.recorder.max_notification_id() or 0)
            reachable = True
            version = read_version(programme)
    except Exception as error:
        errors.append(f"store: {error}")
    if reachable:
        try:
            with translated(label, secrets):
                view = programme.views.tracking().position
        except Exception as error:
            errors.append(f"views: {error}")
        try:
            with translated(label, secrets):
                store = outbox_store(
                    programme.env, programme.recorder, create=programme.create_tables
                )
                outbox = store.position()
                backlog = max(0, (last or 0) - outbox) + len(store.rows("pending"))
        except Exception as error:
            errors.append(f"outbox: {error}")
    held: float | None = None
    if reachable:
        try:
            held = write_lock_held(programme)
        except Exception as error:
            errors.append(f"lock: {error}")
    busy = held is not None and held >= programme.lock_timeout
    if busy:
        errors.append(
            _("store: busy, the write lock has been held for {seconds} s or more").format(
                seconds=number(held or 0.0, 1)
            )
        )
    return Health(
        busy=busy,
        lock_held_seconds=held,
        ok=reachable and version == SCHEMA_VERSION and not busy,
        store=label,
        reachable=reachable,
        schema_version=version,
        expected_schema_version=SCHEMA_VERSION,
        last_position=last,
        view_position=view,
        view_lag=None if view is None or last is None else max(0, last - view),
        outbox_position=outbox,
        outbox_backlog=backlog,
        error="; ".join(errors) or None,
    )


__all__ = ["Health", "health"]
