#!/usr/bin/env python3
"""Write the audit test vectors (docs/audit-vectors/): a synthetic history of 70 events in the
formats of docs/audit-format.md, the Merkle roots of every prefix, inclusion and consistency
proofs, signed and cosigned checkpoints, a key rotation, an export, and malformed cases, each
with the verdict every verifier must give.

    python tools/audit_vectors.py [DIRECTORY]      # default: docs/audit-vectors

Everything is deterministic (fixed keys, times and states; Ed25519 signatures are
deterministic), so running it again writes the same bytes. The keys are test keys, published
with their seeds: never use them for anything else. ``tests/audit/test_audit_vectors.py`` runs
``mma audit verify``, ``tools/verify_export.py`` and ``tools/verify_proof.py`` over the vectors.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import sys
from pathlib import Path
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from mma_core.audit import checkpoint as notes
from mma_core.audit.merkle import consistency_proof, inclusion_proof, root
from mma_core.storage.leaf_format import canonical_json, leaf_hash

SIZE = 70
ORIGIN = "mma-core/programme"
OTHER_ORIGIN = "utrecht/programme"
TOPIC = "example:Event"
COSIGNED_AT = 1_573_203_600  # 2019-11-08 09:00:00 UTC
OUT = Path(__file__).resolve().parents[1] / "docs" / "audit-vectors"
DASH = "\u2014"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def key(name: str) -> notes.SignerKey:
    """A test key whose seed is SHA-256 of its label: anyone can make it again."""
    seed = hashlib.sha256(f"mma-audit-vectors/{name}".encode()).digest()
    raw = (
        Ed25519PrivateKey.from_private_bytes(seed)
        .public_key()
        .public_bytes(Encoding.Raw, PublicFormat.Raw)
    )
    return notes.SignerKey(name, notes.key_id(name, raw), seed)


OPERATOR = key("mma-audit")
NEW_OPERATOR = key("mma-audit-2027")
STRANGER = key("someone-else")
WITNESS = key("provincial-auditor")


# -- the history ------------------------------------------------------------------------------


def history() -> tuple[list[dict[str, Any]], list[bytes]]:
    """70 events: one aggregate with an event every third step, two alternating on the odd
    steps, and one-event aggregates between (so chains interleave): the
    event rows (as lines of events.jsonl) and the leaves' canonical bytes."""
    events: list[dict[str, Any]] = []
    leaves: list[bytes] = []
    versions: dict[str, int] = {}
    last: dict[str, str] = {}
    for n in range(1, SIZE + 1):
        which = 1 if n % 3 == 0 else (2 + n % 4 if n % 2 else 100 + n)
        aggregate = str(UUID(int=which))
        version = versions[aggregate] = versions.get(aggregate, 0) + 1
        state = json.dumps({"n": n, "on": f"2019-11-{1 + n % 28:02d}"}).encode()
        leaf = {
            "aggregate_id": aggregate,
            "format": "mma-leaf/v1",
            "prev": last.get(aggregate) if version > 1 else None,
            "recorded_at": f"2019-11-01T09:{n // 60:02d}:{n % 60:02d}.{n:06d}Z",
            "seq": n,
            "state_sha256": hashlib.sha256(state).hexdigest(),
            "topic": TOPIC,
            "version": version,
        }
        data = canonical_json(leaf)
        leaves.append(data)
        last[aggregate] = leaf_hash(data).hex()
        events.append(
            {
                "aggregate_id": aggregate,
                "position": n,
                "state": b64(state),
                "topic": TOPIC,
                "version": version,
            }
        )
    return events, leaves


# -- checkpoints ------------------------------------------------------------------------------


def checkpoint(
    size: int, hashes: list[bytes], *signers: notes.SignerKey, origin: str = ORIGIN
) -> str:
    first, *others = signers
    return notes.sign(first, origin, size, root(hashes[:size]), *others)


def body_of(note: str) -> str:
    return note.partition("\n\n")[0] + "\n"


def resigned(body: str, signer: notes.SignerKey = OPERATOR) -> str:
    return notes.sign_note(signer, body)


def flip_last_line_byte(note: str, index: int) -> str:
    lines = note.rstrip("\n").split("\n")
    dash, name, data = lines[-1].split(" ")
    raw = bytearray(base64.b64decode(data))
    raw[index] ^= 0x01
    lines[-1] = f"{dash} {name} {b64(bytes(raw))}"
    return "\n".join(lines) + "\n"


ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def stray_bits(line: str) -> str:
    """The base64 of a 32-byte value with one of its two unused bits set: the same bytes, not
    the canonical spelling."""
    last = ALPHABET[ALPHABET.index(line[-2]) ^ 1]
    return f"{line[:-2]}{last}="


def checkpoint_cases(hashes: list[bytes]) -> list[dict[str, Any]]:
    """Checkpoints of the history's first 40 leaves (and all 70), each with the keys to check
    it with and the verdict; every verifier applies the same rules (section 4)."""
    good = checkpoint(40, hashes, OPERATOR)
    body = body_of(good)
    origin, size, root_line = body.rstrip("\n").split("\n")
    sig_lines = good.partition("\n\n")[2]
    cosigned = notes.cosign(good, WITNESS, COSIGNED_AT)
    both = checkpoint(40, hashes, OPERATOR, NEW_OPERATOR)
    operator, new_operator = str(OPERATOR.verifier()), str(NEW_OPERATOR.verifier())
    witness = str(notes.witness_key(WITNESS))
    ok = {"exit": 0, "kind": None}
    bad = {"exit": 1, "kind": "signature invalid"}

    def case(
        name: str,
        note: str | bytes,
        expected: dict[str, Any],
        keys: list[str] | None = None,
        witnesses: list[str] | None = None,
        origin_: str = ORIGIN,
    ) -> dict[str, Any]:
        entry: dict[str, Any] = {"name": name}
        if isinstance(note, bytes):
            entry["note_base64"] = b64(note)
        else:
            entry["note"] = note
        entry |= {
            "public_keys": keys or [operator],
            "witness_keys": witnesses or [],
            "origin": origin_,
            "expected": expected,
        }
        return entry

    root32 = base64.b64decode(root_line)
    url_safe = base64.urlsafe_b64encode(b"\xfb" * 32).decode()
    cases: list[dict[str, Any]] = [
        case("valid", good, ok),
        case("valid, all 70 leaves", checkpoint(SIZE, hashes, OPERATOR), ok) | {"tree_size": SIZE},
        case(
            "an unknown key's signature beside ours",
            good + resigned(body, STRANGER).partition("\n\n")[2],
            ok,
        ),
        case("cosigned, witness key given", cosigned, ok, witnesses=[witness]),
        case("cosigned, no witness key given", cosigned, ok),
        case("not cosigned, witness key given", good, ok, witnesses=[witness]),
        case("rotation: both keys sign, the old key given", both, ok, [operator]),
        case("rotation: both keys sign, the new key given", both, ok, [new_operator]),
        case("rotation: both keys sign, both keys given", both, ok, [operator, new_operator]),
        case(
            "rotation: the new key alone signs, both keys given",
            checkpoint(40, hashes, NEW_OPERATOR),
            ok,
            [operator, new_operator],
        ),
        case(
            "rotation: the new key alone signs, the old key given",
            checkpoint(40, hashes, NEW_OPERATOR),
            bad,
            [operator],
        ),
        case(
            "rotation: the new key's line damaged, both keys given",
            flip_last_line_byte(both, 40),
            bad,
            [operator, new_operator],
        ),
        case(
            "another origin",
            checkpoint(40, hashes, OPERATOR, origin=OTHER_ORIGIN),
            {"exit": 1, "kind": "wrong origin"},
        ),
        case(
            "another origin, pinned",
            checkpoint(40, hashes, OPERATOR, origin=OTHER_ORIGIN),
            ok,
            origin_=OTHER_ORIGIN,
        )
        | {"applies_to": ["store", "proof"]},  # the export's own checkpoint names ORIGIN
        case(
            "cosignature: key id byte changed",
            flip_last_line_byte(cosigned, 0),
            {"exit": 1, "kind": "cosignature invalid"},
            witnesses=[witness],
        ),
        case(
            "cosignature: time byte changed",
            flip_last_line_byte(cosigned, 11),
            {"exit": 1, "kind": "cosignature invalid"},
            witnesses=[witness],
        ),
        case(
            "cosignature: signature byte changed",
            flip_last_line_byte(cosigned, 40),
            {"exit": 1, "kind": "cosignature invalid"},
            witnesses=[witness],
        ),
        case("cosignature changed, witness key not given", flip_last_line_byte(cosigned, 40), ok),
        # Malformed (section 4): every verifier says "signature invalid".
        case("junk line after the signature", good + "junk\n", bad),
        case("junk after the signature, no newline", good + "junk", bad),
        case("size with a leading zero", resigned(f"{origin}\n0{size}\n{root_line}\n"), bad),
        case("size with a plus sign", resigned(f"{origin}\n+{size}\n{root_line}\n"), bad),
        case(
            "size in Arabic-Indic digits",
            resigned(f"{origin}\n{''.join(chr(0x0660 + int(d)) for d in size)}\n{root_line}\n"),
            bad,
        ),
        case(
            "size with an underscore",
            resigned(f"{origin}\n{size[0]}_{size[1:]}\n{root_line}\n"),
            bad,
        ),
        case("size with a minus sign", resigned(f"{origin}\n-{size}\n{root_line}\n"), bad),
        case("size of 20 digits", resigned(f"{origin}\n1{'0' * 19}\n{root_line}\n"), bad),
        case(
            "size above 2^63-1 in 19 digits",
            resigned(f"{origin}\n9223372036854775808\n{root_line}\n"),
            bad,
        ),
        case("size with a space", resigned(f"{origin}\n{size} \n{root_line}\n"), bad),
        case("31-byte root", resigned(f"{origin}\n{size}\n{b64(root32[:31])}\n"), bad),
        case("33-byte root", resigned(f"{origin}\n{size}\n{b64(root32 + b'x')}\n"), bad),
        case("root without padding", resigned(f"{origin}\n{size}\n{root_line.rstrip('=')}\n"), bad),
        case(
            "root in URL-safe base64",
            resigned(f"{origin}\n{size}\n{url_safe}\n"),
            bad,
        ),
        case("root with stray bits", resigned(f"{origin}\n{size}\n{stray_bits(root_line)}\n"), bad),
        case("extension line in the body", resigned(body + "extension\n"), bad),
        case("empty origin", resigned(f"\n{size}\n{root_line}\n"), bad),
        case("a NUL in the origin", resigned(f"a\x00{origin}\n{size}\n{root_line}\n"), bad),
        case("a tab in the origin", resigned(f"a\t{origin}\n{size}\n{root_line}\n"), bad),
        case("signed by an unknown key only", resigned(body, STRANGER), bad),
        case("the trusted key's signature twice", good + sig_lines, bad),
        case("no blank line before the signature", good.replace("\n\n", "\n"), bad),
        case("two blank lines before the signature", good.replace("\n\n", "\n\n\n"), bad),
        case("blank line after the signature", good + "\n", bad),
        case("no newline at the end", good.rstrip("\n"), bad),
        case("CRLF line ends", good.replace("\n", "\r\n"), bad),
        case("flipped signature byte", flip_last_line_byte(good, 20), bad),
        case("flipped key id byte", flip_last_line_byte(good, 1), bad),
        case("signature line with a tab", good.replace(f"{DASH} ", f"{DASH}\t", 1), bad),
        case("signature line with two spaces", good.replace(f"{DASH} ", f"{DASH}  ", 1), bad),
        case("signature line with a hyphen for the dash", good.replace(f"{DASH} ", "- ", 1), bad),
        case(
            "key name with a plus",
            good.replace(f" {OPERATOR.name} ", f" {OPERATOR.name}+x ", 1),
            bad,
        ),
        case(
            "signature too short", body + f"\n{DASH} {OPERATOR.name} {b64(OPERATOR.key_id)}\n", bad
        ),
        case("signature base64 without padding", good.rstrip("\n").rstrip("=") + "\n", bad),
        case("not signed at all", body + "\n", bad),
        case("the body alone", body, bad),
        case("empty file", "", bad),
        case("a byte that is not UTF-8", good.encode() + b"\xff", bad),
        case("a byte-order mark first", "\ufeff" + good, bad),
        case(
            "the body changed after signing",
            good.replace(f"\n{size}\n", f"\n{int(size) - 1}\n", 1),
            bad,
        ),
        case(
            "101 signature lines",
            good + "".join(f"{DASH} k{n} {b64(bytes(68))}\n" for n in range(100)),
            bad,
        ),
    ]
    for entry in cases:
        entry.setdefault("applies_to", ["store", "export", "proof"])
    return cases


# -- proofs -----------------------------------------------------------------------------------


def proof_cases(
    events: list[dict[str, Any]], leaves: list[bytes], hashes: list[bytes]
) -> list[dict[str, Any]]:
    """Inclusion and consistency proofs as ``mma audit prove`` and ``consistency`` write them
    (section 7), and changed ones, with the exit status of tools/verify_proof.py."""
    note40, note70 = checkpoint(40, hashes, OPERATOR), checkpoint(SIZE, hashes, OPERATOR)

    def inclusion(index: int, size: int, note: str) -> dict[str, Any]:
        return {
            "format": "mma-inclusion-proof/v1",
            "tree_size": size,
            "leaf_index": index,
            "leaf_hash": b64(hashes[index]),
            "audit_path": [b64(h) for h in inclusion_proof(hashes[:size], index)],
            "checkpoint": note,
            "leaf": leaves[index].decode("ascii"),
            "event": events[index],
        }

    def consistent(first: int, note1: str, second: int, note2: str) -> dict[str, Any]:
        return {
            "format": "mma-consistency-proof/v1",
            "first_size": first,
            "second_size": second,
            "consistency_path": [b64(h) for h in consistency_proof(hashes[:second], first)],
            "first_checkpoint": note1,
            "second_checkpoint": note2,
        }

    good = inclusion(2, 40, note40)
    cons = consistent(40, note40, SIZE, note70)
    same = consistent(40, note40, 40, note40)
    ok, bad = {"exit": 0}, {"exit": 1}
    leaf3 = json.loads(good["leaf"])
    event3 = good["event"]
    cases: list[dict[str, Any]] = [
        {"name": "inclusion of leaf 3 in the tree of 40", "proof": good, "expected": ok},
        {
            "name": "inclusion of leaf 70 in the tree of 70",
            "proof": inclusion(69, SIZE, note70),
            "expected": ok,
        },
        {
            "name": "inclusion of leaf 1 in the tree of 70",
            "proof": inclusion(0, SIZE, note70),
            "expected": ok,
        },
        {"name": "consistency of 40 with 70", "proof": cons, "expected": ok},
        {"name": "consistency of 40 with 40: empty path", "proof": same, "expected": ok},
        {
            "name": "consistency of 40 with 40, a path given",
            "proof": same | {"consistency_path": [b64(hashes[0])]},
            "expected": bad,
        },
        {
            "name": "event position changed",
            "proof": good | {"event": event3 | {"position": 4}},
            "expected": bad,
        },
        {
            "name": "event position as a string",
            "proof": good | {"event": event3 | {"position": "3"}},
            "expected": bad,
        },
        {
            "name": "event state changed",
            "proof": good | {"event": event3 | {"state": b64(b'{"n": 999}')}},
            "expected": bad,
        },
        {
            "name": "event topic changed",
            "proof": good | {"event": event3 | {"topic": "example:Other"}},
            "expected": bad,
        },
        {
            "name": "event version changed",
            "proof": good | {"event": event3 | {"version": event3["version"] + 1}},
            "expected": bad,
        },
        {
            "name": "event field added",
            "proof": good | {"event": event3 | {"extra": 1}},
            "expected": bad,
        },
        {"name": "leaf_index off by one", "proof": good | {"leaf_index": 3}, "expected": bad},
        {
            "name": "leaf_hash of another leaf",
            "proof": good | {"leaf_hash": b64(hashes[3])},
            "expected": bad,
        },
        {
            "name": "leaf not canonical (a space)",
            "proof": good | {"leaf": good["leaf"].replace(",", ", ", 1)},
            "expected": bad,
        },
        {
            "name": "leaf format v2",
            "proof": good | {"leaf": canonical_json(leaf3 | {"format": "mma-leaf/v2"}).decode()},
            "expected": bad,
        },
        {
            "name": "audit path with a hash added",
            "proof": good | {"audit_path": [*good["audit_path"], b64(hashes[0])]},
            "expected": bad,
        },
        {
            "name": "audit path with a hash missing",
            "proof": good | {"audit_path": good["audit_path"][:-1]},
            "expected": bad,
        },
        {
            "name": "audit path hash changed",
            "proof": good | {"audit_path": [b64(hashes[9]), *good["audit_path"][1:]]},
            "expected": bad,
        },
        {
            "name": "tree_size not the checkpoint's",
            "proof": good | {"tree_size": 41},
            "expected": bad,
        },
        {
            "name": "checkpoint of another origin",
            "proof": good | {"checkpoint": checkpoint(40, hashes, OPERATOR, origin=OTHER_ORIGIN)},
            "expected": bad,
        },
        {
            "name": "checkpoint signed by an unknown key",
            "proof": good | {"checkpoint": checkpoint(40, hashes, STRANGER)},
            "expected": bad,
        },
        {"name": "field added to the proof", "proof": good | {"note": "x"}, "expected": bad},
        {
            "name": "field missing from the proof",
            "proof": {k: v for k, v in good.items() if k != "leaf_hash"},
            "expected": bad,
        },
        {
            "name": "consistency path changed",
            "proof": cons | {"consistency_path": [b64(hashes[0]), *cons["consistency_path"][1:]]},
            "expected": bad,
        },
        {
            "name": "consistency first_size not its checkpoint's",
            "proof": cons | {"first_size": 39},
            "expected": bad,
        },
        {
            "name": "consistency of a forked older tree",
            "proof": cons | {"first_checkpoint": notes.sign(OPERATOR, ORIGIN, 40, bytes(32))},
            "expected": bad,
        },
        {
            "name": "consistency with the checkpoints swapped",
            "proof": cons
            | {
                "first_checkpoint": note70,
                "second_checkpoint": note40,
                "first_size": SIZE,
                "second_size": 40,
            },
            "expected": bad,
        },
    ]
    # Not a proof at all: exit status 2, one line, no traceback.
    raw_cases = [
        {"name": "not JSON", "raw": "{not json", "expected": {"exit": 2}},
        # "nested": N stands for the text "[" * N + "]" * N (kept short here).
        {"name": "JSON nested 100,000 deep", "nested": 100_000, "expected": {"exit": 2}},
    ]
    for entry in cases:
        entry["public_keys"] = [str(OPERATOR.verifier())]
        entry["origin"] = ORIGIN
    for entry in raw_cases:
        entry["public_keys"] = [str(OPERATOR.verifier())]
        entry["origin"] = ORIGIN
    return cases + raw_cases


# -- the export -------------------------------------------------------------------------------


def write_export(
    directory: Path, events: list[dict[str, Any]], leaves: list[bytes], hashes: list[bytes]
) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "events.jsonl").write_bytes(b"".join(canonical_json(e) + b"\n" for e in events))
    (directory / "leaves.jsonl").write_bytes(b"".join(leaf + b"\n" for leaf in leaves))
    # Signed during a key rotation: by the operator's key and its successor.
    (directory / "checkpoint").write_text(
        checkpoint(SIZE, hashes, OPERATOR, NEW_OPERATOR), encoding="utf-8"
    )
    (directory / "public-key").write_text(f"{OPERATOR.verifier()}\n", encoding="ascii")
    manifest = {
        "format": "mma-export/v1",
        "origin": ORIGIN,
        "events": SIZE,
        "leaves": SIZE,
        "leaf_counter": SIZE,
        "root_sha256_hex": root(hashes).hex(),
    }
    (directory / "manifest.json").write_text(
        json.dumps(manifest, indent=2) + "\n", encoding="ascii"
    )


def export_cases(
    events: list[dict[str, Any]], leaves: list[bytes], hashes: list[bytes]
) -> list[dict[str, Any]]:
    """Changes to export/ and the verdict of tools/verify_export.py (section 6). A change
    names a file and either replaces its lines (``lines``: 1-based line number -> new line
    text, null to delete it), appends lines (``append``), replaces the whole file
    (``content``), or replaces it with ``"[" * N + "]" * N`` (``nested``: N)."""
    line = {n + 1: canonical_json(e).decode() for n, e in enumerate(events)}
    leaf = {n + 1: data.decode() for n, data in enumerate(leaves)}
    manifest = json.loads(
        json.dumps(
            {
                "format": "mma-export/v1",
                "origin": ORIGIN,
                "events": SIZE,
                "leaves": SIZE,
                "leaf_counter": SIZE,
                "root_sha256_hex": root(hashes).hex(),
            }
        )
    )

    def event_with(n: int, **fields: Any) -> str:
        return canonical_json(events[n - 1] | fields).decode()

    def manifest_with(**fields: Any) -> str:
        return json.dumps(manifest | fields, indent=2) + "\n"

    ok = {"exit": 0, "kind": None, "position": None}

    def fail(kind: str, position: int | None) -> dict[str, Any]:
        return {"exit": 1, "kind": kind, "position": position}

    malformed = {"exit": 2, "kind": None, "position": None}
    return [
        {"name": "unchanged", "changes": [], "expected": ok},
        {
            "name": "positions 3 and 4 swapped",
            "changes": [
                {
                    "file": "events.jsonl",
                    "lines": {"3": event_with(3, position=4), "4": event_with(4, position=3)},
                }
            ],
            "expected": fail("edited", 3),
        },
        {
            "name": "rows 3 and 4 swapped",
            "changes": [{"file": "events.jsonl", "lines": {"3": line[4], "4": line[3]}}],
            "expected": fail("reordered", 3),
        },
        {
            "name": "a state changed",
            "changes": [
                {"file": "events.jsonl", "lines": {"5": event_with(5, state=b64(b'{"n": 0}'))}}
            ],
            "expected": fail("edited", 5),
        },
        {
            "name": "a topic changed",
            "changes": [
                {"file": "events.jsonl", "lines": {"6": event_with(6, topic="example:Other")}}
            ],
            "expected": fail("edited", 6),
        },
        {
            "name": "an event row deleted",
            "changes": [
                {"file": "events.jsonl", "lines": {"10": None}},
                {"file": "manifest.json", "content": manifest_with(events=SIZE - 1)},
            ],
            "expected": fail("missing", 10),
        },
        {
            "name": "the last row duplicated",
            "changes": [
                {"file": "events.jsonl", "append": [event_with(SIZE, position=SIZE + 1)]},
                {"file": "manifest.json", "content": manifest_with(events=SIZE + 1)},
            ],
            "expected": fail("inserted", SIZE + 1),
        },
        {
            "name": "a leaf deleted",
            "changes": [{"file": "leaves.jsonl", "lines": {"20": None}}],
            "expected": fail("missing", 20),
        },
        {
            "name": "the last leaf and row cut, the counter lowered",
            "changes": [
                {"file": "leaves.jsonl", "lines": {str(SIZE): None}},
                {"file": "events.jsonl", "lines": {str(SIZE): None}},
                {
                    "file": "manifest.json",
                    "content": manifest_with(
                        events=SIZE - 1,
                        leaves=SIZE - 1,
                        leaf_counter=SIZE - 1,
                        root_sha256_hex=root(hashes[:-1]).hex(),
                    ),
                },
            ],
            "expected": fail("truncated", SIZE),
        },
        {
            "name": "the leaf counter raised",
            "changes": [{"file": "manifest.json", "content": manifest_with(leaf_counter=SIZE + 2)}],
            "expected": fail("truncated", SIZE + 1),
        },
        {
            "name": "the leaf counter lowered",
            "changes": [{"file": "manifest.json", "content": manifest_with(leaf_counter=SIZE - 2)}],
            "expected": fail("edited", SIZE - 1),
        },
        {
            "name": "the export's checkpoint of another origin",
            "changes": [
                {
                    "file": "checkpoint",
                    "content": checkpoint(SIZE, hashes, OPERATOR, origin=OTHER_ORIGIN),
                }
            ],
            "expected": fail("wrong origin", None),
        },
        {
            "name": "the export's checkpoint smaller than its tree",
            "changes": [{"file": "checkpoint", "content": checkpoint(SIZE - 2, hashes, OPERATOR)}],
            "expected": fail("inserted", SIZE - 1),
        },
        {
            "name": "the export's checkpoint signed by an unknown key",
            "changes": [
                {"file": "checkpoint", "content": checkpoint(SIZE, hashes, STRANGER)},
                {"file": "public-key", "content": f"{STRANGER.verifier()}\n"},
            ],
            "expected": fail("signature invalid", None),
        },
        {
            "name": "a leaf line not canonical",
            "changes": [{"file": "leaves.jsonl", "lines": {"7": leaf[7].replace(",", ", ", 1)}}],
            "expected": malformed,
        },
        {
            "name": "an event line not canonical",
            "changes": [{"file": "events.jsonl", "lines": {"7": line[7].replace(":", ": ", 1)}}],
            "expected": malformed,
        },
        {
            "name": "the manifest's event count wrong",
            "changes": [{"file": "manifest.json", "content": manifest_with(events=SIZE + 1)}],
            "expected": malformed,
        },
        {
            "name": "the manifest without origin (an older export)",
            "changes": [
                {
                    "file": "manifest.json",
                    "content": json.dumps(
                        {k: v for k, v in manifest.items() if k != "origin"}, indent=2
                    )
                    + "\n",
                }
            ],
            "expected": ok,
        },
        {
            "name": "the manifest with a field added",
            "changes": [{"file": "manifest.json", "content": manifest_with(extra=1)}],
            "expected": malformed,
        },
        {
            "name": "the manifest nested 100,000 deep",
            "changes": [{"file": "manifest.json", "nested": 100_000}],
            "expected": malformed,
        },
    ]


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else OUT
    events, leaves = history()
    hashes = [leaf_hash(data) for data in leaves]
    if out.exists():
        shutil.rmtree(out / "export", ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)

    def dump(name: str, data: Any) -> None:
        (out / name).write_text(
            json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )

    dump(
        "keys.json",
        {
            "note": "test keys, published with their seeds: never use them for anything else",
            "operator": {"signing_key": str(OPERATOR), "public_key": str(OPERATOR.verifier())},
            "new_operator": {
                "signing_key": str(NEW_OPERATOR),
                "public_key": str(NEW_OPERATOR.verifier()),
            },
            "stranger": {"signing_key": str(STRANGER), "public_key": str(STRANGER.verifier())},
            "witness": {
                "signing_key": str(WITNESS),
                "witness_key": str(notes.witness_key(WITNESS)),
            },
            "cosigned_at": COSIGNED_AT,
        },
    )
    dump(
        "tree.json",
        {
            "origin": ORIGIN,
            "events": events,
            "leaves": [data.decode("ascii") for data in leaves],
            "leaf_hashes": [b64(h) for h in hashes],
            "roots": {str(size): b64(root(hashes[:size])) for size in range(0, SIZE + 1)},
        },
    )
    inclusions = [
        {
            "tree_size": size,
            "leaf_index": index,
            "leaf_hash": b64(hashes[index]),
            "root": b64(root(hashes[:size])),
            "audit_path": [b64(h) for h in inclusion_proof(hashes[:size], index)],
        }
        for size in range(1, SIZE + 1)
        for index in sorted({0, size // 2, size - 1} | (set(range(size)) if size <= 16 else set()))
    ]
    dump("inclusion.json", inclusions)
    consistencies = [
        {
            "first_size": first,
            "second_size": second,
            "first_root": b64(root(hashes[:first])),
            "second_root": b64(root(hashes[:second])),
            "consistency_path": [b64(h) for h in consistency_proof(hashes[:second], first)],
        }
        for second in range(1, SIZE + 1)
        for first in sorted(
            {1, second // 2 or 1, second - 1 or 1, second}
            | (set(range(1, second + 1)) if second <= 16 else set())
        )
    ]
    dump("consistency.json", consistencies)
    dump("checkpoints.json", checkpoint_cases(hashes))
    dump("proofs.json", proof_cases(events, leaves, hashes))
    write_export(out / "export", events, leaves, hashes)
    dump("exports.json", export_cases(events, leaves, hashes))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
