"""Signed checkpoints: C2SP signed notes with Ed25519, and the leaf encoding."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mma_core.audit import checkpoint as notes
from mma_core.storage.leaf_format import Leaf, canonical_json, leaf_hash

# The example of golang.org/x/mod/sumdb/note: key, text and its signed note.
GO_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZS"
    "NXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)


def test_keys_and_signatures_match_the_go_note_package() -> None:
    signer = notes.parse_signer_key(GO_SIGNER)
    assert str(signer) == GO_SIGNER
    assert str(signer.verifier()) == GO_VERIFIER
    assert notes.sign_note(signer, GO_TEXT) == GO_NOTE
    assert notes.open_note(GO_NOTE, [notes.parse_verifier_key(GO_VERIFIER)]) == GO_TEXT


def test_a_checkpoint_round_trips_and_any_change_breaks_its_signature() -> None:
    key = notes.generate_key("auditor-test")
    root = hashlib.sha256(b"root").digest()
    note = notes.sign(key, "example.org/programme", 42, root)
    lines = note.split("\n")
    assert lines[:4] == ["example.org/programme", "42", base64.b64encode(root).decode(), ""]
    assert lines[4].startswith("\u2014 auditor-test ")
    checkpoint = notes.verify(note, [key.verifier()])
    assert (checkpoint.origin, checkpoint.size, checkpoint.root) == (
        "example.org/programme",
        42,
        root,
    )
    with pytest.raises(notes.CheckpointError, match="signature invalid"):
        notes.verify(note.replace("\n42\n", "\n43\n"), [key.verifier()])
    with pytest.raises(notes.CheckpointError, match="signature invalid"):
        notes.verify(note, [notes.generate_key("auditor-test").verifier()])
    with pytest.raises(notes.CheckpointError, match="signature invalid"):
        notes.verify(note, [notes.generate_key("someone-else").verifier()])


@pytest.mark.parametrize(
    "text",
    [
        "PRIVATE+KEY+name+00000000+AAAA",
        "name+c74f20a3",
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ],
)
def test_malformed_keys_are_refused(text: str) -> None:
    with pytest.raises(notes.CheckpointError):
        notes.parse_verifier_key(text)
    with pytest.raises(notes.CheckpointError):
        notes.parse_signer_key(text)


def test_the_leaf_encoding_is_canonical_json() -> None:
    leaf = Leaf(
        seq=7,
        aggregate_id="6bf947d7-969c-5f18-869f-248174d6d721",
        version=2,
        topic="mma_core.domain.municipality:Municipality.Invited",
        recorded_at="2019-11-06T09:00:00.000000Z",
        state_sha256="ab" * 32,
        prev="cd" * 32,
    )
    expected = (
        '{"aggregate_id":"6bf947d7-969c-5f18-869f-248174d6d721","format":"mma-leaf/v1",'
        '"prev":"' + "cd" * 32 + '","recorded_at":"2019-11-06T09:00:00.000000Z","seq":7,'
        '"state_sha256":"' + "ab" * 32 + '","topic":'
        '"mma_core.domain.municipality:Municipality.Invited","version":2}'
    ).encode()
    assert leaf.encode() == expected
    assert leaf.hash() == leaf_hash(expected) == hashlib.sha256(b"\x00" + expected).digest()
    assert Leaf.from_dict(leaf.as_dict()) == leaf
    first = Leaf(7, leaf.aggregate_id, 1, leaf.topic, leaf.recorded_at, "ab" * 32, None)
    assert b'"prev":null' in first.encode()


@given(
    text=st.text(),
    seq=st.integers(1, 2**53),
    version=st.integers(1, 2**31),
    prev=st.none() | st.text(),
)
def test_the_fast_leaf_encoding_is_the_canonical_json(
    text: str, seq: int, version: int, prev: str | None
) -> None:
    leaf = Leaf(seq, text, version, text[::-1], text + "Z", "ab" * 32, prev)
    assert leaf.encode() == canonical_json(leaf.as_dict())
    assert json.loads(leaf.encode()) == leaf.as_dict()
