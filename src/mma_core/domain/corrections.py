"""Corrections: a fact recorded by mistake is retracted, or restated with its fields corrected.

Nothing is deleted or rewritten. A retraction is a ``FactRetracted`` event on the fact's own
aggregate, dated on the fact's business date: an as-of question on either side of that date
answers as if the fact was never recorded, and a question as the store knew it before the
retraction (``known_at``) still sees the fact. A correction is a retraction followed by a
``FactRestated`` event with the corrected fact, dated on its (new) business date, so a corrected
date moves the fact on the business axis exactly.

The aggregate keeps its facts other than reports (a handful a year) and refolds its lifecycle
from them when one is amended; reports are thousands, so it keeps their days and counts, and
amends those in place. Whether an amended history is valid is decided by the rules the commands
use (``check_*`` of :class:`~mma_core.domain.municipality.Municipality` and of
:class:`~mma_core.domain.officials.OfficialsTrack`), replayed over the amended facts on a
scratch copy: there is no second copy of the rules here.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from mma_core.domain.common import Stamp
from mma_core.domain.errors import AlreadyRetracted, DomainError, InvalidTransition
from mma_core.domain.text import _ as _t
from mma_core.domain.values import OfficialId

# The facts a coordinator records, each with the fields a correction may change (as the
# fact's own field names; ``name``, ``email`` and ``salutation`` of a nomination are sealed in
# its personal data). Registrations, claims, receipts and corrections themselves are not facts
# a coordinator can amend.
CORRECTABLE: Mapping[str, frozenset[str]] = {
    "Invited": frozenset({"on"}),
    "PriorConnectionRecorded": frozenset({"on", "connected_on", "costs"}),
    "Accepted": frozenset({"on"}),
    "Declined": frozenset({"on", "reason"}),
    "Connected": frozenset({"on"}),
    "ReportReceived": frozenset({"received_on", "category", "reference"}),
    "Evaluated": frozenset(
        {
            "on",
            "outcome",
            "recovered",
            "notes",
            "useful",
            "followed_up",
            "satisfaction",
            "reasons",
        }
    ),
    "Renewed": frozenset({"on"}),
    "Terminated": frozenset({"on", "reason"}),
    "Merged": frozenset({"on"}),
    "OfficialNominated": frozenset({"on", "name", "email", "salutation"}),
    "TrainingBooked": frozenset({"on", "session_id"}),
    "AttendanceRecorded": frozenset({"attended"}),
    "OfficialWithdrawn": frozenset({"on"}),
    "Scheduled": frozenset({"starts_at", "ends_at", "location", "capacity", "online"}),
}
# Facts recorded together with the one before them, amended with it: an acceptance with a
# prior connection compensates it in the same command.
COMPANIONS: Mapping[str, str] = {"Accepted": "PriorConnectionCompensated"}
REPORT = "ReportReceived"
# The fields of an event that are bookkeeping, not the fact.
_BOOKKEEPING = frozenset(
    {"originator_id", "originator_version", "originator_topic", "timestamp", "by", "origin"}
)
# The aggregate's state that a refold keeps: its registration, its reports, its money (the
# ledger lines decide the totals, the amendments' own lines included) and the amendments.
_KEPT = frozenset(
    {
        "code",
        "name",
        "province",
        "valid_from",
        "valid_until",
        "registry_successor",
        "population",
        "registry",
        "reports_received",
        "first_report_on",
        "last_report_on",
        "cost_totals",
        "cost_lines",
        "officials_nominated",
        "facts",
        "amended",
        "restated_reports",
    }
)


def fact_fields(event: Any) -> dict[str, Any]:
    """An event's own fields (the fact), as the event holds them."""
    return {k: v for k, v in vars(event).items() if k not in _BOOKKEEPING}


def report_days(events: Iterable[Any]) -> list[date]:
    """The day of each report that stands in these events of one municipality (oldest
    first): retracted reports left out, corrected ones on their corrected day."""
    days: dict[int, date] = {}
    for event in events:
        name = type(event).__name__
        if name == REPORT:
            days[event.originator_version] = event.received_on
        elif name == "FactRetracted" and event.fact == REPORT:
            days.pop(event.version, None)
        elif name == "FactRestated" and event.fact == REPORT:
            days[event.version] = event.data["received_on"]
    return list(days.values())


class AmendmentContext:
    """What a replay of amended facts needs from outside the aggregate: when each offer was
    sent (an invitation may not precede it). The application fills it from the store."""

    def __init__(self, offer_sent_on: Callable[[str], date | None] | None = None) -> None:
        self.offer_sent_on = offer_sent_on or (lambda _reference: None)


class CorrectionsTrack:
    """The Municipality's memory of its facts and the refold that amends them."""

    if TYPE_CHECKING:
        id: Any
        version: int
        code: str
        facts: list[list[Any]]
        amended: dict[str, str]
        restated_reports: dict[str, dict[str, Any]]
        reports_received: int
        first_report_on: date | None
        last_report_on: date | None
        cost_totals: dict[str, Any]
        cost_lines: int
        officials_nominated: int

        @property
        def label(self) -> str: ...

        def _charge(self, line: Any) -> None: ...

    # -- what the events do ---------------------------------------------------------------

    def _remember(self, event: Any) -> None:
        """Keep a fact (not a report) for the refold that an amendment makes."""
        self.facts.append([event.originator_version, type(event).__name__, fact_fields(event)])

    def _count_report(self, day: date) -> None:
        self.reports_received += 1
        if self.last_report_on is None or day > self.last_report_on:
            self.last_report_on = day
        if self.first_report_on is None or day < self.first_report_on:
            self.first_report_on = day

    def _retracted(self, event: Any) -> None:
        key = str(event.version)
        self.amended[key] = "corrected" if event.corrected else "retracted"
        if event.fact == REPORT:
            # The days of the reports left are the command's to find (the aggregate keeps
            # the first and last, not every report's): the event carries them.
            self.restated_reports.pop(key, None)
            self.reports_received -= 1
            self.first_report_on, self.last_report_on = event.reports_from, event.reports_until
        else:
            self.facts = [f for f in self.facts if f[0] != event.version]
            self._refold()
        for _, line in event.charges():
            self._charge(line)

    def _restated(self, event: Any) -> None:
        key = str(event.version)
        self.amended[key] = "corrected"
        if event.fact == REPORT:
            self.restated_reports[key] = dict(event.data)
            self._count_report(event.data["received_on"])
        else:
            self.facts.append([event.version, event.fact, dict(event.data)])
            self.facts.sort(key=lambda f: int(f[0]))
            self._refold()
        for _, line in event.charges():
            self._charge(line)

    def fact_event(self, name: str, data: Mapping[str, Any], version: int) -> Any:
        """The event a fact was recorded as (its bookkeeping filled in), to apply or check."""
        cls = getattr(type(self), name)
        return cls(
            originator_id=self.id,
            originator_version=version,
            timestamp=None,
            by="",
            origin="",
            **data,
        )

    def _refold(self) -> None:
        """The lifecycle and the officials again from the facts; the registration, the
        reports and the money stay (an amendment's own cost lines change the money)."""
        kind: Any = type(self)
        fresh = object.__new__(kind)
        kind.__init__(fresh)
        for key, value in vars(fresh).items():
            if key not in _KEPT:
                setattr(self, key, copy.copy(value))
        totals, lines, nominated = dict(self.cost_totals), self.cost_lines, self.officials_nominated
        facts, self.facts = self.facts, []
        for version, name, data in facts:
            self.fact_event(name, data, int(version)).apply(self)
        self.cost_totals, self.cost_lines = totals, lines
        self.officials_nominated = nominated

    # -- queries for the commands ---------------------------------------------------------

    def amendment_of(self, version: int) -> str | None:
        """``retracted`` or ``corrected`` if the fact at ``version`` was amended, else None."""
        return self.amended.get(str(version))

    def current_fact(self, version: int) -> tuple[str, dict[str, Any]] | None:
        """The fact at ``version`` as it stands now (corrected, if it was), if it is one of
        the facts the aggregate keeps (reports: only once corrected)."""
        restated = self.restated_reports.get(str(version))
        if restated is not None:
            return REPORT, dict(restated)
        for fact_version, name, data in self.facts:
            if int(fact_version) == version:
                return name, dict(data)
        return None

    def check_not_retracted(self, version: int, position: int) -> None:
        if self.amended.get(str(version)) == "retracted":
            raise AlreadyRetracted(
                _t("{label}: the fact at position {position} was retracted already").format(
                    label=self.label, position=position
                ),
                details={"position": position},
            )

    def replay_amended(
        self,
        changes: Mapping[int, tuple[str, dict[str, Any]] | None],
        stamp: Stamp,
        context: AmendmentContext,
        collect: bool = False,
    ) -> list[tuple[int, DomainError]]:
        """Check the history with ``changes`` applied (version: the fact restated, or ``None``
        for retracted) by the commands' own rules, fact by fact, on a scratch copy.

        Without ``collect`` the first broken rule is raised. With it, each fact that no longer
        holds is returned with its error and left out of the rest of the replay (what rests on
        a retracted fact); version 0 stands for the reports outside the amended connection."""
        kind: Any = type(self)
        scratch = object.__new__(kind)
        kind.__init__(scratch)
        for key in ("code", "name", "province", "valid_from", "valid_until"):
            setattr(scratch, key, getattr(self, key))
        scratch.registry_successor = self.registry_successor  # type: ignore[attr-defined]
        scratch._id = self.id
        scratch._version = 0
        days = [d for d in (self.first_report_on, self.last_report_on) if d is not None]
        scratch.last_report_on = self.last_report_on
        failures: list[tuple[int, DomainError]] = []
        for version, name, data in self._amended(changes):
            event = scratch.fact_event(name, data, version)
            try:
                scratch.check_fact(event, stamp, context)
            except DomainError as error:
                if not collect:
                    raise
                failures.append((version, error))
                continue
            event.apply(scratch)
        for day in dict.fromkeys(days):
            try:
                scratch.check_report(day, stamp)
            except DomainError as error:
                if not collect:
                    raise
                failures.append((0, error))
                break
        return failures

    def _amended(
        self, changes: Mapping[int, tuple[str, dict[str, Any]] | None]
    ) -> Iterator[tuple[int, str, dict[str, Any]]]:
        facts = {int(v): (n, d) for v, n, d in self.facts}
        for version, change in changes.items():
            if change is None:
                facts.pop(version, None)
            elif change[0] != REPORT:
                facts[version] = change
        for version in sorted(facts):
            name, data = facts[version]
            yield version, name, data

    def check_fact(self, event: Any, stamp: Stamp, context: AmendmentContext) -> None:
        """The rules the command that records ``event``'s fact checks, against this state."""
        m: Any = self
        name = type(event).__name__
        e = event
        if name == "Invited":
            m.check_invite(e.on, context.offer_sent_on(e.offer_reference), stamp)
        elif name == "PriorConnectionRecorded":
            m.check_prior_connection(e.connected_on, e.costs, e.on, stamp)
        elif name == "Accepted":
            m.check_accept(e.on, stamp)
        elif name == "PriorConnectionCompensated":
            if m.prior_connected_on is None:
                raise InvalidTransition(
                    _t("{label}: compensation goes with a prior connection only").format(
                        label=self.label
                    )
                )
        elif name == "Declined":
            m.check_decline(e.on, e.reason, stamp)
        elif name == "Connected":
            m.check_connect(e.on, stamp)
        elif name == "Evaluated":
            m.check_evaluate(
                e.on, e.recovered, stamp, e.reports or 0, e.useful, e.followed_up, e.satisfaction
            )
        elif name == "Renewed":
            m.check_renew(e.on, stamp)
        elif name == "Terminated":
            m.check_terminate(e.on, e.reason, stamp)
        elif name == "Merged":
            m.check_merged_on(e.on, stamp)
        elif name == "OfficialNominated":
            m.check_nominate(e.on, stamp)
        elif name == "TrainingBooked":
            m.check_booking(OfficialId(e.official_id), e.session_date, e.on, stamp)
        elif name == "AttendanceRecorded":
            m.check_attendance(OfficialId(e.official_id), e.session_id, e.attended, stamp)
        elif name == "OfficialWithdrawn":
            m.check_withdraw(OfficialId(e.official_id), e.on, stamp)
        elif name == "OfficialErased":
            m.check_erase(OfficialId(e.official_id))
        # PredecessorMerged: the merger's rules are the absorbed municipality's.
