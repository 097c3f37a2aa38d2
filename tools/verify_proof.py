#!/usr/bin/env python3
"""Check an mma_core inclusion or consistency proof without mma_core.

    python tools/verify_proof.py PROOF.json --public-key KEY|FILE [--public-key KEY|FILE ...]
                                 [--origin NAME] [--checkpoint FILE] [--state FILE]
                                 [--witness-key KEY|FILE ...] [--json]

An inclusion proof (``mma audit prove``) shows that one event row is leaf ``leaf_index`` of the
tree a signed checkpoint covers; a consistency proof (``mma audit consistency``) shows that the
tree of a later signed checkpoint begins with the tree of an earlier one (RFC 9162, sections
2.1.3 and 2.1.4). Follows docs/audit-format.md and nothing else; uses only the standard library
and the ``cryptography`` package. --checkpoint names the checkpoint you kept: the proof's
checkpoint (for a consistency proof, its first one) must be exactly that file, byte for byte.

--public-key is the operator's key as you received it (give two during a key rotation): a
proof bundles no key, so without one the tool refuses (exit 2). Every checkpoint must name the
log --origin (default ``mma-core/programme``, the default origin of ``mma audit``). --state
FILE remembers the largest checkpoint seen: a proof whose checkpoint is older than it or
disagrees with it is refused, and a larger one is accepted only through a consistency proof
from it (a witness's rule). --witness-key reports a witness's cosignatures on the proof's
checkpoints; one under its name that does not verify fails.

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
DEFAULT_ORIGIN = "mma-core/programme"
MAX_PROOF = 16 << 20  # a proof of a tree of 2^63 leaves is under 10 kB; a note under 10 kB
MAX_NOTE = 1 << 20
Key = tuple[str, bytes, bytes]  # name, key id, raw Ed25519 public key


class Invalid(Exception):
    """The proof does not hold."""


class Usage(Exception):
    """Bad usage or unreadable input (exit status 2)."""


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


class Signed:
    """A checkpoint parsed strictly: origin, size, root, and a check of its signatures (the
    costly part, so a checker can run it last)."""

    def __init__(
        self,
        note: str,
        origin: str,
        size: int,
        root: bytes,
        text: str,
        signatures: list[tuple[str, bytes, bytes]],
        check: Any,
    ) -> None:
        self.note, self.origin, self.size, self.root = note, origin, size, root
        self.text, self.signatures, self.check = text, signatures, check


def checkpoint(note: Any, keys: list[Key], label: str, origin: str | None = None) -> Signed:
    """The checkpoint, signed by one of ``keys`` and of the log ``origin``."""
    signed = parse_checkpoint(note, keys, label, origin)
    signed.check()
    return signed


def parse_checkpoint(note: Any, keys: list[Key], label: str, origin: str | None = None) -> Signed:
    """The checkpoint's fields, its origin checked; ``.check()`` checks the signatures: a line
    of a trusted key must verify, and at least one must be there."""
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
    if len(body) != 3 or not body[0] or not SIZE.fullmatch(body[1]) or int(body[1]) > 2**63 - 1:
        raise Invalid(f"{label}: the body is an origin, a decimal size and a root, nothing else")
    root = hash32(body[2], f"{label}: the root")
    if origin is not None and body[0] != origin:
        raise Invalid(
            f"{label} is of the log {body[0]!r}, not {origin!r}: a checkpoint of another "
            "programme proves nothing about this one"
        )

    def check() -> None:
        found = False
        for signer, signer_id, signature in signatures:
            for name, kid, public in keys:
                if (signer, signer_id) != (name, kid):
                    continue
                try:
                    Ed25519PublicKey.from_public_bytes(public).verify(signature, text.encode())
                except InvalidSignature:
                    raise Invalid(f"{label}: {name}'s signature does not hold") from None
                found = True
        if not found:
            raise Invalid(f"{label}: not signed by {' or '.join(k[0] for k in keys)}")

    return Signed(note, body[0], int(body[1]), root, text, signatures, check)


def parse_witness_key(text: str) -> Key:
    """A witness's public key for cosignatures: ``<name>+<id>+<base64(0x04 || key)>``."""
    parts = text.strip().split("+", 2)
    if len(parts) != 3 or not valid_name(parts[0]):
        raise ValueError("a witness key is <name>+<8 hex id>+<base64(0x04 || key)>")
    try:
        data = b64(parts[2], "the witness key")
    except Invalid as error:
        raise ValueError(str(error)) from None
    witness_id = hashlib.sha256(parts[0].encode() + b"\n\x04" + data[1:]).digest()[:4]
    if len(data) != 33 or data[0] != 4 or witness_id.hex() != parts[1].lower():
        raise ValueError("not a cosignature/v1 (0x04) Ed25519 witness key with a matching id")
    return parts[0], witness_id, data[1:]


def cosigners(signed: Signed, witnesses: list[Key], label: str) -> list[str]:
    """The witnesses whose cosignature on the checkpoint holds; a line under a witness's name
    that does not verify under its key does not hold: :class:`Invalid`."""
    held: list[str] = []
    for signer, signer_id, raw in signed.signatures:
        for name, kid, public in witnesses:
            if signer != name or name in held:
                continue
            ok = signer_id == kid and len(raw) == 72
            if ok:
                timestamp = int.from_bytes(raw[:8], "big")
                message = f"cosignature/v1\ntime {timestamp}\n{signed.text}"
                try:
                    Ed25519PublicKey.from_public_bytes(public).verify(raw[8:], message.encode())
                except InvalidSignature:
                    ok = False
            if not ok:
                raise Invalid(
                    f"{label}: the cosignature of {name} does not verify under the witness key "
                    "given"
                )
            held.append(name)
    return held


# -- the proofs ------------------------------------------------------------------------------


def canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def path_of(value: Any, what: str) -> list[bytes]:
    if not isinstance(value, list):
        raise Invalid(f"{what} is not a list")
    return [hash32(h, f"{what}[{n}]") for n, h in enumerate(value)]


def check_inclusion(
    proof: dict[str, Any], keys: list[Key], origin: str | None
) -> tuple[str, list[Signed]]:
    signed = parse_checkpoint(proof["checkpoint"], keys, "the checkpoint", origin)
    size, root = signed.size, signed.root
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
    except (ValueError, RecursionError):
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
    if not whole(event["position"]) or event["position"] != leaf["seq"]:
        # docs/audit-format.md section 5: a row's position is its place in store order,
        # the number of its leaf.
        raise Invalid(
            f"the event's position {event['position']!r} is not its leaf's number {leaf['seq']}"
        )
    state = b64(event["state"], "the event's state")
    if hashlib.sha256(state).hexdigest() != leaf["state_sha256"]:
        raise Invalid("the event's state is not the state the leaf records")
    if not verify_inclusion(
        leaf_hash, index, size, path_of(proof["audit_path"], "audit_path"), root
    ):
        raise Invalid("the audit path does not lead to the checkpoint's root")
    signed.check()  # last: every cheaper check has held
    names = " or ".join(k[0] for k in keys)
    return (
        f"OK: aggregate {leaf['aggregate_id']} version {leaf['version']} ({leaf['topic']}) "
        f"is leaf {index + 1} of the tree of {size} signed by {names}"
    ), [signed]


def check_consistency(
    proof: dict[str, Any], keys: list[Key], origin: str | None
) -> tuple[str, list[Signed]]:
    first = checkpoint(proof["first_checkpoint"], keys, "the first checkpoint", origin)
    second = checkpoint(proof["second_checkpoint"], keys, "the second checkpoint", origin)
    if first.origin != second.origin:
        raise Invalid("the two checkpoints are of different logs")
    if (proof["first_size"], proof["second_size"]) != (first.size, second.size) or not (
        whole(proof["first_size"]) and whole(proof["second_size"])
    ):
        raise Invalid("first_size and second_size are not the checkpoints' sizes")
    path = path_of(proof["consistency_path"], "consistency_path")
    if not verify_consistency(first.size, second.size, first.root, second.root, path):
        raise Invalid(
            f"the tree of {second.size} leaves does not extend the tree of {first.size}: "
            "the proof fails"
        )
    names = " or ".join(k[0] for k in keys)
    return (
        f"OK: the tree of {second.size} leaves extends the tree of {first.size}, both signed "
        f"by {names}"
    ), [first, second]


def as_keys(public_keys: str | list[str]) -> list[Key]:
    values = [public_keys] if isinstance(public_keys, str) else public_keys
    return [parse_public_key(value) for value in values]


def check(
    proof: Any,
    public_keys: str | list[str],
    kept: str | bytes | None = None,
    *,
    origin: str | None = DEFAULT_ORIGIN,
    witnesses: list[Key] | None = None,
    state: str | None = None,
) -> str:
    """What the proof proves, or :class:`Invalid`. ``kept``: the checkpoint you kept (its
    bytes); ``state``: the checkpoint remembered by ``--state`` (see :func:`next_state`)."""
    keys = as_keys(public_keys)
    if not isinstance(proof, dict):
        raise Invalid("a proof is a JSON object")
    if proof.get("format") == INCLUSION and sorted(proof) == INCLUSION_FIELDS:
        own = proof["checkpoint"]
        outcome, signed = check_inclusion(proof, keys, origin)
    elif proof.get("format") == CONSISTENCY and sorted(proof) == CONSISTENCY_FIELDS:
        own = proof["first_checkpoint"]
        outcome, signed = check_consistency(proof, keys, origin)
    else:
        raise Invalid(f"not an {INCLUSION} or {CONSISTENCY} proof with exactly their fields")
    if kept is not None:
        kept_bytes = kept.encode("utf-8") if isinstance(kept, str) else kept
        if own.encode("utf-8") != kept_bytes:  # byte for byte: nothing replaced or translated
            raise Invalid("the proof's checkpoint is not the checkpoint you kept")
    if state is not None:
        remembered = checkpoint(state, keys, "the remembered checkpoint", origin)
        check_against_state(signed, remembered)
    for n, one in enumerate(signed):
        label = (
            "the checkpoint" if len(signed) == 1 else ("the first", "the second")[n] + " checkpoint"
        )
        held = cosigners(one, witnesses or [], label)
        if witnesses:
            outcome += f"\n{label}: cosigned by {', '.join(held) or 'none of the witnesses given'}"
    return outcome


def check_against_state(signed: list[Signed], remembered: Signed) -> None:
    """A witness's rule: never older than the checkpoint remembered, never another tree of its
    size, and larger only through a consistency proof from it."""
    for one in signed:
        if one.origin != remembered.origin:
            raise Invalid(
                f"the checkpoint is of the log {one.origin!r}, the state file follows "
                f"{remembered.origin!r}"
            )
        if one.size < remembered.size:
            raise Invalid(
                f"the checkpoint covers {one.size} leaves, older than the {remembered.size} "
                "remembered in the state file: a rollback"
            )
        if one.size == remembered.size and one.root != remembered.root:
            raise Invalid(
                f"the checkpoint has another root for the {one.size} leaves remembered in the "
                "state file: a fork"
            )
    newest = signed[-1]
    if newest.size > remembered.size:
        first = signed[0]
        if len(signed) != 2 or (first.size, first.root) != (remembered.size, remembered.root):
            raise Invalid(
                f"the checkpoint covers {newest.size} leaves, more than the {remembered.size} "
                "remembered in the state file: check a consistency proof from the remembered "
                "checkpoint first"
            )


def next_state(proof: dict[str, Any]) -> str:
    """The checkpoint to remember after ``proof`` held: its newest."""
    if proof["format"] == INCLUSION:
        return str(proof["checkpoint"])
    return str(proof["second_checkpoint"])


def read_limited(path: Path, limit: int, what: str) -> bytes:
    with path.open("rb") as file:
        data = file.read(limit + 1)
    if len(data) > limit:
        raise Usage(f"{what} {path} is larger than {limit} bytes")
    return data


def main(argv: list[str]) -> int:
    args: list[str] = []
    public_keys: list[str] = []
    witness_values: list[str] = []
    kept = state_file = None
    origin: str | None = DEFAULT_ORIGIN
    as_json = False
    items = iter(argv)
    for arg in items:
        if arg == "--public-key":
            public_keys.append(next(items, ""))
        elif arg == "--witness-key":
            witness_values.append(next(items, ""))
        elif arg == "--checkpoint":
            kept = next(items, None)
        elif arg == "--origin":
            origin = next(items, None)
        elif arg == "--state":
            state_file = next(items, None)
        elif arg == "--trust-bundled-key":
            print(
                "error: a proof bundles no public key: give --public-key with the operator's "
                "key as you received it",
                file=sys.stderr,
            )
            return 2
        elif arg == "--json":
            as_json = True
        elif arg in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            args.append(arg)
    if not public_keys:
        print(
            "error: give --public-key with the operator's public key as you received it "
            "(the proof's own checkpoint cannot vouch for itself)",
            file=sys.stderr,
        )
        return 2
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    state_text = None
    try:
        keys = []
        for value in public_keys:
            keys.append(Path(value).read_text(encoding="ascii") if Path(value).is_file() else value)
        witnesses = []
        for value in witness_values:
            text = Path(value).read_text(encoding="ascii") if Path(value).is_file() else value
            witnesses.append(parse_witness_key(text))
        kept_bytes = None if kept is None else read_limited(Path(kept), MAX_NOTE, "the checkpoint")
        if state_file is not None and Path(state_file).exists():
            state_text = read_limited(Path(state_file), MAX_NOTE, "the state file").decode("utf-8")
        data = read_limited(Path(args[0]), MAX_PROOF, "the proof")
        as_keys(keys)
    except (OSError, ValueError, Usage) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        proof = json.loads(data)
    except RecursionError:
        print("error: the proof is not a JSON proof: nested too deeply", file=sys.stderr)
        return 2
    except ValueError as error:
        print(f"error: the proof is not JSON ({error})", file=sys.stderr)
        return 2
    try:
        outcome = check(
            proof, keys, kept_bytes, origin=origin, witnesses=witnesses, state=state_text
        )
    except (Invalid, RecursionError) as error:
        reason = error if isinstance(error, Invalid) else "nested too deeply"
        if as_json:
            print(json.dumps({"ok": False, "reason": str(reason)}))
        else:
            print(f"FAILED: {reason}")
        return 1
    if state_file is not None:
        newest = next_state(proof)
        if (
            state_text is None
            or parse_checkpoint(newest, [], "", None).size
            > parse_checkpoint(state_text, [], "", None).size
        ):
            partial = Path(state_file + ".partial")
            partial.write_bytes(newest.encode("utf-8"))
            partial.replace(state_file)
    print(json.dumps({"ok": True, "outcome": outcome}) if as_json else outcome)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
