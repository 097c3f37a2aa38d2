"""The PostgreSQL recorder: eventsourcing's, with the officials' keys and the audit leaves
written in the events' own transaction. Imported only for a ``postgresql://`` store, so that
psycopg is needed only by PostgreSQL users."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ConnectionUnavailableError, StoredEvent
from eventsourcing.persistence import IntegrityError as PersistenceIntegrityError
from eventsourcing.persistence import InterfaceError as PersistenceInterfaceError
from eventsourcing.persistence import OperationalError as PersistenceOperationalError
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresApplicationRecorder
from eventsourcing.utils import retry
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier
from psycopg_pool import PoolTimeout

from mma_core.domain.errors import ErasureIncomplete, InvalidInput
from mma_core.storage.errors import classify
from mma_core.storage.keys import (
    ERASE_KEYS,
    ERASE_RETRY_SECONDS,
    ERASE_WAIT_MS,
    KEYS,
    WIPE_AGAIN,
    ErasureCheck,
)
from mma_core.storage.leaf_format import HistoryAltered, Leaf, LeafChain, recorded_now
from mma_core.storage.leaves import LEAF_COLUMNS, LEAF_NAMES, leaf_of_row, leaf_row

ATTEMPTS = 10  # as eventsourcing tries a statement again after a lost connection
BEGIN = SQL("BEGIN")
COMMIT = SQL("COMMIT")
RETRIED = ("insert_events", "select_events", "select_notifications", "max_notification_id")


def bounded_retries(recorder: Any) -> None:
    """Give ``recorder`` (an application or a snapshot recorder) eventsourcing's retries after
    a lost connection, bounded: none after a permanent refusal (a database that does not
    exist, a password refused), none after a lock not got within the lock timeout (the bound
    the caller set), none after the pool waited its whole connect timeout for a connection
    (the server is down: ``StoreUnavailable`` now, not ten connect timeouts later)."""
    for name in RETRIED:
        decorated = getattr(type(recorder), name, None)
        inner = getattr(decorated, "__wrapped__", None)
        if inner is None:
            continue

        def bounded(*args: Any, _inner: Any = inner, **kwargs: Any) -> Any:
            attempts = 0
            while True:
                try:
                    return _inner(recorder, *args, **kwargs)
                except (PersistenceInterfaceError, PersistenceOperationalError) as error:
                    attempts += 1
                    cause = error.__cause__
                    if (
                        attempts >= ATTEMPTS
                        or not classify(error)[0].transient  # a refusal waiting will not cure
                        or getattr(cause, "sqlstate", None) == "55P03"
                        or isinstance(error, ConnectionUnavailableError)
                        or isinstance(cause, PoolTimeout)
                    ):
                        raise
                    time.sleep(0.2)

        setattr(recorder, name, bounded)


class PostgresRecorder(PostgresApplicationRecorder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.datastore.enable_db_functions:
            raise InvalidInput(
                "the audit leaves are written by the recorder's own inserts; "
                "do not enable the PostgreSQL insert functions"
            )
        prefix = self.events_table_name.replace("_events", "")
        self.keys_table = prefix + "_official_keys"
        self.leaves_table = prefix + "_leaves"
        self.counter_table = prefix + "_leaf_counter"
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {schema}.{table} ("
                "official_id text PRIMARY KEY, key bytea NOT NULL)"
            ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.keys_table))
        )
        self.sql_create_statements.append(
            self._leaves_sql(
                "CREATE TABLE IF NOT EXISTS {schema}.{leaves} ("
                "seq bigint PRIMARY KEY, "
                "aggregate_id text NOT NULL, "
                "version bigint NOT NULL, "
                "topic text NOT NULL, "
                "recorded_at text NOT NULL, "
                "state_sha256 text NOT NULL, "
                "prev text, "
                "UNIQUE (aggregate_id, version))"
            )
        )
        # The leaf numbers come from a counter row, updated in the event's transaction
        # under the events table's lock: no gaps when a transaction rolls back (as a
        # sequence would leave), and never lowered when rows are deleted.
        self.sql_create_statements.append(
            self._leaves_sql(
                "CREATE TABLE IF NOT EXISTS {schema}.{counter} ("
                "id smallint PRIMARY KEY CHECK (id = 1), last bigint NOT NULL)"
            )
        )
        self.sql_create_statements.append(
            self._leaves_sql(
                "INSERT INTO {schema}.{counter} VALUES (1, 0) ON CONFLICT (id) DO NOTHING"
            )
        )

    def create_table(self) -> None:
        super().create_table()
        self._backfill_leaves()

    def _backfill_leaves(self) -> None:
        """Give leaves to the events of a store written before leaves existed, in store
        order; only when no leaf number was ever handed out."""
        with self.datastore.transaction(commit=True) as curs:
            # The events table's lock before the counter row, in the order every writer takes
            # them: the other order deadlocks with a service writing to a fresh store while
            # another opens it. Asked first without a lock: once leaves exist, nothing to do.
            if self._leaves_handed_out(curs):
                return
            self._lock_table(curs)
            if self._leaves_handed_out(curs):
                return
            curs.execute(
                self._leaves_sql(
                    "SELECT originator_id, originator_version, topic, state "
                    "FROM {schema}.{events} ORDER BY notification_id"
                )
            )
            chain = LeafChain(1, recorded_now())
            leaves = [
                chain.add(
                    r["originator_id"],
                    int(r["originator_version"]),
                    str(r["topic"]),
                    bytes(r["state"]),
                    lambda _: None,
                )
                for r in curs.fetchall()
            ]
            if leaves:
                self._write_leaves(curs, leaves)
                curs.execute(
                    self._leaves_sql("UPDATE {schema}.{counter} SET last = %s WHERE id = 1"),
                    (len(leaves),),
                )

    def _leaves_handed_out(self, curs: Cursor[DictRow]) -> bool:
        curs.execute(self._leaves_sql("SELECT last FROM {schema}.{counter} WHERE id = 1"))
        row = curs.fetchone()
        return row is None or int(row["last"]) != 0

    def _write_leaves(self, curs: Cursor[DictRow], leaves: Sequence[Leaf]) -> None:
        curs.executemany(
            self._leaves_sql(
                f"INSERT INTO {{schema}}.{{leaves}} ({LEAF_COLUMNS}) "  # noqa: S608
                "VALUES (%s, %s, %s, %s, %s, %s, %s)"
            ),
            [leaf_row(leaf) for leaf in leaves],
        )

    def _leaves_sql(self, statement: str) -> Any:
        return SQL(statement).format(
            schema=Identifier(self.datastore.schema),
            leaves=Identifier(self.leaves_table),
            counter=Identifier(self.counter_table),
            events=Identifier(self.events_table_name),
        )

    def _insert_leaves(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent]) -> None:
        # Under the events table's EXCLUSIVE lock (taken first), so leaf numbers follow
        # commit order like the notification ids, and in the events' transaction: raised
        # here, an error rolls back everything (eventsourcing swallows errors raised after
        # the events' insert and commits).
        self._lock_table(curs)
        wanted = sorted({str(s.originator_id) for s in stored_events})
        # One round trip: the counter moved on by the events' number, and each aggregate's
        # last leaf by one backward step of the (aggregate_id, version) index (the cost does
        # not grow with the aggregate's depth; DISTINCT ON read all its leaves).
        curs.execute(
            self._leaves_sql(
                "WITH counter AS (UPDATE {schema}.{counter} SET last = last + %s WHERE id = 1 "  # noqa: S608
                "RETURNING last) "
                "SELECT counter.last AS counter_last, last_leaf.* FROM counter "
                f"LEFT JOIN (SELECT {LEAF_COLUMNS} FROM unnest(%s::text[]) AS wanted(id) "
                f"CROSS JOIN LATERAL (SELECT {LEAF_COLUMNS} FROM {{schema}}.{{leaves}} "
                "WHERE aggregate_id = wanted.id ORDER BY version DESC LIMIT 1) AS found) "
                "AS last_leaf ON true"
            ),
            (len(stored_events), wanted),
        )
        rows = curs.fetchall()
        assert rows, "the leaf counter row is missing"
        first = int(rows[0]["counter_last"]) - len(stored_events) + 1
        last: dict[str, Leaf] = {}
        for r in rows:
            if r["seq"] is not None:
                leaf = leaf_of_row([r[name] for name in LEAF_NAMES])
                last[leaf.aggregate_id] = leaf
        chain = LeafChain(first, recorded_now())
        try:
            leaves = [
                chain.add(s.originator_id, s.originator_version, s.topic, s.state, last.get)
                for s in stored_events
            ]
        except HistoryAltered as error:
            # The leaves are written before the events here: the event may exist because
            # another writer stored it first. That is a conflict to retry, not tampering.
            curs.execute(
                self._leaves_sql(
                    "SELECT 1 AS found FROM {schema}.{events} "
                    "WHERE originator_id = %s AND originator_version = %s"
                ),
                (UUID(error.aggregate_id), error.version),
            )
            if curs.fetchone() is not None:
                raise PersistenceIntegrityError(
                    f"aggregate {error.aggregate_id} version {error.version} was stored "
                    "by another writer"
                ) from None
            raise
        self._write_leaves(curs, leaves)

    @retry((PersistenceInterfaceError, PersistenceOperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """eventsourcing's insert, in one transaction as before, in two round trips instead of
        six. eventsourcing nests psycopg's transaction in a pipeline, so psycopg syncs once the
        transaction has begun, and eventsourcing after the insert; then each of the three nested
        pipelines syncs as it ends. Here one pipeline holds an explicit BEGIN, the table's lock
        and the leaf counter's update (read back: the leaves need it), then the leaves, the
        keys, the events and the COMMIT, synced once. Any failure rolls all of it back."""
        if not stored_events:
            ids: Sequence[int] | None = super().insert_events(stored_events, **kwargs)
            return ids
        with (
            self.datastore.get_connection() as conn,
            conn.cursor() as curs,
            conn.cursor() as inserting,
        ):
            try:
                with conn.pipeline():
                    curs.execute(BEGIN)
                    self._insert_events(curs, stored_events, **kwargs)  # locks the table
                    self._insert_stored_events(inserting, stored_events, **kwargs)
                    curs.execute(COMMIT)
                return self._fetch_ids_after_insert_events(inserting, stored_events, **kwargs)
            except BaseException:
                # The error came back before the COMMIT ran (an aborted pipeline skips it): the
                # transaction is still open, or failed, and holds the table's lock.
                with contextlib.suppress(Exception):
                    conn.rollback()
                raise

    def _insert_stored_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        # eventsourcing's, without taking the lock a second time: _insert_events took it first
        # (_insert_leaves), in this transaction, and holds it to the commit.
        self._notify_channel(curs)
        PostgresAggregateRecorder._insert_stored_events(self, curs, stored_events, **kwargs)

    def _keys_sql(self, statement: str) -> Any:
        return SQL(statement).format(
            schema=Identifier(self.datastore.schema), table=Identifier(self.keys_table)
        )

    def _insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        super()._insert_events(curs, stored_events, **kwargs)
        if stored_events:
            self._insert_leaves(curs, stored_events)
        for official_id, key in (kwargs.get(KEYS) or {}).items():
            curs.execute(
                self._keys_sql("INSERT INTO {schema}.{table} VALUES (%s, %s)"),
                (official_id, key),
            )
        for official_id in kwargs.get(ERASE_KEYS) or ():
            curs.execute(
                self._keys_sql("DELETE FROM {schema}.{table} WHERE official_id=%s"),
                (official_id,),
            )

    def select_official_key(self, official_id: str) -> bytes | None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                self._keys_sql("SELECT key FROM {schema}.{table} WHERE official_id=%s"),
                (official_id,),
            )
            row = curs.fetchone()
            return None if row is None else bytes(row["key"])

    def select_positions(self, originator_id: UUID) -> dict[int, int]:
        statement = SQL(
            "SELECT originator_version, notification_id FROM {schema}.{table} "
            "WHERE originator_id=%s"
        ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (originator_id,))
            return {
                int(r["originator_version"]): int(r["notification_id"]) for r in curs.fetchall()
            }

    def select_page(
        self, originator_id: UUID, after: int | None, limit: int | None, latest: bool
    ) -> list[tuple[int, int]]:
        statement = SQL(
            "SELECT originator_version, notification_id FROM {schema}.{table} "  # noqa: S608
            "WHERE originator_id=%s AND notification_id > %s ORDER BY notification_id "
            + ("DESC " if latest else "")
            + "LIMIT %s"
        ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (originator_id, after or 0, limit))
            page = [
                (int(r["originator_version"]), int(r["notification_id"])) for r in curs.fetchall()
            ]
        return sorted(page, key=lambda item: item[1])

    def select_existing(self, originator_ids: Sequence[UUID]) -> set[UUID]:
        statement = SQL(
            "SELECT DISTINCT originator_id FROM {schema}.{table} WHERE originator_id = ANY(%s)"
        ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name))
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (list(originator_ids),))
            return {UUID(str(r["originator_id"])) for r in curs.fetchall()}

    def count_events(self) -> int:
        statement = SQL("SELECT COUNT(*) AS n FROM {schema}.{table}").format(
            schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name)
        )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement)
            row = curs.fetchone()
            return 0 if row is None else int(row["n"])

    def after_erasure(self, erased: bytes | None = None) -> ErasureCheck:
        """Rewrite the keys table with ``VACUUM FULL``, so the deleted row's bytes are not
        in its data file: a plain VACUUM leaves a removed tuple's bytes in the page's free
        space. The table holds one short row per official, so the rewrite is quick; it
        locks the table meanwhile. A transaction that still sees the old row keeps it:
        VACUUM reports such rows, and then the erasure is reported incomplete."""
        from psycopg import errors

        kept = 0
        deadline = time.monotonic() + ERASE_RETRY_SECONDS
        while True:
            details: list[str] = []

            def note(diag: Any, details: list[str] = details) -> None:
                details.append(f"{diag.message_primary or ''} {diag.message_detail or ''}")

            with self.datastore.get_connection() as conn:
                conn.add_notice_handler(note)
                try:
                    # Not to hang behind a transaction that holds the table: report it.
                    conn.execute(f"SET lock_timeout = {ERASE_WAIT_MS}")
                    conn.execute(self._keys_sql("VACUUM (FULL, VERBOSE) {schema}.{table}"))
                except errors.LockNotAvailable:
                    raise ErasureIncomplete(
                        "the key was deleted but the keys table could not be rewritten: "
                        f"another transaction holds it; {WIPE_AGAIN}"
                    ) from None
                finally:
                    conn.remove_notice_handler(note)
                    conn.execute("RESET lock_timeout")
            found = [
                int(m.group(1))
                for d in details
                if (m := re.search(r"(\d+) dead row versions cannot be removed yet", d))
            ]
            if not found:
                # "skipping ... only table or database owner can vacuum it": nothing was
                # rewritten, so nothing may be claimed.
                raise ErasureIncomplete(
                    "the key was deleted but the keys table was not rewritten ("
                    + " ".join(" ".join(details).split())[:200]
                    + "); only the keys table's owner may rewrite it: run 'mma official wipe' "
                    "with the owner's store URL (the erasure itself is recorded and the key row "
                    "is deleted; see docs/operations.md, least privilege)"
                )
            kept = sum(found)
            # An open transaction anywhere in the database keeps rows it might see.
            if not kept or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        if kept:
            raise ErasureIncomplete(
                f"the key was deleted but {kept} dead row version(s) of the keys table "
                "cannot be removed yet: another transaction may still see them; " + WIPE_AGAIN
            )
        return ErasureCheck(
            store="postgresql",
            verified=(
                "the key row was deleted",
                "the keys table was rewritten (VACUUM FULL) with no dead row left behind",
            ),
            not_checked=(
                "the write-ahead log (pg_wal) until checkpoints recycle its segments",
                "WAL archives and base backups, for as long as they are kept",
                "the old data file's blocks, until the file system reuses them",
            ),
        )
