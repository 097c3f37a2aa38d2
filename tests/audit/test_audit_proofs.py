"""Inclusion and consistency proofs: built by ``mma audit prove`` / ``consistency`` from a
verified store, checked by ``tools/verify_proof.py`` with the public key alone, and refused
after any single-byte change to the proof, the leaf, the event or the checkpoint."""

from __future__ import annotations

import base64
import copy
import importlib.util
import json
import random
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from audit_helpers import ROOT, SOME_OPS, build, sql, sqlite_url
from click.testing import CliRunner
from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteDatastore

from mma_core.audit import checkpoint as notes
from mma_core.audit.merkle import consistency_proof, leaf_hash, root
from mma_core.audit.proofs import ProofError, consistency, inclusion
from mma_core.audit.sources import open_reader, open_recorder
from mma_core.cli.audit import audit
from mma_core.storage import SQLiteRecorder

KEY = notes.generate_key("operator")
PUBLIC = str(KEY.verifier())
TOOL = ROOT / "tools" / "verify_proof.py"


def load_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("verify_proof", TOOL)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = load_tool()


def write_store(path: Path, events: int) -> None:
    """Synthetic events through the library's recorder (each with its leaf): some aggregates
    with one event, some with many, as a programme's history has."""
    recorder = SQLiteRecorder(SQLiteDatastore(str(path)))
    recorder.create_table()
    long_lived = [uuid.UUID(int=n + 1) for n in range(7)]
    versions = dict.fromkeys(long_lived, 0)
    batch = []
    for n in range(events):
        if n % 3 == 0:
            originator, version = uuid.UUID(int=10_000 + n), 1
        else:
            originator = long_lived[n % 7]
            versions[originator] += 1
            version = versions[originator]
        state = json.dumps({"n": n, "note": "é" * (n % 4)}).encode()
        batch.append(StoredEvent(originator, version, "tests:Event", state))
        if len(batch) == 100:
            recorder.insert_events(batch)
            batch = []
    if batch:
        recorder.insert_events(batch)
    recorder.datastore.close()


def leaf_hashes(url: str) -> list[bytes]:
    with open_recorder(url) as recorder, open_reader(recorder) as reader:
        return [leaf_hash(leaf.encode()) for leaf, _ in reader.leaves()]


def checkpoint_of(hashes: list[bytes], size: int) -> str:
    return notes.sign(KEY, notes.DEFAULT_ORIGIN, size, root(hashes[:size]))


@pytest.fixture(scope="module")
def thousand(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[bytes]]:
    path = tmp_path_factory.mktemp("proofs") / "p.sqlite"
    write_store(path, 1000)
    url = sqlite_url(path)
    return url, leaf_hashes(url)


def prove_all(url: str, positions: list[int], note: str) -> list[dict[str, Any]]:
    with open_recorder(url) as recorder, open_reader(recorder) as reader:
        return inclusion(reader, positions, note, [KEY.verifier()])


def holds(proof: Any) -> bool:
    try:
        tool.check(proof, PUBLIC)
    except tool.Invalid:
        return False
    return True


def single_byte_changes(
    proof: dict[str, Any], rng: random.Random, *, checkpoint: bool = True
) -> Iterator[dict[str, Any]]:
    """Every proof that differs from ``proof`` in one byte of a hash, of the leaf, of the
    event's state or of the checkpoint, and in each number by one."""
    for field in ("tree_size", "leaf_index"):
        for delta in (-1, 1):
            changed = copy.deepcopy(proof)
            changed[field] += delta
            yield changed
    hashes = [("leaf_hash", None)] + [("audit_path", n) for n in range(len(proof["audit_path"]))]
    for field, n in hashes:
        raw = base64.b64decode(proof[field] if n is None else proof[field][n])
        for at in range(len(raw)):
            bad = bytearray(raw)
            bad[at] ^= 1 << rng.randrange(8)
            changed = copy.deepcopy(proof)
            text = base64.b64encode(bytes(bad)).decode()
            if n is None:
                changed[field] = text
            else:
                changed[field][n] = text
            yield changed
    for field in ("leaf", "checkpoint") if checkpoint else ("leaf",):
        data = proof[field].encode("utf-8")
        for at in range(len(data)):
            bad = bytearray(data)
            bad[at] = (bad[at] + 1 + rng.randrange(0x5E)) % 0x80 or 0x41  # another ASCII byte
            if bad == data:
                continue
            changed = copy.deepcopy(proof)
            changed[field] = bad.decode("utf-8", "replace")
            yield changed
    state = base64.b64decode(proof["event"]["state"])
    for at in range(len(state)):
        bad = bytearray(state)
        bad[at] ^= 0x20
        changed = copy.deepcopy(proof)
        changed["event"]["state"] = base64.b64encode(bytes(bad)).decode()
        yield changed
    if len(proof["audit_path"]) > 1:
        changed = copy.deepcopy(proof)
        changed["audit_path"].reverse()
        yield changed
    changed = copy.deepcopy(proof)
    changed["audit_path"] = changed["audit_path"][:-1]
    yield changed


def test_inclusion_proofs_for_every_position_of_1000_events_verify(
    thousand: tuple[str, list[bytes]],
) -> None:
    url, hashes = thousand
    note = checkpoint_of(hashes, 1000)
    proofs = prove_all(url, list(range(1, 1001)), note)
    for position, proof in enumerate(proofs, 1):
        assert proof["leaf_index"] == position - 1
        assert base64.b64decode(proof["leaf_hash"]) == hashes[position - 1]
        assert tool.check(proof, PUBLIC).startswith("OK: ")
    # Against an earlier checkpoint too: the path is into that smaller tree.
    older = checkpoint_of(hashes, 613)
    for proof in prove_all(url, [1, 300, 512, 613], older):
        assert proof["tree_size"] == 613
        assert holds(proof)
    # A stranger's key does not vouch for the checkpoint.
    stranger = str(notes.generate_key("operator").verifier())
    with pytest.raises(tool.Invalid, match=r"signature|not signed"):
        tool.check(proofs[0], stranger)


@pytest.mark.parametrize("position", [1, 2, 3, 512, 513, 999, 1000])
def test_any_single_byte_change_breaks_an_inclusion_proof(
    position: int, thousand: tuple[str, list[bytes]]
) -> None:
    url, hashes = thousand
    [proof] = prove_all(url, [position], checkpoint_of(hashes, 1000))
    assert holds(proof)
    rng = random.Random(position)
    changed = list(single_byte_changes(proof, rng))
    assert len(changed) > 300
    for bad in changed:
        assert not holds(bad), json.dumps(bad)[:300]


@pytest.mark.slow
def test_any_single_byte_change_breaks_the_inclusion_proof_of_every_position(
    thousand: tuple[str, list[bytes]],
) -> None:
    url, hashes = thousand
    proofs = prove_all(url, list(range(1, 1001)), checkpoint_of(hashes, 1000))
    rng = random.Random(12)
    for position, proof in enumerate(proofs, 1):
        # Every proof shares the one checkpoint: its every byte is changed in every 25th proof
        # (each such change costs an Ed25519 verification); all the rest in every proof.
        every_byte = position % 25 == 0 or position in (1, 1000)
        for bad in single_byte_changes(proof, rng, checkpoint=every_byte):
            assert not holds(bad)


def consistency_pairs(full: bool) -> Iterator[tuple[int, int]]:
    """Every pair of sizes 1 <= first <= second <= 64; without ``full``, the store-built part
    covers every first size for a few second sizes (the pure part covers all pairs)."""
    for second in range(1, 65) if full else (1, 2, 3, 13, 64):
        for first in range(1, second + 1):
            yield first, second


@pytest.fixture(scope="module")
def sixty_four(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[str, dict[int, str], dict[int, str]]:
    path = tmp_path_factory.mktemp("consistency") / "p.sqlite"
    write_store(path, 64)
    url = sqlite_url(path)
    hashes = leaf_hashes(url)
    signed = {size: checkpoint_of(hashes, size) for size in range(1, 65)}
    # Older checkpoints of another history: the same sizes, the first leaf different.
    other = [leaf_hash(b"not the first leaf"), *hashes[1:]]
    forged = {size: checkpoint_of(other, size) for size in range(1, 65)}
    return url, signed, forged


def check_pairs(
    url: str, signed: dict[int, str], forged: dict[int, str], pairs: Iterator[tuple[int, int]]
) -> int:
    checked = 0
    with open_recorder(url) as recorder, open_reader(recorder) as reader:
        for first, second in pairs:
            proof = consistency(reader, signed[first], signed[second], [KEY.verifier()])
            assert (proof["first_size"], proof["second_size"]) == (first, second)
            assert tool.check(proof, PUBLIC).startswith("OK: ")
            # The older checkpoint is not a prefix: the store refuses to prove it ...
            with pytest.raises(ProofError, match="edited"):
                consistency(reader, forged[first], signed[second], [KEY.verifier()])
            # ... and the proof does not carry over to it.
            assert not holds({**proof, "first_checkpoint": forged[first]})
            if first < second:
                assert not holds({**proof, "first_checkpoint": signed[second]})
            checked += 1
    return checked


def test_consistency_proofs_for_all_pairs_of_sizes_up_to_64(
    sixty_four: tuple[str, dict[int, str], dict[int, str]],
) -> None:
    url, signed, forged = sixty_four
    hashes = leaf_hashes(url)
    roots = {size: notes.parse(signed[size]).root for size in signed}
    other = {size: notes.parse(forged[size]).root for size in forged}
    # Every pair: the proof as the tree gives it, through the auditor's tool's RFC 9162 check
    # (signatures are checked on the sample below: Ed25519 is the slow part).
    for first, second in consistency_pairs(full=True):
        path = consistency_proof(hashes[:second], first)
        assert tool.verify_consistency(first, second, roots[first], roots[second], path)
        assert not tool.verify_consistency(first, second, other[first], roots[second], path)
        if first < second:
            assert not tool.verify_consistency(first, second, roots[second], roots[second], path)
    # A sample of pairs through the store (each a verifying walk); all of them under 'slow'.
    assert check_pairs(url, signed, forged, consistency_pairs(full=False)) == 83


@pytest.mark.slow
def test_consistency_proofs_from_the_store_for_all_pairs_of_sizes_up_to_64(
    sixty_four: tuple[str, dict[int, str], dict[int, str]],
) -> None:
    url, signed, forged = sixty_four
    assert check_pairs(url, signed, forged, consistency_pairs(full=True)) == 64 * 65 // 2


def test_prove_and_consistency_from_the_command_line(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite"
    n = build(path, SOME_OPS)
    url = sqlite_url(path)
    (tmp_path / "op.key").write_text(f"{KEY}\n")
    runner = CliRunner()
    env = {"MMA_STORE": url}
    key = ["--key", str(tmp_path / "op.key")]
    old = runner.invoke(audit, ["checkpoint", *key, "-o", str(tmp_path / "old")], env=env)
    assert old.exit_code == 0, old.output
    build(path, [("nominate", 1), ("invite", 1)], with_base=False)

    # Without --checkpoint: today's tree, signed now.
    done = runner.invoke(audit, ["prove", "3", *key, "-o", str(tmp_path / "p3.json")], env=env)
    assert done.exit_code == 0, done.output
    proof = json.loads((tmp_path / "p3.json").read_text())
    assert proof["leaf_index"] == 2
    assert proof["tree_size"] > n
    assert proof["event"]["position"] == 3

    # Against the kept checkpoint, then consistency from it to a new one.
    done = runner.invoke(
        audit, ["prove", str(n), "--checkpoint", str(tmp_path / "old"), *key], env=env
    )
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["tree_size"] == n
    new = runner.invoke(audit, ["checkpoint", *key, "-o", str(tmp_path / "new")], env=env)
    assert new.exit_code == 0
    done = runner.invoke(
        audit,
        ["consistency", str(tmp_path / "old"), str(tmp_path / "new"), *key],
        env=env,
    )
    assert done.exit_code == 0, done.output
    (tmp_path / "c.json").write_text(done.stdout)

    # The auditor's tool, as a subprocess, with the key and the checkpoint they kept.
    for proof_file in ("p3.json", "c.json"):
        checked = subprocess.run(
            [sys.executable, str(TOOL), str(tmp_path / proof_file), "--public-key", PUBLIC],
            capture_output=True,
            text=True,
            check=False,
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert checked.stdout.startswith("OK: ")
    kept = ["--checkpoint", str(tmp_path / "old")]
    checked = subprocess.run(
        [sys.executable, str(TOOL), str(tmp_path / "c.json"), "--public-key", PUBLIC, *kept],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout
    checked = subprocess.run(
        [sys.executable, str(TOOL), str(tmp_path / "p3.json"), "--public-key", PUBLIC, *kept],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 1
    assert "not the checkpoint you kept" in checked.stdout

    # verify --since builds and checks the consistency proof from the old checkpoint.
    since = runner.invoke(
        audit, ["verify", "--since", str(tmp_path / "old"), "--public-key", PUBLIC], env=env
    )
    assert since.exit_code == 0, since.output
    assert f"tree size {n} -> " in since.stdout

    # A position outside the tree, and a store that does not verify: no proof.
    far = runner.invoke(audit, ["prove", "9999", *key], env=env)
    assert far.exit_code == 1
    assert "not in a tree" in far.output
    sql(path, ("UPDATE stored_events SET topic = 'x:Y' WHERE rowid = 2", ()))
    refused = runner.invoke(audit, ["prove", "3", *key], env=env)
    assert refused.exit_code == 1
    assert "does not verify" in refused.output
    since = runner.invoke(
        audit, ["verify", "--since", str(tmp_path / "old"), "--public-key", PUBLIC], env=env
    )
    assert since.exit_code == 1
