"""The published test vectors (docs/audit-vectors/, written by tools/audit_vectors.py) on all
three verifiers: ``mma audit verify`` on a store holding the vectors' history,
``tools/verify_export.py`` on the vectors' export and ``tools/verify_proof.py`` on proofs. Every
case gets its expected verdict, and none a traceback (the tools run in this process: an
exception would fail the test)."""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import io
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import click
import pytest
from audit_helpers import ROOT
from click.testing import CliRunner
from eventsourcing.sqlite import SQLiteDatastore

from mma_core.cli.audit import register
from mma_core.storage import SQLiteRecorder

VECTORS = ROOT / "docs" / "audit-vectors"
TOOLS = ROOT / "tools"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, TOOLS / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


EXPORT_TOOL = load("verify_export")
PROOF_TOOL = load("verify_proof")


def vectors(name: str) -> Any:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


TREE = vectors("tree.json")
CHECKPOINTS = vectors("checkpoints.json")
PROOFS = vectors("proofs.json")
EXPORTS = vectors("exports.json")


def run_tool(module: ModuleType, argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = module.main(argv)
    return code, out.getvalue(), err.getvalue()


@click.group()
@click.option("--store")
@click.option("--json", "as_json", is_flag=True)
def cli(store: str, as_json: bool) -> None:
    """The audit commands as the main CLI mounts them."""


register(cli)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A store holding exactly the vectors' history: its rows and leaves written as the
    recorder stores them."""
    path = tmp_path_factory.mktemp("vectors") / "history.sqlite"
    recorder = SQLiteRecorder(SQLiteDatastore(str(path)))
    recorder.create_table()
    recorder.datastore.close()
    conn = sqlite3.connect(path)
    for event, text in zip(TREE["events"], TREE["leaves"], strict=True):
        leaf = json.loads(text)
        conn.execute(
            "INSERT INTO stored_events (originator_id, originator_version, topic, state) "
            "VALUES (?, ?, ?, ?)",
            (
                event["aggregate_id"].replace("-", ""),
                event["version"],
                event["topic"],
                base64.b64decode(event["state"]),
            ),
        )
        conn.execute(
            "INSERT INTO mma_leaves (seq, aggregate_id, version, topic, recorded_at, "
            "state_sha256, prev) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                *tuple(leaf[k] for k in ("seq", "aggregate_id", "version", "topic")),
                leaf["recorded_at"],
                leaf["state_sha256"],
                leaf["prev"],
            ),
        )
    conn.commit()
    conn.close()
    return f"sqlite:///{path}"


def note_file(case: dict[str, Any], directory: Path) -> Path:
    path = directory / "note"
    if "note_base64" in case:
        path.write_bytes(base64.b64decode(case["note_base64"]))
    else:
        path.write_bytes(case["note"].encode("utf-8"))
    return path


def flags(case: dict[str, Any]) -> list[str]:
    out = ["--origin", case["origin"]]
    for key in case["public_keys"]:
        out += ["--public-key", key]
    for key in case.get("witness_keys", []):
        out += ["--witness-key", key]
    return out


def test_the_vectors_are_what_the_script_writes(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(TOOLS / "audit_vectors.py"), str(tmp_path / "v")],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    written = sorted(p.relative_to(tmp_path / "v") for p in (tmp_path / "v").rglob("*"))
    published = sorted(p.relative_to(VECTORS) for p in VECTORS.rglob("*") if p.name != "README.md")
    assert written == published
    for name in written:
        if (tmp_path / "v" / name).is_file():
            assert (tmp_path / "v" / name).read_bytes() == (VECTORS / name).read_bytes(), name


def test_the_tree_vectors_hold_under_the_standalone_algorithms() -> None:
    hashes = [base64.b64decode(h) for h in TREE["leaf_hashes"]]
    for leaf, hashed in zip(TREE["leaves"], hashes, strict=True):
        assert EXPORT_TOOL.leaf_hash(leaf.encode("ascii")) == hashed
    tree = EXPORT_TOOL.Tree()
    assert base64.b64encode(tree.root()).decode() == TREE["roots"]["0"]
    for size, hashed in enumerate(hashes, 1):
        tree.append(hashed)
        assert base64.b64encode(tree.root()).decode() == TREE["roots"][str(size)]
    for case in vectors("inclusion.json"):
        path = [base64.b64decode(h) for h in case["audit_path"]]
        leaf, root = base64.b64decode(case["leaf_hash"]), base64.b64decode(case["root"])
        args = (case["leaf_index"], case["tree_size"])
        assert PROOF_TOOL.verify_inclusion(leaf, *args, path, root)
        assert not PROOF_TOOL.verify_inclusion(leaf, *args, path, bytes(32))
    for case in vectors("consistency.json"):
        path = [base64.b64decode(h) for h in case["consistency_path"]]
        first, second = base64.b64decode(case["first_root"]), base64.b64decode(case["second_root"])
        sizes = (case["first_size"], case["second_size"])
        assert PROOF_TOOL.verify_consistency(*sizes, first, second, path)
        if case["first_size"] == case["second_size"]:
            assert path == []  # equal sizes: the path is empty
        assert not PROOF_TOOL.verify_consistency(*sizes, bytes(32), second, path)


def test_there_are_at_least_forty_malformed_cases() -> None:
    bad = [c for c in CHECKPOINTS + PROOFS + EXPORTS if c["expected"]["exit"] != 0]
    assert len(bad) >= 40
    assert len({c["name"] for c in CHECKPOINTS}) == len(CHECKPOINTS)


def inclusion_proof(note: str, size: int) -> dict[str, Any]:
    """The inclusion proof of leaf 1 in the tree of ``size`` with ``note`` as its checkpoint."""
    from mma_core.audit.merkle import inclusion_proof as path_of

    hashes = [base64.b64decode(h) for h in TREE["leaf_hashes"]]
    return {
        "format": "mma-inclusion-proof/v1",
        "tree_size": size,
        "leaf_index": 0,
        "leaf_hash": TREE["leaf_hashes"][0],
        "audit_path": [base64.b64encode(h).decode() for h in path_of(hashes[:size], 0)],
        "checkpoint": note,
        "leaf": TREE["leaves"][0],
        "event": TREE["events"][0],
    }


@pytest.mark.parametrize("case", CHECKPOINTS, ids=[c["name"] for c in CHECKPOINTS])
def test_every_checkpoint_vector_gets_its_verdict_on_every_verifier(
    case: dict[str, Any], store: str, tmp_path: Path
) -> None:
    expected = case["expected"]
    note = note_file(case, tmp_path)
    if "store" in case["applies_to"]:
        done = CliRunner().invoke(
            cli,
            [
                "--store",
                store,
                "audit",
                "verify",
                "--log-only",
                "--checkpoint",
                str(note),
                *flags(case),
            ],
        )
        assert done.exception is None or isinstance(done.exception, SystemExit), done.output
        assert done.exit_code == expected["exit"], done.output
        if expected["kind"] is not None:
            first = next(line for line in done.output.splitlines() if line.strip())
            assert first.startswith(f"FAILED: {expected['kind']}: "), done.output
    if "export" in case["applies_to"]:
        argv = [str(VECTORS / "export"), "--json", "--checkpoint", str(note), *flags(case)]
        code, out, err = run_tool(EXPORT_TOOL, argv)
        assert code == expected["exit"], out + err
        if expected["kind"] is not None:
            assert json.loads(out)["kind"] == expected["kind"]
    if "proof" in case["applies_to"]:
        text = note.read_bytes().decode("utf-8", "surrogateescape")
        proof = inclusion_proof(text, case.get("tree_size", 40))
        path = tmp_path / "proof.json"
        path.write_text(json.dumps(proof, ensure_ascii=True), encoding="utf-8")
        code, out, err = run_tool(PROOF_TOOL, [str(path), *flags(case)])
        assert code == expected["exit"], out + err


@pytest.mark.parametrize("case", PROOFS, ids=[c["name"] for c in PROOFS])
def test_every_proof_vector_gets_its_verdict(case: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "proof.json"
    if "nested" in case:
        path.write_text("[" * case["nested"] + "]" * case["nested"])
    elif "raw" in case:
        path.write_text(case["raw"])
    else:
        path.write_text(json.dumps(case["proof"]), encoding="utf-8")
    code, out, err = run_tool(PROOF_TOOL, [str(path), *flags(case)])
    assert code == case["expected"]["exit"], out + err
    if code == 2:
        assert len(err.strip().splitlines()) == 1, err


def apply_changes(directory: Path, changes: list[dict[str, Any]]) -> None:
    for change in changes:
        target = directory / change["file"]
        if "content" in change:
            target.write_text(change["content"], encoding="utf-8")
        elif "nested" in change:
            target.write_text("[" * change["nested"] + "]" * change["nested"])
        else:
            lines = target.read_text(encoding="utf-8").splitlines()
            replaced = change.get("lines", {})
            kept = []
            for n, line in enumerate(lines, 1):
                if str(n) in replaced:
                    if replaced[str(n)] is not None:
                        kept.append(replaced[str(n)])
                else:
                    kept.append(line)
            kept += change.get("append", [])
            target.write_text("".join(line + "\n" for line in kept), encoding="utf-8")


@pytest.mark.parametrize("case", EXPORTS, ids=[c["name"] for c in EXPORTS])
def test_every_export_vector_gets_its_verdict(case: dict[str, Any], tmp_path: Path) -> None:
    directory = tmp_path / "export"
    shutil.copytree(VECTORS / "export", directory)
    apply_changes(directory, case["changes"])
    keys = vectors("keys.json")
    argv = [str(directory), "--json", "--public-key", keys["operator"]["public_key"]]
    code, out, err = run_tool(EXPORT_TOOL, argv)
    expected = case["expected"]
    assert code == expected["exit"], out + err
    if code == 1:
        report = json.loads(out)
        assert (report["kind"], report["position"]) == (expected["kind"], expected["position"])
    if code == 2:
        assert err.startswith("error: the export is malformed:"), err
        assert len(err.strip().splitlines()) == 1, err
