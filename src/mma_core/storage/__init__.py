"""Store URLs and the recorders behind them.

One URL names one programme: ``memory://``, ``sqlite:///path`` or ``postgresql://user:pw@host/db``
(:mod:`~mma_core.storage.urls`). The recorders (:mod:`~mma_core.storage.sqlite`,
:mod:`~mma_core.storage.memory`, :mod:`~mma_core.storage.postgres`) extend eventsourcing's own
with the table of officials' keys (:mod:`~mma_core.storage.keys`), written in the same
transaction as the event that announces a key or its erasure, with a look-up of the global
position of an aggregate's events (the notification id), and with the audit leaves
(:mod:`~mma_core.storage.leaves`): one ``mma-leaf/v1`` per stored event, written in the event's
own transaction, numbered by a sequence that is never handed out twice (see
``docs/audit-format.md``).

The PostgreSQL recorder is imported on first use (:func:`postgres_recorder_class`), so that
``import mma_core`` needs no psycopg.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mma_core.storage.keys import (
    ERASE_KEYS,
    ERASE_RETRY_SECONDS,
    ERASE_WAIT_MS,
    KEYS,
    WIPE_AGAIN,
    ErasureCheck,
    KeyStore,
)
from mma_core.storage.leaves import LEAF_COLUMNS, LEAF_NAMES, LEAVES, leaf_of_row, leaf_row
from mma_core.storage.memory import MemoryRecorder
from mma_core.storage.schema import schema_prefix
from mma_core.storage.sqlite import SQLiteRecorder, create_private
from mma_core.storage.urls import DEFAULT_STORE, describe, store_env

if TYPE_CHECKING:
    from mma_core.storage.postgres import PostgresRecorder


def postgres_recorder_class() -> type[PostgresRecorder]:
    """The PostgreSQL recorder class, imported on first use (it needs psycopg)."""
    from mma_core.storage.postgres import PostgresRecorder

    return PostgresRecorder


__all__ = [
    "DEFAULT_STORE",
    "ERASE_KEYS",
    "ERASE_RETRY_SECONDS",
    "ERASE_WAIT_MS",
    "KEYS",
    "LEAF_COLUMNS",
    "LEAF_NAMES",
    "LEAVES",
    "WIPE_AGAIN",
    "ErasureCheck",
    "KeyStore",
    "MemoryRecorder",
    "SQLiteRecorder",
    "create_private",
    "describe",
    "leaf_of_row",
    "leaf_row",
    "postgres_recorder_class",
    "schema_prefix",
    "store_env",
]
