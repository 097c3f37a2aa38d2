"""Saves held back to be written later together, in one transaction.

``Programme.atomic()`` holds the saves of every command in its block; a command with a request
id holds its own, to write them with its receipt (``mma_core.application.receipts``). Both push a
:class:`Staged` on the programme's stack for the thread: ``save()`` adds to the innermost one,
and a command reads an aggregate from the stack (innermost first) before the store, so it sees
what the commands before it changed but did not write yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID


class Staged:
    """The changed aggregates (the latest object per id, its events still pending) and the
    recorder's extra save arguments (keys to store, keys to erase) of the saves held back."""

    def __init__(self) -> None:
        self.aggregates: dict[UUID, Any] = {}
        self.extras: dict[str, Any] = {}

    def add(self, objs: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
        for obj in objs:
            if obj is not None:
                self.aggregates[obj.id] = obj
        for key, value in kwargs.items():
            if isinstance(value, dict):
                self.extras.setdefault(key, {}).update(value)
            else:
                self.extras.setdefault(key, []).extend(value)

    def get(self, aggregate_id: UUID) -> Any | None:
        return self.aggregates.get(aggregate_id)

    @property
    def events(self) -> int:
        """How many events the held aggregates will write."""
        return sum(len(getattr(a, "pending_events", ())) for a in self.aggregates.values())


__all__ = ["Staged"]
