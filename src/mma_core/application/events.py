"""The event log as records: each stored event as an :class:`EventRecord`, with its position,
its municipality and its own fields as plain values, never personal data. ``Programme.follow``
yields them, exporters and notification rules read them (``mma_core.plugin_api`` names the class).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import attrs
from eventsourcing.utils import get_topic

from mma_core.application.ports import Host
from mma_core.domain.jsonable import JSONReady
from mma_core.domain.municipality import Municipality, municipality_id
from mma_core.domain.receipt import CommandReceipt
from mma_core.domain.values import OfficialId
from mma_core.views.replay import event_data
from mma_core.views.state import SessionView

__all__ = ["EventReader", "EventRecord", "event_records"]

BATCH = 500
PERSONAL_FIELDS = frozenset({"personal_data"})


@attrs.frozen
class EventRecord(JSONReady):
    """An event as plugins see it: what happened, to which municipality, when.

    ``type`` is the event's name (``Invited``, ``Connected``, ``TrainingBooked``, ...) and
    ``aggregate`` the kind of thing it happened to (``Municipality``, ``TrainingSession``,
    ``Offer``, ``ReportClaim``). Deadlines are events too, made by the outbox on the day they
    fall due: ``EvaluationDue`` and ``AnswerOverdue`` (aggregate ``Deadline``, ``due_on`` set).
    ``data`` holds the event's own fields as plain values, never personal data; ``session``
    is set for events about a training session (``TrainingBooked``). ``to_dict()`` gives it as
    JSON types (``docs/schemas/results/EventRecord.json``).
    """

    id: UUID
    position: int
    aggregate: str
    type: str
    code: str | None
    business_date: date | None
    recorded_at: datetime | None
    by: str
    data: Mapping[str, Any]
    session: SessionView | None = None
    due_on: date | None = None


_RECEIPT = get_topic(CommandReceipt) + "."


class EventReader:
    """Turns stored notifications into :class:`EventRecord` values (no personal data)."""

    def __init__(self, programme: Host, include_receipts: bool = True) -> None:
        self.programme = programme
        self.include_receipts = include_receipts
        self._codes: dict[UUID, str] | None = None
        self._sessions: dict[str, SessionView] | None = None

    def code_of(self, event: Any) -> str | None:
        code = getattr(event, "code", None)
        if isinstance(code, str):
            return code
        official = getattr(event, "official_id", None)
        if isinstance(official, str):
            return OfficialId(official).code.value
        if not isinstance(event, Municipality.Event):
            return None  # an offer or a session: no municipality
        if self._codes is None or event.originator_id not in self._codes:
            self._codes = {municipality_id(c): c for c in self.programme.codes()}
        return self._codes.get(event.originator_id)

    def session(self, session_id: str) -> SessionView | None:
        if self._sessions is None or session_id not in self._sessions:
            self._sessions = {s.session_id: s for s in self.programme.sessions()}
        return self._sessions.get(session_id)

    def wanted(self, notification: Any) -> bool:
        """Whether ``notification`` is followed: every event, or without receipts none of
        the commands' receipts (told by topic, not decoded)."""
        return self.include_receipts or not notification.topic.startswith(_RECEIPT)

    def record(self, notification: Any) -> EventRecord:
        event: Any = self.programme.mapper.to_domain_event(notification)
        aggregate = type(event).__qualname__.split(".")[0]
        data = {k: v for k, v in event_data(event).items() if k not in PERSONAL_FIELDS}
        if isinstance(data.get("data"), Mapping):
            # A retracted or restated nomination carries the fact, personal data and all.
            data["data"] = {k: v for k, v in data["data"].items() if k not in PERSONAL_FIELDS}
        data["origin"] = getattr(event, "origin", "")
        session = None
        if isinstance(event, Municipality.TrainingBooked):
            session = self.session(event.session_id)
        return EventRecord(
            id=_event_id(event),
            position=int(notification.id),
            aggregate=aggregate,
            type=type(event).__name__,
            code=self.code_of(event),
            business_date=getattr(event, "business_date", None),
            recorded_at=event.timestamp,
            by=getattr(event, "by", ""),
            data=data,
            session=session,
        )


def _event_id(event: Any) -> UUID:
    """An event's identity: its aggregate and version (stable across copies of the store)."""
    return uuid5(NAMESPACE_URL, f"/events/{event.originator_id}/{event.originator_version}")


def event_records(programme: Host, start: int = 1) -> Iterator[EventRecord]:
    reader = EventReader(programme)
    while True:
        batch = programme.recorder.select_notifications(start, BATCH)
        for notification in batch:
            yield reader.record(notification)
        if len(batch) < BATCH:
            return
        start = batch[-1].id + 1
