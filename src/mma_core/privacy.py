"""Officials' personal data: sealed per official, readable only while that official's key exists.

Each official gets a fresh AES-256-GCM key. The key lives in its own table, never in an event;
the event stores only the ciphertext, bound to the official's id (associated data) so that a
ciphertext moved to another official does not open. Erasing the key makes the data unreadable for
good while every stored byte of the history, and so its audit hashes, stays as it was.
"""

from __future__ import annotations

import base64
import json
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from mma_core.domain.values import Official, OfficialId

ERASED = "[erased]"
_VERSION = "v1"
_AAD_PREFIX = b"mma-official/v1:"


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def seal(key: bytes, official_id: OfficialId, official: Official) -> str:
    nonce = os.urandom(12)
    plaintext = json.dumps({"name": official.name, "email": official.email}).encode()
    ciphertext = AESGCM(key).encrypt(nonce, plaintext, _AAD_PREFIX + official_id.value.encode())
    return f"{_VERSION}:{base64.b64encode(nonce + ciphertext).decode()}"


def unseal(key: bytes, official_id: OfficialId, sealed: str) -> Official | None:
    """The official's data, or ``None`` when the blob does not open under this key and id."""
    version, _, blob = sealed.partition(":")
    if version != _VERSION:
        return None
    raw = base64.b64decode(blob)
    try:
        plaintext = AESGCM(key).decrypt(
            raw[:12], raw[12:], _AAD_PREFIX + official_id.value.encode()
        )
    except InvalidTag:
        return None
    data = json.loads(plaintext)
    return Official(name=data["name"], email=data["email"])
