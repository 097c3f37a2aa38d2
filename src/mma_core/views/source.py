"""What the read models need of the programme whose events they follow.

The views depend on this protocol, not on the application: ``Programme`` satisfies it, and a
test may hand the read models anything else that does. The eventsourcing attributes
(``recorder``, ``mapper``, ``repository``, ``env``, ``factory``) are those of an
``eventsourcing.application.Application``; the methods are the programme's public queries.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any, Protocol
from uuid import UUID

from mma_core.domain.values import Official, OfficialId


class ViewSource(Protocol):
    """A programme's events and the little else the read models ask of it."""

    @property
    def recorder(self) -> Any:
        """The application recorder: ``select_notifications``, ``max_notification_id``."""

    @property
    def mapper(self) -> Any:
        """Turns a stored notification into its domain event (``to_domain_event``)."""

    @property
    def repository(self) -> Any:
        """Gets an aggregate at a version (``get(aggregate_id, version=...)``)."""

    @property
    def events(self) -> Any:
        """The event store: an aggregate's events by version (``get(id, gt=, lte=, limit=)``)."""

    @property
    def env(self) -> Any:
        """The store's settings: ``PERSISTENCE_MODULE`` says where the views live."""

    @property
    def factory(self) -> Any:
        """The infrastructure factory; its ``datastore`` holds the views' tables too."""

    @property
    def create_tables(self) -> bool:
        """False when the store's role may not run DDL: the views' tables must exist."""

    def today(self) -> date:
        """The programme's today (its clock, in Europe/Amsterdam)."""

    def reveal(self, official_id: OfficialId, sealed: str) -> Official | None:
        """An official's sealed personal data opened with their key; ``None`` once erased."""

    def aggregate_events(self, aggregate_id: UUID) -> list[Any]:
        """Every event of one aggregate, oldest first."""

    def events_of_type(self, event_class: type[Any]) -> Iterator[Any]:
        """Every event of that class in the order the store recorded them."""


__all__ = ["ViewSource"]
