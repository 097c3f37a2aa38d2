"""The in-memory recorder (``memory://``): eventsourcing's, with the officials' keys and the
audit leaves kept beside the events."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.popo import POPOApplicationRecorder

from mma_core.storage.keys import ERASE_KEYS, KEYS, ErasureCheck, page_of
from mma_core.storage.leaf_format import Leaf, LeafChain, recorded_now


class MemoryRecorder(POPOApplicationRecorder):
    def __init__(self) -> None:
        super().__init__()
        self._keys: dict[str, bytes] = {}
        self._keys_lock = threading.Lock()
        self.leaves: list[Leaf] = []
        self.leaf_index: dict[tuple[str, int], Leaf] = {}
        self._last_leaf: dict[str, Leaf] = {}
        self.leaf_counter = 0

    def _update_table(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # Runs under the recorder's lock, after the uniqueness check.
        ids = super()._update_table(stored_events, **kwargs)
        chain = LeafChain(self.leaf_counter + 1, recorded_now())
        for s in stored_events:
            leaf = chain.add(
                s.originator_id, s.originator_version, s.topic, s.state, self._last_leaf.get
            )
            self.leaves.append(leaf)
            self.leaf_index[(leaf.aggregate_id, leaf.version)] = leaf
            self._last_leaf[leaf.aggregate_id] = leaf
        self.leaf_counter = chain.next_seq - 1
        with self._keys_lock:
            self._keys.update(kwargs.get(KEYS) or {})
            for official_id in kwargs.get(ERASE_KEYS) or ():
                self._keys.pop(official_id, None)
        return ids

    def select_official_key(self, official_id: str) -> bytes | None:
        return self._keys.get(official_id)

    def select_positions(self, originator_id: UUID) -> dict[int, int]:
        with self._database_lock:
            index = self._stored_events_index[str(originator_id)]
            return {version: position + 1 for version, position in index.items()}

    def select_existing(self, originator_ids: Sequence[UUID]) -> set[UUID]:
        with self._database_lock:
            return {i for i in originator_ids if self._stored_events_index.get(str(i))}

    def select_page(
        self, originator_id: UUID, after: int | None, limit: int | None, latest: bool
    ) -> list[tuple[int, int]]:
        page = sorted(self.select_positions(originator_id).items(), key=lambda item: item[1])
        return page_of(page, after, limit, latest)

    def count_events(self) -> int:
        with self._database_lock:
            return len(self._stored_events)

    def after_erasure(self, erased: bytes | None = None) -> ErasureCheck:
        return ErasureCheck(
            store="memory",
            verified=("the key was removed from memory",),
            not_checked=("memory pages the process has freed but the system not reused",),
        )
