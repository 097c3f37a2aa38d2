"""The TrainingSession aggregate: one scheduled training, its seats booked and released."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from mma_core.domain.common import AMSTERDAM, Recorded, Stamp, not_in_future
from mma_core.domain.errors import CapacityExceeded, InvalidInput, InvalidTransition
from mma_core.domain.text import N_, _
from mma_core.domain.values import OfficialId, TrainingSlot, check_text

MAX_LOCATION = 300
_SESSION_ID = re.compile(r"[A-Za-z0-9._-]{1,60}")


def check_session_id(session_id: object) -> str:
    if not isinstance(session_id, str) or not _SESSION_ID.fullmatch(session_id):
        raise InvalidInput(
            _(
                "{session} is not a session id: 1 to 60 letters, digits or . _ -, e.g. 2019-11-06"
            ).format(session=repr(session_id))
        )
    return session_id


def session_id_to_uuid(session_id: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"/training-sessions/{check_session_id(session_id)}")


class TrainingSession(Aggregate):
    class Event(Recorded):
        pass

    class Scheduled(Event, Aggregate.Created):
        """Class version 2 added ``online``: whether the session is held online."""

        class_version = 2

        on: date
        session_id: str
        starts_at: datetime
        ends_at: datetime
        location: str
        capacity: int
        online: bool

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Every session scheduled before the field existed was held in person.
            state["online"] = False

        def apply(self, aggregate: Any) -> None:
            s: TrainingSession = aggregate
            s.session_id = self.session_id
            s.slot = TrainingSlot(self.starts_at, self.ends_at, self.location, self.capacity)
            s.online = self.online

    class SeatBooked(Event):
        on: date
        official_id: str

        def apply(self, aggregate: Any) -> None:
            aggregate.booked.append(self.official_id)

    class SeatReleased(Event):
        on: date
        official_id: str

        def apply(self, aggregate: Any) -> None:
            aggregate.booked.remove(self.official_id)

    def __init__(self) -> None:
        self.session_id = ""
        self.slot: TrainingSlot | None = None
        self.booked: list[str] = []
        self.online = False

    @classmethod
    def schedule(
        cls,
        session_id: str,
        slot: TrainingSlot,
        stamp: Stamp,
        *,
        online: bool = False,
        on: date | None = None,
    ) -> TrainingSession:
        """``on`` is the day the session was planned (default: the day it is recorded): a
        letter of an earlier date does not offer it yet."""
        check_text(slot.location, N_("a training's location"), limit=MAX_LOCATION)
        if on is not None:
            not_in_future(
                on, stamp, _("session {session}").format(session=session_id), N_("scheduled on")
            )
        return cls._create(
            cls.Scheduled,
            id=session_id_to_uuid(session_id),
            timestamp=stamp.at,
            by=stamp.by,
            origin=stamp.origin,
            on=stamp.today if on is None else on,
            session_id=session_id,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            location=slot.location,
            capacity=slot.capacity,
            online=online,
        )

    @property
    def day(self) -> date:
        assert self.slot is not None
        return self.slot.starts_at.astimezone(AMSTERDAM).date()

    @property
    def capacity(self) -> int:
        assert self.slot is not None
        return self.slot.capacity

    def check_seat(self, official_id: OfficialId) -> None:
        if official_id.value in self.booked:
            raise InvalidTransition(
                _("session {session}: official {official} holds a seat already").format(
                    session=self.session_id, official=official_id
                )
            )
        if len(self.booked) >= self.capacity:
            raise CapacityExceeded(
                _(
                    "session {session}: all {capacity} seats are booked; book the official on "
                    "another session"
                ).format(session=self.session_id, capacity=self.capacity)
            )

    def book(self, official_id: OfficialId, on: date, stamp: Stamp) -> None:
        self.check_seat(official_id)
        self.trigger_event(
            self.SeatBooked,
            timestamp=stamp.at,
            by=stamp.by,
            origin=stamp.origin,
            on=on,
            official_id=official_id.value,
        )

    def release(self, official_id: OfficialId, on: date, stamp: Stamp) -> None:
        if official_id.value not in self.booked:
            raise InvalidTransition(
                _("session {session}: official {official} holds no seat to release").format(
                    session=self.session_id, official=official_id
                )
            )
        self.trigger_event(
            self.SeatReleased,
            timestamp=stamp.at,
            by=stamp.by,
            origin=stamp.origin,
            on=on,
            official_id=official_id.value,
        )
