"""RFC 6962 hashing against the Certificate Transparency reference vectors."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mma_core.audit.merkle import (
    EMPTY_ROOT,
    StreamingTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

# The 8-leaf test vectors of the Certificate Transparency implementations (merkle_tree_test).
LEAVES = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
HASHES = [leaf_hash(bytes.fromhex(leaf)) for leaf in LEAVES]


def test_empty_tree_is_the_hash_of_nothing() -> None:
    assert EMPTY_ROOT.hex() == hashlib.sha256(b"").hexdigest()
    assert root([]) == StreamingTree().root() == EMPTY_ROOT


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_the_reference(size: int) -> None:
    assert root(HASHES[:size]).hex() == ROOTS[size - 1]
    tree = StreamingTree()
    for h in HASHES[:size]:
        tree.append(h)
    assert tree.root().hex() == ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION)
def test_inclusion_proofs_match_the_reference(index: int, size: int, proof: list[str]) -> None:
    path = inclusion_proof(HASHES[:size], index)
    assert [p.hex() for p in path] == proof
    assert verify_inclusion(HASHES[index], index, size, path, bytes.fromhex(ROOTS[size - 1]))
    assert not verify_inclusion(HASHES[index], index, size, path, b"\x00" * 32)
    if size > 1:
        other = (index + 1) % size
        assert not verify_inclusion(HASHES[other], index, size, path, root(HASHES[:size]))


@pytest.mark.parametrize(("first", "second", "proof"), CONSISTENCY)
def test_consistency_proofs_match_the_reference(first: int, second: int, proof: list[str]) -> None:
    path = consistency_proof(HASHES[:second], first)
    assert [p.hex() for p in path] == proof
    old, new = bytes.fromhex(ROOTS[first - 1]), bytes.fromhex(ROOTS[second - 1])
    assert verify_consistency(first, second, old, new, path)
    if first != second:
        assert not verify_consistency(first, second, new, new, path)
        assert not verify_consistency(first, second, old, old, path)


@given(st.integers(1, 40), st.data())
def test_every_proof_verifies_and_a_changed_leaf_breaks_it(n: int, data: st.DataObject) -> None:
    hashes = [leaf_hash(i.to_bytes(2, "big")) for i in range(n)]
    tree = StreamingTree()
    for h in hashes:
        tree.append(h)
    assert tree.root() == root(hashes)
    assert len(tree._stack) == bin(n).count("1")  # O(log n): one subtree per binary digit
    m = data.draw(st.integers(1, n))
    assert verify_consistency(m, n, root(hashes[:m]), root(hashes), consistency_proof(hashes, m))
    i = data.draw(st.integers(0, n - 1))
    assert verify_inclusion(hashes[i], i, n, inclusion_proof(hashes, i), root(hashes))
    forked = list(hashes)
    j = data.draw(st.integers(0, m - 1))
    forked[j] = leaf_hash(b"forged")
    assert not verify_consistency(
        m, n, root(hashes[:m]), root(forked), consistency_proof(forked, m)
    )
