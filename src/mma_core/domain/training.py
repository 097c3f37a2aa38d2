"""The TrainingSession aggregate: one scheduled training, its seats booked and released."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from mma_core.domain.common import AMSTERDAM, Recorded, Stamp, not_in_future
from mma_core.domain.errors import (
    AlreadyRetracted,
    CapacityExceeded,
    InvalidInput,
    InvalidTransition,
)
from mma_core.domain.text import N_, _
from mma_core.domain.values import OfficialId, TrainingSlot, check_text

MAX_LOCATION = 300
# A session's schedule is its first event (``Scheduled``), the only fact of a session that is
# retracted or corrected: amendments name it by this version.
SCHEDULE_VERSION = 1
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


def check_slot(slot: TrainingSlot) -> None:
    """The rules of a session's time and place beyond the slot's own (which checks times and
    seats): scheduled and corrected alike."""
    check_text(slot.location, N_("a training's location"), limit=MAX_LOCATION)


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
            s.planned_on = self.on
            s.slot = TrainingSlot(self.starts_at, self.ends_at, self.location, self.capacity)
            s.online = self.online

    class ScheduleRetracted(Event):
        """The session's schedule (``Scheduled`` at ``position``) was never true: the session
        was not scheduled. ``on`` is the day it was planned, the retracted fact's date."""

        on: date
        position: int
        reason: str

        def apply(self, aggregate: Any) -> None:
            aggregate.retracted = True

    class ScheduleCorrected(Event):
        """The session's schedule (``Scheduled`` at ``position``) was recorded wrong: these
        are its time, place, seats and form as they were meant, all of them."""

        on: date
        position: int
        reason: str
        starts_at: datetime
        ends_at: datetime
        location: str
        capacity: int
        online: bool

        def apply(self, aggregate: Any) -> None:
            s: TrainingSession = aggregate
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
        self.planned_on: date | None = None
        self.retracted = False

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
        check_slot(slot)
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

    @property
    def schedule_fields(self) -> dict[str, Any]:
        """The schedule as it stands (corrected, if it was): the fields a correction changes."""
        assert self.slot is not None
        return {
            "starts_at": self.slot.starts_at,
            "ends_at": self.slot.ends_at,
            "location": self.slot.location,
            "capacity": self.slot.capacity,
            "online": self.online,
        }

    def check_not_retracted(self, position: int | None = None) -> None:
        if not self.retracted:
            return
        if position is None:
            raise InvalidTransition(
                _("session {session} was retracted: it was never scheduled").format(
                    session=self.session_id
                )
            )
        raise AlreadyRetracted(
            _(
                "session {session}: the schedule at position {position} was retracted already"
            ).format(session=self.session_id, position=position),
            details={"position": position},
        )

    def retract_schedule(self, position: int, reason: str, stamp: Stamp) -> None:
        """The schedule was never true. The seats booked on it are the caller's to have
        retracted first (their bookings are facts of the municipalities)."""
        self.check_not_retracted(position)
        self.trigger_event(
            self.ScheduleRetracted,
            timestamp=stamp.at,
            by=stamp.by,
            origin=stamp.origin,
            on=self.planned_on or stamp.today,
            position=position,
            reason=reason,
        )

    def correct_schedule(
        self, position: int, reason: str, slot: TrainingSlot, online: bool, stamp: Stamp
    ) -> None:
        """The schedule as it was meant, by the rules a schedule obeys; its seats may not
        drop below the officials holding one."""
        self.check_not_retracted(position)
        check_slot(slot)
        if slot.capacity < len(self.booked):
            raise CapacityExceeded(
                _(
                    "session {session}: {booked} officials hold a seat, more than {capacity}; "
                    "retract or move their bookings first"
                ).format(session=self.session_id, booked=len(self.booked), capacity=slot.capacity),
                details={"position": position},
            )
        self.trigger_event(
            self.ScheduleCorrected,
            timestamp=stamp.at,
            by=stamp.by,
            origin=stamp.origin,
            on=self.planned_on or stamp.today,
            position=position,
            reason=reason,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            location=slot.location,
            capacity=slot.capacity,
            online=bool(online),
        )

    def check_seat(self, official_id: OfficialId) -> None:
        self.check_not_retracted()
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
