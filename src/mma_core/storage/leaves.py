"""The audit leaves' table as every recorder stores it: one ``mma-leaf/v1`` per stored event,
written in the event's own transaction (see ``docs/audit-format.md``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mma_core.storage.leaf_format import Leaf

LEAVES = "mma_leaves"  # the SQLite table of audit leaves
LEAF_COLUMNS = "seq, aggregate_id, version, topic, recorded_at, state_sha256, prev"
LEAF_NAMES = tuple(LEAF_COLUMNS.split(", "))
LeafRow = tuple[Any, ...]  # a leaf as stored: the values of LEAF_COLUMNS, in that order


def leaf_of_row(row: Sequence[Any]) -> Leaf:
    """A leaf from a row of LEAF_COLUMNS."""
    return Leaf(
        seq=int(row[0]),
        aggregate_id=str(row[1]),
        version=int(row[2]),
        topic=str(row[3]),
        recorded_at=str(row[4]),
        state_sha256=str(row[5]),
        prev=None if row[6] is None else str(row[6]),
    )


def leaf_row(leaf: Leaf) -> LeafRow:
    """The row of LEAF_COLUMNS that stores ``leaf`` (the inverse of :func:`leaf_of_row`)."""
    return (
        leaf.seq,
        leaf.aggregate_id,
        leaf.version,
        leaf.topic,
        leaf.recorded_at,
        leaf.state_sha256,
        leaf.prev,
    )
