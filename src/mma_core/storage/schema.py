"""The PostgreSQL schema a store's tables live in, quoted for SQL (psycopg imported on use)."""

from __future__ import annotations

from typing import Any


def schema_prefix(datastore: Any) -> str:
    """``"schema".`` for the PostgreSQL datastore's schema, quoted by psycopg's
    ``sql.Identifier`` (the schema comes from the store URL: never pasted into SQL by hand)."""
    from psycopg import sql

    with datastore.get_connection() as conn:
        return str(sql.Identifier(datastore.schema).as_string(conn)) + "."
