"""RFC 9162 proofs over a verified store, as JSON an auditor checks with a public key alone
(``tools/verify_proof.py``): that one event is in a signed tree (inclusion), and that a later
signed tree extends an earlier one (consistency). Formats: docs/audit-format.md section 7.

Each proof is built in one streaming walk that also verifies the whole store: no proof is
given for a store that does not verify, or against a checkpoint it does not extend.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import Any

from mma_core.audit import checkpoint as notes
from mma_core.audit.export import event_record
from mma_core.audit.merkle import HashedTree, RangeRoots, consistency_ranges, inclusion_ranges
from mma_core.audit.sources import EventRow, Reader
from mma_core.audit.verify import verify

INCLUSION_FORMAT = "mma-inclusion-proof/v1"
CONSISTENCY_FORMAT = "mma-consistency-proof/v1"


class ProofError(ValueError):
    """No proof can be given: the store does not verify, or the request does not fit it."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def inclusion(
    reader: Reader,
    positions: Sequence[int],
    checkpoint: str | None,
    keys: Sequence[notes.VerifierKey] = (),
    *,
    signer: notes.SignerKey | None = None,
    origin: str = notes.DEFAULT_ORIGIN,
    progress: Callable[[int], None] | None = None,
) -> list[dict[str, Any]]:
    """Inclusion proofs of the leaves at ``positions`` (1-based) in the tree ``checkpoint``
    signs, or, without one, in today's tree, signed now by ``signer``."""
    if checkpoint is not None:
        try:
            size = notes.parse(checkpoint).size
        except notes.CheckpointError as error:
            raise ProofError(f"the checkpoint: {error}") from None
    elif signer is None:
        raise ProofError("give a checkpoint, or a key to sign today's tree")
    else:
        notes.body(origin, 0, bytes(32))  # a bad origin fails before the walk
        size = reader.counter()
    for position in positions:
        if not 1 <= position <= size:
            raise ProofError(f"position {position} is not in a tree of {size} leaves")
    # One proof streams in bounded memory; many share one tree's subtree roots in memory.
    wanted = set(positions)
    streamed = RangeRoots(inclusion_ranges(positions[0] - 1, size)) if len(wanted) == 1 else None
    hashes: list[bytes] = []
    found: dict[int, tuple[bytes, bytes, EventRow]] = {}

    def observe(i: int, hashed: bytes, data: bytes, row: EventRow) -> None:
        if i <= size:
            if streamed is None:
                hashes.append(hashed)
            else:
                streamed.add(i - 1, hashed)
            if i in wanted:
                found[i] = (hashed, data, row)

    result = verify(
        reader, [] if checkpoint is None else [checkpoint], keys, progress, observe=observe
    )
    if not result.ok:
        raise ProofError(f"the store does not verify, no proof given: {result.problem}")
    if checkpoint is None:
        assert signer is not None
        if result.size != size:  # a write between counting and walking: sign what was walked
            raise ProofError("the store changed while it was read; try again")
        checkpoint = notes.sign(signer, origin, result.size, result.root)
    tree = HashedTree(hashes)
    proofs = []
    for position in positions:
        hashed, data, row = found[position]
        if streamed is None:
            path = tree.proof(inclusion_ranges(position - 1, size))
        else:
            path = streamed.roots()
        proofs.append(
            {
                "format": INCLUSION_FORMAT,
                "tree_size": size,
                "leaf_index": position - 1,
                "leaf_hash": _b64(hashed),
                "audit_path": [_b64(h) for h in path],
                "checkpoint": checkpoint,
                "leaf": data.decode("ascii"),
                # The row's place in store order: in a verified store, its leaf's number.
                "event": json.loads(event_record(position, *row[1:])),
            }
        )
    return proofs


def consistency(
    reader: Reader,
    first: str,
    second: str,
    keys: Sequence[notes.VerifierKey],
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """The consistency proof from the tree ``first`` signs to the larger one ``second``
    signs; both must be signed by one of ``keys`` and be prefixes of the verified store."""
    try:
        old, new = notes.parse(first), notes.parse(second)
    except notes.CheckpointError as error:
        raise ProofError(f"a checkpoint: {error}") from None
    if not 0 < old.size <= new.size:
        raise ProofError(
            f"the first checkpoint ({old.size} leaves) must be non-empty and no larger than "
            f"the second ({new.size})"
        )
    path = RangeRoots(consistency_ranges(old.size, new.size))

    def observe(i: int, hashed: bytes, data: bytes, row: EventRow) -> None:
        if i <= new.size:
            path.add(i - 1, hashed)

    result = verify(reader, [first, second], keys, progress, observe=observe)
    if not result.ok:
        raise ProofError(f"no proof given: {result.problem}")
    return {
        "format": CONSISTENCY_FORMAT,
        "first_size": old.size,
        "second_size": new.size,
        "consistency_path": [_b64(h) for h in path.roots()],
        "first_checkpoint": first,
        "second_checkpoint": second,
    }
