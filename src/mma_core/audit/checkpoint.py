"""Signed checkpoints: C2SP ``tlog-checkpoint`` bodies signed as C2SP signed notes (Ed25519).

A checkpoint::

    <origin>
    <tree size, decimal>
    <base64 of the 32-byte root hash>

    — <key name> <base64(4-byte key id || 64-byte Ed25519 signature)>

The signature covers the body: every line before the blank line, each ending in a newline.
Key id: the first 4 bytes of SHA-256(key name || 0x0A || 0x01 || 32-byte public key).
Keys use the note formats: ``<name>+<8 hex id>+<base64(0x01 || public key)>`` to verify and
``PRIVATE+KEY+<name>+<8 hex id>+<base64(0x01 || 32-byte seed)>`` to sign.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ALG_ED25519 = b"\x01"
DASH = "\u2014"  # the em dash that starts a signature line
DEFAULT_KEY_NAME = "mma-audit"
DEFAULT_ORIGIN = "mma-core/programme"
MAX_SIGNATURES = 100
MAX_SIZE = 2**63 - 1  # a size fits in a signed 64-bit integer
_SIZE = re.compile("0|[1-9][0-9]{0,18}")  # ASCII digits, no leading zero, fits in int64


class CheckpointError(ValueError):
    """A checkpoint or key that does not parse or whose signature does not hold."""


@dataclass(frozen=True, slots=True)
class VerifierKey:
    name: str
    key_id: bytes
    public: bytes

    def __str__(self) -> str:
        data = base64.b64encode(ALG_ED25519 + self.public).decode()
        return f"{self.name}+{self.key_id.hex()}+{data}"


@dataclass(frozen=True, slots=True)
class SignerKey:
    name: str
    key_id: bytes
    seed: bytes

    def __str__(self) -> str:
        data = base64.b64encode(ALG_ED25519 + self.seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+{data}"

    def verifier(self) -> VerifierKey:
        return VerifierKey(self.name, self.key_id, _public_of(self.seed))


@dataclass(frozen=True, slots=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    body: str
    signatures: tuple[tuple[str, bytes, bytes], ...]  # (key name, key id, signature)


def _check_name(name: str) -> str:
    if not name or any(c.isspace() for c in name) or "+" in name:
        raise CheckpointError(f"key name {name!r} must be non-empty, without spaces or '+'")
    return name


def key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ALG_ED25519 + public).digest()[:4]


def _public_of(seed: bytes) -> bytes:
    return (
        Ed25519PrivateKey.from_private_bytes(seed)
        .public_key()
        .public_bytes(Encoding.Raw, PublicFormat.Raw)
    )


def generate_key(name: str = DEFAULT_KEY_NAME) -> SignerKey:
    _check_name(name)
    seed = Ed25519PrivateKey.generate().private_bytes_raw()
    return SignerKey(name, key_id(name, _public_of(seed)), seed)


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise CheckpointError(f"{what} is not base64") from None


def parse_signer_key(text: str) -> SignerKey:
    parts = text.strip().split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
        raise CheckpointError("not a signing key: expected PRIVATE+KEY+<name>+<id>+<key>")
    name, hex_id, data = _check_name(parts[2]), parts[3], _b64(parts[4], "the signing key")
    if len(data) != 33 or data[:1] != ALG_ED25519:
        raise CheckpointError("the signing key is not an Ed25519 key")
    key = SignerKey(name, key_id(name, _public_of(data[1:])), data[1:])
    if key.key_id.hex() != hex_id.lower():
        raise CheckpointError("the signing key's id does not match its key")
    return key


def parse_verifier_key(text: str) -> VerifierKey:
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise CheckpointError("not a verifier key: expected <name>+<id>+<key>")
    name, hex_id, data = _check_name(parts[0]), parts[1], _b64(parts[2], "the public key")
    if len(data) != 33 or data[:1] != ALG_ED25519:
        raise CheckpointError("the public key is not an Ed25519 key")
    key = VerifierKey(name, key_id(name, data[1:]), data[1:])
    if key.key_id.hex() != hex_id.lower():
        raise CheckpointError("the public key's id does not match its key")
    return key


def body(origin: str, size: int, root: bytes) -> str:
    if not origin or "\n" in origin:
        raise CheckpointError("the origin must be one non-empty line")
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"


def sign_note(key: SignerKey, text: str) -> str:
    """A C2SP signed note: the text (ending in a newline), a blank line, the signature line."""
    if not text.endswith("\n"):
        raise CheckpointError("a note's text ends with a newline")
    signature = Ed25519PrivateKey.from_private_bytes(key.seed).sign(text.encode())
    line = base64.b64encode(key.key_id + signature).decode()
    return f"{text}\n{DASH} {key.name} {line}\n"


def sign(key: SignerKey, origin: str, size: int, root: bytes, *also: SignerKey) -> str:
    """The checkpoint signed by ``key``, and by each of ``also`` (a key rotation: the old and
    the new operator key sign the same body while verifiers move to the new one)."""
    note = sign_note(key, body(origin, size, root))
    for other in also:
        note = add_signature(note, other)
    return note


def add_signature(note: str, key: SignerKey) -> str:
    """``note`` with one more signature line, by ``key``, over the same text."""
    text, signatures = _split_note(note)
    if any(name == key.name and kid == key.key_id for name, kid, _ in signatures):
        raise CheckpointError(f"{key.name} has signed this note already")
    signature = Ed25519PrivateKey.from_private_bytes(key.seed).sign(text.encode())
    return f"{note}{DASH} {key.name} {base64.b64encode(key.key_id + signature).decode()}\n"


def _strict_b64(text: str, what: str) -> bytes:
    """Standard base64 in its one canonical spelling (padding, no stray bits)."""
    raw = _b64(text, what)
    if base64.b64encode(raw).decode("ascii") != text:
        raise CheckpointError(f"{what} is not canonical base64")
    return raw


def _split_note(note: str) -> tuple[str, tuple[tuple[str, bytes, bytes], ...]]:
    """The note's text and its signature lines, strictly as docs/audit-format.md section 4
    says: text, one blank line, one or more signature lines, each line ending in a newline,
    nothing else. Every verifier of this project (and tools/verify_export.py) applies the same
    rules, so a note accepted by one is accepted by all."""
    if any(c < " " and c != "\n" for c in note) or "\x7f" in note:
        raise CheckpointError("a note holds no control characters other than newlines")
    if not note.endswith("\n"):
        raise CheckpointError("a note ends with a newline")
    text, sep, sigs = note.partition("\n\n")
    if not sep:
        raise CheckpointError("not a signed note: no blank line before the signatures")
    if not sigs:
        raise CheckpointError("the note is not signed")
    signatures = []
    seen = set()
    for line in sigs[:-1].split("\n"):
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != DASH:
            raise CheckpointError(f"not a signature line: {line[:80]!r}")
        name = parts[1]
        if not name or "+" in name or any(c.isspace() for c in name):
            raise CheckpointError(f"not a signature line: bad key name {name[:80]!r}")
        raw = _strict_b64(parts[2], "a signature")
        if len(raw) < 5:
            raise CheckpointError("a signature is too short")
        if (name, raw[:4]) in seen:
            raise CheckpointError(f"two signatures by the same key ({name})")
        seen.add((name, raw[:4]))
        signatures.append((name, raw[:4], raw[4:]))
    if len(signatures) > MAX_SIGNATURES:
        raise CheckpointError(f"more than {MAX_SIGNATURES} signatures")
    return text + "\n", tuple(signatures)


def open_note(note: str, keys: list[VerifierKey]) -> str:
    """The note's text, when one of ``keys`` signed it; else :class:`CheckpointError`."""
    text, signatures = _split_note(note)
    found = False
    for name, kid, signature in signatures:
        for key in keys:
            if key.name == name and key.key_id == kid:
                # Every line of a trusted key must hold (during a key rotation two do), not
                # only the first one found.
                try:
                    Ed25519PublicKey.from_public_bytes(key.public).verify(signature, text.encode())
                except InvalidSignature:
                    raise CheckpointError(
                        f"signature invalid: {name}'s signature does not match the text"
                    ) from None
                found = True
    if found:
        return text
    names = ", ".join(name for name, _, _ in signatures)
    raise CheckpointError(f"signature invalid: signed by {names}, not by any key given")


def parse(note: str) -> Checkpoint:
    """The checkpoint's fields, signatures not checked (see :func:`verify`)."""
    text, signatures = _split_note(note)
    lines = text.split("\n")[:-1]
    if len(lines) != 3:
        raise CheckpointError(
            f"a checkpoint's body is exactly an origin, a size and a root line, not {len(lines)}"
        )
    origin, size_text, root_text = lines
    if not origin:
        raise CheckpointError("the origin line is empty")
    if not _SIZE.fullmatch(size_text) or int(size_text) > MAX_SIZE:
        raise CheckpointError(f"the size line {size_text[:40]!r} is not a decimal number")
    root = _strict_b64(root_text, "the root line")
    if len(root) != 32:
        raise CheckpointError(f"the root is {len(root)} bytes, not 32")
    return Checkpoint(origin, int(size_text), root, text, signatures)


def verify(note: str, keys: list[VerifierKey]) -> Checkpoint:
    """The checkpoint, when one of ``keys`` signed it; else :class:`CheckpointError`."""
    checkpoint = parse(note)
    open_note(note, keys)
    return checkpoint


# -- witnesses: C2SP tlog-cosignature (cosignature/v1) --------------------------------------

ALG_COSIGNATURE = b"\x04"
COSIGNATURE_HEADER = "cosignature/v1"


@dataclass(frozen=True, slots=True)
class WitnessKey:
    """A witness's public key as C2SP tlog-cosignature writes it: the key id covers 0x04."""

    name: str
    key_id: bytes
    public: bytes

    def __str__(self) -> str:
        data = base64.b64encode(ALG_COSIGNATURE + self.public).decode()
        return f"{self.name}+{self.key_id.hex()}+{data}"


def witness_key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ALG_COSIGNATURE + public).digest()[:4]


def witness_key(signer: SignerKey) -> WitnessKey:
    """The public key under which ``signer``'s cosignatures are checked."""
    public = _public_of(signer.seed)
    return WitnessKey(signer.name, witness_key_id(signer.name, public), public)


def parse_witness_key(text: str) -> WitnessKey:
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise CheckpointError("not a witness key: expected <name>+<id>+<key>")
    name, hex_id, data = _check_name(parts[0]), parts[1], _b64(parts[2], "the witness key")
    if len(data) != 33 or data[:1] != ALG_COSIGNATURE:
        raise CheckpointError("not a cosignature/v1 (0x04) Ed25519 witness key")
    key = WitnessKey(name, witness_key_id(name, data[1:]), data[1:])
    if key.key_id.hex() != hex_id.lower():
        raise CheckpointError("the witness key's id does not match its key")
    return key


def _cosigned_message(text: str, timestamp: int) -> bytes:
    return f"{COSIGNATURE_HEADER}\ntime {timestamp}\n{text}".encode()


def cosign(note: str, key: SignerKey, timestamp: int) -> str:
    """The checkpoint with ``key``'s cosignature line added (C2SP tlog-cosignature): an
    Ed25519 signature over ``cosignature/v1``, the time (seconds since 1970, UTC) and the body.
    Checking the checkpoint before cosigning is the caller's duty (see ``mma audit cosign``)."""
    checkpoint = parse(note)
    witness = witness_key(key)
    if any(name == key.name and kid == witness.key_id for name, kid, _ in checkpoint.signatures):
        raise CheckpointError(f"{key.name} has cosigned this checkpoint already")
    signature = Ed25519PrivateKey.from_private_bytes(key.seed).sign(
        _cosigned_message(checkpoint.body, timestamp)
    )
    raw = witness.key_id + timestamp.to_bytes(8, "big") + signature
    return f"{note}{DASH} {key.name} {base64.b64encode(raw).decode()}\n"


def false_cosignatures(note: str, witnesses: list[WitnessKey]) -> list[str]:
    """The names of ``witnesses`` with a signature line on ``note`` that is not their valid
    cosignature: a line under a witness's name must verify under that witness's key (another
    key id, time or signature byte is a forgery or damage, never "someone else")."""
    checkpoint = parse(note)
    valid = {name for name, _ in cosigners(note, witnesses)}
    false = []
    for name, _kid, _raw in checkpoint.signatures:
        if name in valid or name in false:
            continue
        if any(witness.name == name for witness in witnesses):
            false.append(name)
    return false


def cosigners(note: str, witnesses: list[WitnessKey]) -> list[tuple[str, int]]:
    """The witnesses among ``witnesses`` whose cosignature on ``note`` holds, with its time."""
    checkpoint = parse(note)
    found = []
    for name, kid, raw in checkpoint.signatures:
        for witness in witnesses:
            if (witness.name, witness.key_id) != (name, kid) or len(raw) != 72:
                continue
            timestamp = int.from_bytes(raw[:8], "big")
            try:
                Ed25519PublicKey.from_public_bytes(witness.public).verify(
                    raw[8:], _cosigned_message(checkpoint.body, timestamp)
                )
            except InvalidSignature:
                continue
            found.append((name, timestamp))
    return found
