"""RFC 6962 (Certificate Transparency) Merkle tree hashing, proofs and a streaming tree.

Leaf hash ``SHA-256(0x00 || data)``, node hash ``SHA-256(0x01 || left || right)``, the empty
tree's hash ``SHA-256("")``; a tree of n > 1 leaves splits at k, the largest power of two below n.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from mma_core.storage.leaf_format import leaf_hash

EMPTY_ROOT = hashlib.sha256(b"").digest()
_sha256 = hashlib.sha256

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
    the size), largest first; the root folds them right to left. Appending leaf n merges as
    many subtrees as n has trailing zero bits.
    """

    __slots__ = ("_stack", "size")

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[bytes] = []

    def append(self, hashed_leaf: bytes) -> None:
        self.size = n = self.size + 1
        stack, value = self._stack, hashed_leaf
        while not n & 1:
            value = _sha256(b"\x01" + stack.pop() + value).digest()
            n >>= 1
        stack.append(value)

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        value = self._stack[-1]
        for left in reversed(self._stack[:-1]):
            value = node_hash(left, value)
        return value


# -- proofs while streaming: which subtrees a proof needs, and their roots as leaves go by ----

Range = tuple[int, int]  # leaves [start, end), 0-based


def inclusion_ranges(index: int, size: int, start: int = 0) -> list[Range]:
    """The subtrees whose roots make the audit path of leaf ``index`` (0-based) in a tree of
    ``size``, in proof order: :func:`inclusion_proof` without holding every hash."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    if size == 1:
        return []
    k = _split(size)
    if index < k:
        return [*inclusion_ranges(index, k, start), (start + k, start + size)]
    return [*inclusion_ranges(index - k, size - k, start + k), (start, start + k)]


def consistency_ranges(first: int, second: int) -> list[Range]:
    """The subtrees whose roots make the consistency proof from ``first`` to ``second``."""
    if not 0 < first <= second:
        raise ValueError(f"no consistency proof from size {first} to size {second}")
    return _subranges(first, second, 0, complete=True)


def _subranges(m: int, n: int, start: int, *, complete: bool) -> list[Range]:
    if m == n:
        return [] if complete else [(start, start + n)]
    k = _split(n)
    if m <= k:
        return [*_subranges(m, k, start, complete=complete), (start + k, start + n)]
    return [*_subranges(m - k, n - k, start + k, complete=False), (start, start + k)]


class RangeRoots:
    """Computes the roots of disjoint leaf ranges from leaf hashes given in order, one pass,
    O(log n) memory per range."""

    def __init__(self, ranges: Sequence[Range]) -> None:
        self.ranges = list(ranges)
        self._order = sorted(range(len(self.ranges)), key=lambda r: self.ranges[r][0])
        self._at = 0
        self._trees = [StreamingTree() for _ in self.ranges]

    def add(self, index: int, hashed_leaf: bytes) -> None:
        """Leaf ``index`` (0-based); indexes come in ascending order."""
        while self._at < len(self._order) and self.ranges[self._order[self._at]][1] <= index:
            self._at += 1
        if self._at < len(self._order):
            r = self._order[self._at]
            if self.ranges[r][0] <= index:
                self._trees[r].append(hashed_leaf)

    def roots(self) -> list[bytes]:
        for (start, end), tree in zip(self.ranges, self._trees, strict=True):
            if tree.size != end - start:
                raise ValueError(f"leaves {start}..{end} were not all given")
        return [tree.root() for tree in self._trees]


class HashedTree:
    """All leaf hashes of a tree in memory, each subtree's root computed once: many proofs
    over one tree in O(n) hashing (a single proof streams instead, see :class:`RangeRoots`)."""

    def __init__(self, hashes: Sequence[bytes]) -> None:
        self.hashes = hashes
        self._roots: dict[Range, bytes] = {}

    def root_of(self, start: int, end: int) -> bytes:
        if end - start == 1:
            return self.hashes[start]
        found = self._roots.get((start, end))
        if found is None:
            k = _split(end - start)
            found = node_hash(self.root_of(start, start + k), self.root_of(start + k, end))
            self._roots[(start, end)] = found
        return found

    def proof(self, ranges: Sequence[Range]) -> list[bytes]:
        return [self.root_of(start, end) for start, end in ranges]
