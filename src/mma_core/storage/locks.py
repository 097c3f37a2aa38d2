"""PostgreSQL advisory locks this library takes: one for creating its tables (services opening
a fresh store at once wait for one another instead of racing on the DDL), one on which retried
commands take turns."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

DDL_LOCK = 0x6D6D61  # "mma": one advisory lock number for creating this library's tables
RETRY_LOCK = 0x6D6D6172  # "mmar": the lock retried commands take turns on


@contextmanager
def advisory_lock(datastore: Any, number: int) -> Iterator[None]:
    """Hold PostgreSQL advisory lock ``number`` on a connection of ``datastore`` meanwhile."""
    with datastore.get_connection() as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (number,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (number,))
