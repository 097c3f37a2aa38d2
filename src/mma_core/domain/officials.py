"""The officials of a municipality and their training: a track beside the lifecycle.

Each municipality sends officials to a training (the letter asks for two). MMA grants access to
at most two active officials per municipality; an official books one session, attendance is
recorded as attended or missed, and a missed official may book again. The dates of this track
are not ordered against the lifecycle's. :class:`OfficialsTrack` holds these rules; the
``Municipality`` aggregate is built from it and owns its events, so their topics stay
``mma_core.domain.municipality:Municipality.<Event>``.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from mma_core.domain.common import Stamp, as_date, not_before, not_in_future
from mma_core.domain.errors import (
    CapacityExceeded,
    InvalidDate,
    InvalidInput,
    InvalidTransition,
    UnknownOfficial,
)
from mma_core.domain.text import _ as _t
from mma_core.domain.text import day as message_day
from mma_core.domain.values import MunicipalityCode, OfficialId, Stage

MAX_ACTIVE_OFFICIALS = 2  # MMA grants access to at most two officials per municipality.


class OfficialRecord:
    """An official as the municipality knows them: no personal data but the sealed blob."""

    def __init__(self, official_id: str, sealed: str, nominated_on: date) -> None:
        self.id = official_id
        self.sealed = sealed
        self.nominated_on = nominated_on
        self.active = True
        self.erased = False
        self.withdrawn_on: date | None = None
        self.session_id: str | None = None
        self.session_date: date | None = None
        self.attended: bool | None = None


class OfficialsTrack:
    """The rules of the officials' track; ``Municipality`` is built from it."""

    # The state the track reads, kept by the Municipality's events.
    code: str
    stage: Stage
    successor: str | None
    officials: dict[str, OfficialRecord]
    officials_nominated: int

    if TYPE_CHECKING:  # what the aggregate it is part of provides
        OfficialNominated: type[Any]
        TrainingBooked: type[Any]
        AttendanceRecorded: type[Any]
        OfficialWithdrawn: type[Any]
        OfficialErased: type[Any]

        @property
        def label(self) -> str: ...

        def _trigger(self, event_class: type[Any], stamp: Stamp, **kwargs: Any) -> None: ...

        def _require_exists(self, day: date, what: str) -> None: ...

    def active_officials(self) -> list[OfficialRecord]:
        return [o for o in self.officials.values() if o.active]

    def official(self, official_id: OfficialId) -> OfficialRecord:
        try:
            return self.officials[official_id.value]
        except KeyError:
            raise UnknownOfficial(
                _t(
                    "{label}: no official {official} was nominated; see the officials with "
                    "'mma show'"
                ).format(label=self.label, official=official_id)
            ) from None

    def _track_date(self, on: date | None, what: str, stamp: Stamp) -> date:
        day = stamp.today if on is None else as_date(on, what, self.label)
        not_in_future(day, stamp, self.label, what)
        return day

    def check_nominate(
        self, on: date | None, stamp: Stamp, max_officials: int = MAX_ACTIVE_OFFICIALS
    ) -> tuple[OfficialId, date]:
        if self.stage is Stage.MERGED:
            raise InvalidTransition(
                _t("{label}: merged into {successor}; nominate there").format(
                    label=self.label, successor=self.successor
                )
            )
        day = self._track_date(on, "nomination date", stamp)
        # Not ordered against the lifecycle, but a municipality that does not exist on the day
        # (Dijk en Waard in 2019, Weesp after 2022-03-23) has no officials to nominate.
        self._require_exists(day, "nomination date")
        active = len(self.active_officials())
        limit = min(max_officials, MAX_ACTIVE_OFFICIALS)
        if active >= limit:
            raise CapacityExceeded(
                _t(
                    "{label}: already has {active} active officials, the most MMA grants access "
                    "to is {limit}; withdraw one first"
                ).format(label=self.label, active=active, limit=limit)
            )
        return OfficialId.of(MunicipalityCode(self.code), self.officials_nominated + 1), day

    def nominate_official(
        self, official_id: OfficialId, personal_data: str, on: date, stamp: Stamp
    ) -> None:
        self._trigger(
            self.OfficialNominated,
            stamp,
            on=on,
            official_id=official_id.value,
            personal_data=personal_data,
        )

    def check_booking(
        self, official_id: OfficialId, session_date: date, on: date | None, stamp: Stamp
    ) -> date:
        official = self.official(official_id)
        if not official.active:
            raise InvalidTransition(
                _t(
                    "{label}: official {official} is no longer active and cannot book training"
                ).format(label=self.label, official=official_id)
            )
        if official.session_id is not None and official.attended is not False:
            raise InvalidTransition(
                (
                    _t(
                        "{label}: official {official} attended session {session}; an official "
                        "books one session (a missed session may be booked again)"
                    )
                    if official.attended
                    else _t(
                        "{label}: official {official} is booked on session {session}; an "
                        "official books one session (a missed session may be booked again)"
                    )
                ).format(label=self.label, official=official_id, session=official.session_id)
            )
        if official.nominated_on > session_date:
            # Booking can never succeed: say how to get out, not only what is wrong.
            raise InvalidDate(
                _t(
                    "{label}: official {official} was nominated on {nominated}, after the session "
                    "on {session}; if the nomination was earlier (back-filling a past campaign), "
                    "withdraw this official and nominate them again with the day of the nomination"
                ).format(
                    label=self.label,
                    official=official_id,
                    nominated=message_day(official.nominated_on),
                    session=message_day(session_date),
                )
            )
        day = self._track_date(on, "booking date", stamp)
        not_before(day, official.nominated_on, self.label, "booking date", "the nomination on")
        if day > session_date:
            raise InvalidDate(
                _t(
                    "{label}: booking date {day} lies after the session on {session}; book a "
                    "session that is still to come"
                ).format(label=self.label, day=message_day(day), session=message_day(session_date))
            )
        return day

    def book_training(
        self, official_id: OfficialId, session_id: str, session_date: date, on: date, stamp: Stamp
    ) -> None:
        self._trigger(
            self.TrainingBooked,
            stamp,
            on=on,
            official_id=official_id.value,
            session_id=session_id,
            session_date=session_date,
        )

    def check_attendance(
        self, official_id: OfficialId, session_id: str, attended: bool, stamp: Stamp
    ) -> None:
        official = self.official(official_id)
        if official.session_id != session_id:
            raise InvalidTransition(
                (
                    _t(
                        "{label}: official {official} is not booked on session {session} "
                        "(booked on {booked})"
                    )
                    if official.session_id
                    else _t("{label}: official {official} is not booked on session {session}")
                ).format(
                    label=self.label,
                    official=official_id,
                    session=session_id,
                    booked=official.session_id,
                )
            )
        if official.attended is not None:
            raise InvalidTransition(
                _t(
                    "{label}: attendance of official {official} at session {session} was "
                    "recorded already"
                ).format(label=self.label, official=official_id, session=session_id)
            )
        if not isinstance(attended, bool):
            raise InvalidInput(_t("{label}: attended is true or false").format(label=self.label))

    def record_attendance(
        self,
        official_id: OfficialId,
        session_id: str,
        session_date: date,
        attended: bool,
        stamp: Stamp,
    ) -> None:
        self.check_attendance(official_id, session_id, attended, stamp)
        not_in_future(session_date, stamp, self.label, "session date")
        self._trigger(
            self.AttendanceRecorded,
            stamp,
            on=session_date,
            official_id=official_id.value,
            session_id=session_id,
            attended=attended,
        )

    def check_withdraw(self, official_id: OfficialId, on: date | None, stamp: Stamp) -> date:
        official = self.official(official_id)
        if not official.active:
            raise InvalidTransition(
                _t("{label}: official {official} is no longer active").format(
                    label=self.label, official=official_id
                )
            )
        day = self._track_date(on, "withdrawal date", stamp)
        not_before(day, official.nominated_on, self.label, "withdrawal date", "the nomination on")
        return day

    def withdraw_official(self, official_id: OfficialId, on: date, stamp: Stamp) -> None:
        self._trigger(self.OfficialWithdrawn, stamp, on=on, official_id=official_id.value)

    def check_erase(self, official_id: OfficialId) -> OfficialRecord:
        official = self.official(official_id)
        if official.erased:
            raise InvalidTransition(
                _t("{label}: official {official} was erased already").format(
                    label=self.label, official=official_id
                )
            )
        return official

    def erase_official(self, official_id: OfficialId, stamp: Stamp) -> None:
        self.check_erase(official_id)
        self._trigger(self.OfficialErased, stamp, on=stamp.today, official_id=official_id.value)

    def seat_to_release(self, official_id: OfficialId) -> str | None:
        """The session whose seat an official holds without attendance recorded, if any."""
        official = self.official(official_id)
        if official.session_id is not None and official.attended is None:
            return official.session_id
        return None
