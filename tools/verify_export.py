#!/usr/bin/env python3
"""Verify an mma_core audit export without mma_core.

    python tools/verify_export.py EXPORT_DIR --public-key KEY|FILE [--public-key KEY|FILE ...]
                                  [--origin NAME] [--checkpoint FILE ...] [--state FILE]
                                  [--witness-key KEY|FILE ...] [--json]
                                  [--cosign KEY_FILE --conclusion FILE]
                                  [--trust-bundled-key]

Follows docs/audit-format.md and nothing else. Uses only the standard library and the
``cryptography`` package (for Ed25519). Reads the export line by line: memory stays small
whatever the export's size. Hashes each leaf line's bytes exactly as exported.

--public-key is the operator's public key as you received it, from outside the export (give
it twice during a key rotation: a checkpoint signed by either holds). Without it the tool
refuses (exit 2); --trust-bundled-key checks against the export's own ``public-key`` file
instead, which proves only that the export agrees with itself, and the result says so.
--origin names the log every checkpoint must carry (default: the manifest's ``origin``).
--state FILE remembers the largest checkpoint verified and refuses an export older than it
or disagreeing with it. --witness-key names a witness (``<name>+<id>+<base64(0x04 || key)>``):
its cosignatures are reported, and one under its name that does not verify fails the run.

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
DEFAULT_ORIGIN = "mma-core/programme"
# No honest file comes near these sizes; a larger one is malformed, never read whole.
MAX_NOTE = 1 << 20
MAX_MANIFEST = 1 << 20
MAX_LEAF_LINE = 1 << 20
MAX_EVENT_LINE = 64 << 20
DASH = "\u2014"
SIZE = re.compile("0|[1-9][0-9]{0,18}")
MAX_SIGNATURES = 100
SIGNATURE = "signature invalid"


class Malformed(Exception):
    """The export does not follow the format."""


class Usage(Exception):
    """The command line lacks what the verification needs (exit status 2)."""


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
    if not SIZE.fullmatch(size_text) or int(size_text) > 2**63 - 1:
        raise Malformed(f"the size line {size_text[:40]!r} is not a decimal number")
    root = b64(root_text, "the root line")
    if len(root) != 32:
        raise Malformed(f"the root is {len(root)} bytes, not 32")
    return origin, int(size_text), root, text, signatures


Key = tuple[str, bytes, bytes]  # name, key id, raw Ed25519 public key


def read_note(path: Path, label: str) -> str:
    """A note's exact text: its bytes as UTF-8, nothing translated or replaced."""
    with path.open("rb") as file:
        data = file.read(MAX_NOTE + 1)
    if len(data) > MAX_NOTE:
        raise Failed(SIGNATURE, None, f"{label}: larger than {MAX_NOTE} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise Failed(SIGNATURE, None, f"{label}: not UTF-8") from None


def check_note(note: str, keys: list[Key], label: str, origin: str | None) -> tuple[int, bytes]:
    """The size and root of a checkpoint signed by one of ``keys`` (and of the log ``origin``);
    a line of a trusted key that does not verify, or no such line: signature invalid."""
    try:
        checkpoint_origin, size, root, text, signatures = parse_checkpoint(note)
    except Malformed as error:
        raise Failed(SIGNATURE, None, f"{label}: {error}") from None
    found = False
    for signer, signer_id, signature in signatures:
        for name, kid, public in keys:
            if (signer, signer_id) != (name, kid):
                continue
            try:
                Ed25519PublicKey.from_public_bytes(public).verify(signature, text.encode())
            except InvalidSignature:
                raise Failed(
                    SIGNATURE, None, f"{label}: {name}'s signature does not match the checkpoint"
                ) from None
            found = True
    if not found:
        names = " or ".join(name for name, _, _ in keys)
        raise Failed(SIGNATURE, None, f"{label}: not signed by {names}")
    if origin is not None and checkpoint_origin != origin:
        raise Failed(
            "wrong origin",
            None,
            f"{label} is of the log {checkpoint_origin!r}, not {origin!r}: a checkpoint of "
            "another programme proves nothing about this one",
        )
    return size, root


def read_checkpoint(
    path: Path, keys: list[Key], label: str, origin: str | None = None
) -> tuple[int, bytes]:
    return check_note(read_note(path, label), keys, label, origin)


def parse_witness_key(text: str) -> Key:
    """A witness's public key for cosignatures: ``<name>+<id>+<base64(0x04 || key)>``."""
    parts = text.strip().split("+", 2)
    if len(parts) != 3 or not valid_name(parts[0]):
        raise Malformed("a witness key is <name>+<8 hex id>+<base64(0x04 || key)>")
    name, data = parts[0], b64(parts[2], "the witness key")
    if len(data) != 33 or data[0] != 4:
        raise Malformed("the witness key is not a cosignature/v1 (0x04) Ed25519 key")
    witness_id = hashlib.sha256(name.encode() + b"\n\x04" + data[1:]).digest()[:4]
    if witness_id.hex() != parts[1].lower():
        raise Malformed("the witness key's id does not match the key")
    return name, witness_id, data[1:]


def cosignatures(note: str, witnesses: list[Key], label: str) -> list[str]:
    """The witnesses whose cosignature (C2SP tlog-cosignature) on the note holds. A signature
    line under a witness's name that does not verify under its key fails the run."""
    _, _, _, text, signatures = parse_checkpoint(note)
    held: list[str] = []
    for signer, signer_id, raw in signatures:
        for name, kid, public in witnesses:
            if signer != name or name in held:
                continue
            ok = signer_id == kid and len(raw) == 72
            if ok:
                timestamp = int.from_bytes(raw[:8], "big")
                message = f"cosignature/v1\ntime {timestamp}\n{text}".encode()
                try:
                    Ed25519PublicKey.from_public_bytes(public).verify(raw[8:], message)
                except InvalidSignature:
                    ok = False
            if not ok:
                raise Failed(
                    "cosignature invalid",
                    None,
                    f"{label}: the cosignature of {name} does not verify under the witness "
                    "key given",
                )
            held.append(name)
    return held


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
    except (ValueError, RecursionError):
        raise Malformed(f"{where}: not JSON (or nested too deeply)") from None
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
    with path.open("rb") as file:
        data = file.read(MAX_MANIFEST + 1)
    if len(data) > MAX_MANIFEST:
        raise Malformed(f"manifest.json is larger than {MAX_MANIFEST} bytes")
    try:
        manifest: dict[str, Any] = json.loads(data)
    except (ValueError, RecursionError):
        raise Malformed("manifest.json is not JSON (or nested too deeply)") from None
    # "origin" was added later: a manifest without it is an older export's.
    fields = sorted(manifest) if isinstance(manifest, dict) else []
    if fields not in (MANIFEST_FIELDS, sorted([*MANIFEST_FIELDS, "origin"])):
        raise Malformed(f"manifest.json has the fields {MANIFEST_FIELDS} and origin")
    if "origin" in manifest and (
        not isinstance(manifest["origin"], str)
        or not manifest["origin"]
        or "\n" in manifest["origin"]
    ):
        raise Malformed("manifest.json: origin is not one non-empty line")
    if manifest["format"] != "mma-export/v1":
        raise Malformed(f"manifest.json: format {manifest['format']!r}, not 'mma-export/v1'")
    for field in ("events", "leaves", "leaf_counter"):
        if not integer(manifest[field]) or manifest[field] < 0:
            raise Malformed(f"manifest.json: {field} is not a whole number")
    root = manifest["root_sha256_hex"]
    if not isinstance(root, str) or not re.fullmatch("[0-9a-f]{64}", root):
        raise Malformed("manifest.json: root_sha256_hex is not 64 lower-case hex digits")
    return manifest


def lines(file: Any, limit: int, name: str) -> Any:
    """The file's lines, each at most ``limit`` bytes: a longer one is malformed, and is
    never read whole into memory."""
    n = 0
    readline = file.readline
    while line := readline(limit + 1):
        n += 1
        if len(line) > limit:
            raise Malformed(f"{name} line {n} is longer than {limit} bytes")
        yield line


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
        with self.leaves.open("rb") as file:
            for line in lines(file, MAX_LEAF_LINE, "leaves.jsonl"):
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
        with self.leaves.open("rb") as file:
            for n, line in enumerate(lines(file, MAX_LEAF_LINE, "leaves.jsonl"), 1):
                leaf = leaf_of(line, n)
                if key(leaf) == wanted:
                    return leaf
        return None

    def has_event(self, wanted: tuple[str, int]) -> bool:
        with self.events.open("rb") as file:
            numbered = enumerate(lines(file, MAX_EVENT_LINE, "events.jsonl"), 1)
            return any(key(event_of(line, n)) == wanted for n, line in numbered)


class Verified:
    """What a verification found: the tree, the warnings and the witnesses."""

    def __init__(self, size: int, root: bytes, origin: str) -> None:
        self.size, self.root, self.origin = size, root, origin
        self.warnings: list[str] = []
        self.cosigned: dict[str, list[str]] = {}


def read_keys(values: list[str], directory: Path, trust_bundled: bool) -> tuple[list[Key], str]:
    """The trusted operator keys, and a warning when they come from the export itself."""
    if not values:
        if not trust_bundled:
            raise Usage(
                "give --public-key with the operator's public key as you received it; the "
                "export's own public-key file proves nothing (--trust-bundled-key uses it "
                "anyway)"
            )
        text = (directory / "public-key").read_text(encoding="ascii")
        warning = (
            "warning: checked against the export's own public key (--trust-bundled-key): a "
            "history rewritten and re-signed with another key passes; pass --public-key"
        )
        return [parse_public_key(text)], warning
    keys = []
    for value in values:
        text = Path(value).read_text(encoding="ascii") if Path(value).is_file() else value
        keys.append(parse_public_key(text))
    return keys, ""


def verify(
    directory: Path,
    keys: list[Key],
    extra: list[Path],
    origin: str | None = None,
    witnesses: tuple[Key, ...] = (),
    state: Path | None = None,
) -> Verified:
    manifest = read_manifest(directory / "manifest.json")
    own_note = read_note(directory / "checkpoint", "the export's checkpoint")
    if origin is None:
        # The manifest names the log; an older export's manifest does not, and then its own
        # checkpoint does (every other checkpoint must then name the same log).
        origin = manifest.get("origin") or parse_checkpoint(own_note)[0]
    own = check_note(own_note, keys, "the export's checkpoint", origin)
    kept_notes = [(read_note(p, str(p)), str(p)) for p in extra]
    remembered = None
    if state is not None and state.exists():
        with state.open("rb") as file:
            data = file.read(MAX_NOTE + 1)
        try:
            remembered = data.decode("utf-8")
            parse_checkpoint(remembered)
        except (UnicodeDecodeError, Malformed) as error:
            raise Usage(f"the state file {state} does not hold a checkpoint: {error}") from None
        kept_notes.append((remembered, f"the checkpoint remembered in {state}"))
    kept = [check_note(note, keys, label, origin) for note, label in kept_notes]
    labels = ["the export's checkpoint"] + [label for _, label in kept_notes]
    found = Verified(0, b"", origin)
    for note, label in [(own_note, labels[0]), *kept_notes[: len(extra)]]:
        if witnesses:
            found.cosigned[label] = cosignatures(note, list(witnesses), label)

    export = Export(directory)
    counter = manifest["leaf_counter"]
    chained = export.chained()
    last: dict[str, tuple[int, int, str]] = {}  # aggregate -> (version, seq, hex leaf hash)
    tree = Tree()
    prefix = {0: tree.root()}
    wanted = {size for size, _ in [own, *kept]}
    i = events = 0
    with export.leaves.open("rb") as leaf_file, export.events.open("rb") as event_file:
        leaf_lines = lines(leaf_file, MAX_LEAF_LINE, "leaves.jsonl")
        event_lines = lines(event_file, MAX_EVENT_LINE, "events.jsonl")
        for leaf_line, event_line in zip_longest(leaf_lines, event_lines):
            i += 1
            leaf = None if leaf_line is None else leaf_of(leaf_line, i)
            event = None if event_line is None else event_of(event_line, i)
            events += event is not None
            if leaf is None:
                assert event is not None
                duplicate = export.find_leaf(key(event))
                if duplicate is not None and 0 < duplicate["seq"] < i:
                    raise Failed("inserted", i, duplicated(event, duplicate["seq"]))
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
                event_leaf = export.find_leaf(key(event))
                if event_leaf is not None and 0 < event_leaf["seq"] < i:
                    raise Failed("inserted", i, duplicated(event, event_leaf["seq"]))
                if not leaf_has_event and event_leaf is None:
                    raise Failed("edited", i, f"the event of {name(leaf)} now says {name(event)}")
                if not leaf_has_event:
                    raise Failed("missing", i, f"the event of {name(leaf)} is gone")
                if event_leaf is None:
                    raise Failed("inserted", i, f"{name(event)} has no leaf")
                raise Failed("reordered", i, f"the event of {name(leaf)} is not in its place")
            if event["topic"] != leaf["topic"]:
                raise Failed("edited", i, f"the topic of {name(leaf)} was changed")
            if hashlib.sha256(event["state"]).hexdigest() != leaf["state_sha256"]:
                raise Failed("edited", i, f"the state of {name(leaf)} is not the state recorded")
            if event["position"] != i:
                # The leaf sequence is the order: the row of leaf i is at position i.
                raise Failed(
                    "edited",
                    i,
                    f"the event of {name(leaf)} (leaf {i}) says position {event['position']}",
                )
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
    for (size, root), label in sorted(zip([own, *kept], labels, strict=True)):
        if size > tree.size:
            raise Failed(
                "truncated",
                tree.size + 1,
                f"{label} covers {size} leaves, the export holds {tree.size}",
            )
        if prefix[size] != root:
            raise Failed(
                "edited",
                None,
                f"the first {size} leaves are not the history {label} signed",
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
    if state is not None:
        # Remember the largest checkpoint verified: the export's own covers every leaf.
        seen = [own_note, *(note for note, _ in kept_notes)]
        largest = max(seen, key=lambda note: parse_checkpoint(note)[1])
        if largest != remembered:
            partial = state.with_name(state.name + ".partial")
            partial.write_bytes(largest.encode("utf-8"))
            partial.replace(state)
    found.size, found.root = tree.size, root
    return found


def duplicated(event: dict[str, Any], seq: int) -> str:
    return (
        f"{name(event)} (store position {event['position']}) is duplicated: its leaf, leaf "
        f"{seq}, matched an earlier row"
    )


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
    args: list[str] = []
    public_keys: list[str] = []
    witness_values: list[str] = []
    extra: list[Path] = []
    as_json = trust_bundled = False
    origin = state = cosign_key = conclusion = None
    items = iter(argv)
    for arg in items:
        if arg == "--public-key":
            public_keys.append(next(items, ""))
        elif arg == "--witness-key":
            witness_values.append(next(items, ""))
        elif arg == "--origin":
            origin = next(items, None)
        elif arg == "--state":
            state = next(items, None)
        elif arg == "--trust-bundled-key":
            trust_bundled = True
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
    directory = Path(args[0])
    warning = ""
    try:
        keys, warning = read_keys(public_keys, directory, trust_bundled)
        witnesses = []
        for value in witness_values:
            text = Path(value).read_text(encoding="ascii") if Path(value).is_file() else value
            witnesses.append(parse_witness_key(text))
        found = verify(
            directory,
            keys,
            extra,
            origin,
            tuple(witnesses),
            None if state is None else Path(state),
        )
    except Usage as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Failed as failure:
        if as_json:
            print(
                json.dumps(
                    {
                        "ok": False,
                        "kind": failure.kind,
                        "position": failure.position,
                        "detail": failure.detail,
                        "warnings": [warning] if warning else [],
                    }
                )
            )
        else:
            print(f"FAILED: {failure}")
            if warning:
                print(warning)
        return 1
    except (Malformed, OSError, ValueError, RecursionError) as error:
        print(f"error: the export is malformed: {error}", file=sys.stderr)
        return 2
    if cosign_key is not None and conclusion is not None:
        try:
            note = (directory / "checkpoint").read_bytes().decode("utf-8")
            key_text = Path(cosign_key).read_text(encoding="ascii")
            signed = cosign(note, key_text, int(time.time()))
            Path(conclusion).write_text(signed, encoding="utf-8")
        except (Malformed, OSError, ValueError) as error:
            print(f"error: cannot cosign: {error}", file=sys.stderr)
            return 2
    root = base64.b64encode(found.root).decode()
    warnings = [warning] if warning else []
    if as_json:
        print(
            json.dumps(
                {
                    "ok": True,
                    "size": found.size,
                    "root": root,
                    "origin": found.origin,
                    "cosigned": found.cosigned,
                    "warnings": warnings,
                }
            )
        )
    else:
        print(f"OK: {found.size} events verified, tree size {found.size}, root {root}")
        for label, names in found.cosigned.items():
            print(f"{label}: cosigned by {', '.join(names) or 'none of the witnesses given'}")
        for line in warnings:
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
