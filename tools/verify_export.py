#!/usr/bin/env python3
"""Verify an mma_core audit export without mma_core.

    python tools/verify_export.py EXPORT_DIR [--public-key KEY|FILE] [--checkpoint FILE] [--json]
                                  [--cosign KEY_FILE --conclusion FILE]

Follows docs/audit-format.md and nothing else. Uses only the standard library and the
``cryptography`` package (for Ed25519). Reads the export line by line: memory stays small
whatever the export's size. Hashes each leaf line's bytes exactly as exported.

Exit status 0 only when every check holds; otherwise prints the first bad position and what is
wrong and exits 1; 2 for bad usage or a malformed export (a line that is not the canonical JSON
of its record, a manifest that does not match the files).

With --cosign, and only when every check holds, the export's checkpoint gets the auditor's
cosignature (C2SP tlog-cosignature, made with the auditor's own Ed25519 key, a
``PRIVATE+KEY+...`` file) and is written to --conclusion: the note then carries the operator's
signature and the auditor's cosignature over the same origin, size and root, and
``mma audit verify --checkpoint FILE --witness-key KEY`` names the auditor as a witness.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import sys
import time
from itertools import zip_longest
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

LEAF_FIELDS = [
    "aggregate_id",
    "format",
    "prev",
    "recorded_at",
    "seq",
    "state_sha256",
    "topic",
    "version",
]
EVENT_FIELDS = ["aggregate_id", "position", "state", "topic", "version"]
MANIFEST_FIELDS = ["events", "format", "leaf_counter", "leaves", "root_sha256_hex"]
DASH = "\u2014"
SIZE = re.compile("0|[1-9][0-9]{0,18}")
MAX_SIGNATURES = 100
SIGNATURE = "signature invalid"


class Malformed(Exception):
    """The export does not follow the format."""


class Failed(Exception):
    def __init__(self, kind: str, position: int | None, detail: str) -> None:
        super().__init__(detail)
        self.kind, self.position, self.detail = kind, position, detail

    def __str__(self) -> str:
        where = "" if self.position is None else f"position {self.position}: "
        return f"{where}{self.kind}: {self.detail}"


# -- hashing (RFC 6962) --------------------------------------------------------------------


def canonical(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class Tree:
    """Merkle tree hash of the leaves appended so far (RFC 6962), in O(log n) memory."""

    def __init__(self) -> None:
        self.size = 0
        self.stack: list[tuple[int, bytes]] = []

    def append(self, hashed: bytes) -> None:
        self.size += 1
        height, value = 0, hashed
        while self.stack and self.stack[-1][0] == height:
            value = node_hash(self.stack.pop()[1], value)
            height += 1
        self.stack.append((height, value))

    def root(self) -> bytes:
        if not self.stack:
            return hashlib.sha256(b"").digest()
        value = self.stack[-1][1]
        for _, left in reversed(self.stack[:-1]):
            value = node_hash(left, value)
        return value


# -- keys and checkpoints (C2SP signed notes, Ed25519) ---------------------------------------


def key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n\x01" + public).digest()[:4]


def b64(text: str, what: str) -> bytes:
    """Standard base64 in its one canonical spelling."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise Malformed(f"{what} is not base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise Malformed(f"{what} is not canonical base64")
    return raw


def valid_name(name: str) -> bool:
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def parse_public_key(text: str) -> tuple[str, bytes, bytes]:
    parts = text.strip().split("+", 2)  # the name has no '+'; base64 may
    if len(parts) != 3 or not valid_name(parts[0]):
        raise Malformed("a public key is <name>+<8 hex id>+<base64(0x01 || key)>")
    name, hex_id, data = parts[0], parts[1], b64(parts[2], "the public key")
    if len(data) != 33 or data[0] != 1:
        raise Malformed("the public key is not an Ed25519 key")
    if key_id(name, data[1:]).hex() != hex_id.lower():
        raise Malformed("the public key's id does not match the key")
    return name, key_id(name, data[1:]), data[1:]


def split_note(note: str) -> tuple[str, list[tuple[str, bytes, bytes]]]:
    """The note's text and signatures, strictly (docs/audit-format.md section 4)."""
    if any(c < " " and c != "\n" for c in note) or "\x7f" in note:
        raise Malformed("a note holds no control characters other than newlines")
    if not note.endswith("\n"):
        raise Malformed("a note ends with a newline")
    text, sep, lines = note.partition("\n\n")
    if not sep:
        raise Malformed("not a signed note: no blank line before the signatures")
    if not lines:
        raise Malformed("the note is not signed")
    signatures: list[tuple[str, bytes, bytes]] = []
    for line in lines[:-1].split("\n"):
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != DASH or not valid_name(parts[1]):
            raise Malformed(f"not a signature line: {line[:80]!r}")
        raw = b64(parts[2], "a signature")
        if len(raw) < 5:
            raise Malformed("a signature is too short")
        if any(parts[1] == n and raw[:4] == k for n, k, _ in signatures):
            raise Malformed(f"two signatures by the same key ({parts[1]})")
        signatures.append((parts[1], raw[:4], raw[4:]))
    if len(signatures) > MAX_SIGNATURES:
        raise Malformed(f"more than {MAX_SIGNATURES} signatures")
    return text + "\n", signatures


def parse_checkpoint(note: str) -> tuple[str, int, bytes, str, list[tuple[str, bytes, bytes]]]:
    text, signatures = split_note(note)
    lines = text.split("\n")[:-1]
    if len(lines) != 3:
        raise Malformed(f"a checkpoint's body is exactly three lines, not {len(lines)}")
    origin, size_text, root_text = lines
    if not origin:
        raise Malformed("the origin line is empty")
    if not SIZE.fullmatch(size_text):
        raise Malformed(f"the size line {size_text[:40]!r} is not a decimal number")
    root = b64(root_text, "the root line")
    if len(root) != 32:
        raise Malformed(f"the root is {len(root)} bytes, not 32")
    return origin, int(size_text), root, text, signatures


def read_checkpoint(path: Path, key: tuple[str, bytes, bytes], label: str) -> tuple[int, bytes]:
    """The size and root of a checkpoint signed by ``key``; any fault: signature invalid."""
    try:
        note = path.read_bytes().decode("utf-8")
        _, size, root, text, signatures = parse_checkpoint(note)
    except UnicodeDecodeError:
        raise Failed(SIGNATURE, None, f"{label}: not UTF-8") from None
    except Malformed as error:
        raise Failed(SIGNATURE, None, f"{label}: {error}") from None
    name, kid, public = key
    for signer, signer_id, signature in signatures:
        if signer == name and signer_id == kid:
            try:
                Ed25519PublicKey.from_public_bytes(public).verify(signature, text.encode())
            except InvalidSignature:
                raise Failed(
                    SIGNATURE, None, f"{label}: the signature does not match the checkpoint"
                ) from None
            return size, root
    raise Failed(SIGNATURE, None, f"{label}: not signed by {name}")


def cosign(note: str, key_text: str, timestamp: int) -> str:
    """Add the auditor's cosignature (C2SP tlog-cosignature, docs/audit-format.md section 8) to
    a checkpoint: key id over 0x04, the time and an Ed25519 signature over ``cosignature/v1``,
    the time and the checkpoint's body. The operator's signature line stays as it is."""
    parts = key_text.strip().split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"] or not valid_name(parts[2]):
        raise Malformed("the cosigning key is not a PRIVATE+KEY+<name>+<id>+<key> file")
    name, data = parts[2], b64(parts[4], "the cosigning key")
    if len(data) != 33 or data[0] != 1:
        raise Malformed("the cosigning key is not an Ed25519 key")
    private = Ed25519PrivateKey.from_private_bytes(data[1:])
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    witness_id = hashlib.sha256(name.encode() + b"\n\x04" + public).digest()[:4]
    body, _, signatures = note.partition("\n\n")
    for line in signatures.splitlines():
        fields = line.split(" ")
        if len(fields) == 3 and fields[1] == name:
            try:
                raw = base64.b64decode(fields[2], validate=True)
            except binascii.Error:
                continue
            if raw[:4] == witness_id:
                raise Malformed(f"{name} has cosigned this checkpoint already")
    message = f"cosignature/v1\ntime {timestamp}\n{body}\n".encode()
    raw = witness_id + timestamp.to_bytes(8, "big") + private.sign(message)
    return f"{note.rstrip(chr(10))}\n{DASH} {name} {base64.b64encode(raw).decode()}\n"


# -- the export's lines ----------------------------------------------------------------------


def record(line: bytes, fields: list[str], where: str) -> dict[str, Any]:
    """The JSON object of one line, which must be exactly its canonical bytes and a newline."""
    if not line.endswith(b"\n"):
        raise Malformed(f"{where}: the line does not end with a newline")
    data = line[:-1]
    try:
        obj = json.loads(data)
    except ValueError:
        raise Malformed(f"{where}: not JSON") from None
    if not isinstance(obj, dict) or sorted(obj) != fields:
        raise Malformed(f"{where}: the fields are not {fields}")
    if canonical(obj) != data:
        raise Malformed(f"{where}: not the canonical bytes of its object")
    return obj


def integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def leaf_of(line: bytes, n: int) -> dict[str, Any]:
    leaf = record(line, LEAF_FIELDS, f"leaves.jsonl line {n}")
    if leaf["format"] != "mma-leaf/v1":
        raise Malformed(f"leaves.jsonl line {n}: format {leaf['format']!r}")
    if not (integer(leaf["seq"]) and integer(leaf["version"])):
        raise Malformed(f"leaves.jsonl line {n}: seq and version are integers")
    strings = ("aggregate_id", "recorded_at", "state_sha256", "topic")
    if not all(isinstance(leaf[f], str) for f in strings) or not (
        leaf["prev"] is None or isinstance(leaf["prev"], str)
    ):
        raise Malformed(f"leaves.jsonl line {n}: a field has the wrong type")
    leaf["hash"] = leaf_hash(line[:-1])  # the exported bytes, never a re-serialisation
    return leaf


def event_of(line: bytes, n: int) -> dict[str, Any]:
    event = record(line, EVENT_FIELDS, f"events.jsonl line {n}")
    if not (integer(event["position"]) and integer(event["version"])):
        raise Malformed(f"events.jsonl line {n}: position and version are integers")
    if not (isinstance(event["aggregate_id"], str) and isinstance(event["topic"], str)):
        raise Malformed(f"events.jsonl line {n}: aggregate_id and topic are strings")
    if not isinstance(event["state"], str):
        raise Malformed(f"events.jsonl line {n}: state is base64 text")
    event["state"] = b64(event["state"], f"events.jsonl line {n}: the state")
    return event


def name(item: dict[str, Any]) -> str:
    return f"aggregate {item['aggregate_id']} version {item['version']}"


def key(item: dict[str, Any]) -> tuple[str, int]:
    return item["aggregate_id"], item["version"]


def read_manifest(path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(path.read_bytes())
    except ValueError:
        raise Malformed("manifest.json is not JSON") from None
    if not isinstance(manifest, dict) or sorted(manifest) != MANIFEST_FIELDS:
        raise Malformed(f"manifest.json has the fields {MANIFEST_FIELDS}")
    if manifest["format"] != "mma-export/v1":
        raise Malformed(f"manifest.json: format {manifest['format']!r}, not 'mma-export/v1'")
    for field in ("events", "leaves", "leaf_counter"):
        if not integer(manifest[field]) or manifest[field] < 0:
            raise Malformed(f"manifest.json: {field} is not a whole number")
    root = manifest["root_sha256_hex"]
    if not isinstance(root, str) or not re.fullmatch("[0-9a-f]{64}", root):
        raise Malformed("manifest.json: root_sha256_hex is not 64 lower-case hex digits")
    return manifest


class Export:
    """The export's two line files, walked side by side; looked up by a fresh scan only on the
    rare steps that need it (a failure, or an aggregate's leaf not remembered)."""

    def __init__(self, directory: Path) -> None:
        self.leaves = directory / "leaves.jsonl"
        self.events = directory / "events.jsonl"

    def chained(self) -> dict[int, int]:
        """A hint, read cheaply: for each aggregate with more than one leaf (by hash of its id),
        its highest version. The walk remembers an aggregate's last leaf only while a later
        version is to come, so memory follows the aggregates in flight, not the history."""
        highest: dict[int, int] = {}
        start = len(b'{"aggregate_id":"')
        with self.leaves.open("rb") as lines:
            for line in lines:
                try:
                    version = int(line[line.rindex(b'"version":') + 10 : line.rindex(b"}")])
                except ValueError:
                    continue
                if version > 1:
                    slot = hash(line[start : start + 36])
                    if highest.get(slot, 0) < version:
                        highest[slot] = version
        return highest

    def find_leaf(self, wanted: tuple[str, int]) -> dict[str, Any] | None:
        with self.leaves.open("rb") as lines:
            for n, line in enumerate(lines, 1):
                leaf = leaf_of(line, n)
                if key(leaf) == wanted:
                    return leaf
        return None

    def has_event(self, wanted: tuple[str, int]) -> bool:
        with self.events.open("rb") as lines:
            return any(key(event_of(line, n)) == wanted for n, line in enumerate(lines, 1))


def verify(directory: Path, public_key: str | None, extra: list[Path]) -> tuple[int, bytes]:
    if public_key is None:
        public_key = (directory / "public-key").read_text(encoding="ascii")
        print(
            "note: checked against the export's own public key; pass --public-key with the "
            "key you were given to rely on the signatures",
            file=sys.stderr,
        )
    elif Path(public_key).is_file():
        public_key = Path(public_key).read_text(encoding="ascii")
    pub = parse_public_key(public_key)
    manifest = read_manifest(directory / "manifest.json")
    own = read_checkpoint(directory / "checkpoint", pub, "the export's checkpoint")
    kept = [read_checkpoint(p, pub, str(p)) for p in extra]

    export = Export(directory)
    counter = manifest["leaf_counter"]
    chained = export.chained()
    last: dict[str, tuple[int, int, str]] = {}  # aggregate -> (version, seq, hex leaf hash)
    tree = Tree()
    prefix = {0: tree.root()}
    wanted = {size for size, _ in [own, *kept]}
    i = events = 0
    with export.leaves.open("rb") as leaf_lines, export.events.open("rb") as event_lines:
        for leaf_line, event_line in zip_longest(leaf_lines, event_lines):
            i += 1
            leaf = None if leaf_line is None else leaf_of(leaf_line, i)
            event = None if event_line is None else event_of(event_line, i)
            events += event is not None
            if leaf is None:
                assert event is not None
                if i <= counter:
                    raise Failed("missing", i, f"leaf {i}, of {name(event)}, is gone")
                raise Failed(
                    "inserted", i, f"{name(event)} (store position {event['position']}) has no leaf"
                )
            if leaf["seq"] != i:
                raise Failed("missing", i, f"no leaf {i}: the leaf sequence jumps to {leaf['seq']}")
            check_chain(leaf, i, last, export)
            if event is None:
                raise Failed("missing", i, f"the event of {name(leaf)} is gone")
            if key(leaf) != key(event):
                leaf_has_event = export.has_event(key(leaf))
                event_has_leaf = export.find_leaf(key(event)) is not None
                if not leaf_has_event and not event_has_leaf:
                    raise Failed("edited", i, f"the event of {name(leaf)} now says {name(event)}")
                if not leaf_has_event:
                    raise Failed("missing", i, f"the event of {name(leaf)} is gone")
                if not event_has_leaf:
                    raise Failed("inserted", i, f"{name(event)} has no leaf")
                raise Failed("reordered", i, f"the event of {name(leaf)} is not in its place")
            if event["topic"] != leaf["topic"]:
                raise Failed("edited", i, f"the topic of {name(leaf)} was changed")
            if hashlib.sha256(event["state"]).hexdigest() != leaf["state_sha256"]:
                raise Failed("edited", i, f"the state of {name(leaf)} is not the state recorded")
            tree.append(leaf["hash"])
            aggregate = leaf["aggregate_id"]
            if chained.get(hash(aggregate.encode()), 0) > leaf["version"]:
                last[aggregate] = (leaf["version"], i, leaf["hash"].hex())
            else:
                last.pop(aggregate, None)
            if tree.size in wanted:
                prefix[tree.size] = tree.root()

    if counter > tree.size:
        raise Failed(
            "truncated",
            tree.size + 1,
            f"leaves up to {counter} were handed out, the export holds {tree.size}",
        )
    if counter < tree.size:
        raise Failed(
            "edited",
            counter + 1,
            f"the leaf counter says {counter} leaves were handed out, the export holds "
            f"{tree.size}: the counter was set back",
        )
    for size, root in sorted([own, *kept]):
        if size > tree.size:
            raise Failed(
                "truncated",
                tree.size + 1,
                f"a checkpoint covers {size} leaves, the export holds {tree.size}",
            )
        if prefix[size] != root:
            raise Failed(
                "edited", None, f"the first {size} leaves are not the history the checkpoint signed"
            )
    if own[0] < tree.size:
        raise Failed(
            "inserted",
            own[0] + 1,
            f"the export's checkpoint covers {own[0]} leaves, the export holds {tree.size}",
        )
    root = tree.root()
    if (manifest["events"], manifest["leaves"]) != (events, tree.size):
        raise Malformed(
            f"manifest.json says {manifest['events']} events and {manifest['leaves']} leaves, "
            f"the export holds {events} and {tree.size}"
        )
    if manifest["root_sha256_hex"] != root.hex():
        raise Malformed("manifest.json's root is not the root of the leaves")
    return tree.size, root


def check_chain(
    leaf: dict[str, Any], i: int, last: dict[str, tuple[int, int, str]], export: Export
) -> None:
    """The leaf's link to its aggregate's leaf of the version before."""
    version = leaf["version"]
    if version < 1:
        raise Failed("edited", i, f"leaf {i} has no valid version ({name(leaf)})")
    if version == 1:
        if leaf["prev"] is not None:
            raise Failed("edited", i, f"leaf of {name(leaf)} links to a predecessor")
        return
    link = last.get(leaf["aggregate_id"])
    if link is None or link[0] != version - 1:
        found = export.find_leaf((leaf["aggregate_id"], version - 1))
        link = None if found is None else (version - 1, found["seq"], found["hash"].hex())
    if link is None:
        raise Failed("missing", i, f"no leaf before {name(leaf)}")
    _, prev_seq, prev_hash = link
    if prev_seq >= i:
        raise Failed("reordered", i, f"{name(leaf)} comes before its predecessor")
    if leaf["prev"] != prev_hash:
        raise Failed(
            "edited", prev_seq, f"leaf {prev_seq} is not the leaf that leaf {i} was chained to"
        )


def main(argv: list[str]) -> int:
    args, public_key, extra, as_json = [], None, [], False
    cosign_key, conclusion = None, None
    items = iter(argv)
    for arg in items:
        if arg == "--public-key":
            public_key = next(items, None)
        elif arg == "--cosign":
            cosign_key = next(items, None)
        elif arg == "--conclusion":
            conclusion = next(items, None)
        elif arg == "--checkpoint":
            extra.append(Path(next(items, "")))
        elif arg == "--json":
            as_json = True
        elif arg in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            args.append(arg)
    if len(args) != 1 or not Path(args[0]).is_dir() or (cosign_key is None) != (conclusion is None):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        size, root = verify(Path(args[0]), public_key, extra)
    except Failed as failure:
        if as_json:
            print(
                json.dumps(
                    {
                        "ok": False,
                        "kind": failure.kind,
                        "position": failure.position,
                        "detail": failure.detail,
                    }
                )
            )
        else:
            print(f"FAILED: {failure}")
        return 1
    except (Malformed, OSError, ValueError) as error:
        print(f"error: the export is malformed: {error}", file=sys.stderr)
        return 2
    if cosign_key is not None and conclusion is not None:
        try:
            note = (Path(args[0]) / "checkpoint").read_bytes().decode("utf-8")
            key_text = Path(cosign_key).read_text(encoding="ascii")
            signed = cosign(note, key_text, int(time.time()))
            Path(conclusion).write_text(signed, encoding="utf-8")
        except (Malformed, OSError, ValueError) as error:
            print(f"error: cannot cosign: {error}", file=sys.stderr)
            return 2
    if as_json:
        print(json.dumps({"ok": True, "size": size, "root": base64.b64encode(root).decode()}))
    else:
        print(
            f"OK: {size} events verified, tree size {size}, root {base64.b64encode(root).decode()}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
