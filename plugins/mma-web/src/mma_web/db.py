"""The plugin's own tables in the programme's database: answer links, browser sessions, the
login throttle and the site's form secret.

They live beside the events (the SQLite file, or the store's PostgreSQL schema), so every
``mma serve`` process on one store shares them and they survive a restart. None of them is an
event: nothing here changes the programme's history.

Table names are quoted as SQL identifiers (psycopg's ``sql.Identifier`` on PostgreSQL, the
same double-quote rule on SQLite); no value is ever formatted into SQL text.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from mma_core import Programme

Cursor = Any
Transaction = Callable[[], AbstractContextManager[Cursor]]


def sqlite_identifier(name: str) -> str:
    """A name quoted for SQLite: in double quotes, a double quote doubled."""
    return '"' + name.replace('"', '""') + '"'


def postgres_identifier(*names: str) -> str:
    """A (schema-)qualified name quoted by psycopg, as PostgreSQL reads it."""
    from psycopg import sql

    return sql.Identifier(*names).as_string(None)


class Database:
    """A transaction factory over the programme's database, its placeholder (``?`` or ``%s``)
    and how it names a table of this plugin."""

    def __init__(
        self,
        transaction: Transaction,
        *,
        placeholder: str = "?",
        table: Callable[[str], str] = sqlite_identifier,
        kind: str = "sqlite",
    ) -> None:
        self.transaction = transaction
        self.placeholder = placeholder
        self.table = table
        self.kind = kind

    @classmethod
    def for_programme(cls, programme: Programme) -> Database:
        """In the programme's own database; an in-memory store gets an in-memory database."""
        datastore = getattr(programme.factory, "datastore", None)
        module = programme.env.get("PERSISTENCE_MODULE", "")
        if datastore is not None and module in ("eventsourcing.postgres", "eventsourcing.sqlite"):

            def transaction() -> AbstractContextManager[Cursor]:
                return datastore.transaction(commit=True)  # type: ignore[no-any-return]

            if module == "eventsourcing.postgres":
                schema = str(getattr(datastore, "schema", "") or "public")
                return cls(
                    transaction,
                    placeholder="%s",
                    table=lambda name: postgres_identifier(schema, name),
                    kind="postgres",
                )
            return cls(transaction)
        return cls.in_memory()

    @classmethod
    def in_memory(cls) -> Database:
        connection = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
        connection.row_factory = sqlite3.Row
        lock = threading.Lock()

        @contextmanager
        def transaction() -> Iterator[sqlite3.Cursor]:
            with lock:
                cursor = connection.cursor()
                cursor.execute("BEGIN")
                try:
                    yield cursor
                except BaseException:
                    connection.rollback()
                    raise
                connection.commit()

        return cls(transaction)

    def sql(self, text: str, **tables: str) -> str:
        """``text`` with ``?`` as this database's placeholder and each ``{name}`` as the quoted
        table named by the keyword (constant names of this plugin only)."""
        quoted = {key: self.table(value) for key, value in tables.items()}
        return text.replace("?", self.placeholder).format(**quoted)

    def rows(self, text: str, params: Sequence[Any] = (), **tables: str) -> list[Any]:
        with self.transaction() as cursor:
            cursor.execute(self.sql(text, **tables), tuple(params))
            return list(cursor.fetchall())

    def execute(self, text: str, params: Sequence[Any] = (), **tables: str) -> int:
        """Run one statement; returns how many rows it changed."""
        with self.transaction() as cursor:
            cursor.execute(self.sql(text, **tables), tuple(params))
            return changed(cursor)


def changed(cursor: Cursor) -> int:
    """How many rows the last statement changed (eventsourcing wraps SQLite's cursor)."""
    raw: Any = getattr(cursor, "sqlite_cursor", cursor)
    return int(raw.rowcount)


def value(row: Any, key: str, index: int) -> Any:
    """A column of a row from either driver (mapping rows, or sqlite3.Row)."""
    try:
        return row[key]
    except (KeyError, IndexError, TypeError):
        return row[index]
