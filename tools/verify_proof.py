#!/usr/bin/env python3
"""Check an mma_core inclusion or consistency proof without mma_core.

    python tools/verify_proof.py PROOF.json --public-key KEY|FILE [--checkpoint FILE] [--json]

An inclusion proof (``mma audit prove``) shows that one event row is leaf ``leaf_index`` of the
tree a signed checkpoint covers; a consistency proof (``mma audit consistency``) shows that the
tree of a later signed checkpoint begins with the tree of an earlier one (RFC 9162, sections
2.1.3 and 2.1.4). Follows docs/audit-format.md and nothing else; uses only the standard library
and the ``cryptography`` package. --checkpoint names the checkpoint you kept: the proof's
checkpoint (for a consistency proof, its first one) must be exactly that file.

Exit status 0 when the proof holds, 1 when it does not (the reason is printed), 2 for bad usage.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

INCLUSION = "mma-inclusion-proof/v1"
CONSISTENCY = "mma-consistency-proof/v1"
INCLUSION_FIELDS = sorted(
    ["format", "tree_size", "leaf_index", "leaf_hash", "audit_path", "checkpoint", "leaf", "event"]
)
CONSISTENCY_FIELDS = sorted(
    [
        "format",
        "first_size",
        "second_size",
        "consistency_path",
        "first_checkpoint",
        "second_checkpoint",
    ]
)
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
SIZE = re.compile("0|[1-9][0-9]{0,18}")
MAX_SIGNATURES = 100


class Invalid(Exception):
    """The proof does not hold."""


# -- hashing (RFC 6962 / RFC 9162) -----------------------------------------------------------


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(leaf: bytes, index: int, size: int, path: list[bytes], root: bytes) -> bool:
    """RFC 9162 section 2.1.3.2."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, path: list[bytes]
) -> bool:
    """RFC 9162 section 2.1.4.2."""
    if not 0 < first <= second:
        return False
    if first == second:
        return not path and first_root == second_root
    if not path:
        return False
    path = list(path)
    if first & (first - 1) == 0:  # a power of two: the first root starts the path
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root


# -- keys and checkpoints (C2SP signed notes, Ed25519), as in tools/verify_export.py ----------


def b64(text: Any, what: str) -> bytes:
    """Standard base64 in its one canonical spelling."""
    if not isinstance(text, str):
        raise Invalid(f"{what} is not base64 text")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise Invalid(f"{what} is not base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise Invalid(f"{what} is not canonical base64")
    return raw


def hash32(text: Any, what: str) -> bytes:
    raw = b64(text, what)
    if len(raw) != 32:
        raise Invalid(f"{what} is not a 32-byte hash")
    return raw


def valid_name(name: str) -> bool:
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n\x01" + public).digest()[:4]


def parse_public_key(text: str) -> tuple[str, bytes, bytes]:
    parts = text.strip().split("+", 2)
    if len(parts) != 3 or not valid_name(parts[0]):
        raise ValueError("a public key is <name>+<8 hex id>+<base64(0x01 || key)>")
    try:
        data = b64(parts[2], "the public key")
    except Invalid as error:
        raise ValueError(str(error)) from None
    if len(data) != 33 or data[0] != 1 or key_id(parts[0], data[1:]).hex() != parts[1].lower():
        raise ValueError("not an Ed25519 public key with a matching id")
    return parts[0], key_id(parts[0], data[1:]), data[1:]


def checkpoint(note: Any, key: tuple[str, bytes, bytes], label: str) -> tuple[int, bytes]:
    """The size and root of a checkpoint signed by ``key``, parsed strictly."""
    size, root, signed = parse_checkpoint(note, key, label)
    signed()
    return size, root


def parse_checkpoint(
    note: Any, key: tuple[str, bytes, bytes], label: str
) -> tuple[int, bytes, Any]:
    """The size and root, and a function that checks the signature (the costly part, so a
    checker can run it last)."""
    if not isinstance(note, str):
        raise Invalid(f"{label} is not text")
    if any(c < " " and c != "\n" for c in note) or "\x7f" in note or not note.endswith("\n"):
        raise Invalid(f"{label}: control characters, or no newline at the end")
    text, sep, lines = note.partition("\n\n")
    if not sep or not lines:
        raise Invalid(f"{label}: not a signed note")
    text += "\n"
    signatures: list[tuple[str, bytes, bytes]] = []
    for line in lines[:-1].split("\n"):
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != DASH or not valid_name(parts[1]):
            raise Invalid(f"{label}: not a signature line: {line[:80]!r}")
        raw = b64(parts[2], f"{label}: a signature")
        if len(raw) < 5 or any(parts[1] == n and raw[:4] == k for n, k, _ in signatures):
            raise Invalid(f"{label}: a short or repeated signature")
        signatures.append((parts[1], raw[:4], raw[4:]))
    if len(signatures) > MAX_SIGNATURES:
        raise Invalid(f"{label}: more than {MAX_SIGNATURES} signatures")
    body = text.split("\n")[:-1]
    if len(body) != 3 or not body[0] or not SIZE.fullmatch(body[1]):
        raise Invalid(f"{label}: the body is an origin, a decimal size and a root, nothing else")
    root = hash32(body[2], f"{label}: the root")
    name, kid, public = key

    def signed() -> None:
        for signer, signer_id, signature in signatures:
            if (signer, signer_id) == (name, kid):
                try:
                    Ed25519PublicKey.from_public_bytes(public).verify(signature, text.encode())
                except InvalidSignature:
                    raise Invalid(f"{label}: the signature does not hold") from None
                return
        raise Invalid(f"{label}: not signed by {name}")

    return int(body[1]), root, signed


# -- the proofs ------------------------------------------------------------------------------


def canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def path_of(value: Any, what: str) -> list[bytes]:
    if not isinstance(value, list):
        raise Invalid(f"{what} is not a list")
    return [hash32(h, f"{what}[{n}]") for n, h in enumerate(value)]


def check_inclusion(proof: dict[str, Any], key: tuple[str, bytes, bytes]) -> str:
    size, root, signed = parse_checkpoint(proof["checkpoint"], key, "the checkpoint")
    if not (whole(proof["tree_size"]) and whole(proof["leaf_index"])):
        raise Invalid("tree_size and leaf_index are whole numbers")
    if proof["tree_size"] != size:
        raise Invalid(f"tree_size {proof['tree_size']} is not the checkpoint's size {size}")
    index = proof["leaf_index"]
    leaf_text = proof["leaf"]
    if not isinstance(leaf_text, str) or not leaf_text.isascii():
        raise Invalid("the leaf is not ASCII text")
    try:
        leaf = json.loads(leaf_text)
    except ValueError:
        raise Invalid("the leaf is not JSON") from None
    if not isinstance(leaf, dict) or sorted(leaf) != LEAF_FIELDS or canonical(leaf) != leaf_text:
        raise Invalid("the leaf is not the canonical bytes of an mma-leaf/v1 leaf")
    if leaf["format"] != "mma-leaf/v1" or leaf["seq"] != index + 1:
        raise Invalid(f"the leaf is not leaf {index + 1} in mma-leaf/v1")
    leaf_hash = hashlib.sha256(b"\x00" + leaf_text.encode("ascii")).digest()
    if hash32(proof["leaf_hash"], "leaf_hash") != leaf_hash:
        raise Invalid("leaf_hash is not the hash of the leaf")
    event = proof["event"]
    if not isinstance(event, dict) or sorted(event) != EVENT_FIELDS:
        raise Invalid(f"the event has the fields {EVENT_FIELDS}")
    for field in ("aggregate_id", "version", "topic"):
        if event[field] != leaf[field] or type(event[field]) is not type(leaf[field]):
            raise Invalid(f"the event's {field} is not the leaf's")
    state = b64(event["state"], "the event's state")
    if hashlib.sha256(state).hexdigest() != leaf["state_sha256"]:
        raise Invalid("the event's state is not the state the leaf records")
    if not verify_inclusion(
        leaf_hash, index, size, path_of(proof["audit_path"], "audit_path"), root
    ):
        raise Invalid("the audit path does not lead to the checkpoint's root")
    signed()  # last: every cheaper check has held
    return (
        f"OK: aggregate {leaf['aggregate_id']} version {leaf['version']} ({leaf['topic']}) "
        f"is leaf {index + 1} of the tree of {size} signed by {key[0]}"
    )


def check_consistency(proof: dict[str, Any], key: tuple[str, bytes, bytes]) -> str:
    first, first_root = checkpoint(proof["first_checkpoint"], key, "the first checkpoint")
    second, second_root = checkpoint(proof["second_checkpoint"], key, "the second checkpoint")
    if (proof["first_size"], proof["second_size"]) != (first, second) or not (
        whole(proof["first_size"]) and whole(proof["second_size"])
    ):
        raise Invalid("first_size and second_size are not the checkpoints' sizes")
    path = path_of(proof["consistency_path"], "consistency_path")
    if not verify_consistency(first, second, first_root, second_root, path):
        raise Invalid(
            f"the tree of {second} leaves does not extend the tree of {first}: the proof fails"
        )
    return f"OK: the tree of {second} leaves extends the tree of {first}, both signed by {key[0]}"


def check(proof: Any, public_key: str, kept: str | None = None) -> str:
    """What the proof proves, or :class:`Invalid`."""
    key = parse_public_key(public_key)
    if not isinstance(proof, dict):
        raise Invalid("a proof is a JSON object")
    if proof.get("format") == INCLUSION and sorted(proof) == INCLUSION_FIELDS:
        own = proof["checkpoint"]
        outcome = check_inclusion(proof, key)
    elif proof.get("format") == CONSISTENCY and sorted(proof) == CONSISTENCY_FIELDS:
        own = proof["first_checkpoint"]
        outcome = check_consistency(proof, key)
    else:
        raise Invalid(f"not an {INCLUSION} or {CONSISTENCY} proof with exactly their fields")
    if kept is not None and own != kept:
        raise Invalid("the proof's checkpoint is not the checkpoint you kept")
    return outcome


def main(argv: list[str]) -> int:
    args, public_key, kept, as_json = [], None, None, False
    items = iter(argv)
    for arg in items:
        if arg == "--public-key":
            public_key = next(items, None)
        elif arg == "--checkpoint":
            kept = next(items, None)
        elif arg == "--json":
            as_json = True
        elif arg in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            args.append(arg)
    if len(args) != 1 or public_key is None:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        if Path(public_key).is_file():
            public_key = Path(public_key).read_text(encoding="ascii")
        kept_text = None if kept is None else Path(kept).read_bytes().decode("utf-8", "replace")
        data = Path(args[0]).read_bytes()
        parse_public_key(public_key)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        proof = json.loads(data)
        outcome = check(proof, public_key, kept_text)
    except (Invalid, ValueError) as error:
        reason = error if isinstance(error, Invalid) else f"not a JSON proof ({error})"
        if as_json:
            print(json.dumps({"ok": False, "reason": str(reason)}))
        else:
            print(f"FAILED: {reason}")
        return 1
    print(json.dumps({"ok": True, "outcome": outcome}) if as_json else outcome)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
