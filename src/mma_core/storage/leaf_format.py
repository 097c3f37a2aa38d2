"""The audit leaves: one per stored event, written by the recorder in the event's own transaction;
the storage writes them and the audit reads them, so they sit below both.

A leaf's bytes are canonical JSON (sorted keys, no whitespace, ASCII only), so that a verifier in
any language can rebuild them from the stored row and the leaf's own fields.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from mma_core.domain.errors import DomainError

LEAF_FORMAT = "mma-leaf/v1"
FIELDS = (
    "aggregate_id",
    "format",
    "prev",
    "recorded_at",
    "seq",
    "state_sha256",
    "topic",
    "version",
)


def canonical_json(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def json_string(value: str) -> str:
    """A JSON string as ``json.dumps(value, ensure_ascii=True)`` writes it."""
    if value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
        return f'"{value}"'
    return json.dumps(value, ensure_ascii=True)


def encode_leaf(
    seq: int,
    aggregate_id: str,
    version: int,
    topic: str,
    recorded_at: str,
    state_sha256: str,
    prev: str | None,
) -> bytes:
    """A leaf's canonical bytes from its fields (``seq`` and ``version`` already ints)."""
    prev_json = "null" if prev is None else json_string(prev)
    return (
        f'{{"aggregate_id":{json_string(aggregate_id)},"format":"{LEAF_FORMAT}",'
        f'"prev":{prev_json},"recorded_at":{json_string(recorded_at)},"seq":{seq},'
        f'"state_sha256":{json_string(state_sha256)},"topic":{json_string(topic)},'
        f'"version":{version}}}'
    ).encode("ascii")


def leaf_hash(data: bytes) -> bytes:
    """RFC 6962 leaf hash: SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def state_sha256(state: bytes) -> str:
    return hashlib.sha256(state).hexdigest()


def aggregate_key(originator_id: UUID | str) -> str:
    """The canonical form of an aggregate id: lower-case, hyphenated UUID."""
    return str(originator_id if isinstance(originator_id, UUID) else UUID(str(originator_id)))


def recorded_now() -> str:
    """The recorder's wall clock, UTC, microseconds, e.g. ``2019-11-06T09:00:00.000000Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class Leaf:
    seq: int
    aggregate_id: str
    version: int
    topic: str
    recorded_at: str
    state_sha256: str
    prev: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "aggregate_id": self.aggregate_id,
            "format": LEAF_FORMAT,
            "prev": self.prev,
            "recorded_at": self.recorded_at,
            "seq": self.seq,
            "state_sha256": self.state_sha256,
            "topic": self.topic,
            "version": self.version,
        }

    def encode(self) -> bytes:
        """The canonical bytes: what ``canonical_json(self.as_dict())`` gives, built faster."""
        return encode_leaf(
            int(self.seq),
            self.aggregate_id,
            int(self.version),
            self.topic,
            self.recorded_at,
            self.state_sha256,
            self.prev,
        )

    def hash(self) -> bytes:
        return leaf_hash(self.encode())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Leaf:
        if sorted(data) != list(FIELDS) or data["format"] != LEAF_FORMAT:
            raise ValueError(f"not an {LEAF_FORMAT} leaf: {sorted(data)}")
        return cls(
            seq=int(data["seq"]),
            aggregate_id=str(data["aggregate_id"]),
            version=int(data["version"]),
            topic=str(data["topic"]),
            recorded_at=str(data["recorded_at"]),
            state_sha256=str(data["state_sha256"]),
            prev=None if data["prev"] is None else str(data["prev"]),
        )


class HistoryAltered(DomainError):
    """An event is being stored where the store's leaves say one was stored before: someone
    deleted events behind the library's back. Nothing was written."""

    code = "history_altered"
    http_status = 500
    when = "the audit leaves say events were deleted behind the library's back"

    def __init__(self, message: str, aggregate_id: str = "", version: int = 0) -> None:
        super().__init__(message, details={"aggregate_id": aggregate_id, "version": version})
        self.aggregate_id = aggregate_id
        self.version = version


class LeafChain:
    """Makes the leaves of one transaction: numbers them and chains each to its aggregate's
    previous leaf. ``previous`` looks a stored aggregate's last leaf up (inside the
    transaction, after the write lock is held)."""

    def __init__(self, next_seq: int, recorded_at: str) -> None:
        self.next_seq = next_seq
        self.recorded_at = recorded_at
        self._last: dict[str, Leaf] = {}

    def add(
        self,
        originator_id: UUID | str,
        version: int,
        topic: str,
        state: bytes,
        previous: Any,
    ) -> Leaf:
        aggregate_id = aggregate_key(originator_id)
        prev: Leaf | None = self._last.get(aggregate_id)
        if prev is None:
            prev = previous(aggregate_id)
        if prev is not None and prev.version >= version:
            raise HistoryAltered(
                f"aggregate {aggregate_id}: the store holds the leaf of its version "
                f"{prev.version} (position {prev.seq}) but not the event; events were deleted "
                "outside the library, so nothing more is written to it. Run 'mma audit verify'.",
                aggregate_id,
                version,
            )
        leaf = Leaf(
            seq=self.next_seq,
            aggregate_id=aggregate_id,
            version=version,
            topic=topic,
            recorded_at=self.recorded_at,
            state_sha256=state_sha256(state),
            prev=None if prev is None else prev.hash().hex(),
        )
        self.next_seq += 1
        self._last[aggregate_id] = leaf
        return leaf
