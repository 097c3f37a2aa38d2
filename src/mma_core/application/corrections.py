"""Corrections: ``retract`` a fact that was never true, ``correct`` the fields of one that was
recorded wrong. Both name the fact by its log position and say why; nothing is deleted.

The rules are the commands' own (see :mod:`mma_core.domain.corrections`): the amended history
is replayed through them. What the commands priced or claimed follows the amendment here: a
moved date is priced again, a retracted report's reference is free again, a corrected reference
moves its claim, and a retracted or re-priced connection gives its amount back to its
tariff's budget.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from uuid import UUID

import attrs
from eventsourcing.application import AggregateNotFoundError

from mma_core.application.commanding import command
from mma_core.application.reports import ReportCommands
from mma_core.application.training import aware
from mma_core.domain.budget import Budget, budget_id
from mma_core.domain.common import AMSTERDAM, Stamp, as_date, not_in_future
from mma_core.domain.corrections import (
    COMPANIONS,
    CORRECTABLE,
    REPORT,
    AmendmentContext,
    fact_fields,
)
from mma_core.domain.errors import (
    DependsOn,
    DomainError,
    InvalidInput,
    InvalidTransition,
    NotCorrectable,
    UnknownPosition,
)
from mma_core.domain.municipality import MAX_REASON, Municipality
from mma_core.domain.report_claim import ReportClaim, claim_ids
from mma_core.domain.training import SCHEDULE_VERSION, TrainingSession
from mma_core.domain.values import (
    CostKind,
    CostLine,
    Money,
    Official,
    OfficialId,
    Outcome,
    ReportCategory,
    ReportReference,
    TrainingSlot,
    add_months,
    has_control,
)
from mma_core.language.i18n import _ as _t
from mma_core.storage.errors import guarded
from mma_core.storage.privacy import seal

FACT_REASON = "fact_reason"  # the keyword that corrects a fact's own ``reason`` field
MAX_LISTED = 50  # positions a refusal lists in its details (and how many more there are)
_DATES = frozenset({"on", "connected_on", "received_on"})
_TEXTS = frozenset(
    {"reason", "notes", "reasons", "name", "email", "salutation", "session_id", "location"}
)
_TIMES = frozenset({"starts_at", "ends_at"})
_FLAGS = frozenset({"attended", "online"})
# A training session's schedule: a fact of the session, not of a municipality.
SCHEDULED = "Scheduled"
_COUNTS = frozenset({"useful", "followed_up", "satisfaction"})
_PERSONAL = frozenset({"name", "email", "salutation"})


def coerce(field: str, value: object) -> object:
    """A correction's value as the fact holds it; text (from a command line or a form) is
    read as the field's type. Raises InvalidInput naming the field, never echoing a value that
    may be personal data."""
    try:
        if field in _DATES:
            if isinstance(value, str):
                return date.fromisoformat(value)
            return as_date(value, field, _t("the correction"))
        if field in ("costs", "recovered"):
            return Money.non_negative(value, field)
        if field in _TIMES:
            # Naive times are Europe/Amsterdam time, as schedule_training reads them.
            if isinstance(value, str):
                return aware(datetime.fromisoformat(value.strip()))
            if not isinstance(value, datetime):
                raise ValueError
            return aware(value)
        if field in _COUNTS or field == "capacity":
            if field in _COUNTS and (value is None or value == ""):
                return None
            if isinstance(value, bool):
                raise ValueError
            return int(str(value)) if isinstance(value, str) else _whole(value)
        if field in _FLAGS:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("true", "ja", "yes", "1"):
                return True
            if text in ("false", "nee", "no", "0"):
                return False
            raise ValueError
        if field == "outcome":
            return Outcome(str(value)).value
        if field == "category":
            return ReportCategory(str(value)).value
        if field == "reference":
            return ReportReference(str(value)).value
        if field in _TEXTS:
            if not isinstance(value, str):
                raise ValueError
            return value
    except DomainError:
        raise
    except (ValueError, TypeError):
        raise InvalidInput(
            _t("the correction's value for {field} is not valid for that field").format(
                field=field
            ),
            details={"field": field},
        ) from None
    raise NotCorrectable(
        _t("{field} is not a field a correction can change").format(field=field),
        details={"field": field},
    )


def _whole(value: object) -> int:
    if not isinstance(value, int):
        raise ValueError
    return value


def check_reason(reason: object) -> str:
    """The reason a correction carries: required free text, one line, no personal data."""
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput(
            _t("a retraction or correction needs a reason: say why the record was wrong")
        )
    if len(reason) > MAX_REASON or has_control(reason):
        raise InvalidInput(
            _t(
                "the reason is one line of at most {most} characters, without control characters"
            ).format(most=MAX_REASON)
        )
    return reason.strip()


def check_changes(fact: str, position: int, changes: Mapping[str, object]) -> dict[str, object]:
    """The changes of a correction of ``fact`` (recorded at ``position``), each field one
    a correction of that fact can change and each value read as that field's type."""
    allowed = CORRECTABLE.get(fact, frozenset())
    for field in changes:
        if field not in allowed:
            raise NotCorrectable(
                _t("{fact} has no field {field} a correction can change; it has: {fields}").format(
                    fact=fact, field=field, fields=", ".join(sorted(allowed))
                ),
                details={"position": position, "field": field},
            )
    return {field: coerce(field, value) for field, value in changes.items()}


@attrs.frozen
class AmendableFact:
    """A fact as a retraction or correction would find it: where it was recorded, about
    which municipality, its kind and its fields as they stand now (corrected, if it was).
    A nomination's personal data is opened to ``name``, ``email`` and ``salutation`` (or
    ``[erased]``), as ``history`` shows it."""

    position: int
    code: str
    name: str
    fact: str
    fields: dict[str, Any]


class CorrectionCommands(ReportCommands):
    """``retract`` and ``correct``: amend a fact recorded earlier, by its log position."""

    @command
    def retract(
        self,
        position: int,
        *,
        reason: str,
        by: str,
        origin: str | None = None,
        request_id: str | None = None,
    ) -> str:
        """The fact recorded at ``position`` was never true. Returns the code of the
        municipality it was about.

        Refused with ``depends_on`` (and the positions in ``details``) when later facts rest
        on it: a connection with reports after it, an acceptance of a municipality connected
        since, a booking with its attendance. Retract those first. Its costs are taken back by
        a reversal line on its date (a connection's amount goes back to its tariff's budget,
        if the tariff has a ceiling); a retracted report frees its reference."""
        reason = check_reason(reason)
        stamp = self._stamp(by, origin)
        located = self._locate(position)
        if located.fact == SCHEDULED:
            return self._run(lambda: self._retract_schedule(located, reason, stamp))

        def attempt() -> str:
            m = self._amended_municipality(located)
            version, name, data = self._current(m, located)
            m.check_not_retracted(version, located.position)
            changes: dict[int, tuple[str, dict[str, Any]] | None] = {version: None}
            companion = self._companion(m, version, name)
            if companion is not None:
                changes[companion[0]] = None
            context = self._context()
            if name != REPORT:
                failures = m.replay_amended(changes, stamp, context, collect=True)
                if failures:
                    raise self._depends_on(m, located.position, failures)
            others: list[Any] = []
            if name == "Merged":
                others.append(self._retract_predecessor(m, data, reason, stamp, context))
            if name == "TrainingBooked":
                others.extend(self._release_booked(m, data, stamp))
            if name == "Connected":
                others.extend(self._refunded(m, data, located.position, stamp))
            bounds = self._bounds_without(m, version, data) if name == REPORT else (None, None)
            self._trigger_retracted(m, stamp, located.position, version, name, data, reason, bounds)
            if companion is not None:
                c_version, c_name, c_data = companion
                position = self.keys.select_positions(m.id).get(c_version, 0)
                self._trigger_retracted(m, stamp, position, c_version, c_name, c_data, reason)
            if name == REPORT:
                others.append(self._release_claim(data["reference"], stamp))
            self.save(m, *others)
            return m.code

        return self._run(attempt)

    @command
    def correct(
        self,
        /,
        position: int,
        *,
        reason: str,
        by: str,
        origin: str | None = None,
        request_id: str | None = None,
        **changes: Any,
    ) -> str:
        """Some fields of the fact at ``position`` were wrong: ``changes`` gives them right,
        by the fact's own field names (``on``, ``received_on``, ``category``, ``reference``,
        ``outcome``, ``name``, ``email``, ...), except that a decline's or termination's own
        ``reason`` is ``fact_reason=`` (``reason=`` says why the correction is made). Returns
        the code of the municipality.

        The corrected history must obey every rule the commands check; a correction that
        breaks one is refused with that rule's code. A moved date is priced again on its new
        date (the old cost is taken back, the new one charged; under a tariff with a ceiling,
        against its budget with the old amount given back); a corrected reference moves its
        claim (refused if the new one is taken)."""
        reason = check_reason(reason)
        if FACT_REASON in changes:
            # The fact's own reason (a decline's, a termination's): ``reason`` is the
            # correction's.
            changes = {("reason" if k == FACT_REASON else k): v for k, v in changes.items()}
        if not changes:
            raise InvalidInput(_t("a correction needs at least one field to change"))
        stamp = self._stamp(by, origin)
        located = self._locate(position)
        wanted = check_changes(located.fact, located.position, changes)
        if located.fact == SCHEDULED:
            return self._run(lambda: self._correct_schedule(located, wanted, reason, stamp))

        def attempt() -> str:
            m = self._amended_municipality(located)
            version, name, data = self._current(m, located)
            m.check_not_retracted(version, located.position)
            if not self._changes_anything(data, wanted, name):
                raise InvalidInput(
                    _t(
                        "the correction changes nothing: the fact at position {position} has "
                        "these values already"
                    ).format(position=located.position),
                    details={"position": located.position},
                )
            new, others = self._restated(m, name, data, wanted, located.position, stamp)
            changes_by_version: dict[int, tuple[str, dict[str, Any]] | None] = {
                version: (name, new)
            }
            companion = self._companion(m, version, name)
            c_new: dict[str, Any] | None = None
            if companion is not None:
                c_version, c_name, c_data = companion
                c_new = self._companion_restated(m, c_data, new)
                changes_by_version[c_version] = (c_name, c_new)
            context = self._context()
            if name == REPORT:
                m.check_report(new["received_on"], stamp)
            else:
                m.replay_amended(changes_by_version, stamp, context)
            if name == "Merged":
                others.append(self._restate_predecessor(m, data, new, reason, stamp, context))
            bounds = self._bounds_without(m, version, data) if name == REPORT else (None, None)
            self._trigger_corrected(
                m, stamp, located.position, version, name, data, new, reason, bounds
            )
            if companion is not None and c_new is not None:
                c_version, c_name, c_data = companion
                position = self.keys.select_positions(m.id).get(c_version, 0)
                self._trigger_corrected(
                    m, stamp, position, c_version, c_name, c_data, c_new, reason
                )
            self.save(m, *others)
            return m.code

        return self._run(attempt)

    @guarded
    def amendable(self, position: int) -> AmendableFact:
        """The fact at ``position`` as ``retract`` and ``correct`` would amend it, to show
        before asking. Refused as they are: ``unknown_position``, ``not_correctable``,
        ``already_retracted``."""
        located = self._locate(position)
        if located.fact == SCHEDULED:
            session = self._amended_session(located)
            assert session.slot is not None
            return AmendableFact(
                located.position,
                session.session_id,
                session.slot.location,
                SCHEDULED,
                session.schedule_fields,
            )
        m = self._amended_municipality(located)
        version, name, data = self._current(m, located)
        m.check_not_retracted(version, located.position)
        fields = dict(data)
        if name == "OfficialNominated" and "personal_data" in fields:
            sealed = fields.pop("personal_data")
            person = self.reveal(OfficialId(fields["official_id"]), sealed)
            if person is None:
                fields["personal_data"] = "[erased]"
            else:
                fields.update(name=person.name, email=person.email, salutation=person.salutation)
        return AmendableFact(located.position, m.code, m.name, name, fields)

    # -- finding the fact -----------------------------------------------------------------

    def _locate(self, position: object) -> _Located:
        if isinstance(position, bool) or not isinstance(position, int) or position < 1:
            raise InvalidInput(
                _t("a position is a whole number of 1 or more (see 'mma history')"),
                details={"field": "position"},
            )
        found = self.recorder.select_notifications(position, 1)
        if not found or int(found[0].id) != position:
            raise UnknownPosition(
                _t("no event was recorded at position {position}").format(position=position),
                details={"position": position},
            )
        event: Any = self.mapper.to_domain_event(found[0])
        if isinstance(event, Municipality.FactRestated):
            # A correction names the fact it corrects: amend that fact again.
            return _Located(event.position, event.originator_id, event.version, event.fact)
        if isinstance(event, TrainingSession.Scheduled):
            return _Located(position, event.originator_id, SCHEDULE_VERSION, SCHEDULED)
        if isinstance(event, TrainingSession.ScheduleCorrected):
            # As a municipality's correction: amend the schedule it corrects.
            return _Located(event.position, event.originator_id, SCHEDULE_VERSION, SCHEDULED)
        name = type(event).__name__
        if not isinstance(event, Municipality.Event) or name not in CORRECTABLE:
            raise NotCorrectable(
                _t(
                    "the event at position {position} ({fact}) is not a fact that can be "
                    "retracted or corrected"
                ).format(position=position, fact=name),
                details={"position": position},
            )
        return _Located(position, event.originator_id, event.originator_version, name)

    # -- a training session's schedule --------------------------------------------------

    def _amended_session(self, located: _Located) -> TrainingSession:
        session: TrainingSession = self.uow.get(located.aggregate_id)
        session.check_not_retracted(located.position)
        return session

    def _retract_schedule(self, located: _Located, reason: str, stamp: Stamp) -> str:
        """The session was never scheduled: refused while officials hold a seat on it (their
        bookings are retracted, or moved, first)."""
        session = self._amended_session(located)
        self._check_no_seats(session, located.position)
        session.retract_schedule(located.position, reason, stamp)
        self.save(session)
        return session.session_id

    def _correct_schedule(
        self, located: _Located, wanted: Mapping[str, Any], reason: str, stamp: Stamp
    ) -> str:
        """The schedule as it was meant, by the rules schedule_training checks. A session
        whose day changes is refused while officials hold a seat (their bookings carry the
        day); its seats may not drop below those held."""
        session = self._amended_session(located)
        current = session.schedule_fields
        new = {**current, **wanted}
        if new == current:
            raise InvalidInput(
                _t(
                    "the correction changes nothing: the fact at position {position} has "
                    "these values already"
                ).format(position=located.position),
                details={"position": located.position},
            )
        slot = TrainingSlot(new["starts_at"], new["ends_at"], new["location"], new["capacity"])
        if slot.starts_at.astimezone(AMSTERDAM).date() != session.day:
            self._check_no_seats(session, located.position)
        session.correct_schedule(located.position, reason, slot, new["online"], stamp)
        self.save(session)
        return session.session_id

    def _check_no_seats(self, session: TrainingSession, position: int) -> None:
        """Refused with ``depends_on`` and the positions of the bookings (municipalities'
        TrainingBooked facts) of the officials holding a seat on ``session``."""
        if not session.booked:
            return
        resting: set[int] = set()
        for official in session.booked:
            oid = OfficialId(official)
            m = self.uow.municipality(oid.code.value)
            versions = [
                int(version)
                for version, name, data in m.facts
                if name == "TrainingBooked"
                and data["official_id"] == official
                and data["session_id"] == session.session_id
            ]
            if versions:
                at = self.keys.select_positions(m.id).get(max(versions), 0)
                if at:
                    resting.add(at)
        positions = sorted(resting)
        raise DependsOn(
            _t(
                "session {session}: {count} officials hold a seat on it (bookings at positions "
                "{positions}); retract or move those bookings first"
            ).format(
                session=session.session_id,
                count=len(session.booked),
                positions=", ".join(map(str, positions[:MAX_LISTED])),
            ),
            details={
                "position": position,
                "positions": list(positions[:MAX_LISTED]),
                "more": max(0, len(positions) - MAX_LISTED),
            },
        )

    def _amended_municipality(self, located: _Located) -> Municipality:
        m: Municipality = self.uow.get(located.aggregate_id)
        return m

    def _current(self, m: Municipality, located: _Located) -> tuple[int, str, dict[str, Any]]:
        """The fact as it stands now: corrected, if it was; a report as recorded, else."""
        current = m.current_fact(located.version)
        if current is not None:
            return located.version, current[0], current[1]
        if m.amendment_of(located.version) == "retracted":
            return located.version, located.fact, {}
        for event in self.events.get(m.id, gt=located.version - 1, lte=located.version):
            return located.version, located.fact, fact_fields(event)
        raise UnknownPosition(  # pragma: no cover - the position was read a moment ago
            _t("no event was recorded at position {position}").format(position=located.position)
        )

    def _companion(
        self, m: Municipality, version: int, name: str
    ) -> tuple[int, str, dict[str, Any]] | None:
        companion = COMPANIONS.get(name)
        if companion is None:
            return None
        current = m.current_fact(version + 1)
        if current is None or current[0] != companion:
            return None
        return version + 1, current[0], current[1]

    def _context(self) -> AmendmentContext:
        def sent_on(reference: str) -> date | None:
            return self.uow.offer(reference).sent_on

        return AmendmentContext(offer_sent_on=sent_on)

    # -- what an amendment changes ----------------------------------------------------------

    def _restated(
        self,
        m: Municipality,
        name: str,
        data: dict[str, Any],
        wanted: Mapping[str, Any],
        position: int,
        stamp: Stamp,
    ) -> tuple[dict[str, Any], list[Any]]:
        """The fact with the changes, its derived fields worked out again as its command
        does (priced on the new date, due a term after it), and other aggregates changed (a
        re-priced connection's budget: the old amount given back, the new one charged)."""
        new = dict(data)
        others: list[Any] = []
        personal = {k: v for k, v in wanted.items() if k in _PERSONAL}
        new.update({k: v for k, v in wanted.items() if k not in _PERSONAL})
        for field in ("on", "received_on"):
            if field in wanted:
                not_in_future(new[field], stamp, m.label, field)
        moved = "on" in wanted and wanted["on"] != data.get("on")
        if name == "Connected" and moved:
            _, terms = self._terms_for(m, new["on"])
            new["evaluation_due"] = add_months(new["on"], terms.evaluation_months)
            new["cost"], budgets = self._repriced_connection(m, data, new["on"], position, stamp)
            others.extend(budgets)
        elif name == "Renewed" and moved:
            _, terms = self._terms_for(m, new["on"])
            new["evaluation_due"] = add_months(new["on"], terms.evaluation_months)
            if data.get("fee") is not None:
                new["fee"] = self._cost(CostKind.CONNECTION, m, new["on"], renewal=True)
        elif name == REPORT:
            if "received_on" in wanted and wanted["received_on"] != data["received_on"]:
                new["fee"] = self._priced(CostKind.REPORT_FEE, m, new["received_on"])
            if new["reference"] != data["reference"]:
                others.extend(self._move_claim(m, data["reference"], new, stamp))
        elif name == "OfficialNominated" and personal:
            new["personal_data"] = self._resealed(m, data, personal)
        elif name == "TrainingBooked" and new["session_id"] != data["session_id"]:
            others.extend(self._move_booking(m, data, new, stamp))
        for field in ("reason", "notes", "reasons"):
            if field in wanted:
                new[field] = m._reason(new[field], field)
        return new, others

    def _repriced_connection(
        self, m: Municipality, data: dict[str, Any], on: date, position: int, stamp: Stamp
    ) -> tuple[CostLine, list[Budget]]:
        """A connection moved to ``on``, priced again as ``connect`` prices it: the old
        charge given back to its calculator's budget first, so the new price sees what the
        budget leaves without it; the new charge charged to the budget of the calculator
        that prices it now (the same budget, unless the configuration changed)."""
        budget = self._budget(CostKind.CONNECTION, stamp)
        changed: dict[str, Budget] = {} if budget is None else {budget.tariff: budget}
        old = data.get("cost")
        if isinstance(old, CostLine):
            held = changed.get(old.calculator)
            for refunded in self._refunded(m, data, position, stamp, held):
                changed[refunded.tariff] = refunded
        cost = self._priced(CostKind.CONNECTION, m, on, budget=budget)
        if budget is not None:
            budget.charge(on, m.code, cost.amount, stamp)
        return cost, list(changed.values())

    def _refunded(
        self,
        m: Municipality,
        data: dict[str, Any],
        position: int,
        stamp: Stamp,
        budget: Budget | None = None,
    ) -> list[Budget]:
        """A connection's charge given back to its calculator's budget, if that calculator
        keeps one (``budget``, or the stored one) and the connection was charged anything;
        the budget changed, to be saved with the municipality (its new version serialises
        the correction with concurrent connections)."""
        line = data.get("cost")
        if not isinstance(line, CostLine) or line.is_reversal or line.amount.amount <= 0:
            return []
        if budget is None:
            try:
                budget = self.uow.get(budget_id(line.calculator))
            except AggregateNotFoundError:
                return []  # no budget kept for that calculator: nothing to give back
        budget.refund(data["on"], m.code, line.amount, position, stamp)
        return [budget]

    def _changes_anything(self, data: dict[str, Any], wanted: Mapping[str, Any], name: str) -> bool:
        plain = {k: v for k, v in wanted.items() if k not in _PERSONAL}
        if any(data.get(k) != v for k, v in plain.items()):
            return True
        personal = {k: v for k, v in wanted.items() if k in _PERSONAL}
        if not personal or name != "OfficialNominated":
            return False
        person = self.reveal(OfficialId(data["official_id"]), data["personal_data"])
        return person is None or any(getattr(person, k) != v for k, v in personal.items())

    def _companion_restated(
        self, m: Municipality, data: dict[str, Any], accepted: dict[str, Any]
    ) -> dict[str, Any]:
        """The compensation of an acceptance whose date was corrected: on the new day, due a
        term after it, priced again."""
        new = dict(data)
        if accepted["on"] != data["on"]:
            _, terms = self._terms_for(m, accepted["on"])
            new["on"] = accepted["on"]
            new["evaluation_due"] = add_months(accepted["on"], terms.evaluation_months)
            new["compensation"] = self._priced(
                CostKind.COMPENSATION, m, accepted["on"], prior=m.prior_costs
            )
        return new

    def _resealed(self, m: Municipality, data: dict[str, Any], personal: Mapping[str, Any]) -> str:
        official_id = OfficialId(data["official_id"])
        stored = self.keys.select_official_key(official_id.value)
        if stored is None:
            raise InvalidTransition(
                _t("{label}: official {official} was erased; there is nothing to correct").format(
                    label=m.label, official=official_id
                )
            )
        key = self.key_wrapper.unwrap(official_id.value, stored)
        person = self.reveal(official_id, data["personal_data"])
        assert person is not None
        fields = {"name": person.name, "email": person.email, "salutation": person.salutation}
        fields.update(personal)
        # The corrected data is sealed with the official's own key: erasure shreds it too.
        return seal(key, official_id, Official(**fields))

    def _move_claim(
        self, m: Municipality, old: str, new: dict[str, Any], stamp: Stamp
    ) -> list[Any]:
        reference = ReportReference(new["reference"])
        ids = claim_ids(reference, new["reference"])
        self._check_unclaimed(m, reference, ids, self._taken(ids))
        return [
            self._release_claim(old, stamp),
            self._claim(reference, m.code, new["received_on"], stamp),
        ]

    def _release_claim(self, reference: str, stamp: Stamp) -> Any:
        parsed = ReportReference(reference)
        for at in claim_ids(parsed, reference):
            if self.uow.exists(at):
                claim: ReportClaim = self.uow.claim(at)
                if not claim.released:
                    claim.release(stamp)
                    return claim
        return None

    def _bounds_without(
        self, m: Municipality, version: int, data: dict[str, Any]
    ) -> tuple[date | None, date | None]:
        """The first and last report days once the report at ``version`` is gone. Only when
        it held one of them is the history read (the aggregate keeps no other report days)."""
        day = data["received_on"]
        if day not in (m.first_report_on, m.last_report_on):
            return m.first_report_on, m.last_report_on
        days = []
        for event in self.events.get(m.id):
            if isinstance(event, Municipality.ReportReceived):
                v = event.originator_version
                if v == version or m.amendment_of(v) is not None:
                    continue
                days.append(event.received_on)
        days.extend(r["received_on"] for v, r in m.restated_reports.items() if int(v) != version)
        return (min(days), max(days)) if days else (None, None)

    def _release_booked(self, m: Municipality, data: dict[str, Any], stamp: Stamp) -> list[Any]:
        """A retracted booking gives its seat back, if the official still holds it."""
        session = self.uow.session(data["session_id"])
        oid = OfficialId(data["official_id"])
        if oid.value in session.booked:
            session.release(oid, stamp.today, stamp)
            return [session]
        return []

    def _move_booking(
        self, m: Municipality, data: dict[str, Any], new: dict[str, Any], stamp: Stamp
    ) -> list[Any]:
        oid = OfficialId(data["official_id"])
        target = self.uow.session(new["session_id"])
        target.check_seat(oid)
        new["session_date"] = target.day
        changed = [*self._release_booked(m, data, stamp), target]
        target.book(oid, stamp.today, stamp)
        return changed

    def _retract_predecessor(
        self,
        m: Municipality,
        data: dict[str, Any],
        reason: str,
        stamp: Stamp,
        context: AmendmentContext,
    ) -> Municipality:
        """A retracted merger is retracted on the successor too: restored as it was."""
        successor = self.uow.municipality(data["successor"])
        version, fact = self._predecessor_fact(successor, m.code)
        failures = successor.replay_amended({version: None}, stamp, context, collect=True)
        if failures:
            raise self._depends_on(successor, 0, failures)
        position = self.keys.select_positions(successor.id).get(version, 0)
        self._trigger_retracted(
            successor, stamp, position, version, "PredecessorMerged", fact, reason
        )
        return successor

    def _restate_predecessor(
        self,
        m: Municipality,
        data: dict[str, Any],
        new: dict[str, Any],
        reason: str,
        stamp: Stamp,
        context: AmendmentContext,
    ) -> Municipality:
        successor = self.uow.municipality(data["successor"])
        version, fact = self._predecessor_fact(successor, m.code)
        restated = {**fact, "on": new["on"]}
        successor.replay_amended({version: ("PredecessorMerged", restated)}, stamp, context)
        position = self.keys.select_positions(successor.id).get(version, 0)
        self._trigger_corrected(
            successor, stamp, position, version, "PredecessorMerged", fact, restated, reason
        )
        return successor

    @staticmethod
    def _predecessor_fact(successor: Municipality, code: str) -> tuple[int, dict[str, Any]]:
        for version, name, data in successor.facts:
            if name == "PredecessorMerged" and data["predecessor"] == code:
                return int(version), dict(data)
        raise InvalidTransition(  # pragma: no cover - a merger always records both sides
            _t("{label}: no merger of {code} into it was recorded").format(
                label=successor.label, code=code
            )
        )

    def _depends_on(
        self, m: Municipality, position: int, failures: list[tuple[int, DomainError]]
    ) -> DependsOn:
        positions_of = self.keys.select_positions(m.id)
        resting = sorted(positions_of.get(v, 0) for v, _ in failures if v)
        if any(v == 0 for v, _ in failures):
            resting.extend(
                positions_of[e.originator_version]
                for e in self.events.get(m.id)
                if isinstance(e, Municipality.ReportReceived)
                and m.amendment_of(e.originator_version) != "retracted"
            )
        resting = sorted({p for p in resting if p})
        return DependsOn(
            _t(
                "{label}: {count} later facts rest on this one (positions {positions}); "
                "retract those first"
            ).format(
                label=m.label,
                count=len(resting),
                positions=", ".join(map(str, resting[:MAX_LISTED])),
            ),
            details={
                "position": position,
                "positions": list(resting[:MAX_LISTED]),
                "more": max(0, len(resting) - MAX_LISTED),
            },
        )

    @staticmethod
    def _trigger_retracted(
        m: Municipality,
        stamp: Stamp,
        position: int,
        version: int,
        name: str,
        data: dict[str, Any],
        reason: str,
        bounds: tuple[date | None, date | None] = (None, None),
        corrected: bool = False,
    ) -> None:
        """The fact at ``position`` (its aggregate's ``version``) was never true as recorded
        (``corrected``: a restatement follows)."""
        _trigger_amendment(
            m,
            m.FactRetracted,
            stamp,
            position,
            version,
            name,
            data,
            reason,
            corrected=corrected,
            reports_from=bounds[0],
            reports_until=bounds[1],
        )

    @staticmethod
    def _trigger_corrected(
        m: Municipality,
        stamp: Stamp,
        position: int,
        version: int,
        name: str,
        data: dict[str, Any],
        new: dict[str, Any],
        reason: str,
        bounds: tuple[date | None, date | None] = (None, None),
    ) -> None:
        """The fact at ``position`` held ``new``, not ``data``: retracted as it stood (on its
        old business date) and restated (on its new one)."""
        CorrectionCommands._trigger_retracted(
            m, stamp, position, version, name, data, reason, bounds, corrected=True
        )
        _trigger_amendment(m, m.FactRestated, stamp, position, version, name, new, reason)


def _business_day(name: str, data: Mapping[str, Any]) -> date:
    day = data["received_on"] if name == REPORT else data["on"]
    assert isinstance(day, date)
    assert not isinstance(day, datetime)
    return day


class _Located:
    """A fact found by its position: the aggregate, its version there, its event's name."""

    def __init__(self, position: int, aggregate_id: UUID, version: int, fact: str) -> None:
        self.position = position
        self.aggregate_id = aggregate_id
        self.version = version
        self.fact = fact


def _trigger_amendment(
    m: Municipality,
    event: type[Any],
    stamp: Stamp,
    position: int,
    version: int,
    name: str,
    data: dict[str, Any],
    reason: str,
    **more: Any,
) -> None:
    m._trigger(
        event,
        stamp,
        on=_business_day(name, data),
        position=position,
        version=version,
        fact=name,
        data=data,
        reason=reason,
        **more,
    )
