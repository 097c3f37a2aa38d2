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
from itertools import zip_longest

from mma_core.audit import checkpoint as notes
from mma_core.audit.merkle import StreamingTree
from mma_core.audit.sources import ALTERED, EventRow, LeafRow, Reader, StoredRow, leaf_of
from mma_core.storage.leaf_format import LEAF_FORMAT, Leaf, json_string

# What can be wrong, in the words the report uses.
EDITED = "edited"
MISSING = "missing"
INSERTED = "inserted"
REORDERED = "reordered"
TRUNCATED = "truncated"
SIGNATURE = "signature invalid"
ORIGIN = "wrong origin"
COSIGNATURE = "cosignature invalid"
DERIVED_KIND = "derived"  # a read model or stored snapshot differs from a replay of the log


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


# What the walk remembers of an aggregate's last leaf: (version, seq, hex leaf hash).
Link = tuple[int, int, str]
# Remember this many aggregates' last leaves; an aggregate idle for longer is looked up.
CACHED_AGGREGATES = 50_000


def check_chain(leaf: Leaf, prev: Link | None) -> Problem | None:
    """The leaf's link to its aggregate's leaf of the version before (``prev``: that leaf's
    version, seq and hex hash, or None when there is none)."""
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
    _, prev_seq, prev_hash = prev
    if prev_seq >= i:
        return Problem(
            REORDERED, i, f"{_name(leaf)} comes before its predecessor (leaf {prev_seq})"
        )
    if leaf.prev != prev_hash:
        return Problem(
            EDITED,
            prev_seq,
            f"leaf {prev_seq} (aggregate {leaf.aggregate_id} version {leaf.version - 1}) "
            f"is not the leaf that leaf {i} was chained to",
        )
    return None


def _duplicated(row: StoredRow, seq: int) -> str:
    return (
        f"{_name(row)} (store position {row.position}) is duplicated: its leaf, leaf {seq}, "
        "matched an earlier row"
    )


def compare(i: int, leaf: Leaf, row: StoredRow, reader: Reader) -> Problem | None:
    """Leaf ``i`` against the event row found at the same place in store order."""
    if _key(leaf) != _key(row):
        leaf_has_event = reader.has_event(*_key(leaf))
        row_leaf = reader.leaf(*_key(row))
        row_has_leaf = row_leaf is not None
        if row_leaf is not None and 0 < row_leaf.seq < i:
            # Every row before matched its leaf: this one's leaf was matched already.
            return Problem(INSERTED, i, _duplicated(row, row_leaf.seq))
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
    texts: Sequence[str],
    keys: Sequence[notes.VerifierKey],
    origin: str | None = None,
    labels: Sequence[str] = (),
) -> tuple[list[notes.Checkpoint], Problem | None]:
    """Each checkpoint, signed by one of ``keys`` and (when ``origin`` is given) of that log."""
    checkpoints: list[notes.Checkpoint] = []
    for n, text in enumerate(texts, 1):
        label = labels[n - 1] if n <= len(labels) else f"checkpoint {n}"
        try:
            checkpoint = notes.verify(text, list(keys))
        except notes.CheckpointError as error:
            detail = str(error).removeprefix(SIGNATURE + ": ")
            return checkpoints, Problem(SIGNATURE, None, f"{label}: {detail}")
        if origin is not None and checkpoint.origin != origin:
            return checkpoints, Problem(
                ORIGIN,
                None,
                f"{label} is of the log {checkpoint.origin!r}, not {origin!r}: "
                "a checkpoint of another programme proves nothing about this one",
            )
        checkpoints.append(checkpoint)
    return checkpoints, None


class _Walk:
    """The careful path of one step: run when the quick test in :func:`verify` does not hold,
    in the order of docs/audit-format.md section 6, with look-ups in the store."""

    def __init__(self, reader: Reader, counter: int) -> None:
        self.reader = reader
        self.counter = counter
        # Two generations of remembered last leaves: when the newer fills up it becomes the
        # older and the older is dropped, so memory stays bounded whatever the store's size.
        self.last: dict[str, Link] = {}
        self.older: dict[str, Link] = {}

    def remembered(self, aggregate: str) -> Link | None:
        return self.last.get(aggregate) or self.older.get(aggregate)

    def remember(self, aggregate: str, link: Link) -> None:
        self.last[aggregate] = link
        if len(self.last) > CACHED_AGGREGATES:
            self.older, self.last = self.last, {}

    def previous(self, leaf: Leaf) -> Link | None:
        link = self.remembered(leaf.aggregate_id)
        if link is not None and link[0] == leaf.version - 1:
            return link
        found = self.reader.leaf(leaf.aggregate_id, leaf.version - 1)
        return None if found is None else (found.version, found.seq, found.hash().hex())

    def step(self, i: int, lrow: LeafRow | None, erow: EventRow | None) -> Problem | Leaf:
        if lrow is None:
            assert erow is not None
            row = StoredRow(*erow)
            found = self.reader.leaf(row.aggregate_id, row.version)
            if found is not None and 0 < found.seq < i:
                return Problem(INSERTED, i, _duplicated(row, found.seq))
            if i <= self.counter:  # the number was handed out: its leaf was removed
                return Problem(
                    MISSING,
                    i,
                    f"leaf {i}, of {_name(row)} (store position {row.position}), is gone",
                )
            return Problem(
                INSERTED,
                i,
                f"{_name(row)} (store position {row.position}) has no leaf: it was not "
                "written by the recorder",
            )
        leaf = leaf_of(lrow)
        if leaf.seq != i:
            return Problem(MISSING, i, f"no leaf {i}: the leaf sequence jumps to {leaf.seq}")
        problem = check_chain(leaf, None if leaf.version < 2 else self.previous(leaf))
        if problem is None:
            if erow is None:
                problem = Problem(MISSING, i, f"the event of {_name(leaf)} is gone")
            else:
                problem = compare(i, leaf, StoredRow(*erow), self.reader)
        return leaf if problem is None else problem


def verify(
    reader: Reader,
    checkpoints: Sequence[str] = (),
    keys: Sequence[notes.VerifierKey] = (),
    progress: Callable[[int], None] | None = None,
    observe: Callable[[int, bytes, bytes, EventRow], None] | None = None,
    *,
    origin: str | None = None,
    labels: Sequence[str] = (),
) -> Result:
    """Verify the store behind ``reader`` and each signed checkpoint against it.

    ``observe(position, leaf hash, leaf bytes, event row)`` sees every sound step (proofs are
    built from it while the walk streams). ``origin``: the log every checkpoint must name.
    ``labels``: how the report names each checkpoint (default "checkpoint N")."""
    started = time.perf_counter()
    tree = StreamingTree()
    signed, problem = load_checkpoints(checkpoints, keys, origin, labels)

    def result(problem: Problem | None) -> Result:
        return Result(tree.size, tree.root(), problem, time.perf_counter() - started)

    if problem is not None:
        return result(problem)
    prefix_roots: dict[int, bytes] = {0: tree.root()}
    wanted = {c.size for c in signed}
    next_wanted = min(wanted, default=0)

    counter = reader.counter()
    walk = _Walk(reader, counter)
    remembered, remember = walk.remembered, walk.remember
    sha256 = hashlib.sha256
    topics: dict[str, str] = {}
    append = tree.append
    i = 0
    # Each step's quick test: the leaf and the row agree and the chain holds, checked on the
    # raw values; the leaf's bytes are then built and hashed once. Anything else takes the
    # careful path, which names the problem (or finds the step sound after a look-up).
    for lrow, erow in zip_longest(reader.leaf_rows(), reader.event_rows()):
        i += 1
        if lrow is not None and erow is not None:
            seq, aggregate, version, topic, recorded_at, state_hex, prev = lrow
            quick = (
                seq == i
                and aggregate == erow[1]
                and version == erow[2]
                and topic == erow[3]
                and type(recorded_at) is str
                and type(topic) is str
                and not aggregate.startswith(ALTERED)
                and sha256(erow[4]).hexdigest() == state_hex
            )
            if quick:
                if version == 1:
                    quick = prev is None
                else:
                    link = remembered(aggregate)
                    quick = link is not None and link[0] == version - 1 and prev == link[2]
        else:
            quick = False
        if quick:
            # The aggregate id, hashes and numbers were just found equal to values in their
            # canonical form, so only the topic and the time can need JSON escapes.
            topic_json = topics.get(topic)
            if topic_json is None:
                topic_json = topics[topic] = json_string(topic)
            prev_json = "null" if prev is None else '"' + prev + '"'
            data = (
                f'{{"aggregate_id":"{aggregate}","format":"{LEAF_FORMAT}","prev":{prev_json},'
                f'"recorded_at":{json_string(recorded_at)},"seq":{i},'
                f'"state_sha256":"{state_hex}","topic":{topic_json},"version":{version}}}'
            ).encode("ascii")
        else:
            checked = walk.step(i, lrow, erow)
            if isinstance(checked, Problem):
                return result(checked)
            aggregate, version = checked.aggregate_id, checked.version
            data = checked.encode()
        hashed = sha256(b"\x00" + data).digest()
        append(hashed)
        if observe is not None:
            assert erow is not None
            observe(i, hashed, data, erow)
        remember(aggregate, (version, i, hashed.hex()))
        if i == next_wanted:
            prefix_roots[i] = tree.root()
            next_wanted = min((w for w in wanted if w > i), default=0)
        if progress is not None and i % 1000 == 0:
            progress(1000)
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
    if counter < tree.size:
        return result(
            Problem(
                EDITED,
                counter + 1,
                f"the leaf counter says {counter} leaves were handed out, the store holds "
                f"{tree.size}: the counter was set back",
            )
        )
    names = [labels[n] if n < len(labels) else "a signed checkpoint" for n in range(len(signed))]
    for c, label in sorted(zip(signed, names, strict=True), key=lambda pair: pair[0].size):
        if c.size > tree.size:
            return result(
                Problem(
                    TRUNCATED,
                    tree.size + 1,
                    f"{label} covers {c.size} leaves, the store holds {tree.size}",
                )
            )
        if prefix_roots[c.size] != c.root:
            return result(
                Problem(
                    EDITED,
                    None,
                    f"the first {c.size} leaves are not the history {label} signed "
                    f"({c.origin}): it was rewritten at or before position {c.size}",
                )
            )
    return result(None)
