#!/usr/bin/env python3
"""Verify an mma_core audit export without mma_core.

    python tools/verify_export.py EXPORT_DIR [--public-key KEY|FILE] [--checkpoint FILE] [--json]
                                  [--cosign KEY_FILE --conclusion FILE]

With --cosign, and only when every check holds, the export's checkpoint is countersigned with
the auditor's own Ed25519 key (a ``PRIVATE+KEY+...`` file) and written to --conclusion: the signed
note then carries both the operator's and the auditor's signature over the same origin, size and
root. Follows docs/audit-format.md and nothing else. Uses only the standard library and the
``cryptography`` package (for Ed25519). Exit status 0 only when every check holds; otherwise
prints the first bad position and what is wrong, and exits 1 (2 for bad usage or a malformed
export).
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from pathlib import Path

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
DASH = "\u2014"


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


def canonical(obj: dict) -> bytes:
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


def parse_public_key(text: str) -> tuple[str, bytes, bytes]:
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise Malformed("a public key is <name>+<8 hex id>+<base64(0x01 || key)>")
    name, hex_id, data = parts[0], parts[1], base64.b64decode(parts[2], validate=True)
    if len(data) != 33 or data[0] != 1:
        raise Malformed("the public key is not an Ed25519 key")
    if key_id(name, data[1:]).hex() != hex_id.lower():
        raise Malformed("the public key's id does not match the key")
    return name, key_id(name, data[1:]), data[1:]


def read_checkpoint(text: str, key: tuple[str, bytes, bytes], label: str) -> tuple[int, bytes]:
    body, sep, signatures = text.partition("\n\n")
    if not sep:
        raise Malformed(f"{label}: not a signed note")
    body += "\n"
    lines = body.split("\n")
    if len(lines) < 4 or not lines[1].isdigit():
        raise Malformed(f"{label}: expected origin, size and root lines")
    size, root = int(lines[1]), base64.b64decode(lines[2], validate=True)
    name, kid, public = key
    for line in signatures.split("\n"):
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != DASH:
            continue
        raw = base64.b64decode(parts[2], validate=True)
        if parts[1] == name and raw[:4] == kid:
            try:
                Ed25519PublicKey.from_public_bytes(public).verify(raw[4:], body.encode())
            except InvalidSignature:
                raise Failed(
                    "signature invalid",
                    None,
                    f"{label}: the signature does not match the checkpoint",
                ) from None
            return size, root
    raise Failed("signature invalid", None, f"{label}: not signed by {name}")


def cosign(note: str, key_text: str) -> str:
    """Add the auditor's signature line (the signed-note format) to a checkpoint."""
    parts = key_text.strip().split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
        raise Malformed("the cosigning key is not a PRIVATE+KEY+<name>+<id>+<key> file")
    name, data = parts[2], base64.b64decode(parts[4], validate=True)
    if len(data) != 33 or data[0] != 1:
        raise Malformed("the cosigning key is not an Ed25519 key")
    private = Ed25519PrivateKey.from_private_bytes(data[1:])
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    body = note.partition("\n\n")[0] + "\n"
    signature = private.sign(body.encode())
    line = base64.b64encode(key_id(name, public) + signature).decode()
    return f"{note.rstrip(chr(10))}\n{DASH} {name} {line}\n"


# -- the export ------------------------------------------------------------------------------


def read_lines(path: Path, fields: list[str]) -> list[dict]:
    records = []
    with path.open("rb") as lines:
        for n, line in enumerate(lines, 1):
            record = json.loads(line)
            if sorted(record) != fields:
                raise Malformed(f"{path.name} line {n}: fields {sorted(record)}")
            records.append(record)
    return records


def name(item: dict) -> str:
    return f"aggregate {item['aggregate_id']} version {item['version']}"


def key(item: dict) -> tuple[str, int]:
    return item["aggregate_id"], item["version"]


def verify(directory: Path, public_key: str | None, extra: list[Path]) -> tuple[int, bytes]:
    if public_key is None:
        public_key = (directory / "public-key").read_text()
        print(
            "note: checked against the export's own public key; pass --public-key with the "
            "key you were given to rely on the signatures",
            file=sys.stderr,
        )
    elif Path(public_key).is_file():
        public_key = Path(public_key).read_text()
    pub = parse_public_key(public_key)
    own = read_checkpoint(
        (directory / "checkpoint").read_text(encoding="utf-8"), pub, "the export's checkpoint"
    )
    kept = [read_checkpoint(p.read_text(encoding="utf-8"), pub, str(p)) for p in extra]

    events = read_lines(directory / "events.jsonl", EVENT_FIELDS)
    leaves = read_lines(directory / "leaves.jsonl", LEAF_FIELDS)
    for leaf in leaves:
        if leaf["format"] != "mma-leaf/v1":
            raise Malformed(f"leaf {leaf['seq']}: format {leaf['format']!r}")
    by_key = {key(leaf): leaf for leaf in leaves}
    event_keys = {key(event) for event in events}
    hashes: dict[tuple[str, int], bytes] = {k: leaf_hash(canonical(v)) for k, v in by_key.items()}

    counter = int(json.loads((directory / "manifest.json").read_text())["leaf_counter"])
    tree = Tree()
    prefix = {0: tree.root()}
    wanted = {size for size, _ in [own, *kept]}
    for i in range(1, max(len(leaves), len(events)) + 1):
        leaf = leaves[i - 1] if i <= len(leaves) else None
        event = events[i - 1] if i <= len(events) else None
        if leaf is None and i <= counter:
            raise Failed("missing", i, f"leaf {i}, of {name(event)}, is gone")
        if leaf is None:
            raise Failed(
                "inserted", i, f"{name(event)} (store position {event['position']}) has no leaf"
            )
        if leaf["seq"] != i:
            raise Failed("missing", i, f"no leaf {i}: the leaf sequence jumps to {leaf['seq']}")
        # the chain to the aggregate's previous leaf
        if not isinstance(leaf["version"], int) or leaf["version"] < 1:
            raise Failed("edited", i, f"leaf {i} has no valid version ({name(leaf)})")
        if leaf["version"] == 1:
            if leaf["prev"] is not None:
                raise Failed("edited", i, f"leaf of {name(leaf)} links to a predecessor")
        else:
            prev = by_key.get((leaf["aggregate_id"], leaf["version"] - 1))
            if prev is None:
                raise Failed("missing", i, f"no leaf before {name(leaf)}")
            if prev["seq"] >= i:
                raise Failed("reordered", i, f"{name(leaf)} comes before its predecessor")
            if leaf["prev"] != hashes[key(prev)].hex():
                raise Failed(
                    "edited",
                    prev["seq"],
                    f"leaf {prev['seq']} is not the leaf that leaf {i} was chained to",
                )
        # the leaf against the event row in the same place
        if event is None:
            raise Failed("missing", i, f"the event of {name(leaf)} is gone")
        if key(leaf) != key(event):
            leaf_has_event = key(leaf) in event_keys
            event_has_leaf = key(event) in by_key
            if not leaf_has_event and not event_has_leaf:
                raise Failed("edited", i, f"the event of {name(leaf)} now says {name(event)}")
            if not leaf_has_event:
                raise Failed("missing", i, f"the event of {name(leaf)} is gone")
            if not event_has_leaf:
                raise Failed("inserted", i, f"{name(event)} has no leaf")
            raise Failed("reordered", i, f"the event of {name(leaf)} is not in its place")
        if event["topic"] != leaf["topic"]:
            raise Failed("edited", i, f"the topic of {name(leaf)} was changed")
        state = base64.b64decode(event["state"], validate=True)
        if hashlib.sha256(state).hexdigest() != leaf["state_sha256"]:
            raise Failed("edited", i, f"the state of {name(leaf)} is not the state recorded")
        tree.append(leaf_hash(canonical(leaf)))
        if tree.size in wanted:
            prefix[tree.size] = tree.root()

    if counter > tree.size:
        raise Failed(
            "truncated",
            tree.size + 1,
            f"leaves up to {counter} were handed out, the export holds {tree.size}",
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
    if own[0] != tree.size:
        raise Failed("edited", None, "the export's checkpoint does not cover all its leaves")
    return tree.size, tree.root()


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
    except (Malformed, OSError, ValueError, KeyError, TypeError) as error:
        print(f"error: the export is malformed: {error}", file=sys.stderr)
        return 2
    if cosign_key is not None and conclusion is not None:
        try:
            note = (Path(args[0]) / "checkpoint").read_text(encoding="utf-8")
            signed = cosign(note, Path(cosign_key).read_text(encoding="ascii"))
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
