"""``mma audit cosign``: a witness countersigns (C2SP tlog-cosignature) only a checkpoint that
extends the last one it cosigned; ``verify --witness-key`` names the witnesses that signed."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

from audit_helpers import SOME_OPS, build, sqlite_url
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from mma_core.audit import checkpoint as notes
from mma_core.cli.audit import audit

OPERATOR = notes.generate_key("operator")
WITNESS = notes.generate_key("provincial-auditor")


def run(url: str, *args: str) -> Result:
    return CliRunner().invoke(audit, list(args), env={"MMA_STORE": url})


def test_a_witness_cosigns_only_what_extends_its_last_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite"
    build(path, SOME_OPS)
    url = sqlite_url(path)
    (tmp_path / "op.key").write_text(f"{OPERATOR}\n")
    (tmp_path / "w.key").write_text(f"{WITNESS}\n")
    state = tmp_path / "witness-state"
    public = ["--public-key", str(OPERATOR.verifier())]
    witness = ["--witness-key", str(tmp_path / "w.key"), "--state", str(state), *public]

    def checkpoint(name: str) -> Path:
        done = run(url, "checkpoint", "--key", str(tmp_path / "op.key"), "-o", str(tmp_path / name))
        assert done.exit_code == 0, done.output
        return tmp_path / name

    first = checkpoint("cp1")
    done = run(url, "cosign", str(first), *witness, "-o", str(tmp_path / "cp1.cosigned"))
    assert done.exit_code == 0, done.output
    cosigned = (tmp_path / "cp1.cosigned").read_text()
    assert cosigned.startswith(first.read_text())
    assert notes.verify(cosigned, [OPERATOR.verifier()]).size == notes.parse(first.read_text()).size
    assert [name for name, _ in notes.cosigners(cosigned, [notes.witness_key(WITNESS)])] == [
        "provincial-auditor"
    ]
    assert state.read_text() == first.read_text()

    # The cosignature line is C2SP tlog-cosignature: key id over 0x04, time, Ed25519 signature.
    line = cosigned.rstrip("\n").split("\n")[-1]
    dash, name, data = line.split(" ")
    raw = base64.b64decode(data)
    public_key = WITNESS.verifier().public
    assert (dash, name, len(raw)) == ("\u2014", "provincial-auditor", 76)
    assert raw[:4] == hashlib.sha256(b"provincial-auditor\n\x04" + public_key).digest()[:4]
    body = first.read_text().partition("\n\n")[0] + "\n"
    timestamp = int.from_bytes(raw[4:12], "big")
    Ed25519PublicKey.from_public_bytes(public_key).verify(
        raw[12:], f"cosignature/v1\ntime {timestamp}\n{body}".encode()
    )

    # Later: more events, a new checkpoint; the proof is made from the (verified) store.
    build(path, [("nominate", 1), ("invite", 2)], with_base=False)
    second = checkpoint("cp2")
    done = run(url, "cosign", str(second), *witness, "-o", str(tmp_path / "cp2.cosigned"))
    assert done.exit_code == 0, done.output
    assert state.read_text() == second.read_text()

    # ... or given by the operator as a file: a third checkpoint with its consistency proof.
    build(path, [("nominate", 2)], with_base=False)
    third = checkpoint("cp3")
    proof = run(url, "consistency", str(second), str(third), *public)
    assert proof.exit_code == 0, proof.output
    (tmp_path / "proof.json").write_text(proof.stdout)
    done = run(url, "cosign", str(third), *witness, "--proof", str(tmp_path / "proof.json"))
    assert done.exit_code == 0, done.output
    assert state.read_text() == third.read_text()

    def refused(note: Path, *extra: str) -> str:
        before = state.read_bytes()
        done = run(url, "cosign", str(note), *witness, *extra)
        assert done.exit_code == 1, done.output
        assert state.read_bytes() == before  # nothing written
        return done.output

    # A rollback: an older checkpoint.
    assert "rollback" in refused(second)
    # A fork: the same size, another root, validly signed by the operator.
    size = notes.parse(third.read_text()).size
    fork = tmp_path / "fork"
    fork.write_text(notes.sign(OPERATOR, notes.DEFAULT_ORIGIN, size, bytes(32)))
    assert "fork" in refused(fork)
    # A larger tree that does not extend it, with a proof that cannot hold.
    forged = tmp_path / "forged"
    forged.write_text(notes.sign(OPERATOR, notes.DEFAULT_ORIGIN, size + 5, bytes(32)))
    fake = json.loads(proof.stdout) | {"first_size": size, "second_size": size + 5}
    (tmp_path / "fake.json").write_text(json.dumps(fake))
    assert "does not extend" in refused(forged, "--proof", str(tmp_path / "fake.json"))
    # Without a proof the store cannot make one either: it does not hold that tree.
    assert "not cosigned" in refused(forged)
    # A checkpoint the operator did not sign.
    stranger = tmp_path / "stranger"
    stranger.write_text(
        notes.sign(notes.generate_key("operator"), notes.DEFAULT_ORIGIN, 1, bytes(32))
    )
    assert "signature invalid" in refused(stranger)

    # verify names the witness on the cosigned checkpoint, and no one on the plain one.
    witness_public = str(notes.witness_key(WITNESS))
    done = run(
        url,
        "verify",
        "--checkpoint",
        str(tmp_path / "cp2.cosigned"),
        "--checkpoint",
        str(first),
        "--witness-key",
        witness_public,
        *public,
    )
    assert done.exit_code == 0, done.output
    assert "cp2.cosigned: cosigned by provincial-auditor" in done.stdout
    assert f"{first}: cosigned by none of the witnesses given" in done.stdout
