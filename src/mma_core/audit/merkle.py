"""RFC 6962 (Certificate Transparency) Merkle tree hashing, proofs and a streaming tree.

Leaf hash ``SHA-256(0x00 || data)``, node hash ``SHA-256(0x01 || left || right)``, the empty
tree's hash ``SHA-256("")``; a tree of n > 1 leaves splits at k, the largest power of two below n.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from mma_core.audit.leaves import leaf_hash

EMPTY_ROOT = hashlib.sha256(b"").digest()

__all__ = [
    "EMPTY_ROOT",
    "StreamingTree",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root",
    "verify_consistency",
    "verify_inclusion",
]


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    k = 1
    while k << 1 < n:
        k <<= 1
    return k


def root(hashes: Sequence[bytes]) -> bytes:
    """The Merkle tree hash over leaf hashes (already hashed with :func:`leaf_hash`)."""
    n = len(hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return hashes[0]
    k = _split(n)
    return node_hash(root(hashes[:k]), root(hashes[k:]))


def inclusion_proof(hashes: Sequence[bytes], index: int) -> list[bytes]:
    """RFC 6962 audit path of leaf ``index`` in the tree over ``hashes``."""
    n = len(hashes)
    if not 0 <= index < n:
        raise ValueError(f"leaf {index} is not in a tree of {n}")
    if n == 1:
        return []
    k = _split(n)
    if index < k:
        return [*inclusion_proof(hashes[:k], index), root(hashes[k:])]
    return [*inclusion_proof(hashes[k:], index - k), root(hashes[:k])]


def consistency_proof(hashes: Sequence[bytes], m: int) -> list[bytes]:
    """RFC 6962 consistency proof that the tree of the first ``m`` leaves is a prefix."""
    n = len(hashes)
    if not 0 < m <= n:
        raise ValueError(f"no consistency proof from size {m} to size {n}")
    return _subproof(hashes, m, complete=True)


def _subproof(hashes: Sequence[bytes], m: int, *, complete: bool) -> list[bytes]:
    n = len(hashes)
    if m == n:
        return [] if complete else [root(hashes)]
    k = _split(n)
    if m <= k:
        return [*_subproof(hashes[:k], m, complete=complete), root(hashes[k:])]
    return [*_subproof(hashes[k:], m - k, complete=False), root(hashes[:k])]


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], expected_root: bytes
) -> bool:
    """RFC 9162 section 2.1.3.2."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == expected_root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 section 2.1.4.2."""
    if not 0 < first <= second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # a power of two: the first root is the path's start
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root


class StreamingTree:
    """Appends leaf hashes one by one and gives the root at any moment, in O(log n) memory.

    Keeps the roots of the perfect subtrees that make up the tree so far (the binary digits of
    the size), largest first; the root folds them right to left.
    """

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[tuple[int, bytes]] = []

    def append(self, hashed_leaf: bytes) -> None:
        self.size += 1
        height, value = 0, hashed_leaf
        while self._stack and self._stack[-1][0] == height:
            _, left = self._stack.pop()
            value = node_hash(left, value)
            height += 1
        self._stack.append((height, value))

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        value = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            value = node_hash(left, value)
        return value
