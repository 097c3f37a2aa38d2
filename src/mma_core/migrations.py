"""The store's schema version, and the migrations that bring a store to this library's version.

The store records its version in a one-row table (``mma_schema``; on PostgreSQL
``programme_schema`` in the store's schema). ``Programme.open(url)`` (``create=True``, the
default) creates what is missing of the current schema and records the version on a new store
or on one written before versions were recorded (its tables are the same as version 1).
``Programme.open(url, create=False)`` runs no DDL at all, for a role that may only read and
write rows: it refuses a store that has no version yet. A store of a *newer* version than this
library knows is always refused, with a message saying so; an older one waits for
``mma store upgrade`` (``Programme.upgrade_store``), which applies the migrations in order,
each in its own step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mma_core.storage.schema import schema_prefix
from mma_core.store_errors import StoreVersionError, translated

if TYPE_CHECKING:  # pragma: no cover
    from mma_core.application import Programme

SCHEMA_VERSION = 2

# Version -> the step that brings a store of the version before it there. Version 1 is the
# layout of the first releases: events, officials' keys, audit leaves, stored snapshots, read
# models, outbox. Version 2 adds the read models' cost chunks (``mma_views_cost_chunks``),
# derived from their ledger by the migration.
Migration = Callable[["Programme"], None]


def _create_everything(programme: Programme) -> None:
    from mma_core.delivery import SQLOutboxStore

    recorder: Any = programme.recorder
    recorder.create_table()
    if programme.snapshots is not None:  # the stored snapshots of municipalities
        snapshots: Any = programme.snapshots.recorder
        snapshots.create_table()
    programme.views.store.create_tables()  # type: ignore[attr-defined]
    postgres = _kind(programme) == "eventsourcing.postgres"
    SQLOutboxStore(recorder.datastore, postgres=postgres, create=True)


def _add_cost_chunks(programme: Programme) -> None:
    # The views' tables are created if missing; the chunks' table is filled from the ledger in
    # the same transaction (views.store.SqlViewStore.create_tables).
    programme.views.store.create_tables()  # type: ignore[attr-defined]


MIGRATIONS: dict[int, Migration] = {1: _create_everything, 2: _add_cost_chunks}


def _kind(programme: Programme) -> str:
    return str(programme.env.get("PERSISTENCE_MODULE", ""))


def _table(programme: Programme) -> str:
    if _kind(programme) == "eventsourcing.postgres":
        # The schema as psycopg's sql.Identifier quotes it; the table name is a constant.
        prefix = schema_prefix(programme.factory.datastore)  # type: ignore[attr-defined]
        return f"{prefix}{programme.name.lower()}_schema"
    return "mma_schema"


def read_version(programme: Programme) -> int | None:
    """The version the store records; ``None`` when it records none (or is in memory)."""
    kind = _kind(programme)
    datastore: Any = getattr(programme.factory, "datastore", None)
    if kind == "eventsourcing.sqlite":
        with datastore.transaction(commit=False) as c:
            c.execute("SELECT name FROM sqlite_master WHERE type='table' AND name='mma_schema'")
            if c.fetchone() is None:
                return None
            c.execute("SELECT version FROM mma_schema WHERE id = 1")
            row = c.fetchone()
            return None if row is None else int(row[0])
    if kind == "eventsourcing.postgres":
        table = _table(programme)
        with datastore.transaction(commit=False) as c:
            c.execute("SELECT to_regclass(%s) AS found", (table,))
            found = c.fetchone()
            if found is None or found["found"] is None:
                return None
            c.execute(f"SELECT version FROM {table} WHERE id = 1")  # noqa: S608
            row = c.fetchone()
            return None if row is None else int(row["version"])
    return SCHEMA_VERSION  # memory://: made by this very process


def _record(programme: Programme, version: int) -> None:
    kind = _kind(programme)
    datastore: Any = programme.factory.datastore  # type: ignore[attr-defined]
    table = _table(programme)
    mark = "%s" if kind == "eventsourcing.postgres" else "?"
    with datastore.transaction(commit=True) as c:
        c.execute(
            f"CREATE TABLE IF NOT EXISTS {table} ("
            "id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)"
        )
        c.execute(
            f"INSERT INTO {table} (id, version) VALUES (1, {mark}) "  # noqa: S608
            "ON CONFLICT (id) DO UPDATE SET version = excluded.version",
            (version,),
        )


def _newer(programme: Programme, found: int) -> StoreVersionError:
    return StoreVersionError(
        f"the store {programme.store_label} has schema version {found}, written by a newer "
        f"mma_core; this one knows versions up to {SCHEMA_VERSION}: upgrade mma_core",
        store=programme.store_label,
    )


def check(programme: Programme, create: bool) -> int:
    """On open: refuse a store this library cannot use; with ``create``, record the version
    of a new (or pre-version) store. Returns the store's version."""
    if _kind(programme) not in ("eventsourcing.sqlite", "eventsourcing.postgres"):
        return SCHEMA_VERSION
    with translated(programme.store_label, programme.store_secrets):
        found = read_version(programme)
        if found is None:
            if not create:
                raise StoreVersionError(
                    f"the store {programme.store_label} records no schema version (new, or "
                    "written by an old mma_core): run 'mma store upgrade' once, or open it "
                    "with create=True; create=False never creates or changes tables",
                    store=programme.store_label,
                )
            _record(programme, SCHEMA_VERSION)  # the tables were created just now
            return SCHEMA_VERSION
        if found > SCHEMA_VERSION:
            raise _newer(programme, found)
        if found < SCHEMA_VERSION:
            raise StoreVersionError(
                f"the store {programme.store_label} has schema version {found}, this mma_core "
                f"uses {SCHEMA_VERSION}: run 'mma store upgrade' to migrate it",
                store=programme.store_label,
            )
        return found


def upgrade(programme: Programme) -> tuple[int | None, int]:
    """Apply every migration after the store's version, in order; returns (before, after)."""
    with translated(programme.store_label, programme.store_secrets):
        before = read_version(programme)
        if _kind(programme) not in ("eventsourcing.sqlite", "eventsourcing.postgres"):
            return before, SCHEMA_VERSION
        if before is not None and before > SCHEMA_VERSION:
            raise _newer(programme, before)
        current = before or 0
        for version in sorted(MIGRATIONS):
            if version > current:
                MIGRATIONS[version](programme)
                _record(programme, version)
                current = version
        return before, current


__all__ = ["SCHEMA_VERSION", "check", "read_version", "upgrade"]
