"""Trust anchors on every verifier (``mma audit verify``, ``tools/verify_export.py``,
``tools/verify_proof.py``): the operator's key from outside, the origin pinned, witnesses'
cosignatures that must hold, a state file that remembers the largest checkpoint seen, key
rotation, and positions as evidence. Each verifier runs as a user runs it: a subprocess."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from audit_helpers import (
    ROOT,
    SOME_OPS,
    STANDALONE,
    audit_cli,
    build,
    export_url,
    sql,
    sqlite_url,
)

from mma_core.audit import checkpoint as notes
from mma_core.audit.proofs import inclusion
from mma_core.audit.sources import open_reader, open_recorder

PROOF_TOOL = ROOT / "tools" / "verify_proof.py"
OPERATOR = notes.generate_key("operator")
ATTACKER = notes.generate_key("operator")  # the same name, another key
NEW_OPERATOR = notes.generate_key("operator-2027")
WITNESS = notes.generate_key("provincial-auditor")


def tool(script: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, str(script), *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def public(key: notes.SignerKey = OPERATOR) -> str:
    return str(key.verifier())


@pytest.fixture
def store(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "p.sqlite"
    build(path, SOME_OPS)
    (tmp_path / "op.key").write_text(f"{OPERATOR}\n")
    (tmp_path / "new.key").write_text(f"{NEW_OPERATOR}\n")
    return path, sqlite_url(path)


def checkpoint(url: str, tmp_path: Path, name: str, *extra: str) -> Path:
    done = audit_cli(
        url, "audit", "checkpoint", "--key", "op.key", "-o", name, *extra, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    return tmp_path / name


def prove(url: str, position: int, note: str) -> dict[str, Any]:
    with open_recorder(url) as recorder, open_reader(recorder) as reader:
        [proof] = inclusion(reader, [position], note, [OPERATOR.verifier()])
    return proof


def test_without_a_public_key_every_verifier_refuses_and_names_the_flag(
    store: tuple[Path, str], tmp_path: Path
) -> None:
    _, url = store
    cp = checkpoint(url, tmp_path, "cp")
    export_url(url, tmp_path / "export", OPERATOR)
    (tmp_path / "proof.json").write_text(json.dumps(prove(url, 2, cp.read_text())))

    done = tool(STANDALONE, tmp_path / "export")
    assert done.returncode == 2
    assert "--public-key" in done.stderr
    done = tool(PROOF_TOOL, tmp_path / "proof.json")
    assert done.returncode == 2
    assert "--public-key" in done.stderr
    done = audit_cli(url, "audit", "verify", "--checkpoint", "cp", "--key", "op.key", cwd=tmp_path)
    assert done.returncode == 2
    assert "--public-key" in done.stderr

    # --trust-bundled-key keeps the old behaviour, and says what it is worth.
    done = tool(STANDALONE, tmp_path / "export", "--trust-bundled-key", "--json")
    assert done.returncode == 0, done.stderr
    assert "export's own public key" in json.loads(done.stdout)["warnings"][0]
    done = tool(STANDALONE, tmp_path / "export", "--trust-bundled-key")
    assert "warning: checked against the export's own public key" in done.stdout


def test_a_history_re_signed_with_another_key_fails_with_the_key_received(
    tmp_path: Path,
) -> None:
    # Another history (here: a whole other store), exported and signed with the attacker's
    # key, and shipped with that key as the export's public-key file.
    forged = tmp_path / "forged.sqlite"
    build(forged, [("invite", 0), ("decline", 0)])
    export_url(sqlite_url(forged), tmp_path / "forged", ATTACKER)
    bundled = tool(STANDALONE, tmp_path / "forged", "--trust-bundled-key")
    assert bundled.returncode == 0  # the export agrees with itself, and no more ...
    assert "warning: checked against the export's own public key" in bundled.stdout
    done = tool(STANDALONE, tmp_path / "forged", "--public-key", public(), "--json")
    assert done.returncode == 1  # ... the key received separately does not sign it
    assert json.loads(done.stdout)["kind"] == "signature invalid"


def test_a_validly_signed_checkpoint_of_another_origin_fails_everywhere(
    store: tuple[Path, str], tmp_path: Path
) -> None:
    _, url = store
    other = checkpoint(url, tmp_path, "other", "--origin", "utrecht/programme")
    ours = checkpoint(url, tmp_path, "ours")
    export_url(url, tmp_path / "export", OPERATOR)

    done = audit_cli(
        url, "audit", "verify", "--checkpoint", "other", "--public-key", public(), cwd=tmp_path
    )
    assert done.returncode == 1
    assert done.stdout.startswith("FAILED: wrong origin: other is of the log 'utrecht/programme'")
    done = audit_cli(
        url,
        *("audit", "verify", "--checkpoint", "other", "--public-key", public()),
        *("--origin", "utrecht/programme"),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout

    done = tool(STANDALONE, tmp_path / "export", "--public-key", public(), "--checkpoint", other)
    assert done.returncode == 1
    assert "wrong origin" in done.stdout
    assert tool(STANDALONE, tmp_path / "export", "--public-key", public(), "--checkpoint", ours)
    # The manifest names the export's origin; --origin pins another one.
    manifest = json.loads((tmp_path / "export" / "manifest.json").read_text())
    assert manifest["origin"] == notes.DEFAULT_ORIGIN
    pinned = tool(STANDALONE, tmp_path / "export", "--public-key", public(), "--origin", "x/y")
    assert pinned.returncode == 1
    assert "wrong origin" in pinned.stdout

    (tmp_path / "p.json").write_text(json.dumps(prove(url, 2, other.read_text())))
    done = tool(PROOF_TOOL, tmp_path / "p.json", "--public-key", public())
    assert done.returncode == 1
    assert "of the log 'utrecht/programme', not 'mma-core/programme'" in done.stdout
    done = tool(
        PROOF_TOOL, tmp_path / "p.json", "--public-key", public(), "--origin", "utrecht/programme"
    )
    assert done.returncode == 0, done.stdout


def flip_cosignature_byte(note: str, index: int) -> str:
    lines = note.rstrip("\n").split("\n")
    dash, name, data = lines[-1].split(" ")
    raw = bytearray(base64.b64decode(data))
    raw[index] ^= 0x01
    lines[-1] = f"{dash} {name} {base64.b64encode(bytes(raw)).decode()}"
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    "index",
    [
        pytest.param(0, id="key id", marks=pytest.mark.slow),
        pytest.param(5, id="time", marks=pytest.mark.slow),
        pytest.param(40, id="signature"),
    ],
)
def test_a_one_byte_change_in_a_cosignature_fails_every_verifier(
    store: tuple[Path, str], tmp_path: Path, index: int
) -> None:
    _, url = store
    cp = checkpoint(url, tmp_path, "cp")
    cosigned = notes.cosign(cp.read_text(), WITNESS, 1_800_000_000)
    witness = str(notes.witness_key(WITNESS))
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.write_text(cosigned)
    bad.write_text(flip_cosignature_byte(cosigned, index))
    base_args = ["audit", "verify", "--public-key", public(), "--witness-key", witness]

    done = audit_cli(url, *base_args, "--checkpoint", "good", cwd=tmp_path)
    assert done.returncode == 0, done.stdout
    assert "good: cosigned by provincial-auditor" in done.stdout
    done = audit_cli(url, *base_args, "--checkpoint", "bad", cwd=tmp_path)
    assert done.returncode == 1
    assert "FAILED: cosignature invalid: bad: the cosignature of provincial-auditor" in done.stdout

    export_url(url, tmp_path / "export", OPERATOR)
    args = ["--public-key", public(), "--witness-key", witness]
    assert tool(STANDALONE, tmp_path / "export", *args, "--checkpoint", good).returncode == 0
    done = tool(STANDALONE, tmp_path / "export", *args, "--checkpoint", bad)
    assert done.returncode == 1
    assert "cosignature invalid" in done.stdout

    proof = prove(url, 1, cosigned)
    (tmp_path / "good.json").write_text(json.dumps(proof))
    (tmp_path / "bad.json").write_text(json.dumps(proof | {"checkpoint": bad.read_text()}))
    done = tool(PROOF_TOOL, tmp_path / "good.json", *args)
    assert done.returncode == 0, done.stdout
    assert "cosigned by provincial-auditor" in done.stdout
    done = tool(PROOF_TOOL, tmp_path / "bad.json", *args)
    assert done.returncode == 1
    assert "the cosignature of provincial-auditor does not verify" in done.stdout


def test_the_state_file_refuses_an_older_history_after_a_newer_one(
    store: tuple[Path, str], tmp_path: Path
) -> None:
    path, url = store
    old = checkpoint(url, tmp_path, "old")
    export_url(url, tmp_path / "export-old", OPERATOR)
    old_proof = prove(url, 1, old.read_text())
    build(path, [("invite", 1), ("invite", 2)], with_base=False)
    new = checkpoint(url, tmp_path, "new")
    export_url(url, tmp_path / "export-new", OPERATOR)
    new_proof = prove(url, 1, new.read_text())
    state = tmp_path / "auditor.state"
    args = ["audit", "verify", "--public-key", public(), "--state", "auditor.state"]

    # The store: verified with the new checkpoint, remembered ...
    done = audit_cli(url, *args, "--checkpoint", "new", cwd=tmp_path)
    assert done.returncode == 0, done.stdout
    assert state.read_bytes() == new.read_bytes()
    # ... then the last events are cut and the counter set back, and only the old
    # checkpoint is given: the state still knows.
    size = notes.parse(new.read_text()).size
    sql(
        path,
        ("DELETE FROM stored_events WHERE rowid > ?", (size - 2,)),
        ("DELETE FROM mma_leaves WHERE seq > ?", (size - 2,)),
        ("UPDATE sqlite_sequence SET seq = ? WHERE name = 'mma_leaves'", (size - 2,)),
    )
    plain = audit_cli(
        url, "audit", "verify", "--public-key", public(), "--checkpoint", "old", cwd=tmp_path
    )
    assert plain.returncode == 0  # what the issue found: an older checkpoint hides it
    done = audit_cli(url, *args, "--checkpoint", "old", cwd=tmp_path)
    assert done.returncode == 1
    assert "truncated" in done.stdout
    assert f"the checkpoint remembered in auditor.state covers {size} leaves" in done.stdout
    assert state.read_bytes() == new.read_bytes()

    # The export verifier: the newer export remembered, the older one refused.
    export_state = tmp_path / "export.state"
    export_args = ["--public-key", public(), "--state", export_state]
    assert tool(STANDALONE, tmp_path / "export-new", *export_args).returncode == 0
    done = tool(STANDALONE, tmp_path / "export-old", *export_args)
    assert done.returncode == 1
    assert "truncated" in done.stdout
    assert "remembered" in done.stdout

    # The proof checker: an older checkpoint after a newer one, and a fork of the same size.
    proof_state = tmp_path / "proof.state"
    (tmp_path / "new.json").write_text(json.dumps(new_proof))
    (tmp_path / "old.json").write_text(json.dumps(old_proof))
    proof_args = ["--public-key", public(), "--state", proof_state]
    done = tool(PROOF_TOOL, tmp_path / "new.json", *proof_args)
    assert done.returncode == 0, done.stdout
    assert proof_state.read_bytes() == new.read_bytes()
    done = tool(PROOF_TOOL, tmp_path / "old.json", *proof_args)
    assert done.returncode == 1
    assert "rollback" in done.stdout
    assert proof_state.read_bytes() == new.read_bytes()


def test_key_rotation_old_and_new_key_sign_during_the_transition(
    store: tuple[Path, str], tmp_path: Path
) -> None:
    _, url = store
    both = checkpoint(url, tmp_path, "both", "--also-key", "new.key")
    note = both.read_text()
    assert [name for name, _, _ in notes.parse(note).signatures] == ["operator", "operator-2027"]
    done = audit_cli(
        url, "audit", "export", "export", "--key", "op.key", "--also-key", "new.key", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    (tmp_path / "p.json").write_text(json.dumps(prove(url, 2, note)))
    only_new = notes.sign(NEW_OPERATOR, notes.DEFAULT_ORIGIN, *size_root(note))
    (tmp_path / "new-only").write_text(only_new)
    stranger = str(notes.generate_key("someone").verifier())

    for keys in ([public()], [public(NEW_OPERATOR)], [public(), public(NEW_OPERATOR)]):
        flags = [arg for key in keys for arg in ("--public-key", key)]
        done = audit_cli(url, "audit", "verify", "--checkpoint", "both", *flags, cwd=tmp_path)
        assert done.returncode == 0, done.stdout
        assert tool(STANDALONE, tmp_path / "export", *flags).returncode == 0
        assert tool(PROOF_TOOL, tmp_path / "p.json", *flags).returncode == 0
    # After the transition the old key is dropped: a checkpoint by the new key alone holds
    # under the list, not under the old key alone.
    flags = ["--public-key", public(), "--public-key", public(NEW_OPERATOR)]
    done = audit_cli(url, "audit", "verify", "--checkpoint", "new-only", *flags, cwd=tmp_path)
    assert done.returncode == 0, done.stdout
    done = audit_cli(
        url, "audit", "verify", "--checkpoint", "new-only", "--public-key", public(), cwd=tmp_path
    )
    assert done.returncode == 1
    assert "signature invalid" in done.stdout
    # A key nobody trusts signs nothing that counts.
    done = tool(STANDALONE, tmp_path / "export", "--public-key", stranger)
    assert done.returncode == 1
    # A bad signature line of one trusted key fails, even when the other key's holds.
    lines = note.split("\n")
    kid = notes.parse(note).signatures[1][1]
    lines[-2] = lines[-2].rsplit(" ", 1)[0] + " " + base64.b64encode(kid + bytes(64)).decode()
    damaged = "\n".join(lines)
    (tmp_path / "damaged").write_text(damaged)
    done = audit_cli(url, "audit", "verify", "--checkpoint", "damaged", *flags, cwd=tmp_path)
    assert done.returncode == 1
    assert "signature invalid" in done.stdout


def size_root(note: str) -> tuple[int, bytes]:
    checkpoint_ = notes.parse(note)
    return checkpoint_.size, checkpoint_.root


def test_swapped_positions_in_an_export_and_a_changed_position_in_a_proof_fail(
    store: tuple[Path, str], tmp_path: Path
) -> None:
    _, url = store
    export_url(url, tmp_path / "export", OPERATOR)
    args = ["--public-key", public(), "--json"]
    assert tool(STANDALONE, tmp_path / "export", *args).returncode == 0
    events = tmp_path / "export" / "events.jsonl"
    rows = [json.loads(line) for line in events.read_text().splitlines()]
    assert [row["position"] for row in rows] == list(range(1, len(rows) + 1))
    rows[2]["position"], rows[3]["position"] = rows[3]["position"], rows[2]["position"]
    canonical = [json.dumps(r, sort_keys=True, separators=(",", ":")) for r in rows]
    events.write_text("".join(line + "\n" for line in canonical))
    done = tool(STANDALONE, tmp_path / "export", *args)
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert (report["kind"], report["position"]) == ("edited", 3)
    assert "says position 4" in report["detail"]

    cp = checkpoint(url, tmp_path, "cp")
    proof = prove(url, 3, cp.read_text())
    assert proof["event"]["position"] == 3
    (tmp_path / "good.json").write_text(json.dumps(proof))
    assert tool(PROOF_TOOL, tmp_path / "good.json", "--public-key", public()).returncode == 0
    for changed in (2, 4, 0, -3, "3"):
        moved = proof | {"event": proof["event"] | {"position": changed}}
        (tmp_path / "moved.json").write_text(json.dumps(moved))
        done = tool(PROOF_TOOL, tmp_path / "moved.json", "--public-key", public())
        assert done.returncode == 1, changed
        assert "position" in done.stdout


def test_a_duplicated_row_is_described_as_duplicated(
    store: tuple[Path, str], tmp_path: Path
) -> None:
    _, url = store
    export_url(url, tmp_path / "export", OPERATOR)
    events = tmp_path / "export" / "events.jsonl"
    lines = events.read_text().splitlines()
    row = json.loads(lines[-1])
    row["position"] = len(lines) + 1
    duplicate = json.dumps(row, sort_keys=True, separators=(",", ":"))
    events.write_text("\n".join([*lines, duplicate]) + "\n")
    manifest = tmp_path / "export" / "manifest.json"
    data = json.loads(manifest.read_text())
    manifest.write_text(json.dumps(data | {"events": data["events"] + 1}))
    done = tool(STANDALONE, tmp_path / "export", "--public-key", public(), "--json")
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert report["kind"] == "inserted"
    assert "is duplicated" in report["detail"]
    assert "has no leaf" not in report["detail"]


def test_deep_or_huge_json_gives_exit_2_and_one_clear_line(
    store: tuple[Path, str], tmp_path: Path
) -> None:
    _, url = store
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    done = tool(PROOF_TOOL, deep, "--public-key", public())
    assert done.returncode == 2
    assert done.stderr.strip() == "error: the proof is not a JSON proof: nested too deeply"
    huge = tmp_path / "huge.json"
    with huge.open("wb") as out:
        out.write(b'{"format": "' + b"x" * (17 << 20) + b'"}')
    done = tool(PROOF_TOOL, huge, "--public-key", public())
    assert done.returncode == 2
    assert "larger than" in done.stderr

    export_url(url, tmp_path / "export", OPERATOR)
    for name in ("manifest.json", "leaves.jsonl"):
        copy = tmp_path / f"export-{name}"
        shutil.copytree(tmp_path / "export", copy)
        (copy / name).write_text("[" * 100_000 + "]" * 100_000 + "\n")
        done = tool(STANDALONE, copy, "--public-key", public())
        assert done.returncode == 2, name
        assert done.stderr.startswith("error: the export is malformed:"), done.stderr
        assert len(done.stderr.strip().splitlines()) == 1


def test_the_kept_checkpoint_is_compared_byte_for_byte(
    store: tuple[Path, str], tmp_path: Path
) -> None:
    _, url = store
    cp = checkpoint(url, tmp_path, "cp")
    (tmp_path / "p.json").write_text(json.dumps(prove(url, 2, cp.read_text())))
    args = ["--public-key", public(), "--checkpoint"]
    assert tool(PROOF_TOOL, tmp_path / "p.json", *args, cp).returncode == 0
    # A byte that is not UTF-8 used to be replaced by U+FFFD before comparing.
    bad = tmp_path / "bad"
    bad.write_bytes(cp.read_bytes() + b"\xff")
    done = tool(PROOF_TOOL, tmp_path / "p.json", *args, bad)
    assert done.returncode == 1
    assert "not the checkpoint you kept" in done.stdout


def test_public_key_prints_the_verifier_and_the_witness_key_forms(tmp_path: Path) -> None:
    (tmp_path / "w.key").write_text(f"{WITNESS}\n")
    url = sqlite_url(tmp_path / "none.sqlite")
    done = audit_cli(url, "audit", "public-key", "--key", "w.key", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(WITNESS.verifier())  # 0x01: checks its signatures
    done = audit_cli(url, "audit", "public-key", "--key", "w.key", "--witness", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    witness = done.stdout.strip()
    assert witness == str(notes.witness_key(WITNESS))  # 0x04: checks its cosignatures
    assert base64.b64decode(witness.split("+", 2)[2])[0] == 0x04
    assert notes.parse_witness_key(witness) == notes.witness_key(WITNESS)
