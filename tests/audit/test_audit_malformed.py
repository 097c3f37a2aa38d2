"""One table of malformed (and odd but valid) checkpoints, run through ``mma audit verify`` and
``tools/verify_export.py``: both must give the same verdict. Then the counter and the export's
own checkpoint, which only one side of the table can hold."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from audit_helpers import (
    SOME_OPS,
    STANDALONE,
    build,
    export_url,
    sign_url,
    sql,
    sqlite_url,
    standalone,
)
from audit_helpers import verify_url as verify_store
from click.testing import CliRunner

from mma_core.audit import checkpoint as notes
from mma_core.audit.merkle import leaf_hash, root
from mma_core.cli.audit import audit

KEY = notes.generate_key("operator")
OTHER = notes.generate_key("stranger")
DASH = "\u2014"
OK = "ok"
BAD = "signature invalid"


def signed(text: str, key: notes.SignerKey = KEY) -> str:
    return notes.sign_note(key, text)


def body_of(note: str) -> tuple[str, str, str]:
    origin, size, root = note.partition("\n\n")[0].split("\n")
    return origin, size, root


def flip_signature_byte(note: str) -> str:
    text, _, line = note.partition("\n\n")
    dash, name, data = line.rstrip("\n").split(" ")
    raw = bytearray(base64.b64decode(data))
    raw[-1] ^= 1
    return f"{text}\n\n{dash} {name} {base64.b64encode(bytes(raw)).decode()}\n"


def root_of(length: int) -> Callable[[str], str]:
    def make(note: str) -> str:
        origin, size, _ = body_of(note)
        return signed(f"{origin}\n{size}\n{base64.b64encode(bytes(length)).decode()}\n")

    return make


def non_canonical_root(note: str) -> str:
    origin, size, root = body_of(note)
    # The last base64 digit of a 32-byte value carries two unused bits: set one.
    digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = digits[digits.index(root[-2]) | 1]
    assert base64.b64decode(root[:-2] + last + "=") == base64.b64decode(root)
    return signed(f"{origin}\n{size}\n{root[:-2]}{last}=\n")


def resized(size_text: Callable[[str], str]) -> Callable[[str], str]:
    def make(note: str) -> str:
        origin, size, root = body_of(note)
        return signed(f"{origin}\n{size_text(size)}\n{root}\n")

    return make


CASES: dict[str, Callable[[str], str]] = {
    "valid": lambda note: note,
    "junk line after the signature": lambda note: note + "junk\n",
    "junk after the signature, no newline": lambda note: note + "junk",
    "size with a leading zero": resized(lambda size: "0" + size),
    "size with a plus sign": resized(lambda size: "+" + size),
    "size in Arabic-Indic digits": resized(
        lambda size: "".join(chr(0x0660 + int(d)) for d in size)
    ),
    "size with an underscore": resized(lambda size: size[0] + "_" + size[1:]),
    "31-byte root": root_of(31),
    "33-byte root": root_of(33),
    "root in non-canonical base64": non_canonical_root,
    "extension line in the body": lambda note: signed(note.partition("\n\n")[0] + "\nextension\n"),
    "empty origin": lambda note: signed("\n" + "\n".join(body_of(note)[1:]) + "\n"),
    "signed by an unknown key only": lambda note: signed(note.partition("\n\n")[0] + "\n", OTHER),
    "an unknown key's signature beside ours": lambda note: (
        note + signed(note.partition("\n\n")[0] + "\n", OTHER).partition("\n\n")[2]
    ),
    "the trusted key's signature twice": lambda note: note + note.partition("\n\n")[2],
    "no blank line before the signature": lambda note: note.replace("\n\n", "\n"),
    "two blank lines before the signature": lambda note: note.replace("\n\n", "\n\n\n"),
    "blank line after the signature": lambda note: note + "\n",
    "blank line between two signatures": lambda note: (
        note + "\n" + signed(note.partition("\n\n")[0] + "\n", OTHER).partition("\n\n")[2]
    ),
    "no newline at the end": lambda note: note.rstrip("\n"),
    "CRLF line ends": lambda note: note.replace("\n", "\r\n"),
    "flipped signature byte": flip_signature_byte,
    "signature line with a tab": lambda note: note.replace(f"{DASH} ", f"{DASH}\t", 1),
    "signature line without the dash": lambda note: note.replace(f"{DASH} ", "- ", 1),
    "key name with a plus": lambda note: note.replace(f" {KEY.name} ", f" {KEY.name}+x ", 1),
    "signature too short": lambda note: (
        note.partition("\n\n")[0]
        + f"\n\n{DASH} {KEY.name} {base64.b64encode(KEY.key_id).decode()}\n"
    ),
    "not signed at all": lambda note: note.partition("\n\n")[0] + "\n\n",
    "a NUL in the origin": lambda note: signed("a\x00" + note.partition("\n\n")[0] + "\n"),
}
EXPECTED = dict.fromkeys(CASES, BAD) | {
    "valid": OK,
    "an unknown key's signature beside ours": OK,
}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, str]:
    tmp = tmp_path_factory.mktemp("malformed")
    path = tmp / "p.sqlite"
    build(path, SOME_OPS)
    url = sqlite_url(path)
    export_url(url, tmp / "export", KEY)
    return url, tmp / "export", sign_url(url, KEY)


def cli_verdict(url: str, checkpoint: Path) -> str:
    done = CliRunner().invoke(
        audit,
        ["verify", "--checkpoint", str(checkpoint), "--public-key", str(KEY.verifier())],
        env={"MMA_STORE": url},
    )
    if done.exit_code == 0:
        assert done.stdout.startswith("OK: ")
        return OK
    assert done.exit_code == 1, done.output
    return done.stdout.removeprefix("FAILED: ").split(":")[0]


@pytest.mark.parametrize("case", sorted(CASES))
def test_both_verifiers_give_the_same_verdict(
    case: str, store: tuple[str, Path, str], tmp_path: Path
) -> None:
    url, export_dir, note = store
    text = CASES[case](note)
    assert (text == note) == (case == "valid")
    checkpoint = tmp_path / "checkpoint"
    checkpoint.write_bytes(text.encode("utf-8"))

    result = verify_store(url, [text], [KEY.verifier()])
    library = OK if result.ok else result.problem.kind  # type: ignore[union-attr]
    assert library == EXPECTED[case], result.problem
    assert cli_verdict(url, checkpoint) == EXPECTED[case]
    code, report = standalone(
        export_dir, "--public-key", str(KEY.verifier()), "--checkpoint", str(checkpoint)
    )
    assert (OK if code == 0 else report["kind"]) == EXPECTED[case], report
    if code:
        assert report["position"] is None


def test_a_checkpoint_that_is_not_utf8_is_refused_by_both(
    store: tuple[str, Path, str], tmp_path: Path
) -> None:
    url, export_dir, note = store
    checkpoint = tmp_path / "checkpoint"
    checkpoint.write_bytes(note.encode("utf-8").replace(b"\n\n", b"\n\xff\n\n"))
    assert cli_verdict(url, checkpoint) == BAD
    code, report = standalone(
        export_dir, "--public-key", str(KEY.verifier()), "--checkpoint", str(checkpoint)
    )
    assert (code, report["kind"]) == (1, BAD)


def test_a_leaf_counter_below_the_leaves_is_an_edit_for_both(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite"
    n = build(path, SOME_OPS)
    sql(path, ("UPDATE sqlite_sequence SET seq = ? WHERE name = 'mma_leaves'", (n - 3,)))
    result = verify_store(sqlite_url(path))
    assert result.problem is not None
    assert (result.problem.kind, result.problem.position) == ("edited", n - 2)
    export_url(sqlite_url(path), tmp_path / "export", KEY)
    code, report = standalone(tmp_path / "export", "--public-key", str(KEY.verifier()))
    assert (code, report["kind"], report["position"]) == (1, "edited", n - 2)


def test_an_export_checkpoint_smaller_than_its_tree_is_an_insertion(
    store: tuple[str, Path, str], tmp_path: Path
) -> None:
    _, export_dir, note = store
    checkpoint = notes.parse(note)
    smaller = tmp_path / "export"
    smaller.mkdir()
    for part in export_dir.iterdir():
        (smaller / part.name).write_bytes(part.read_bytes())
    # A valid checkpoint of an earlier size, in the export's place.
    leaves = (export_dir / "leaves.jsonl").read_bytes().splitlines()
    first = root([leaf_hash(line) for line in leaves[:-2]])
    (smaller / "checkpoint").write_text(
        notes.sign(KEY, checkpoint.origin, len(leaves) - 2, first), encoding="utf-8"
    )
    code, report = standalone(smaller, "--public-key", str(KEY.verifier()))
    assert (code, report["kind"], report["position"]) == (1, "inserted", len(leaves) - 1)


@pytest.mark.parametrize(
    "edit",
    [
        "leaf line with a space",
        "event line with a space",
        "manifest events count",
        "manifest root",
        "manifest format",
    ],
)
def test_a_non_canonical_line_or_a_wrong_manifest_makes_the_export_malformed(
    edit: str, store: tuple[str, Path, str], tmp_path: Path
) -> None:
    _, export_dir, _ = store
    copy = tmp_path / "export"
    copy.mkdir()
    for part in export_dir.iterdir():
        (copy / part.name).write_bytes(part.read_bytes())
    manifest = json.loads((copy / "manifest.json").read_text())
    if edit.startswith("leaf") or edit.startswith("event"):
        name = "leaves.jsonl" if edit.startswith("leaf") else "events.jsonl"
        lines = (copy / name).read_bytes().splitlines(keepends=True)
        lines[2] = lines[2].replace(b'":', b'": ', 1)  # same JSON value, other bytes
        (copy / name).write_bytes(b"".join(lines))
    elif edit == "manifest events count":
        manifest["events"] += 1
    elif edit == "manifest root":
        manifest["root_sha256_hex"] = "0" * 64
    else:
        manifest["format"] = "mma-export/v2"
    if edit.startswith("manifest"):
        (copy / "manifest.json").write_text(json.dumps(manifest))
    done = subprocess.run(
        [sys.executable, str(STANDALONE), str(copy), "--public-key", str(KEY.verifier())],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "malformed" in done.stderr
