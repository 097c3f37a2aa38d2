"""``mma audit`` as a user runs it: a subprocess, the store named by --store or MMA_STORE."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

from audit_helpers import (
    SOME_OPS,
    STANDALONE,
    audit_cli,
    build,
    export_url,
    sql,
    sqlite_url,
    standalone,
)

from mma_core.audit import checkpoint as notes


def test_keygen_checkpoint_verify_export_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite"
    n = build(path, SOME_OPS)
    store = sqlite_url(path)

    keygen = audit_cli(store, "audit", "keygen", "--key", "k.key", cwd=tmp_path)
    assert keygen.returncode == 0, keygen.stderr
    public = notes.parse_verifier_key(keygen.stdout.strip())
    assert stat.S_IMODE((tmp_path / "k.key").stat().st_mode) == 0o600
    again = audit_cli(store, "audit", "keygen", "--key", "k.key", cwd=tmp_path)
    assert again.returncode == 1
    assert "exists" in again.stderr

    done = audit_cli(store, "audit", "checkpoint", "--key", "k.key", "-o", "cp1", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    checkpoint = notes.verify((tmp_path / "cp1").read_text(), [public])
    assert checkpoint.size == n

    ok = audit_cli(
        store,
        "audit",
        "verify",
        "--checkpoint",
        "cp1",
        "--public-key",
        keygen.stdout.strip(),
        cwd=tmp_path,
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith(f"OK: {n} events verified, tree size {n}, root ")
    assert "events/s" in ok.stderr

    exported = audit_cli(store, "audit", "export", "out", "--key", "k.key", cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert files == ["checkpoint", "events.jsonl", "leaves.jsonl", "manifest.json", "public-key"]
    assert (tmp_path / "out" / "public-key").read_text().strip() == str(public)
    # A folder that holds files already is refused, and left as it was, unless --force.
    signed = (tmp_path / "out" / "checkpoint").read_text()
    again = audit_cli(store, "audit", "export", "out", "--key", "k.key", cwd=tmp_path)
    assert again.returncode == 1
    assert again.stderr.startswith("error: out is not empty")
    assert (tmp_path / "out" / "checkpoint").read_text() == signed
    forced = audit_cli(store, "audit", "export", "out", "--key", "k.key", "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    code, report = standalone(tmp_path / "out", "--public-key", str(public))
    assert code == 0, report
    assert report["size"] == n
    # Personal data stays encrypted: no official's name or e-mail in the export.
    events = (tmp_path / "out" / "events.jsonl").read_text()
    assert "Municipality.OfficialNominated" in events
    assert "example.nl" not in events
    assert "example.nl" not in json.dumps([json.loads(line) for line in events.splitlines()])


def test_verify_names_the_first_bad_position_and_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite"
    build(path, SOME_OPS)
    sql(path, ("UPDATE stored_events SET topic = 'x:Y' WHERE rowid = ?", (9,)))
    done = audit_cli(f"sqlite:///{path}", "--json", "audit", "verify")
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert report["problem"]["kind"] == "edited"
    assert report["problem"]["position"] == 9
    plain = audit_cli(f"sqlite:///{path}", "audit", "verify")
    assert plain.stdout.startswith("FAILED: position 9: edited: the topic of")


def test_a_changed_checkpoint_is_a_signature_failure_for_both_verifiers(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite"
    build(path, SOME_OPS)
    store = sqlite_url(path)
    public = audit_cli(store, "audit", "keygen", "--key", "k.key", cwd=tmp_path).stdout.strip()
    audit_cli(store, "audit", "checkpoint", "--key", "k.key", "-o", "cp", cwd=tmp_path)
    note = (tmp_path / "cp").read_text()
    lines = note.split("\n")
    lines[1] = str(int(lines[1]) - 1)
    (tmp_path / "cp").write_text("\n".join(lines))
    done = audit_cli(
        store, "audit", "verify", "--checkpoint", "cp", "--public-key", public, cwd=tmp_path
    )
    assert done.returncode == 1
    assert done.stdout.startswith("FAILED: signature invalid")
    audit_cli(store, "audit", "export", "out", "--key", "k.key", cwd=tmp_path)
    code, report = standalone(
        tmp_path / "out", "--public-key", public, "--checkpoint", str(tmp_path / "cp")
    )
    assert (code, report["kind"]) == (1, "signature invalid")


def test_verify_refuses_a_missing_store_without_creating_it(tmp_path: Path) -> None:
    done = audit_cli(f"sqlite:///{tmp_path / 'none.sqlite'}", "audit", "verify")
    assert done.returncode == 1
    assert "no store" in done.stderr
    assert not (tmp_path / "none.sqlite").exists()


def test_the_main_cli_has_the_audit_commands(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite"
    n = build(path, SOME_OPS)
    done = subprocess.run(
        [sys.executable, "-m", "mma_core.cli", "--store", sqlite_url(path), "audit", "verify"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"OK: {n} events verified")


def test_the_auditor_countersigns_a_verified_export(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite"
    n = build(path, SOME_OPS)
    store = sqlite_url(path)
    operator = audit_cli(store, "audit", "keygen", "--key", "op.key", cwd=tmp_path).stdout
    auditor = audit_cli(
        store, "audit", "keygen", "--key", "auditor.key", "--name", "auditor", cwd=tmp_path
    ).stdout
    audit_cli(store, "audit", "export", "out", "--key", "op.key", cwd=tmp_path)
    args = ["--public-key", operator.strip(), "--cosign", str(tmp_path / "auditor.key")]
    code, _ = standalone(tmp_path / "out", *args, "--conclusion", str(tmp_path / "signed"))
    assert code == 0
    note = (tmp_path / "signed").read_text()
    # The operator's signature stands; the auditor's line is a C2SP cosignature, as
    # 'mma audit cosign' writes it and 'mma audit verify --witness-key' reads it.
    assert notes.verify(note, [notes.parse_verifier_key(operator)]).size == n
    witness = notes.witness_key(notes.parse_signer_key((tmp_path / "auditor.key").read_text()))
    assert [name for name, _ in notes.cosigners(note, [witness])] == ["auditor"]
    assert notes.cosigners(note.replace(f"{n}\n", f"{n + 1}\n", 1), [witness]) == []
    assert auditor.startswith("auditor+")
    # Cosigning the cosigned checkpoint again is refused, and writes nothing.
    (tmp_path / "out" / "checkpoint").write_text(note)
    again = subprocess.run(
        [
            sys.executable,
            str(STANDALONE),
            str(tmp_path / "out"),
            *args,
            "--conclusion",
            str(tmp_path / "twice"),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert again.returncode == 2
    assert "auditor has cosigned this checkpoint already" in again.stderr
    assert not (tmp_path / "twice").exists()
    # 'mma audit export' refuses a store that does not verify, and writes nothing ...
    sql(path, ("DELETE FROM stored_events WHERE rowid = ?", (3,)))
    refused = audit_cli(store, "audit", "export", "bad", "--key", "op.key", cwd=tmp_path)
    assert refused.returncode == 1
    assert "does not verify, nothing exported: position 3: missing" in refused.stderr
    assert not (tmp_path / "bad").exists()
    # ... and an export written anyway (here by the library) gets no countersignature.
    export_url(store, tmp_path / "bad", notes.parse_signer_key((tmp_path / "op.key").read_text()))
    code, report = standalone(tmp_path / "bad", *args, "--conclusion", str(tmp_path / "no"))
    assert (code, report["kind"], report["position"]) == (1, "missing", 3)
    assert not (tmp_path / "no").exists()


def test_the_standalone_verifier_imports_only_what_the_format_allows() -> None:
    import ast

    tree = ast.parse(STANDALONE.read_text())
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module.split(".")[0])
    assert modules <= {
        "__future__",
        "base64",
        "binascii",
        "hashlib",
        "itertools",
        "json",
        "pathlib",
        "re",
        "time",
        "sys",
        "typing",
        "cryptography",
    }
