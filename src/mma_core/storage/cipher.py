"""Store encryption: every stored event's state sealed with AES-256-GCM, bound to its row.

Set ``MMA_CIPHER_KEY`` (or ``MMA_CIPHER_KEY_FILE``, or ``Programme.open(url, cipher_key=...)``)
to a comma-separated keyring, newest key first: ``"NEW,OLD"``. Each key is 32 random bytes in
URL-safe base64 (``mma cipher new-key`` prints one).

A sealed state is::

    b"MMAC" | 0x01 | key id (4 bytes) | nonce (12 bytes) | ciphertext and GCM tag

The associated data is the aggregate id, the version and the topic of the row, so a ciphertext
copied or swapped into another row does not open there: loading fails with
:class:`StoreCipherError`, and since the audit leaves hash the stored (sealed) bytes,
``mma audit verify`` names the first row whose bytes no longer match its leaf.

New rows are sealed with the first (newest) key of the ring; rows sealed with an older key open
as long as that key is still in the ring (the key id says which). A store is encrypted or not
from its first event on: a key set on a plain store, or none set on an encrypted one, or a ring
without the key a row was sealed with, is refused with a :class:`StoreCipherError` that says so.

Eventsourcing's own cipher sees only the bytes, not the row they belong to; hence this mapper.
The officials' personal data keeps its own per-official keys (:mod:`mma_core.storage.privacy`)
inside the state, so erasure still works on an encrypted store.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, StoredEvent, Transcoder

from mma_core.domain.errors import DomainError, InvalidInput
from mma_core.language.i18n import _

MAGIC = b"MMAC"
FORMAT = 1
HEADER = len(MAGIC) + 1 + 4 + 12
ENV_KEY = "MMA_CIPHER_KEY"
ENV_KEY_FILE = "MMA_CIPHER_KEY_FILE"
_AAD_PREFIX = b"mma-state/v1\x00"


class StoreCipherError(DomainError):
    """A stored event's state does not open with the cipher keyring (or needs one)."""

    code = "store_cipher_error"
    http_status = 500
    when = "a stored event does not open with the cipher key (or needs one)"


def new_key() -> str:
    """A fresh 256-bit key in URL-safe base64, as ``MMA_CIPHER_KEY`` takes it."""
    return base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=256)).decode().rstrip("=")


def key_id(key: bytes) -> bytes:
    """Four bytes that name a key without revealing it."""
    return hashlib.sha256(b"mma-cipher-key-id/v1\x00" + key).digest()[:4]


class Keyring:
    """The keys a store's rows may be sealed with; the first seals new rows."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise InvalidInput(_("{variable} holds no key").format(variable=ENV_KEY))
        self._keys: dict[bytes, AESGCM] = {}
        for key in keys:
            self._keys.setdefault(key_id(key), AESGCM(key))
        self.current = key_id(keys[0])
        self._aead = self._keys[self.current]

    @classmethod
    def parse(cls, text: str, source: str = ENV_KEY) -> Keyring:
        """Parse ``"NEW,OLD,..."``; no key material appears in an error."""
        keys = []
        for n, item in enumerate(text.split(","), start=1):
            item = item.strip()
            try:
                key = base64.urlsafe_b64decode(item + "=" * (-len(item) % 4))
            except (binascii.Error, ValueError):
                key = b""
            if len(key) != 32:
                raise InvalidInput(
                    _(
                        "{source}: key {n} is not a 256-bit key in URL-safe base64; "
                        "make one with 'mma cipher new-key'"
                    ).format(source=source, n=n)
                )
            keys.append(key)
        return cls(keys)

    @property
    def key_ids(self) -> list[str]:
        return [k.hex() for k in self._keys]

    def seal(self, plain: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plain, aad)
        return MAGIC + bytes([FORMAT]) + self.current + nonce + sealed

    def open(self, sealed: bytes, aad: bytes, where: str) -> bytes:
        if len(sealed) < HEADER + 16 or sealed[4] != FORMAT:
            raise StoreCipherError(f"{where}: the stored state is not a sealed state it can read")
        kid, nonce = sealed[5:9], sealed[9:21]
        aead = self._keys.get(kid)
        if aead is None:
            raise StoreCipherError(
                _(
                    "{where}: sealed with key id {key_id}, which the cipher keyring "
                    '({variable}) does not hold; add that key after the new one ("NEW,OLD")'
                ).format(where=where, key_id=kid.hex(), variable=ENV_KEY)
            )
        try:
            return aead.decrypt(nonce, sealed[21:], aad)
        except InvalidTag:
            raise StoreCipherError(
                f"{where}: the stored state does not open with its key: the row was altered, "
                "or its ciphertext was moved from another row"
            ) from None


def keyring_from(
    cipher_key: str | None = None, environ: Mapping[str, str] | None = None
) -> Keyring | None:
    """The keyring to open a store with: ``cipher_key`` if given, else ``MMA_CIPHER_KEY``,
    else the file ``MMA_CIPHER_KEY_FILE`` names; ``None`` for a plain store."""
    if cipher_key is not None:
        return Keyring.parse(cipher_key, "cipher_key")
    environ = os.environ if environ is None else environ
    text = environ.get(ENV_KEY, "").strip()
    if text:
        return Keyring.parse(text, ENV_KEY)
    path = environ.get(ENV_KEY_FILE, "").strip()
    if path:
        return Keyring.parse(read_key_file(Path(path), ENV_KEY_FILE), ENV_KEY_FILE)
    return None


def read_key_file(path: Path, what: str) -> str:
    """The text of a key file; refused when group or others may read or write it (a key
    readable by every local account protects nothing)."""
    try:
        mode = path.stat().st_mode & 0o777
        content = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInput(
            _("{what}: cannot read the key file ({reason})").format(
                what=what, reason=type(error).__name__
            )
        ) from None
    if mode & 0o077:
        raise InvalidInput(
            _(
                "{what}: the key file {path} may be read by others (mode {mode}); make it "
                "private with: chmod 600 {path}"
            ).format(what=what, path=path, mode=f"{mode:04o}")
        )
    return content


def write_private(path: Path, data: bytes) -> None:
    """Create ``path`` with mode ``0600`` whatever the umask; fails if it exists already."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def _aad(originator_id: Any, version: int, topic: str) -> bytes:
    try:
        ident = str(UUID(str(originator_id)))
    except ValueError:
        ident = str(originator_id)
    return _AAD_PREFIX + f"{ident}\x00{version}\x00{topic}".encode()


def _where(stored: StoredEvent) -> str:
    return f"aggregate {stored.originator_id} version {stored.originator_version}"


class StoreMapper(Mapper[UUID]):
    """A mapper that seals each state with the keyring, bound to its row; plain without one."""

    def __init__(self, transcoder: Transcoder, keyring: Keyring | None = None) -> None:
        super().__init__(transcoder)
        self.keyring = keyring

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        stored = super().to_stored_event(domain_event)
        if self.keyring is None:
            return stored
        aad = _aad(stored.originator_id, stored.originator_version, stored.topic)
        return StoredEvent(
            originator_id=stored.originator_id,
            originator_version=stored.originator_version,
            topic=stored.topic,
            state=self.keyring.seal(stored.state, aad),
        )

    def open_state(self, stored: StoredEvent) -> StoredEvent:
        """The row with its state opened (checked against the row), or as it is if plain."""
        state = bytes(stored.state)
        sealed = state.startswith(MAGIC)
        if self.keyring is None:
            if sealed:
                raise StoreCipherError(
                    _(
                        "{where}: the store is encrypted; set {variable} (or "
                        "{file_variable}) to its key to open it"
                    ).format(where=_where(stored), variable=ENV_KEY, file_variable=ENV_KEY_FILE)
                )
            return stored
        if not sealed:
            raise StoreCipherError(
                _(
                    "{where}: the stored state is not encrypted, but a cipher key is "
                    "set; a store is encrypted from its first event or not at all (unset "
                    "{variable} to open a plain store)"
                ).format(where=_where(stored), variable=ENV_KEY)
            )
        aad = _aad(stored.originator_id, stored.originator_version, stored.topic)
        return StoredEvent(
            originator_id=stored.originator_id,
            originator_version=stored.originator_version,
            topic=stored.topic,
            state=self.keyring.open(state, aad, _where(stored)),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        if self.keyring is None and stored_event.state[:4] != MAGIC:
            return super().to_domain_event(stored_event)
        return super().to_domain_event(self.open_state(stored_event))


__all__ = [
    "ENV_KEY",
    "ENV_KEY_FILE",
    "Keyring",
    "StoreCipherError",
    "StoreMapper",
    "keyring_from",
    "new_key",
    "read_key_file",
    "write_private",
]
