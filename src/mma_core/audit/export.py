"""The auditors' export: the stored event rows, the leaves, a signed checkpoint over them and
the public key, in the format of ``docs/audit-format.md``."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mma_core.audit import checkpoint as notes
from mma_core.audit.merkle import StreamingTree
from mma_core.audit.sources import Reader, leaf_of
from mma_core.storage.leaf_format import canonical_json, leaf_hash

EXPORT_FORMAT = "mma-export/v1"
EVENTS = "events.jsonl"
LEAVES = "leaves.jsonl"
CHECKPOINT = "checkpoint"
PUBLIC_KEY = "public-key"
MANIFEST = "manifest.json"


@dataclass(frozen=True, slots=True)
class Exported:
    directory: Path
    events: int
    leaves: int
    root: bytes
    checkpoint: str


def event_record(position: int, aggregate_id: str, version: int, topic: str, state: bytes) -> bytes:
    """An event row as one line of ``events.jsonl`` (without the newline)."""
    return canonical_json(
        {
            "aggregate_id": aggregate_id,
            "position": position,
            "state": base64.b64encode(state).decode("ascii"),
            "topic": topic,
            "version": version,
        }
    )


def export(
    reader: Reader,
    directory: Path,
    key: notes.SignerKey,
    origin: str,
    also: Sequence[notes.SignerKey] = (),
) -> Exported:
    """Write the export of the snapshot behind ``reader`` into ``directory``: the checkpoint
    signed by ``key`` and by each of ``also`` (a key rotation). An event row's ``position`` is
    its place in store order, 1-based: the number of its leaf in a store that verifies."""
    directory.mkdir(parents=True, exist_ok=True)
    events = 0
    with (directory / EVENTS).open("wb") as out:
        for row in reader.event_rows():
            events += 1
            out.write(event_record(events, *row[1:]) + b"\n")
    tree = StreamingTree()
    with (directory / LEAVES).open("wb") as out:
        for row in reader.leaf_rows():
            data = leaf_of(row).encode()
            out.write(data + b"\n")
            tree.append(leaf_hash(data))
    counter = reader.counter()
    root = tree.root()
    note = notes.sign(key, origin, tree.size, root, *also)
    (directory / CHECKPOINT).write_text(note, encoding="utf-8")
    (directory / PUBLIC_KEY).write_text(f"{key.verifier()}\n", encoding="ascii")
    manifest = {
        "format": EXPORT_FORMAT,
        "origin": origin,
        "events": events,
        "leaves": tree.size,
        "leaf_counter": counter,
        "root_sha256_hex": root.hex(),
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="ascii")
    return Exported(directory, events, tree.size, root, note)
