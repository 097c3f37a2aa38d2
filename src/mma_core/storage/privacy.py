"""Officials' personal data: sealed per official, readable only while that official's key exists.

Each official gets a fresh AES-256-GCM key. The key lives in its own table, never in an event;
the event stores only the ciphertext, bound to the official's id (associated data) so that a
ciphertext moved to another official does not open. Erasing the key makes the data unreadable for
good while every stored byte of the history, and so its audit hashes, stays as it was.

The keys table itself is sealed under a key-encryption key (:class:`KeyWrapper`), so that the
store alone (a copied file, a dump) opens no official's data: the store cipher's keyring when
one is set, else a key file beside an SQLite store (``mma.sqlite.kek``, created ``0600``). Keys
stored before wrapping existed (32 bare bytes) still read. See ``docs/security.md``.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import threading
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from mma_core.domain.values import Official, OfficialId
from mma_core.language.i18n import _
from mma_core.storage.cipher import Keyring, StoreCipherError, read_key_file, write_private
from mma_core.storage.cipher import new_key as new_cipher_key

_VERSION = "v1"
_AAD_PREFIX = b"mma-official/v1:"
_WRAP_AAD = b"mma-official-key/v1\x00"
logger = logging.getLogger("mma_core.storage.privacy")
BARE_KEY = 32  # bytes of a key stored before wrapping existed


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def seal(key: bytes, official_id: OfficialId, official: Official) -> str:
    nonce = os.urandom(12)
    data = {"name": official.name, "email": official.email}
    if official.salutation:  # only when set: the sealed form of others stays as it was
        data["salutation"] = official.salutation
    plaintext = json.dumps(data).encode()
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
    return Official.restored(str(data["name"]), str(data["email"]), str(data.get("salutation", "")))


class KeyWrapper:
    """Seals each official's key under a key-encryption key, bound to the official's id.

    ``keyring`` is the store cipher's keyring, or one read from (and, at the first key to
    wrap, created in) ``kek_file``; with neither, keys are stored bare (a PostgreSQL store
    without a store cipher: the database's access control is then their only protection).
    """

    def __init__(self, keyring: Keyring | None = None, kek_file: Path | None = None) -> None:
        self._keyring = keyring
        self.kek_file = kek_file
        self._warned = False

    def _ring(self, create: bool) -> Keyring | None:
        if self._keyring is None and self.kek_file is not None:
            self._keyring = read_kek(self.kek_file, create=create)
        return self._keyring

    def wrap(self, official_id: str, key: bytes) -> bytes:
        ring = self._ring(create=True)
        if ring is None:
            if not self._warned:
                self._warned = True
                logger.warning(
                    "officials' keys are stored without a key-encryption key (a PostgreSQL "
                    "store without a store cipher): a dump of the database reveals names; "
                    "set MMA_CIPHER_KEY (see docs/security.md)"
                )
            return key
        return ring.seal(key, _WRAP_AAD + official_id.encode())

    def unwrap(self, official_id: str, stored: bytes) -> bytes:
        if len(stored) == BARE_KEY:
            return stored  # stored before wrapping existed
        ring = self._ring(create=False)
        if ring is None:
            raise StoreCipherError(
                _(
                    "official {official}: the officials' keys are sealed under a "
                    "key-encryption key, and its file {file} is missing; restore it "
                    "from the backup (or set the store cipher key the store was written with)"
                ).format(official=official_id, file=self.kek_file)
            )
        return ring.open(stored, _WRAP_AAD + official_id.encode(), f"official {official_id}")


def read_kek(path: Path, *, create: bool) -> Keyring | None:
    """The keyring in the key-encryption key file ``path``; made (``0600``, never over an
    existing file) when ``create`` and it is missing. A file others may read is refused."""
    if not path.exists():
        if not create:
            return None
        # Written whole under a name of its own, then linked into place: two processes
        # nominating their first official at once both find the file missing; the one that
        # links second reads the first one's key, never a half-written file.
        draft = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
        write_private(draft, (new_cipher_key() + "\n").encode("ascii"))
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return Keyring.parse(read_key_file(path, "the key-encryption key file"), str(path))
