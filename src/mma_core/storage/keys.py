"""The officials' keys table every recorder keeps beside the events, and what an erasure
checked: the names ``save()`` takes keys with and the protocol the programme reads them by."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol
from uuid import UUID

import attrs

KEYS = "official_keys"  # save() keyword: {official_id: key} to store with the events
ERASE_KEYS = "erase_official_keys"  # save() keyword: [official_id] whose keys to delete
ERASE_WAIT_MS = 5000  # how long an erasure waits for readers before it reports them
# PostgreSQL: how long to retry a rewrite that had to keep rows an open transaction may see
# (any transaction in the database holds the horizon back; most end within seconds).
ERASE_RETRY_SECONDS = 15.0
WIPE_AGAIN = "run 'mma official wipe' (Programme.wipe_erased_keys) once no other process reads it"


@attrs.frozen
class ErasureCheck:
    """What the store did and checked to remove a deleted key's bytes, and what it cannot."""

    store: str
    verified: tuple[str, ...]
    not_checked: tuple[str, ...]


class KeyStore(Protocol):
    def select_official_key(self, official_id: str) -> bytes | None: ...

    def select_positions(self, originator_id: UUID) -> dict[int, int]: ...

    def select_existing(self, originator_ids: Sequence[UUID]) -> set[UUID]:
        """Which of these aggregates have events (one query, for bulk recording)."""
        ...

    def select_page(
        self, originator_id: UUID, after: int | None, limit: int | None, latest: bool
    ) -> list[tuple[int, int]]:
        """(version, position) of the aggregate's events after position ``after``, at most
        ``limit`` (the last ones if ``latest``), in position order: one page of a history."""
        ...

    def count_events(self) -> int: ...


def page_of(
    page: list[tuple[int, int]], after: int | None, limit: int | None, latest: bool
) -> list[tuple[int, int]]:
    if after is not None:
        page = [item for item in page if item[1] > after]
    if limit is None:
        return page
    return (page[len(page) - limit :] if limit else []) if latest else page[:limit]
