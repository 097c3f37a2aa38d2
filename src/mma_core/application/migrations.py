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
from typing import Any

from mma_core.application.ports import Host, Store
from mma_core.language.i18n import N_
from mma_core.storage.errors import StoreVersionError, translated
from mma_core.storage.outbox import SQLOutboxStore
from mma_core.storage.schema import schema_prefix

SCHEMA_VERSION = 3

# Version -> the step that brings a store of the version before it there. Version 1 is the
# layout of the first releases: events, officials' keys, audit leaves, stored snapshots, read
# models, outbox. Version 2 adds the read models' cost chunks (``mma_views_cost_chunks``),
# derived from their ledger by the migration. Version 3 adds the as-of index
# (``mma_views_asof``); the migration empties the read models, so that the next catch-up
# rebuilds them and the index together (``views.store.SqlViewStore._create_index``).
Migration = Callable[[Host], None]


def _create_everything(programme: Host) -> None:

    recorder: Any = programme.recorder
    recorder.create_table()
    if programme.snapshots is not None:  # the stored snapshots of municipalities
        snapshots: Any = programme.snapshots.recorder
        snapshots.create_table()
    programme.views.store.create_tables()  # type: ignore[attr-defined]
    postgres = _kind(programme) == "eventsourcing.postgres"
    SQLOutboxStore(recorder.datastore, postgres=postgres, create=True)


def _add_cost_chunks(programme: Host) -> None:
    # The views' tables are created if missing; the chunks' table is filled from the ledger in
    # the same transaction (views.store.SqlViewStore.create_tables).
    programme.views.store.create_tables()  # type: ignore[attr-defined]


def _add_asof_index(programme: Host) -> None:
    # The index's table is created, the views emptied in the same transaction.
    programme.views.store.create_tables()  # type: ignore[attr-defined]


MIGRATIONS: dict[int, Migration] = {1: _create_everything, 2: _add_cost_chunks, 3: _add_asof_index}
# What each step does, in the words `mma store upgrade --dry-run` shows (translated there).
STEPS: dict[int, str] = {
    1: N_(
        "create the tables: events, officials' keys, audit leaves, snapshots, read models, outbox"
    ),
    2: N_("add the read models' cost chunks, filled from their cost ledger"),
    3: N_("add the as-of index of month-end states beside the read models, rebuilt with them"),
}


def _kind(programme: Store) -> str:
    return str(programme.env.get("PERSISTENCE_MODULE", ""))


def _table(programme: Store) -> str:
    if _kind(programme) == "eventsourcing.postgres":
        # The schema as psycopg's sql.Identifier quotes it; the table name is a constant.
        prefix = schema_prefix(programme.factory.datastore)  # type: ignore[attr-defined]
        return f"{prefix}{programme.name.lower()}_schema"
    return "mma_schema"


def read_version(programme: Store) -> int | None:
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


def _record(programme: Store, version: int) -> None:
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


def record_version(store: Store, version: int) -> None:
    """Record ``version`` as the store's schema version (a copy keeps its source's)."""
    _record(store, version)


def _newer(programme: Store, found: int) -> StoreVersionError:
    return StoreVersionError(
        f"the store {programme.store_label} has schema version {found}, written by a newer "
        f"mma_core; this one knows versions up to {SCHEMA_VERSION}: upgrade mma_core",
        store=programme.store_label,
        reason="schema_version",
    )


def check(programme: Host, create: bool) -> int:
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
                    reason="missing_tables",
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
                reason="schema_version",
            )
        return found


def plan(programme: Host) -> tuple[int | None, list[int]]:
    """What :func:`upgrade` would do, without doing it: the store's version and the versions
    whose steps would run, in order (see :data:`STEPS`)."""
    with translated(programme.store_label, programme.store_secrets):
        before = read_version(programme)
    if _kind(programme) not in ("eventsourcing.sqlite", "eventsourcing.postgres"):
        return before, []
    if before is not None and before > SCHEMA_VERSION:
        raise _newer(programme, before)
    return before, [version for version in sorted(MIGRATIONS) if version > (before or 0)]


def upgrade(programme: Host) -> tuple[int | None, int]:
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
        # Every table of this version, also those a store opened with create=True makes only
        # on first use (read models, outbox): a service opened with create=False finds them.
        _create_everything(programme)
        return before, current


__all__ = [
    "SCHEMA_VERSION",
    "STEPS",
    "check",
    "plan",
    "read_version",
    "record_version",
    "upgrade",
]
