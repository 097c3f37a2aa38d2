"""The Municipality aggregate: one per CBS code, from registration to merger.

Its events and the rules of its lifecycle are here; the rules of its officials and their
training, a track beside the lifecycle, are in :mod:`mma_core.domain.officials`.

Commands (the public methods) check every rule and only then trigger events; an event's ``apply``
only changes state. Replays therefore never depend on today's date, configuration or plugins, and
a rule added next year cannot make this year's history unreadable.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from mma_core.domain.addresses import ADDRESS_DATE, PostalAddress
from mma_core.domain.common import Recorded, Stamp, as_date, not_before, not_in_future
from mma_core.domain.corrections import CorrectionsTrack
from mma_core.domain.errors import (
    InvalidDate,
    InvalidInput,
    InvalidTransition,
    MergerNotInRegistry,
)
from mma_core.domain.officials import OfficialRecord, OfficialsTrack
from mma_core.domain.text import N_
from mma_core.domain.text import _ as _t
from mma_core.domain.text import day as message_day
from mma_core.domain.values import (
    CostLine,
    Money,
    MunicipalityCode,
    Outcome,
    RegistryEntry,
    ReportCategory,
    ReportReference,
    Stage,
    has_control,
)

MAX_REASON = 500


def municipality_id(code: MunicipalityCode | str) -> UUID:
    return uuid5(NAMESPACE_URL, f"/municipalities/{MunicipalityCode.parse(code).value}")


def _fact_charges(fact: str, data: dict[str, Any]) -> tuple[tuple[date, CostLine], ...]:
    """The cost lines a fact charges, from its fields (as its event's ``charges`` says)."""
    if fact == "ReportReceived":
        return ((data["received_on"], data["fee"]),)
    line = {"Connected": "cost", "PriorConnectionCompensated": "compensation", "Renewed": "fee"}
    field = line.get(fact)
    if field is None or data.get(field) is None:
        return ()
    return ((data["on"], data[field]),)


class Municipality(CorrectionsTrack, OfficialsTrack, Aggregate):
    """One municipality, one per CBS code: its lifecycle, officials, reports and costs."""

    class Event(Recorded):
        def charges(self) -> tuple[tuple[date, CostLine], ...]:
            """The cost lines this event charges, each with its date (most charge none).

            The aggregate keeps only their running totals; the lines themselves are the read
            models' ledger, and an as-of question finds them by streaming the events."""
            return ()

    # -- events ---------------------------------------------------------------------------

    class Registered(Event, Aggregate.Created):
        code: str
        name: str
        province: str
        valid_from: date | None
        valid_until: date | None
        successor: str | None
        population: int | None
        registry: str

        @property
        def business_date(self) -> date | None:
            return self.valid_from

        def apply(self, aggregate: Any) -> None:
            m: Municipality = aggregate
            m.code = self.code
            m.name = self.name
            m.province = self.province
            m.valid_from = self.valid_from
            m.valid_until = self.valid_until
            m.registry_successor = self.successor
            m.population = self.population
            m.registry = self.registry

    class Invited(Event):
        on: date
        offer_reference: str

        def apply(self, aggregate: Any) -> None:
            aggregate._remember(self)
            m: Municipality = aggregate
            m.stage = Stage.INVITED
            m.invited_on = self.on
            m.offer_reference = self.offer_reference
            m.last_on = self.on

    class PriorConnectionRecorded(Event):
        on: date
        connected_on: date
        costs: Money

        def apply(self, aggregate: Any) -> None:
            aggregate._remember(self)
            m: Municipality = aggregate
            m.prior_connected_on = self.connected_on
            m.prior_costs = self.costs
            m.last_on = self.on

    class Accepted(Event):
        on: date

        def apply(self, aggregate: Any) -> None:
            aggregate._remember(self)
            m: Municipality = aggregate
            m.stage = Stage.ACCEPTED
            m.answered_on = self.on
            m.accepted_on = self.on
            m.last_on = self.on

    class Declined(Event):
        on: date
        reason: str

        def apply(self, aggregate: Any) -> None:
            aggregate._remember(self)
            m: Municipality = aggregate
            m.stage = Stage.DECLINED
            m.answered_on = self.on
            m.declined_on = self.on
            m.last_on = self.on

    class Connected(Event):
        on: date
        evaluation_due: date
        cost: CostLine

        def charges(self) -> tuple[tuple[date, CostLine], ...]:
            return ((self.on, self.cost),)

        def apply(self, aggregate: Any) -> None:
            aggregate._remember(self)
            m: Municipality = aggregate
            m._start_connection(self.on, self.on, self.evaluation_due, "programme")
            m._charge(self.cost)
            m.last_on = self.on

    class PriorConnectionCompensated(Event):
        """Accepting with a prior connection: connected at once, compensation owed."""

        on: date
        evaluation_due: date
        compensation: CostLine

        def charges(self) -> tuple[tuple[date, CostLine], ...]:
            return ((self.on, self.compensation),)

        def apply(self, aggregate: Any) -> None:
            aggregate._remember(self)
            m: Municipality = aggregate
            assert m.prior_connected_on is not None
            m._start_connection(m.prior_connected_on, self.on, self.evaluation_due, "prior")
            m._charge(self.compensation)

    class ReportReceived(Event):
        received_on: date
        category: str
        reference: str
        fee: CostLine

        @property
        def business_date(self) -> date | None:
            return self.received_on

        def charges(self) -> tuple[tuple[date, CostLine], ...]:
            return ((self.received_on, self.fee),)

        def apply(self, aggregate: Any) -> None:
            m: Municipality = aggregate
            # Reports may be recorded out of order; later dates are bounded by the latest one.
            m._count_report(self.received_on)
            m._charge(self.fee)

    class Evaluated(Event):
        on: date
        outcome: str
        recovered: Money
        notes: str
        # The structured evaluation (added later: events recorded before carry the defaults).
        # ``reports`` is filled from the history: reports received in the term up to ``on``.
        reports: int | None = None
        useful: int | None = None
        followed_up: int | None = None
        satisfaction: int | None = None  # 1 (very dissatisfied) to 5 (very satisfied)
        reasons: str = ""

        def apply(self, aggregate: Any) -> None:
            aggregate._remember(self)
            m: Municipality = aggregate
            m.term_evaluation = (self.on, Outcome(self.outcome))
            m.evaluations += 1
            m.last_outcome = Outcome(self.outcome)
            m.last_on = self.on

    class Renewed(Event):
        on: date
        evaluation_due: date
        # A tariff with a yearly fee charges it at each renewal; renewals recorded before
        # such fees existed carry none, and read as charging none.
        fee: CostLine | None = None

        def charges(self) -> tuple[tuple[date, CostLine], ...]:
            return () if self.fee is None else ((self.on, self.fee),)

        def apply(self, aggregate: Any) -> None:
            aggregate._remember(self)
            m: Municipality = aggregate
            m.term_start = self.on
            m.evaluation_due = self.evaluation_due
            m.term_evaluation = None
            m.renewals.append(self.on)
            if self.fee is not None:
                m._charge(self.fee)
            m.last_on = self.on

    class Terminated(Event):
        on: date
        reason: str

        def apply(self, aggregate: Any) -> None:
            aggregate._remember(self)
            m: Municipality = aggregate
            m.stage = Stage.STOPPED
            m.terminated_on = self.on
            m.evaluation_due = None
            m.last_on = self.on

    class Merged(Event):
        on: date
        successor: str
        # Added later (events recorded before carry the defaults): a merger the registry does
        # not list, recorded all the same because the coordinator said why.
        unlisted: bool = False
        reason: str = ""

        def apply(self, aggregate: Any) -> None:
            aggregate._remember(self)
            m: Municipality = aggregate
            m.stage = Stage.MERGED
            m.merged_on = self.on
            m.successor = self.successor
            m.evaluation_due = None
            m.last_on = self.on

    class PredecessorMerged(Event):
        """A predecessor was absorbed; if it was connected and this one was not, this one now is."""

        on: date
        predecessor: str
        connected_by_succession: bool
        evaluation_due: date | None
        # The offer a successor connected by succession continues under, when it had none of
        # its own (a new code such as GM1980 was never invited); its fees follow that offer.
        offer_reference: str | None = None

        def apply(self, aggregate: Any) -> None:
            aggregate._remember(self)
            m: Municipality = aggregate
            m.predecessors.append(self.predecessor)
            if self.offer_reference is not None:
                m.offer_reference = self.offer_reference
            if self.connected_by_succession:
                assert self.evaluation_due is not None
                m._start_connection(self.on, self.on, self.evaluation_due, "succession")
                m.last_on = self.on
            elif self.evaluation_due is not None:
                m.evaluation_due = self.evaluation_due

    class OfficialNominated(Event):
        on: date
        official_id: str
        personal_data: str  # AES-GCM ciphertext under the official's own key

        def apply(self, aggregate: Any) -> None:
            aggregate._remember(self)
            m: Municipality = aggregate
            m.officials[self.official_id] = OfficialRecord(
                self.official_id, self.personal_data, self.on
            )
            m.officials_nominated += 1

    class TrainingBooked(Event):
        on: date
        official_id: str
        session_id: str
        session_date: date

        def apply(self, aggregate: Any) -> None:
            aggregate._remember(self)
            o = aggregate.officials[self.official_id]
            o.session_id = self.session_id
            o.session_date = self.session_date
            o.attended = None

    class AttendanceRecorded(Event):
        on: date
        official_id: str
        session_id: str
        attended: bool

        def apply(self, aggregate: Any) -> None:
            aggregate._remember(self)
            aggregate.officials[self.official_id].attended = self.attended

    class OfficialWithdrawn(Event):
        on: date
        official_id: str

        def apply(self, aggregate: Any) -> None:
            aggregate._remember(self)
            o = aggregate.officials[self.official_id]
            o.active = False
            o.withdrawn_on = self.on

    class OfficialErased(Event):
        """The official's key was deleted in the same transaction; the sealed data is unreadable."""

        on: date
        official_id: str

        def apply(self, aggregate: Any) -> None:
            aggregate._remember(self)
            o = aggregate.officials[self.official_id]
            o.active = False
            o.erased = True

    class AddressRecorded(Event):
        """The municipality's postal address from ``on`` (an organisation's, not personal
        data); a later one replaces it from its own day. The letters read it from the events."""

        on: date
        body: str
        street: str
        postcode: str
        place: str

    class FactRetracted(Event):
        """The fact recorded at ``position`` (this aggregate's ``version``) was never true,
        or (``corrected``) was wrong as recorded and a ``FactRestated`` follows. Dated on the
        fact's business date; ``data`` is the fact as it stood, so a reader needs no lookup."""

        on: date
        position: int
        version: int
        fact: str
        data: dict[str, Any]
        reason: str
        corrected: bool = False
        # A retracted report: the days of the first and last report left (the aggregate keeps
        # those two, not every report's day, so the command that retracts finds them).
        reports_from: date | None = None
        reports_until: date | None = None

        def charges(self) -> tuple[tuple[date, CostLine], ...]:
            fact = _fact_charges(self.fact, self.data)
            return tuple((on, line.reversal(self.position)) for on, line in fact)

        def apply(self, aggregate: Any) -> None:
            aggregate._retracted(self)

    class FactRestated(Event):
        """The fact at ``position`` as it should have been recorded: ``data`` in full, dated
        on its business date (a corrected date moves it)."""

        on: date
        position: int
        version: int
        fact: str
        data: dict[str, Any]
        reason: str

        def charges(self) -> tuple[tuple[date, CostLine], ...]:
            return _fact_charges(self.fact, self.data)

        def apply(self, aggregate: Any) -> None:
            aggregate._restated(self)

    # -- construction ---------------------------------------------------------------------

    def __init__(self) -> None:
        self.code = ""
        self.name = ""
        self.province = ""
        self.valid_from: date | None = None
        self.valid_until: date | None = None
        self.registry_successor: str | None = None
        self.population: int | None = None
        self.registry = ""
        self.stage = Stage.REGISTERED
        self.offer_reference: str | None = None
        self.invited_on: date | None = None
        self.answered_on: date | None = None
        self.accepted_on: date | None = None
        self.declined_on: date | None = None
        self.prior_connected_on: date | None = None
        self.prior_costs: Money | None = None
        self.connected_on: date | None = None
        self.connection_kind: str | None = None
        self.term_start: date | None = None
        self.evaluation_due: date | None = None
        self.term_evaluation: tuple[date, Outcome] | None = None
        self.evaluations = 0
        self.last_outcome: Outcome | None = None
        self.renewals: list[date] = []  # one a term: grows by the year, never by the report
        self.terminated_on: date | None = None
        self.merged_on: date | None = None
        self.successor: str | None = None
        self.predecessors: list[str] = []
        self.reports_received = 0
        self.last_report_on: date | None = None
        # Running totals per payer, never the lines: a municipality with reports every week
        # for years must load, copy and save in the same time as a new one.
        self.cost_totals: dict[str, Money] = {}
        self.cost_lines = 0
        self.officials: dict[str, OfficialRecord] = {}
        self.officials_nominated = 0
        self.last_on: date | None = None  # the latest lifecycle date: the next may not precede it
        # What corrections need (mma_core.domain.corrections): the first report's day, the
        # facts other than reports ([version, event name, fields]), which versions were
        # amended, and the corrected reports as they now stand.
        self.first_report_on: date | None = None
        self.facts: list[list[Any]] = []
        self.amended: dict[str, str] = {}
        self.restated_reports: dict[str, dict[str, Any]] = {}

    def _charge(self, line: CostLine) -> None:
        payer = line.payer.value
        total = self.cost_totals.get(payer)
        self.cost_totals[payer] = line.amount if total is None else total + line.amount
        self.cost_lines += 1

    def _start_connection(self, connected_on: date, term_start: date, due: date, kind: str) -> None:
        self.stage = Stage.CONNECTED
        self.connected_on = connected_on
        self.term_start = term_start
        self.evaluation_due = due
        self.connection_kind = kind
        self.term_evaluation = None
        self.terminated_on = None

    @classmethod
    def register(cls, entry: RegistryEntry, registry: str, stamp: Stamp) -> Municipality:
        return cls._create(
            cls.Registered,
            id=municipality_id(entry.code),
            timestamp=stamp.at,
            by=stamp.by,
            origin=stamp.origin,
            code=entry.code.value,
            name=entry.name,
            province=entry.province,
            valid_from=entry.valid_from,
            valid_until=entry.valid_until,
            successor=None if entry.successor is None else entry.successor.value,
            population=entry.population,
            registry=registry,
        )

    # -- queries used by commands ---------------------------------------------------------

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}"

    def exists_on(self, day: date) -> bool:
        if self.valid_from is not None and day < self.valid_from:
            return False
        if self.valid_until is not None and day > self.valid_until:
            return False
        return self.merged_on is None or day < self.merged_on

    def costs_for(self, payer: str) -> Money:
        return self.cost_totals.get(payer, Money.zero())

    # -- rules ----------------------------------------------------------------------------

    def _require_stage(self, action: str, *allowed: Stage) -> None:
        if self.stage not in allowed:
            wanted = _t(" or ").join(_t(s.value) for s in allowed)
            raise InvalidTransition(
                _t(
                    "{label}: cannot {action} a municipality that is {stage}; this needs a "
                    "municipality that is {wanted}"
                ).format(
                    label=self.label, action=_t(action), stage=_t(self.stage.value), wanted=wanted
                )
            )

    def _require_exists(self, day: date, what: str) -> None:
        if self.valid_from is not None and day < self.valid_from:
            raise InvalidTransition(
                _t(
                    "{label}: {what} {day} lies before the municipality existed (from {start})"
                ).format(
                    label=self.label,
                    what=_t(what),
                    day=message_day(day),
                    start=message_day(self.valid_from),
                )
            )
        if self.valid_until is not None and day > self.valid_until:
            raise InvalidTransition(
                _t(
                    "{label}: {what} {day} lies after the municipality ceased to exist "
                    "(until {end})"
                ).format(
                    label=self.label,
                    what=_t(what),
                    day=message_day(day),
                    end=message_day(self.valid_until),
                )
            )

    def _lifecycle_date(self, day: object, what: str, stamp: Stamp) -> date:
        day = as_date(day, what, self.label)
        not_in_future(day, stamp, self.label, what)
        not_before(day, self.last_on, self.label, what, "its previous lifecycle step on")
        self._require_exists(day, what)
        return day

    def _reason(self, reason: object, what: str) -> str:
        if not isinstance(reason, str) or len(reason) > MAX_REASON:
            raise InvalidInput(
                _t("{label}: the {what} is text of at most {most} characters").format(
                    label=self.label, what=_t(what), most=MAX_REASON
                )
            )
        if has_control(reason):
            raise InvalidInput(
                _t(
                    "{label}: the {what} may not contain control characters (line breaks, "
                    "tabs, escape sequences) or bidirectional overrides"
                ).format(label=self.label, what=_t(what))
            )
        return reason

    def _trigger(self, event_class: type[Event], stamp: Stamp, **kwargs: Any) -> None:
        self.trigger_event(
            event_class, timestamp=stamp.at, by=stamp.by, origin=stamp.origin, **kwargs
        )

    # -- commands -------------------------------------------------------------------------

    def check_invite(self, on: date, offer_sent_on: date | None, stamp: Stamp) -> date:
        self._require_stage("invite", Stage.REGISTERED)
        on = self._lifecycle_date(on, "invitation date", stamp)
        not_before(on, offer_sent_on, self.label, "invitation date", "the offer was sent on")
        return on

    def invite(self, on: date, offer_reference: str, offer_sent_on: date, stamp: Stamp) -> None:
        on = self.check_invite(on, offer_sent_on, stamp)
        self._trigger(self.Invited, stamp, on=on, offer_reference=offer_reference)

    def check_address(self, on: date, stamp: Stamp) -> date:
        """An address takes effect on a day the municipality exists, not after today; it is
        no step of the lifecycle, so it may fall before or after any."""
        on = as_date(on, ADDRESS_DATE, self.label)
        not_in_future(on, stamp, self.label, ADDRESS_DATE)
        self._require_exists(on, ADDRESS_DATE)
        return on

    def record_address(self, on: date, address: PostalAddress, stamp: Stamp) -> None:
        on = self.check_address(on, stamp)
        self._trigger(self.AddressRecorded, stamp, on=on, **address.fields())

    def record_prior_connection(
        self, connected_on: date, costs: Money, on: date | None, stamp: Stamp
    ) -> None:
        connected_on, costs, on = self.check_prior_connection(connected_on, costs, on, stamp)
        self._trigger(
            self.PriorConnectionRecorded, stamp, on=on, connected_on=connected_on, costs=costs
        )

    def check_prior_connection(
        self, connected_on: date, costs: Money, on: date | None, stamp: Stamp
    ) -> tuple[date, Money, date]:
        self._require_stage("record a prior connection for", Stage.INVITED, Stage.DECLINED)
        if self.prior_connected_on is not None:
            raise InvalidTransition(
                _t(
                    "{label}: a prior connection (since {day}) was recorded already; it can be "
                    "recorded once"
                ).format(label=self.label, day=message_day(self.prior_connected_on))
            )
        assert self.invited_on is not None
        connected_on = as_date(connected_on, "prior connection date", self.label)
        if connected_on >= self.invited_on:
            raise InvalidDate(
                _t(
                    "{label}: a prior connection on {day} must lie before the invitation of "
                    "{invited}; a later connection is a programme connection ('connect')"
                ).format(
                    label=self.label,
                    day=message_day(connected_on),
                    invited=message_day(self.invited_on),
                )
            )
        costs = Money.non_negative(
            costs, _t("{label}: prior connection costs").format(label=self.label)
        )
        on = self._lifecycle_date(self.invited_on if on is None else on, "record date", stamp)
        return connected_on, costs, on

    def check_accept(self, on: date, stamp: Stamp) -> date:
        self._require_stage("accept the offer for", Stage.INVITED, Stage.DECLINED)
        return self._lifecycle_date(on, "acceptance date", stamp)

    def accept(
        self, on: date, evaluation_due: date, compensation: CostLine | None, stamp: Stamp
    ) -> None:
        on = self.check_accept(on, stamp)
        if (compensation is None) != (self.prior_connected_on is None):
            raise InvalidInput(
                _t("{label}: compensation goes with a prior connection only").format(
                    label=self.label
                )
            )
        self._trigger(self.Accepted, stamp, on=on)
        if compensation is not None:
            self._trigger(
                self.PriorConnectionCompensated,
                stamp,
                on=on,
                evaluation_due=evaluation_due,
                compensation=compensation,
            )

    def check_decline(self, on: date, reason: str, stamp: Stamp) -> tuple[date, str]:
        self._require_stage("record a refusal for", Stage.INVITED)
        on = self._lifecycle_date(on, "refusal date", stamp)
        return on, self._reason(reason, N_("reason"))

    def decline(self, on: date, reason: str, stamp: Stamp) -> None:
        on, reason = self.check_decline(on, reason, stamp)
        self._trigger(self.Declined, stamp, on=on, reason=reason)

    def check_connect(self, on: date, stamp: Stamp) -> date:
        self._require_stage("connect", Stage.ACCEPTED)
        return self._lifecycle_date(on, "connection date", stamp)

    def connect(self, on: date, evaluation_due: date, cost: CostLine, stamp: Stamp) -> None:
        on = self.check_connect(on, stamp)
        self._trigger(self.Connected, stamp, on=on, evaluation_due=evaluation_due, cost=cost)

    def _connection_ended(self) -> tuple[date, bool] | None:
        """When a past connection ended (and whether that day still counts), if it did."""
        if self.stage is Stage.STOPPED and self.terminated_on is not None:
            return self.terminated_on, True
        if self.stage is Stage.MERGED and self.merged_on is not None:
            if self.terminated_on is not None:
                return self.terminated_on, True
            if self.connected_on is not None:
                return self.merged_on, False  # connected until the day it ceased to exist
        return None

    def check_report(self, received_on: date, stamp: Stamp) -> date:
        # Reports fall on or after the connection and before termination (DESIGN section 4):
        # one received while connected may be recorded after a termination or merger.
        ended = self._connection_ended()
        if self.stage is not Stage.CONNECTED and ended is None:
            raise InvalidTransition(
                _t(
                    "{label}: cannot record a report for a municipality that is {stage}; reports "
                    "count only while connected"
                ).format(label=self.label, stage=_t(self.stage.value))
            )
        received_on = as_date(received_on, "report date", self.label)
        not_in_future(received_on, stamp, self.label, "report date")
        not_before(
            received_on,
            self.term_start if self.connection_kind == "prior" else self.connected_on,
            self.label,
            "report date",
            "the connection on",
        )
        if ended is not None:
            end, inclusive = ended
            if received_on > end or (received_on == end and not inclusive):
                raise InvalidTransition(
                    _t(
                        "{label}: report date {day} lies after the connection ended ({stage} on "
                        "{end}); reports count only while connected"
                    ).format(
                        label=self.label,
                        day=message_day(received_on),
                        stage=_t(self.stage.value),
                        end=message_day(end),
                    )
                )
        self._require_exists(received_on, "report date")
        return received_on

    def record_report(
        self,
        received_on: date,
        category: ReportCategory,
        reference: ReportReference,
        fee: CostLine,
        stamp: Stamp,
    ) -> None:
        received_on = self.check_report(received_on, stamp)
        self._trigger(
            self.ReportReceived,
            stamp,
            received_on=received_on,
            category=category.value,
            reference=reference.value,
            fee=fee,
        )

    def evaluate(
        self,
        on: date,
        outcome: Outcome,
        recovered: Money,
        notes: str,
        stamp: Stamp,
        useful: int | None = None,
        followed_up: int | None = None,
        satisfaction: int | None = None,
        reasons: str = "",
        reports: int = 0,
    ) -> None:
        """``reports``: how many reports were received in the term up to ``on``, counted from
        the history by the caller (the aggregate keeps totals, not every report's date)."""
        on, recovered = self.check_evaluate(
            on, recovered, stamp, reports, useful, followed_up, satisfaction
        )
        self._trigger(
            self.Evaluated,
            stamp,
            on=on,
            outcome=outcome.value,
            recovered=recovered,
            notes=self._reason(notes, N_("evaluation notes")),
            reports=reports,
            useful=useful,
            followed_up=followed_up,
            satisfaction=satisfaction,
            reasons=self._reason(reasons, N_("reasons for the decision")),
        )

    def check_evaluate(
        self,
        on: date,
        recovered: Money,
        stamp: Stamp,
        reports: int = 0,
        useful: int | None = None,
        followed_up: int | None = None,
        satisfaction: int | None = None,
    ) -> tuple[date, Money]:
        self._require_stage("evaluate", Stage.CONNECTED)
        # Reports are not ordered against evaluations and renewals (DESIGN section 4: they fall
        # between connection and termination), so that whether a history is valid does not
        # depend on the order its facts were recorded in.
        on = self._lifecycle_date(on, "evaluation date", stamp)
        if self.term_evaluation is not None:
            raise InvalidTransition(
                _t(
                    "{label}: this term was evaluated on {day} already ({outcome}); renew or "
                    "terminate next"
                ).format(
                    label=self.label,
                    day=message_day(self.term_evaluation[0]),
                    outcome=_t(self.term_evaluation[1].value),
                )
            )
        recovered = Money.non_negative(
            recovered, _t("{label}: recovered amount").format(label=self.label)
        )
        self._check_counts(reports, useful, followed_up, satisfaction)
        return on, recovered

    def _check_counts(
        self,
        reports: int,
        useful: int | None,
        followed_up: int | None,
        satisfaction: int | None,
    ) -> None:
        for name, value in ((N_("useful"), useful), (N_("followed up"), followed_up)):
            if value is not None and (not isinstance(value, int) or value < 0):
                raise InvalidInput(
                    _t("{label}: the number {name} must be 0 or more").format(
                        label=self.label, name=_t(name)
                    )
                )
        if useful is not None and useful > reports:
            raise InvalidInput(
                _t(
                    "{label}: {useful} useful reports, but {reports} were received in the term"
                ).format(label=self.label, useful=useful, reports=reports)
            )
        if followed_up is not None and followed_up > (useful if useful is not None else reports):
            raise InvalidInput(
                (
                    _t("{label}: {followed_up} reports followed up is more than the useful ones")
                    if useful is not None
                    else _t(
                        "{label}: {followed_up} reports followed up is more than the received ones"
                    )
                ).format(label=self.label, followed_up=followed_up)
            )
        if satisfaction is not None and (
            not isinstance(satisfaction, int) or not 1 <= satisfaction <= 5
        ):
            raise InvalidInput(
                _t("{label}: satisfaction is a score from 1 to 5").format(label=self.label)
            )

    def check_renew(self, on: date, stamp: Stamp) -> date:
        self._require_stage("renew", Stage.CONNECTED)
        if self.term_evaluation is None or self.term_evaluation[1] is not Outcome.CONTINUE:
            raise InvalidTransition(
                _t(
                    "{label}: cannot renew without an evaluation with outcome 'continue' in the "
                    "current term; record the evaluation first"
                ).format(label=self.label)
            )
        return self._lifecycle_date(on, "renewal date", stamp)

    def renew(
        self, on: date, evaluation_due: date, stamp: Stamp, fee: CostLine | None = None
    ) -> None:
        on = self.check_renew(on, stamp)
        charged = {} if fee is None else {"fee": fee}  # a renewal without a fee stays as it was
        self._trigger(self.Renewed, stamp, on=on, evaluation_due=evaluation_due, **charged)

    def check_terminate(self, on: date, reason: str, stamp: Stamp) -> tuple[date, str]:
        self._require_stage("terminate", Stage.CONNECTED)
        on = self._lifecycle_date(on, "termination date", stamp)
        not_before(on, self.last_report_on, self.label, "termination date", "the last report on")
        return on, self._reason(reason, N_("reason"))

    def terminate(self, on: date, reason: str, stamp: Stamp) -> None:
        on, reason = self.check_terminate(on, reason, stamp)
        self._trigger(self.Terminated, stamp, on=on, reason=reason)

    def check_merge(
        self, on: date, into: Municipality, stamp: Stamp, unlisted: bool = False, reason: str = ""
    ) -> date:
        if self.stage is Stage.MERGED:
            raise InvalidTransition(
                _t("{label}: merged into {successor} on {day}; it cannot merge again").format(
                    label=self.label, successor=self.successor, day=self.merged_on
                )
            )
        if into.code == self.code:
            raise InvalidInput(
                _t("{label}: a municipality cannot merge into itself").format(label=self.label)
            )
        reason = self._reason(reason, N_("reason"))
        if self.registry_successor is None and not unlisted:
            raise MergerNotInRegistry(
                _t(
                    "{label}: the registry lists no merger into {into}, so none was recorded; "
                    "if the registry lags reality, merge as unlisted and say why (on the command "
                    "line: --unlisted --reason TEXT)"
                ).format(label=self.label, into=into.label),
                details={"successor": into.code},
            )
        if unlisted and not reason.strip():
            raise InvalidInput(
                _t(
                    "{label}: a merger the registry does not list needs a reason (on the command "
                    "line: --reason TEXT)"
                ).format(label=self.label)
            )
        on = as_date(on, "merger date", self.label)
        not_in_future(on, stamp, self.label, "merger date")
        not_before(on, self.last_on, self.label, "merger date", "its previous lifecycle step on")
        not_before(on, self.last_report_on, self.label, "merger date", "the last report on")
        if self.registry_successor is not None:
            assert self.valid_until is not None
            if into.code != self.registry_successor:
                raise InvalidInput(
                    _t(
                        "{label}: the registry names {successor} as successor, not {into}; "
                        "merge into {successor}"
                    ).format(label=self.label, successor=self.registry_successor, into=into.code)
                )
            if on.toordinal() != self.valid_until.toordinal() + 1:
                raise InvalidDate(
                    _t(
                        "{label}: the registry ends this municipality on {end}, so the merger "
                        "falls on the day after; use {day}"
                    ).format(
                        label=self.label,
                        end=message_day(self.valid_until),
                        day=message_day(date.fromordinal(self.valid_until.toordinal() + 1)),
                    )
                )
        elif self.valid_until is not None and on.toordinal() > self.valid_until.toordinal() + 1:
            raise InvalidDate(
                _t(
                    "{label}: the merger date {day} lies more than a day after the municipality "
                    "ceased to exist ({end})"
                ).format(label=self.label, day=message_day(on), end=message_day(self.valid_until))
            )
        if self.valid_from is not None and on <= self.valid_from:
            raise InvalidDate(
                _t(
                    "{label}: the merger date {day} must lie after the municipality began ({start})"
                ).format(label=self.label, day=message_day(on), start=message_day(self.valid_from))
            )
        if into.stage is Stage.MERGED:
            raise InvalidTransition(
                _t(
                    "{label}: the successor {into} was itself merged into {successor}; merge "
                    "into {successor}"
                ).format(label=self.label, into=into.label, successor=into.successor)
            )
        into._require_exists(on, "merger date")
        if self.stage is Stage.CONNECTED and into.stage is not Stage.CONNECTED:
            not_before(
                on, into.last_on, into.label, "merger date", "its previous lifecycle step on"
            )
        return on

    def check_merged_on(self, on: date, stamp: Stamp) -> date:
        """The merger's rules on the absorbed municipality's own history (those a replay of
        amended facts checks; the registry's and the successor's were checked when it was
        recorded, and again when the merger itself is corrected)."""
        if self.stage is Stage.MERGED:
            raise InvalidTransition(
                _t("{label}: merged into {successor} on {day}; it cannot merge again").format(
                    label=self.label, successor=self.successor, day=self.merged_on
                )
            )
        on = as_date(on, "merger date", self.label)
        not_in_future(on, stamp, self.label, "merger date")
        not_before(on, self.last_on, self.label, "merger date", "its previous lifecycle step on")
        not_before(on, self.last_report_on, self.label, "merger date", "the last report on")
        return on

    def merge(
        self, on: date, into: Municipality, stamp: Stamp, unlisted: bool = False, reason: str = ""
    ) -> None:
        on = self.check_merge(on, into, stamp, unlisted, reason)
        succession = self.stage is Stage.CONNECTED and into.stage is not Stage.CONNECTED
        due: date | None = None
        if self.stage is Stage.CONNECTED:
            assert self.evaluation_due is not None
            if succession:
                due = self.evaluation_due
            elif into.connection_kind == "succession" and into.evaluation_due is not None:
                # A successor connected by succession is due on the earliest date among its
                # connected predecessors; one connected in its own right keeps its own term.
                due = min(self.evaluation_due, into.evaluation_due)
        inherited = self.offer_reference if succession and into.offer_reference is None else None
        self._trigger(
            self.Merged,
            stamp,
            on=on,
            successor=into.code,
            unlisted=bool(unlisted and self.registry_successor is None),
            reason=reason,
        )
        into._trigger(
            into.PredecessorMerged,
            stamp,
            on=on,
            predecessor=self.code,
            connected_by_succession=succession,
            evaluation_due=due,
            offer_reference=inherited,
        )
