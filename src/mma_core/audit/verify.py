"""Verify a store: every leaf against its stored event, every aggregate's chain, the leaf
sequence, the Merkle tree, and each checkpoint given as a prefix of today's history.

Streams leaves and events side by side in one snapshot; memory stays bounded by the batch size
and the tree's O(log n) frontier, whatever the store's size. Stops at the first bad position.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mma_core.audit import checkpoint as notes
from mma_core.audit.leaves import Leaf
from mma_core.audit.merkle import StreamingTree
from mma_core.audit.sources import Reader, StoredRow

# What can be wrong, in the words the report uses.
EDITED = "edited"
MISSING = "missing"
INSERTED = "inserted"
REORDERED = "reordered"
TRUNCATED = "truncated"
SIGNATURE = "signature invalid"


@dataclass(frozen=True, slots=True)
class Problem:
    kind: str
    position: int | None  # the first bad leaf position (1-based); None for a signature
    detail: str

    def __str__(self) -> str:
        where = "" if self.position is None else f"position {self.position}: "
        return f"{where}{self.kind}: {self.detail}"


@dataclass(frozen=True, slots=True)
class Result:
    size: int  # leaves verified
    root: bytes  # the tree's root over them
    problem: Problem | None
    seconds: float

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def rate(self) -> float:
        return self.size / self.seconds if self.seconds > 0 else float(self.size)


def _key(item: Leaf | StoredRow) -> tuple[str, int]:
    return item.aggregate_id, item.version


def _name(item: Leaf | StoredRow) -> str:
    return f"aggregate {item.aggregate_id} version {item.version}"


def check_chain(leaf: Leaf, prev: Leaf | None) -> Problem | None:
    """The leaf's link to its aggregate's leaf of the version before."""
    i = leaf.seq
    if leaf.version < 1:
        return Problem(EDITED, i, f"leaf {i} has no valid version ({_name(leaf)})")
    if leaf.version == 1:
        if leaf.prev is not None:
            return Problem(EDITED, i, f"leaf of {_name(leaf)} links to a predecessor it lacks")
        return None
    if prev is None:
        return Problem(
            MISSING,
            i,
            f"no leaf of aggregate {leaf.aggregate_id} version {leaf.version - 1}, "
            f"the one before {_name(leaf)}",
        )
    if prev.seq >= i:
        return Problem(
            REORDERED, i, f"{_name(leaf)} comes before its predecessor (leaf {prev.seq})"
        )
    if leaf.prev != prev.hash().hex():
        return Problem(
            EDITED,
            prev.seq,
            f"leaf {prev.seq} ({_name(prev)}) is not the leaf that leaf {i} was chained to",
        )
    return None


def compare(i: int, leaf: Leaf, row: StoredRow, reader: Reader) -> Problem | None:
    """Leaf ``i`` against the event row found at the same place in store order."""
    if _key(leaf) != _key(row):
        leaf_has_event = reader.has_event(*_key(leaf))
        row_has_leaf = reader.leaf(*_key(row)) is not None
        if not leaf_has_event and not row_has_leaf:
            return Problem(
                EDITED,
                i,
                f"the event of {_name(leaf)} now says {_name(row)} (store position {row.position})",
            )
        if not leaf_has_event:
            return Problem(MISSING, i, f"the event of {_name(leaf)} is gone")
        if not row_has_leaf:
            return Problem(
                INSERTED,
                i,
                f"{_name(row)} (store position {row.position}) has no leaf: "
                "it was not written by the recorder",
            )
        return Problem(
            REORDERED,
            i,
            f"the event of {_name(leaf)} is not in its place; "
            f"{_name(row)} (store position {row.position}) is",
        )
    if row.topic != leaf.topic:
        return Problem(EDITED, i, f"the topic of {_name(leaf)} was {leaf.topic}, is {row.topic}")
    if hashlib.sha256(row.state).hexdigest() != leaf.state_sha256:
        return Problem(EDITED, i, f"the state of {_name(leaf)} is not the state recorded")
    return None


def load_checkpoints(
    texts: Sequence[str], keys: Sequence[notes.VerifierKey]
) -> tuple[list[notes.Checkpoint], Problem | None]:
    checkpoints = []
    for n, text in enumerate(texts, 1):
        try:
            checkpoints.append(notes.verify(text, list(keys)))
        except notes.CheckpointError as error:
            detail = str(error).removeprefix(SIGNATURE + ": ")
            return checkpoints, Problem(SIGNATURE, None, f"checkpoint {n}: {detail}")
    return checkpoints, None


def verify(
    reader: Reader,
    checkpoints: Sequence[str] = (),
    keys: Sequence[notes.VerifierKey] = (),
    progress: Callable[[int], None] | None = None,
) -> Result:
    """Verify the store behind ``reader`` and each signed checkpoint against it."""
    started = time.perf_counter()
    tree = StreamingTree()
    signed, problem = load_checkpoints(checkpoints, keys)

    def result(problem: Problem | None) -> Result:
        return Result(tree.size, tree.root(), problem, time.perf_counter() - started)

    if problem is not None:
        return result(problem)
    prefix_roots: dict[int, bytes] = {0: tree.root()}
    wanted = {c.size for c in signed}

    counter = reader.counter()
    leaves = reader.leaves()
    events = reader.events()
    pair = next(leaves, None)
    row = next(events, None)
    i = 0
    while pair is not None or row is not None:
        i += 1
        if pair is None:
            assert row is not None
            if i <= counter:  # the number was handed out: its leaf was removed
                return result(
                    Problem(
                        MISSING,
                        i,
                        f"leaf {i}, of {_name(row)} (store position {row.position}), is gone",
                    )
                )
            return result(
                Problem(
                    INSERTED,
                    i,
                    f"{_name(row)} (store position {row.position}) has no leaf: it was not "
                    "written by the recorder",
                )
            )
        leaf, prev = pair
        if leaf.seq != i:
            return result(
                Problem(MISSING, i, f"no leaf {i}: the leaf sequence jumps to {leaf.seq}")
            )
        problem = check_chain(leaf, prev)
        if problem is None:
            if row is None:
                problem = Problem(MISSING, i, f"the event of {_name(leaf)} is gone")
            else:
                problem = compare(i, leaf, row, reader)
        if problem is not None:
            return result(problem)
        tree.append(leaf.hash())
        if tree.size in wanted:
            prefix_roots[tree.size] = tree.root()
        if progress is not None and i % 1000 == 0:
            progress(1000)
        pair = next(leaves, None)
        row = next(events, None)
    if progress is not None:
        progress(i % 1000)

    if counter > tree.size:
        return result(
            Problem(
                TRUNCATED,
                tree.size + 1,
                f"the store handed out leaves up to {counter}, it holds {tree.size}",
            )
        )
    for c in sorted(signed, key=lambda c: c.size):
        if c.size > tree.size:
            return result(
                Problem(
                    TRUNCATED,
                    tree.size + 1,
                    f"a signed checkpoint covers {c.size} leaves, the store holds {tree.size}",
                )
            )
        if prefix_roots[c.size] != c.root:
            return result(
                Problem(
                    EDITED,
                    None,
                    f"the first {c.size} leaves are not the history the checkpoint signed "
                    f"({c.origin}): it was rewritten at or before position {c.size}",
                )
            )
    return result(None)
