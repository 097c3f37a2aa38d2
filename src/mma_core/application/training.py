"""The training track's commands: sessions, officials, bookings and attendance,
withdrawal and erasure of an official's personal data."""

from __future__ import annotations

from datetime import date, datetime

from mma_core.application.commanding import command
from mma_core.application.pricing import Pricing
from mma_core.domain.common import AMSTERDAM
from mma_core.domain.errors import (
    InvalidInput,
    InvalidTransition,
)
from mma_core.domain.municipality import Municipality
from mma_core.domain.training import TrainingSession, check_session_id, session_id_to_uuid
from mma_core.domain.values import (
    MunicipalityCode,
    Official,
    OfficialId,
    TrainingSlot,
)
from mma_core.language.i18n import _ as _t
from mma_core.storage import (
    ERASE_KEYS,
    KEYS,
    ErasureCheck,
)
from mma_core.storage.privacy import new_key, seal


class TrainingCommands(Pricing):
    """Commands about training sessions and the officials who attend them."""

    @command
    def schedule_training(
        self,
        session_id: str,
        *,
        starts_at: datetime,
        ends_at: datetime,
        location: str,
        capacity: int,
        by: str,
        on: date | None = None,
        origin: str | None = None,
        request_id: str | None = None,
    ) -> str:
        """Schedule a training session. Naive datetimes are read as Europe/Amsterdam time.
        ``on`` is the day it was planned (default: today): letters dated before it do not
        offer it."""
        session_id = check_session_id(session_id)
        slot = TrainingSlot(aware(starts_at), aware(ends_at), location, capacity)
        stamp = self._stamp(by, origin)

        def attempt() -> str:
            if self.uow.exists(session_id_to_uuid(session_id)):
                raise InvalidTransition(
                    _t("session {session} was scheduled already").format(session=session_id)
                )
            self.save(TrainingSession.schedule(session_id, slot, stamp, on=on))
            return session_id

        return self._run(attempt)

    @command
    def nominate_official(
        self,
        code: str,
        *,
        name: str,
        email: str,
        by: str,
        on: date | None = None,
        salutation: str = "",
        origin: str | None = None,
        request_id: str | None = None,
    ) -> str:
        """Nominate an official; returns the official id (e.g. ``GM0363-1``). ``salutation``
        is how letters greet the official ("Geachte mevrouw Smit,"), sealed with the name;
        without it they use the neutral form."""
        person = Official(name=name, email=email, salutation=salutation)
        stamp = self._stamp(by, origin)

        def attempt() -> str:
            m = self.uow.municipality(code)
            limit = 2
            if m.offer_reference is not None:
                limit = self._terms_for(m, stamp.today)[1].officials_per_municipality
            official_id, day = m.check_nominate(on, stamp, limit)
            key = new_key()
            m.nominate_official(official_id, seal(key, official_id, person), day, stamp)
            stored = self.key_wrapper.wrap(official_id.value, key)
            self.save(m, **{KEYS: {official_id.value: stored}})
            return official_id.value

        return self._run(attempt)

    @command
    def book_training(
        self,
        code: str,
        *,
        official_id: str,
        session_id: str,
        by: str,
        on: date | None = None,
        origin: str | None = None,
        request_id: str | None = None,
    ) -> str:
        """Book official ``official_id`` of ``code`` on session ``session_id``."""
        oid = _official_of(code, official_id)
        stamp = self._stamp(by, origin)

        def attempt() -> str:
            m = self.uow.municipality(code)
            session = self.uow.session(check_session_id(session_id))
            session.check_not_retracted()
            day = m.check_booking(oid, session.day, on, stamp)
            session.check_seat(oid)
            m.book_training(oid, session.session_id, session.day, day, stamp)
            session.book(oid, day, stamp)
            self.save(m, session)
            return session.session_id

        return self._run(attempt)

    @command
    def record_attendance(
        self,
        code: str,
        *,
        official_id: str,
        session_id: str,
        attended: bool,
        by: str,
        origin: str | None = None,
        request_id: str | None = None,
    ) -> str:
        """Record whether official ``official_id`` attended session ``session_id``."""
        oid = _official_of(code, official_id)
        stamp = self._stamp(by, origin)

        def attempt() -> str:
            m = self.uow.municipality(code)
            session = self.uow.session(check_session_id(session_id))
            if oid.value not in session.booked and m.official(oid).session_id == session_id:
                # Withdrawn or erased before the session: the seat was released, so the
                # official was not there to attend or miss it.
                raise InvalidTransition(
                    _t(
                        "{label}: official {official} gave up the seat on session {session}; "
                        "attendance is recorded only for officials holding a seat"
                    ).format(label=m.label, official=oid, session=session_id)
                )
            m.record_attendance(oid, session.session_id, session.day, attended, stamp)
            self.save(m)
            return oid.value

        return self._run(attempt)

    @command
    def withdraw_official(
        self,
        official_id: str,
        *,
        by: str,
        on: date | None = None,
        origin: str | None = None,
        request_id: str | None = None,
    ) -> str:
        """Withdraw official ``official_id`` (from ``on``); their seat on a session to come is
        released."""
        oid = OfficialId(official_id)
        stamp = self._stamp(by, origin)

        def attempt() -> str:
            m = self.uow.municipality(oid.code)
            day = m.check_withdraw(oid, on, stamp)
            session = self._held_seat(m, oid, day)
            m.withdraw_official(oid, day, stamp)
            if session is not None:
                session.release(oid, day, stamp)
            self.save(m, session)
            return oid.value

        return self._run(attempt)

    @command
    def erase_official(
        self, official_id: str, *, by: str, origin: str | None = None, request_id: str | None = None
    ) -> str:
        """Delete the official's key: their data reads ``[erased]``; the history still verifies.

        Then the store removes the key's bytes from its files and checks it
        (:meth:`wipe_erased_keys`); what it checked is in :attr:`last_erasure`. When that
        check fails (:class:`ErasureIncomplete`: a reader held an old snapshot) the erasure is
        recorded and the key deleted all the same: call :meth:`wipe_erased_keys` again later.
        """
        oid = OfficialId(official_id)
        stamp = self._stamp(by, origin)
        stored: list[bytes | None] = [None]

        def attempt() -> str:
            m = self.uow.municipality(oid.code)
            official = m.check_erase(oid)
            session = self._held_seat(m, oid, stamp.today) if official.active else None
            m.erase_official(oid, stamp)
            if session is not None:
                session.release(oid, stamp.today, stamp)
            stored[0] = self.keys.select_official_key(oid.value)
            self.save(m, session, **{ERASE_KEYS: [oid.value]})
            return oid.value

        self.last_erasure = None
        result = self._run(attempt)
        self.last_erasure = self.wipe_erased_keys(stored[0])
        return result

    def wipe_erased_keys(self, erased: bytes | None = None) -> ErasureCheck:
        """Remove deleted keys' bytes from the store's files and say what was checked: on
        SQLite the WAL is folded into the file and emptied (and ``erased``, a key's stored
        bytes, looked for in both); on PostgreSQL the keys table is rewritten. Raises
        :class:`~mma_core.domain.errors.ErasureIncomplete` when a reader prevents it."""
        check: ErasureCheck = self.recorder.after_erasure(erased)  # type: ignore[attr-defined]
        return check

    def _held_seat(self, m: Municipality, oid: OfficialId, day: date) -> TrainingSession | None:
        """The session whose seat the official gives up: one still to come, not yet attended."""
        session_id = m.seat_to_release(oid)
        if session_id is None:
            return None
        session = self.uow.session(session_id)
        return session if session.day >= day else None


def aware(value: datetime) -> datetime:
    if not isinstance(value, datetime):
        raise InvalidInput(_t("a training time must be a date and time"))
    return value if value.tzinfo is not None else value.replace(tzinfo=AMSTERDAM)


def _official_of(code: str, official_id: str) -> OfficialId:
    oid = OfficialId(official_id)
    if oid.code != MunicipalityCode.parse(code):
        raise InvalidInput(
            _t("{code}: official {official} belongs to {owner}, not to this municipality").format(
                code=MunicipalityCode.parse(code), official=oid, owner=oid.code
            )
        )
    return oid
