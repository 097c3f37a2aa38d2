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
    """The changed aggregates (the latest object per id), the events they will write, and the
    recorder's extra save arguments (keys to store, keys to erase) of the saves held back.

    A held aggregate's events are kept here, not in the aggregate: a later command in the
    block gets a copy of the aggregate (so that one that fails leaves the block as it was), and
    a copy that carried every event the block had recorded so far grew with each command. The
    events go back to their aggregates when the holder writes them (:meth:`release`)."""

    def __init__(self) -> None:
        self.aggregates: dict[UUID, Any] = {}
        self.extras: dict[str, Any] = {}
        self.held_events: dict[UUID, list[Any]] = {}
        self.reads: dict[UUID, Any] = {}  # aggregates only read in the block (an offer's terms)

    def add(self, objs: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
        for obj in objs:
            if obj is not None:
                self.aggregates[obj.id] = obj
                collect = getattr(obj, "collect_events", None)
                if collect is not None:
                    self.held_events.setdefault(obj.id, []).extend(collect())
        self.add_extras(kwargs)

    def add_extras(self, kwargs: Mapping[str, Any]) -> None:
        for key, value in kwargs.items():
            if isinstance(value, dict):
                self.extras.setdefault(key, {}).update(value)
            else:
                self.extras.setdefault(key, []).extend(value)

    def absorb(self, inner: Staged) -> None:
        """Take over what an inner holder held (a command's, inside an ``atomic()`` block)."""
        for aggregate_id, aggregate in inner.aggregates.items():
            self.aggregates[aggregate_id] = aggregate
            self.held_events.setdefault(aggregate_id, []).extend(
                inner.held_events.get(aggregate_id, ())
            )
        self.add_extras(inner.extras)

    def get(self, aggregate_id: UUID) -> Any | None:
        return self.aggregates.get(aggregate_id)

    def events_of(self, aggregate_id: UUID) -> list[Any]:
        return self.held_events.get(aggregate_id, [])

    @property
    def events(self) -> int:
        """How many events the held aggregates will write."""
        return sum(map(len, self.held_events.values())) + sum(
            len(getattr(a, "pending_events", ())) for a in self.aggregates.values()
        )

    def release(self) -> list[Any]:
        """The held aggregates with their events given back to them, to be saved."""
        for aggregate_id, events in self.held_events.items():
            if events:
                self.aggregates[aggregate_id].pending_events[:0] = events
        self.held_events = {}
        return list(self.aggregates.values())


__all__ = ["Staged"]
