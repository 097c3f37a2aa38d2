"""Store URLs and the recorders behind them.

One URL names one programme: ``memory://``, ``sqlite:///path`` or ``postgresql://user:pw@host/db``.
The recorders extend eventsourcing's own with the table of officials' keys, written in the same
transaction as the event that announces a key or its erasure, and with a look-up of the global
position of an aggregate's events (the notification id).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.popo import POPOApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

from mma_core.domain.errors import InvalidInput

DEFAULT_STORE = "sqlite:///mma.sqlite"
KEYS = "official_keys"  # save() keyword: {official_id: key} to store with the events
ERASE_KEYS = "erase_official_keys"  # save() keyword: [official_id] whose keys to delete


class KeyStore(Protocol):
    def select_official_key(self, official_id: str) -> bytes | None: ...

    def select_positions(self, originator_id: UUID) -> dict[int, int]: ...

    def count_events(self) -> int: ...


def store_env(url: str) -> dict[str, str]:
    """The eventsourcing environment for a store URL, from the URL alone."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "memory":
        return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    if scheme == "sqlite":
        path = unquote(parts.path if not parts.netloc else parts.netloc + parts.path)
        # sqlite:///relative.db -> "/relative.db"; sqlite:////abs/path.db -> "//abs/path.db"
        if path.startswith("//") or path.startswith("/"):
            path = path[1:]
        if not path:
            raise InvalidInput(f"store URL {url!r} names no file; e.g. sqlite:///mma.sqlite")
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": path,
            "SQLITE_LOCK_TIMEOUT": "30",
        }
    if scheme in ("postgresql", "postgres"):
        query = parse_qs(parts.query)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": unquote(parts.path.lstrip("/")) or "postgres",
            "POSTGRES_HOST": parts.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            "POSTGRES_SCHEMA": query.get("schema", ["public"])[0],
            "POSTGRES_LOCK_TIMEOUT": "30",
            "POSTGRES_POOL_SIZE": "4",
        }
    raise InvalidInput(
        f"store URL scheme {scheme!r} is not supported; use memory://, sqlite:///PATH or "
        "postgresql://USER:PASSWORD@HOST:PORT/DB"
    )


def describe(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


class SQLiteRecorder(SQLiteApplicationRecorder):
    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS mma_official_keys ("
            "official_id TEXT PRIMARY KEY, key BLOB NOT NULL)",
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
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

    def count_events(self) -> int:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT COUNT(*) FROM {self.events_table_name}")  # noqa: S608
            return int(c.fetchone()[0])

    def after_erasure(self) -> None:
        """Fold the WAL into the main file, so no copy of an erased key survives in the log."""
        with self.datastore.get_connection(commit=True) as conn:
            cursor = conn.cursor()
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


class MemoryRecorder(POPOApplicationRecorder):
    def __init__(self) -> None:
        super().__init__()
        self._keys: dict[str, bytes] = {}
        self._keys_lock = threading.Lock()

    def _update_table(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._update_table(stored_events, **kwargs)
        with self._keys_lock:
            self._keys.update(kwargs.get(KEYS) or {})
            for official_id in kwargs.get(ERASE_KEYS) or ():
                self._keys.pop(official_id, None)
        return ids

    def select_official_key(self, official_id: str) -> bytes | None:
        return self._keys.get(official_id)

    def select_positions(self, originator_id: UUID) -> dict[int, int]:
        with self._database_lock:
            index = self._stored_events_index[str(originator_id)]
            return {version: position + 1 for version, position in index.items()}

    def count_events(self) -> int:
        with self._database_lock:
            return len(self._stored_events)

    def after_erasure(self) -> None:
        return None


def postgres_recorder_class() -> type[Any]:
    """Built on first use, so that psycopg is needed only by PostgreSQL users."""
    from eventsourcing.postgres import PostgresApplicationRecorder
    from psycopg import Cursor
    from psycopg.rows import DictRow
    from psycopg.sql import SQL, Identifier

    class PostgresRecorder(PostgresApplicationRecorder):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.keys_table = self.events_table_name.replace("_events", "") + "_official_keys"
            self.sql_create_statements.append(
                SQL(
                    "CREATE TABLE IF NOT EXISTS {schema}.{table} ("
                    "official_id text PRIMARY KEY, key bytea NOT NULL)"
                ).format(
                    schema=Identifier(self.datastore.schema), table=Identifier(self.keys_table)
                )
            )

        def _keys_sql(self, statement: str) -> Any:
            return SQL(statement).format(
                schema=Identifier(self.datastore.schema), table=Identifier(self.keys_table)
            )

        def _insert_events(
            self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
        ) -> None:
            super()._insert_events(curs, stored_events, **kwargs)
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
            ).format(
                schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name)
            )
            with self.datastore.get_connection() as conn, conn.cursor() as curs:
                curs.execute(statement, (originator_id,))
                return {
                    int(r["originator_version"]): int(r["notification_id"]) for r in curs.fetchall()
                }

        def count_events(self) -> int:
            statement = SQL("SELECT COUNT(*) AS n FROM {schema}.{table}").format(
                schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name)
            )
            with self.datastore.get_connection() as conn, conn.cursor() as curs:
                curs.execute(statement)
                row = curs.fetchone()
                return 0 if row is None else int(row["n"])

        def after_erasure(self) -> None:
            return None

    return PostgresRecorder
