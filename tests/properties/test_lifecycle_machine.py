"""Random command sequences, valid and invalid, against a small reference model.

The model below is written from DESIGN section 3 and 4 on its own: it does not use the domain
code. Every step asks the model whether the command is valid. A valid command must succeed and
the model follows it; an invalid one must raise a ``DomainError`` subclass whose message names
the municipality, and must not write a single event. After every step the programme's state
(stages, dates, reports, officials, seats) must equal the model's.

Four municipalities cover every kind of merger: Heerhugowaard (GM0398) into the new Dijk en
Waard (GM1980, from 2022-01-01), Weesp (GM0457) into Amsterdam (GM0363), and free mergers of
codes without a registry successor.

The CI profile (tests/conftest.py) is derandomized: every run plays the same sequences. For a
longer, random search: ``HYPOTHESIS_PROFILE=dev MMA_MACHINE_EXAMPLES=1000 pytest tests/properties``.
"""

from __future__ import annotations

import copy
import inspect
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import event, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from mma_core import DomainError, Money, Programme, Terms

NOW = datetime(2023, 6, 1, 10, tzinfo=UTC)
TODAY = date(2023, 6, 1)  # NOW in Europe/Amsterdam
OFFER = "1298348/1298354"
OFFER_SENT = date(2019, 10, 18)
CONNECTION_FEE, REPORT_FEE = Decimal("1500.00"), Decimal("22.50")
TERMS = Terms(connection_fee=Money(CONNECTION_FEE), report_fee=Money(REPORT_FEE))

# code: (valid_from, valid_until, registry successor), as in the shipped registry
REGISTRY: dict[str, tuple[date | None, date | None, str | None]] = {
    "GM0363": (None, None, None),
    "GM0457": (None, date(2022, 3, 23), "GM0363"),
    "GM0398": (None, date(2021, 12, 31), "GM1980"),
    "GM1980": (date(2022, 1, 1), None, None),
}
CODES = tuple(REGISTRY)
# session id: (day in Europe/Amsterdam, capacity); one in the past, one still to come
SESSIONS: dict[str, tuple[date, int]] = {
    "2019-11-06": (date(2019, 11, 6), 2),
    "2024-01-10": (date(2024, 1, 10), 1),
}
NOT_MERGED = ("registered", "invited", "accepted", "declined", "connected", "stopped")
REFERENCES = ("MMA-20-0001", "MMA-20-0002", "MMA-20-0003", "MMA-21-0001", "MMA-22-0001")
CATEGORIES = ("sociale zekerheid", "drugsdelicten", "woonfraude", "uitkeringsfraude")
VALID_CATEGORIES = frozenset(CATEGORIES[:3])


def plus_a_year(day: date) -> date:
    """The evaluation period of the 2019 offer: twelve months, 29 February to 28 February."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return day.replace(year=day.year + 1, day=28)


STEP_FACTS = {
    "do_invite": "Invited",
    "do_record_prior_connection": "PriorConnectionRecorded",
    "do_accept": "Accepted",
    "do_decline": "Declined",
    "do_connect": "Connected",
    "do_evaluate": "Evaluated",
    "do_renew": "Renewed",
    "do_terminate": "Terminated",
}
CORRECTION_CODES = frozenset(
    {
        "invalid_input",
        "invalid_date",
        "invalid_transition",
        "not_correctable",
        "already_retracted",
        "depends_on",
        "duplicate_report",
        "unknown_position",
    }
)


def views_equal(a: Any, b: Any) -> bool:
    """Two answers about a municipality are the same, whatever question they answered."""

    def shape(view: Any) -> dict[str, Any]:
        data = dict(view.to_dict())
        for key in ("as_of", "known_at", "costs"):
            data.pop(key, None)
        return data

    return shape(a) == shape(b)


@dataclass(frozen=True)
class After:
    """A date given relative to the municipality's latest date: may run backwards (< 0)."""

    days: int


# Dates: mostly a step after the latest date, sometimes before it, sometimes anywhere (also in
# the future), sometimes exactly the registry's merger days.
FORWARD = st.builds(After, st.integers(min_value=0, max_value=150))
DAYS = st.one_of(
    FORWARD,
    FORWARD,
    FORWARD,
    st.builds(After, st.integers(min_value=151, max_value=500)),
    st.builds(After, st.integers(min_value=-60, max_value=-1)),
    st.dates(min_value=date(2018, 1, 1), max_value=date(2024, 12, 31)),
    st.sampled_from([date(2022, 1, 1), date(2022, 3, 24), TODAY, TODAY + timedelta(days=1)]),
)
MAYBE_DAYS = st.one_of(st.none(), DAYS)
# Officials: often nominated in time for the November 2019 trainings.
AUTUMN_2019 = st.dates(min_value=date(2019, 10, 18), max_value=date(2019, 11, 5))
OFFICIAL_DAYS = st.one_of(st.none(), AUTUMN_2019, AUTUMN_2019, DAYS)
AMOUNTS = st.sampled_from(["0", "2000.00", "-1.00"])


@dataclass
class OfficialModel:
    code: str
    nominated_on: date
    active: bool = True
    erased: bool = False
    session: str | None = None
    attended: bool | None = None


@dataclass
class MunicipalityModel:
    code: str
    valid_from: date | None
    valid_until: date | None
    registry_successor: str | None
    stage: str = "registered"
    offer: str | None = None
    invited_on: date | None = None
    answered_on: date | None = None
    prior_connected_on: date | None = None
    prior_costs: Decimal = Decimal(0)
    costs_province: Decimal = Decimal(0)
    costs_municipality: Decimal = Decimal(0)
    connected_on: date | None = None
    kind: str | None = None  # programme, prior, succession
    term_start: date | None = None
    evaluation_due: date | None = None
    term_outcome: str | None = None  # the current term's evaluation
    last_on: date | None = None  # the latest lifecycle date
    last_report: date | None = None
    reports: int = 0
    terminated_on: date | None = None
    merged_on: date | None = None
    successor: str | None = None
    nominated: int = 0

    def exists(self, day: date) -> bool:
        if self.valid_from is not None and day < self.valid_from:
            return False
        return self.valid_until is None or day <= self.valid_until

    def lifecycle_problem(self, day: date) -> str | None:
        if day > TODAY:
            return "date in the future"
        if self.last_on is not None and day < self.last_on:
            return "date runs backwards"
        if not self.exists(day):
            return "municipality does not exist on that date"
        return None

    def connect(self, connected_on: date, term_start: date, kind: str) -> None:
        self.stage = "connected"
        self.connected_on = connected_on
        self.term_start = term_start
        self.evaluation_due = plus_a_year(term_start)
        self.kind = kind
        self.term_outcome = None
        self.terminated_on = None


class LifecycleMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        # The clock stands still but for corrections: each is recorded a second later than
        # everything before it, so ``known_at`` can ask what the store knew just before.
        self.now = NOW
        self.prog = Programme.open("memory://", clock=lambda: self.now)
        self.prog.register_registry("noord-holland-2019", by="coordinator")
        self.prog.make_offer(reference=OFFER, sent_on=OFFER_SENT, terms=TERMS, by="cdk")
        for session_id, (day, capacity) in SESSIONS.items():
            self.prog.schedule_training(
                session_id,
                starts_at=datetime(day.year, day.month, day.day, 10),
                ends_at=datetime(day.year, day.month, day.day, 12, 30),
                location="Provinciehuis, Dreef 3, Haarlem",
                capacity=capacity,
                by="coordinator",
            )
        self.model = {
            code: MunicipalityModel(code, *validity) for code, validity in REGISTRY.items()
        }
        self.officials: dict[str, OfficialModel] = {}
        self.seats: dict[str, list[str]] = {session_id: [] for session_id in SESSIONS}
        self.references: set[str] = set()
        # For corrections: each municipality's reports (position, reference, day, retracted)
        # and its lifecycle steps (position, fact, the model before the step).
        self.reports: dict[str, list[list[Any]]] = {code: [] for code in CODES}
        self.steps: dict[str, list[tuple[int, str, MunicipalityModel]]] = {c: [] for c in CODES}

    def teardown(self) -> None:
        deepest = {m.stage for m in self.model.values()}
        for stage in ("connected", "stopped", "merged"):
            if stage in deepest:
                event(f"reached: {stage}")
        if any(
            m.term_start != m.connected_on and m.kind == "programme" for m in self.model.values()
        ):
            event("reached: renewed")
        if any(m.kind == "succession" for m in self.model.values()):
            event("reached: connected by succession")
        self.prog.close()

    # -- the check every step makes --------------------------------------------------------

    def attempt(self, code: str, problem: str | None, command: Any) -> bool:
        """Run the command; True when it succeeded (and the model said it would)."""
        before = self.prog.event_count()
        raised: DomainError | None = None
        try:
            command()
        except DomainError as error:
            raised = error
        caller = inspect.currentframe()
        name = caller.f_back.f_code.co_name if caller and caller.f_back else "?"
        if raised is not None:
            assert problem is not None, f"the model says valid, but it raised {raised!r}"
            assert self.prog.event_count() == before, f"{raised!r} wrote events"
            assert code in str(raised), f"{raised!r} does not name {code}"
            event(f"refused: {problem}")
            return False
        assert problem is None, (
            f"the model says invalid ({problem}), but it succeeded; model: {self.model[code]}"
        )
        assert self.prog.event_count() > before
        self.remember(code, name)
        event(f"done: {name}")
        note(f"{name} {code}: done")
        return True

    def pick_code(self, data: st.DataObject, stages: tuple[str, ...]) -> str:
        """Mostly a municipality in a stage where the command fits, sometimes any."""
        fitting = [code for code, m in self.model.items() if m.stage in stages]
        return data.draw(st.sampled_from([*fitting * 8, *CODES]), label="code")

    def day(self, m: MunicipalityModel, when: date | After) -> date:
        if isinstance(when, After):
            anchor = max(d for d in (m.last_on, m.last_report, OFFER_SENT) if d is not None)
            return anchor + timedelta(days=when.days)
        return when

    # -- the lifecycle ---------------------------------------------------------------------

    @rule(data=st.data(), days=st.integers(min_value=0, max_value=120))
    def advance(self, data: st.DataObject, days: int) -> None:
        """The next step a municipality would naturally take, on a plausible date.

        Random commands alone seldom get past an acceptance; this carries municipalities through
        connection, reports, evaluations, renewals and mergers so the deep rules are exercised.
        """
        open_ = [c for c, m in self.model.items() if m.stage not in ("merged", "stopped")]
        if not open_:
            return
        code = data.draw(st.sampled_from(open_), label="advance")
        m = self.model[code]
        on = self.day(m, After(days))
        if m.valid_from is not None and on < m.valid_from:
            on = m.valid_from + timedelta(days=days)
        if m.stage == "registered":
            self.do_invite(code, on, OFFER, "cdk")
        elif m.stage in ("invited", "declined"):
            step = data.draw(st.sampled_from(["accept", "accept", "decline", "prior"]))
            if step == "prior" and m.prior_connected_on is None:
                self.do_record_prior_connection(code, days + 30, "2000.00", None)
            elif step == "decline" and m.stage == "invited":
                self.do_decline(code, on, "geen capaciteit")
            else:
                self.do_accept(code, on)
        elif m.stage == "accepted":
            self.do_connect(code, on)
        else:
            merger = m.valid_until + timedelta(days=1) if m.valid_until else None
            steps = ["report", "report", "report", "evaluate", "evaluate", "renew", "renew"]
            steps += ["terminate"]
            if merger is not None and merger >= max(on, m.last_on or on):
                steps += ["merge", "merge"]
            step = data.draw(st.sampled_from(steps))
            reference = data.draw(st.sampled_from(REFERENCES))
            if step == "report":
                self.do_record_report(code, min(on, TODAY), "drugsdelicten", reference)
            elif step == "evaluate":
                self.do_evaluate(code, min(on, TODAY), "continue", "0")
            elif step == "renew":
                self.do_renew(code, min(on, TODAY))
            elif step == "terminate":
                self.do_terminate(code, min(on, TODAY))
            else:
                assert merger is not None
                assert m.registry_successor is not None
                self.do_merge(code, m.registry_successor, merger)

    @rule(
        data=st.data(),
        when=DAYS,
        reference=st.sampled_from([OFFER] * 6 + ["1999/1"]),
        by=st.sampled_from(["cdk"] * 6 + [" "]),
    )
    def invite(self, data: st.DataObject, when: date | After, reference: str, by: str) -> None:
        self.do_invite(self.pick_code(data, ("registered",)), when, reference, by)

    def do_invite(self, code: str, when: date | After, reference: str, by: str) -> None:
        m = self.model[code]
        on = self.day(m, when)
        problem = (
            ("no such offer" if reference != OFFER else None)
            or ("no actor" if not by.strip() else None)
            or (None if m.stage == "registered" else "not registered")
            or m.lifecycle_problem(on)
            or ("before the offer was sent" if on < OFFER_SENT else None)
        )
        if self.attempt(
            code, problem, lambda: self.prog.invite(code, on=on, reference=reference, by=by)
        ):
            m.stage, m.invited_on, m.offer, m.last_on = "invited", on, OFFER, on

    @rule(
        data=st.data(),
        connected_days_before=st.integers(min_value=-30, max_value=700),
        costs=AMOUNTS,
        when=MAYBE_DAYS,
    )
    def record_prior_connection(
        self, data: st.DataObject, connected_days_before: int, costs: str, when: date | After | None
    ) -> None:
        self.do_record_prior_connection(
            self.pick_code(data, ("invited", "declined")), connected_days_before, costs, when
        )

    def do_record_prior_connection(
        self, code: str, connected_days_before: int, costs: str, when: date | After | None
    ) -> None:
        m = self.model[code]
        anchor = m.invited_on or OFFER_SENT
        connected_on = anchor - timedelta(days=connected_days_before)
        on = anchor if when is None else self.day(m, when)
        problem = (
            (None if m.stage in ("invited", "declined") else "not invited or declined")
            or ("recorded already" if m.prior_connected_on is not None else None)
            or ("not before the invitation" if connected_on >= anchor else None)
            or ("negative costs" if Money(costs).amount < 0 else None)
            or m.lifecycle_problem(on)
        )
        if self.attempt(
            code,
            problem,
            lambda: self.prog.record_prior_connection(
                code,
                connected_on=connected_on,
                costs=Money(costs),
                on=None if when is None else on,
                by="coordinator",
            ),
        ):
            m.prior_connected_on, m.last_on = connected_on, on
            m.prior_costs = Decimal(costs)

    @rule(data=st.data(), when=DAYS)
    def accept(self, data: st.DataObject, when: date | After) -> None:
        self.do_accept(self.pick_code(data, ("invited", "declined")), when)

    def do_accept(self, code: str, when: date | After) -> None:
        m = self.model[code]
        on = self.day(m, when)
        problem = (
            None if m.stage in ("invited", "declined") else "not invited or declined"
        ) or m.lifecycle_problem(on)
        if self.attempt(code, problem, lambda: self.prog.accept(code, on=on, by="burgemeester")):
            m.answered_on, m.last_on = on, on
            if m.prior_connected_on is not None:
                m.connect(m.prior_connected_on, on, "prior")
                m.costs_province += m.prior_costs  # compensation, no connection fee
            else:
                m.stage = "accepted"

    @rule(data=st.data(), when=DAYS, reason=st.sampled_from(["", "geen", "x" * 501]))
    def decline(self, data: st.DataObject, when: date | After, reason: str) -> None:
        self.do_decline(self.pick_code(data, ("invited",)), when, reason)

    def do_decline(self, code: str, when: date | After, reason: str) -> None:
        m = self.model[code]
        on = self.day(m, when)
        problem = (
            (None if m.stage == "invited" else "not invited")
            or m.lifecycle_problem(on)
            or ("reason too long" if len(reason) > 500 else None)
        )
        if self.attempt(
            code, problem, lambda: self.prog.decline(code, on=on, reason=reason, by="burgemeester")
        ):
            m.stage, m.answered_on, m.last_on = "declined", on, on

    @rule(data=st.data(), when=DAYS)
    def connect(self, data: st.DataObject, when: date | After) -> None:
        self.do_connect(self.pick_code(data, ("accepted",)), when)

    def do_connect(self, code: str, when: date | After) -> None:
        m = self.model[code]
        on = self.day(m, when)
        problem = (None if m.stage == "accepted" else "not accepted") or m.lifecycle_problem(on)
        if self.attempt(code, problem, lambda: self.prog.connect(code, on=on, by="coordinator")):
            m.connect(on, on, "programme")
            m.costs_province += CONNECTION_FEE
            m.last_on = on

    @rule(
        data=st.data(),
        when=DAYS,
        category=st.sampled_from(CATEGORIES),
        reference=st.sampled_from(REFERENCES),
    )
    def record_report(
        self, data: st.DataObject, when: date | After, category: str, reference: str
    ) -> None:
        self.do_record_report(
            self.pick_code(data, ("connected", "stopped", "merged")), when, category, reference
        )

    def do_record_report(
        self, code: str, when: date | After, category: str, reference: str
    ) -> None:
        m = self.model[code]
        on = self.day(m, when)
        since = m.term_start if m.kind == "prior" else m.connected_on
        problem = (
            ("not an MMA category" if category not in VALID_CATEGORIES else None)
            or self.window_problem(m, on)
            or ("in the future" if on > TODAY else None)
            or ("before the connection" if since is not None and on < since else None)
            or (None if m.exists(on) else "does not exist on that date")
            or ("reference counted already" if reference in self.references else None)
        )
        if self.attempt(
            code,
            problem,
            lambda: self.prog.record_report(
                code, received_on=on, category=category, reference=reference, by="mma"
            ),
        ):
            m.reports += 1
            m.costs_municipality += REPORT_FEE
            m.last_report = on if m.last_report is None else max(m.last_report, on)
            self.references.add(reference)
            self.reports[code][-1][1:] = [reference, on, False, category]

    @rule(
        data=st.data(),
        when=DAYS,
        outcome=st.sampled_from(["continue", "continue", "stop", "maybe"]),
        recovered=AMOUNTS,
    )
    def evaluate(
        self, data: st.DataObject, when: date | After, outcome: str, recovered: str
    ) -> None:
        self.do_evaluate(self.pick_code(data, ("connected",)), when, outcome, recovered)

    def do_evaluate(self, code: str, when: date | After, outcome: str, recovered: str) -> None:
        m = self.model[code]
        on = self.day(m, when)
        problem = (
            ("unknown outcome" if outcome not in ("continue", "stop") else None)
            or (None if m.stage == "connected" else "not connected")
            or m.lifecycle_problem(on)
            or ("evaluated in this term" if m.term_outcome is not None else None)
            or ("negative recovered amount" if Money(recovered).amount < 0 else None)
        )
        if self.attempt(
            code,
            problem,
            lambda: self.prog.evaluate(
                code, on=on, outcome=outcome, recovered=Money(recovered), by="oov"
            ),
        ):
            m.term_outcome, m.last_on = outcome, on

    @rule(data=st.data(), when=DAYS)
    def renew(self, data: st.DataObject, when: date | After) -> None:
        self.do_renew(self.pick_code(data, ("connected",)), when)

    def do_renew(self, code: str, when: date | After) -> None:
        m = self.model[code]
        on = self.day(m, when)
        problem = (
            (None if m.stage == "connected" else "not connected")
            or (None if m.term_outcome == "continue" else "no 'continue' evaluation this term")
            or m.lifecycle_problem(on)
        )
        if self.attempt(code, problem, lambda: self.prog.renew(code, on=on, by="burgemeester")):
            m.term_start, m.evaluation_due = on, plus_a_year(on)
            m.term_outcome, m.last_on = None, on

    @rule(data=st.data(), when=DAYS)
    def terminate(self, data: st.DataObject, when: date | After) -> None:
        self.do_terminate(self.pick_code(data, ("connected",)), when)

    def do_terminate(self, code: str, when: date | After) -> None:
        m = self.model[code]
        on = self.day(m, when)
        problem = (
            (None if m.stage == "connected" else "not connected")
            or m.lifecycle_problem(on)
            or ("before the last report" if m.last_report and on < m.last_report else None)
        )
        if self.attempt(
            code, problem, lambda: self.prog.terminate(code, on=on, reason="", by="burgemeester")
        ):
            m.stage, m.evaluation_due, m.last_on = "stopped", None, on
            m.terminated_on = on

    # Natural steps are worth more than one rule's share of the random choice.
    @rule(data=st.data(), days=st.integers(min_value=0, max_value=120))
    def advance_more(self, data: st.DataObject, days: int) -> None:
        self.advance(data, days)

    @rule(data=st.data(), days=st.integers(min_value=0, max_value=60))
    def advance_again(self, data: st.DataObject, days: int) -> None:
        self.advance(data, days)

    @rule(data=st.data(), into=st.sampled_from(CODES), when=DAYS, unlisted=st.booleans())
    def merge(self, data: st.DataObject, into: str, when: date | After, unlisted: bool) -> None:
        self.do_merge(self.pick_code(data, NOT_MERGED), into, when, unlisted)

    def do_merge(self, code: str, into: str, when: date | After, unlisted: bool = False) -> None:
        m, s = self.model[code], self.model[into]
        on = self.day(m, when)
        succession = m.stage == "connected" and s.stage != "connected"
        problem = (
            ("merged already" if m.stage == "merged" else None)
            or ("into itself" if code == into else None)
            # A merger the registry does not list is recorded only when the coordinator says so.
            or ("not in the registry" if m.registry_successor is None and not unlisted else None)
            or ("in the future" if on > TODAY else None)
            or ("runs backwards" if m.last_on and on < m.last_on else None)
            or ("before the last report" if m.last_report and on < m.last_report else None)
            or self.registry_problem(m, into, on)
            or ("successor merged" if s.stage == "merged" else None)
            or (None if s.exists(on) else "successor does not exist then")
            or (
                "runs backwards for the successor"
                if succession and s.last_on and on < s.last_on
                else None
            )
        )
        if not self.attempt(
            code,
            problem,
            lambda: self.prog.merge(
                code,
                into=into,
                on=on,
                unlisted=unlisted,
                reason="the registry lags" if unlisted else "",
                by="coordinator",
            ),
        ):
            return
        due = m.evaluation_due
        if succession:
            s.connect(on, on, "succession")
            s.evaluation_due, s.last_on = due, on
            s.offer = s.offer or m.offer
        elif m.stage == "connected" and s.kind == "succession" and s.evaluation_due:
            assert due is not None
            s.evaluation_due = min(due, s.evaluation_due)
        m.stage, m.merged_on, m.successor = "merged", on, into
        m.evaluation_due, m.last_on = None, on

    @staticmethod
    def window_problem(m: MunicipalityModel, on: date) -> str | None:
        """Reports fall on or after the connection and before termination (or the merger)."""
        if m.stage == "connected":
            return None
        if m.stage == "stopped" or (m.stage == "merged" and m.terminated_on is not None):
            assert m.terminated_on is not None
            return "after the termination" if on > m.terminated_on else None
        if m.stage == "merged" and m.connected_on is not None:
            assert m.merged_on is not None
            return "after the merger" if on >= m.merged_on else None
        return "never connected"

    @staticmethod
    def registry_problem(m: MunicipalityModel, into: str, on: date) -> str | None:
        if m.registry_successor is not None:
            assert m.valid_until is not None
            if into != m.registry_successor:
                return "not the registry's successor"
            if on != m.valid_until + timedelta(days=1):
                return "not the day after the registry's end"
        elif m.valid_until is not None and on > m.valid_until + timedelta(days=1):
            return "long after it ceased"
        if m.valid_from is not None and on <= m.valid_from:
            return "not after it began"
        return None

    # -- officials and training ------------------------------------------------------------

    def official_ids(self) -> list[str]:
        return sorted(self.officials)

    @rule(
        code=st.sampled_from(CODES),
        when=OFFICIAL_DAYS,
        email=st.sampled_from(
            ["a.ambtenaar@gemeente.example", "a.ambtenaar@gemeente.example", "x@"]
        ),
    )
    def nominate_official(self, code: str, when: date | After | None, email: str) -> None:
        m = self.model[code]
        on = TODAY if when is None else self.day(m, when)
        active = sum(1 for o in self.officials.values() if o.code == code and o.active)
        problem = (
            ("bad e-mail address" if email == "x@" else None)
            or ("merged" if m.stage == "merged" else None)
            or ("in the future" if on > TODAY else None)
            or (None if m.exists(on) else "does not exist on that date")
            or ("two active officials already" if active >= 2 else None)
        )
        result: list[str] = []

        def nominate() -> None:
            result.append(
                self.prog.nominate_official(
                    code,
                    name="A. Ambtenaar",
                    email=email,
                    on=None if when is None else on,
                    by="coordinator",
                )
            )

        if self.attempt(code, problem, nominate):
            m.nominated += 1
            assert result == [f"{code}-{m.nominated}"]
            self.officials[result[0]] = OfficialModel(code, on)

    @rule(
        code=st.sampled_from(CODES),
        data=st.data(),
        session=st.sampled_from([*SESSIONS, "2019-11-06", "no-such-session"]),
        days_after_nomination=st.one_of(st.none(), st.integers(min_value=-5, max_value=30)),
    )
    def book_training(
        self, code: str, data: st.DataObject, session: str, days_after_nomination: int | None
    ) -> None:
        official_id = self.pick_official(code, data)
        o = self.officials.get(official_id)
        on = None
        if o is not None and days_after_nomination is not None:
            on = o.nominated_on + timedelta(days=days_after_nomination)
        self.do_book_training(code, official_id, session, on)

    def do_book_training(self, code: str, official_id: str, session: str, on: date | None) -> None:
        o = self.officials.get(official_id)
        day = TODAY if on is None else on
        problem = (
            ("official of another municipality" if not official_id.startswith(code) else None)
            or ("no such session" if session not in SESSIONS else None)
            or ("no such official" if o is None else None)
        )
        if problem is None:
            assert o is not None
            session_day, capacity = SESSIONS[session]
            problem = (
                ("not active" if not o.active else None)
                or ("booked already" if o.session is not None and o.attended is not False else None)
                or ("in the future" if day > TODAY else None)
                or ("before the nomination" if day < o.nominated_on else None)
                or ("after the session" if day > session_day else None)
                or ("holds a seat there" if official_id in self.seats[session] else None)
                or ("session full" if len(self.seats[session]) >= capacity else None)
            )
        if self.attempt(
            code,
            problem,
            lambda: self.prog.book_training(
                code, official_id=official_id, session_id=session, on=on, by="coordinator"
            ),
        ):
            assert o is not None
            o.session, o.attended = session, None
            self.seats[session].append(official_id)

    @rule(
        code=st.sampled_from(CODES),
        data=st.data(),
        session=st.sampled_from([*SESSIONS, "2019-11-06"]),
        attended=st.booleans(),
    )
    def record_attendance(
        self, code: str, data: st.DataObject, session: str, attended: bool
    ) -> None:
        official_id = self.pick_official(code, data)
        self.do_record_attendance(code, official_id, session, attended)

    def do_record_attendance(
        self, code: str, official_id: str, session: str, attended: bool
    ) -> None:
        o = self.officials.get(official_id)
        problem = (
            "official of another municipality" if not official_id.startswith(code) else None
        ) or ("no such official" if o is None else None)
        if problem is None:
            assert o is not None
            problem = (
                ("not booked on that session" if o.session != session else None)
                or ("recorded already" if o.attended is not None else None)
                or ("session still to come" if SESSIONS[session][0] > TODAY else None)
                or ("seat given up" if official_id not in self.seats[session] else None)
            )
        if self.attempt(
            code,
            problem,
            lambda: self.prog.record_attendance(
                code,
                official_id=official_id,
                session_id=session,
                attended=attended,
                by="coordinator",
            ),
        ):
            assert o is not None
            o.attended = attended

    @rule(data=st.data(), days_after_nomination=st.one_of(st.none(), st.integers(-5, 1500)))
    def withdraw_official(self, data: st.DataObject, days_after_nomination: int | None) -> None:
        official_id = self.pick_official(data.draw(st.sampled_from(CODES)), data)
        code = official_id.split("-")[0]
        o = self.officials.get(official_id)
        on = None
        if o is not None and days_after_nomination is not None:
            on = o.nominated_on + timedelta(days=days_after_nomination)
        day = TODAY if on is None else on
        problem = ("no such official" if o is None else None) or (
            None
            if o is None
            else (
                ("not active" if not o.active else None)
                or ("in the future" if day > TODAY else None)
                or ("before the nomination" if day < o.nominated_on else None)
            )
        )
        if self.attempt(
            code,
            problem,
            lambda: self.prog.withdraw_official(official_id, on=on, by="coordinator"),
        ):
            assert o is not None
            o.active = False
            self.release_seat(official_id, o, day)

    @rule(data=st.data())
    def erase_official(self, data: st.DataObject) -> None:
        official_id = self.pick_official(data.draw(st.sampled_from(CODES)), data)
        code = official_id.split("-")[0]
        o = self.officials.get(official_id)
        problem = ("no such official" if o is None else None) or (
            "erased already" if o is not None and o.erased else None
        )
        if self.attempt(
            code, problem, lambda: self.prog.erase_official(official_id, by="privacy-officer")
        ):
            assert o is not None
            if o.active:
                self.release_seat(official_id, o, TODAY)
            o.active, o.erased = False, True

    def release_seat(self, official_id: str, o: OfficialModel, day: date) -> None:
        """An official leaving gives up a seat still to come (or today's) not yet attended."""
        if o.session is not None and o.attended is None and SESSIONS[o.session][0] >= day:
            self.seats[o.session].remove(official_id)

    @rule(data=st.data())
    def train(self, data: st.DataObject) -> None:
        """The natural next training step of an active official: book a seat, or attend."""
        active = [oid for oid, o in sorted(self.officials.items()) if o.active]
        if not active:
            return
        official_id = data.draw(st.sampled_from(active), label="official")
        o = self.officials[official_id]
        if o.session is None or o.attended is False:
            first = date(2019, 11, 6)
            session = "2019-11-06" if o.nominated_on <= first else "2024-01-10"
            on = o.nominated_on if session == "2019-11-06" else max(o.nominated_on, TODAY)
            self.do_book_training(o.code, official_id, session, on)
        elif o.attended is None:
            attended = data.draw(st.booleans(), label="attended")
            self.do_record_attendance(o.code, official_id, o.session, attended)

    def pick_official(self, code: str, data: st.DataObject) -> str:
        """Mostly an official of ``code``; sometimes another's, or one never nominated."""
        own = [oid for oid in self.official_ids() if oid.startswith(code)]
        choices = [*own, *own, *self.official_ids(), f"{code}-9"]
        return data.draw(st.sampled_from(choices))

    # -- corrections -------------------------------------------------------------------------

    def position_of(self, code: str, fact: str) -> int:
        for entry in reversed(self.prog.history(code, latest=True, limit=4)):
            if entry.type == fact:
                return entry.position
        raise AssertionError(f"{code}: no {fact} among the latest events")

    def remember(self, code: str, name: str) -> None:
        """Called before the model follows a command that succeeded: what corrections need."""
        if name == "do_record_report":
            position = self.position_of(code, "ReportReceived")
            self.reports[code].append([position, None, None, False])  # filled by the caller
        elif name in STEP_FACTS:
            fact = STEP_FACTS[name]
            self.steps[code].append(
                (self.position_of(code, fact), fact, copy.copy(self.model[code]))
            )
        elif name == "do_merge":
            self.steps[code].append((0, "Merged", copy.copy(self.model[code])))

    def amend(self, code: str, problem: str | None, command: Any) -> bool:
        """A correction: refused with a stable code and nothing written when the model says
        it is invalid; when it succeeds, the store as known just before answers as before."""
        before_view = self.prog.municipality(code)
        before_count, known = self.prog.event_count(), self.now
        self.now += timedelta(seconds=1)
        raised: DomainError | None = None
        try:
            command()
        except DomainError as error:
            raised = error
        if raised is not None:
            assert problem is not None, f"the model says valid, but it raised {raised!r}"
            assert raised.code in CORRECTION_CODES, raised.code
            assert self.prog.event_count() == before_count, f"{raised!r} wrote events"
            event(f"refused correction: {problem}")
            return False
        assert problem is None, f"the model says invalid ({problem}), but it succeeded"
        then = self.prog.municipality(code, known_at=known)
        assert views_equal(then, before_view), "known_at before the correction changed"
        event("done: correction")
        return True

    def live_reports(self, code: str) -> list[list[Any]]:
        return [r for r in self.reports[code] if not r[3] and r[1] is not None]

    def recount_reports(self, m: MunicipalityModel) -> None:
        days = [r[2] for r in self.live_reports(m.code)]
        m.last_report = max(days) if days else None

    @rule(data=st.data(), again=st.booleans())
    def retract_report(self, data: st.DataObject, again: bool) -> None:
        code = data.draw(st.sampled_from(CODES))
        m = self.model[code]
        retracted = [r for r in self.reports[code] if r[3]]
        pool = retracted if again and retracted else self.live_reports(code)
        if not pool:
            return
        report = data.draw(st.sampled_from(pool))
        problem = "retracted already" if report[3] else None
        if self.amend(code, problem, lambda: self.prog.retract(report[0], reason="x", by="c")):
            report[3] = True
            m.reports -= 1
            m.costs_municipality -= REPORT_FEE
            self.references.discard(report[1])
            self.recount_reports(m)

    @rule(
        data=st.data(),
        field=st.sampled_from(["category", "received_on", "reference", "colour", "none"]),
        when=DAYS,
        category=st.sampled_from(CATEGORIES),
        reference=st.sampled_from([*REFERENCES, "MMA-23-0001"]),
    )
    def correct_report(
        self,
        data: st.DataObject,
        field: str,
        when: date | After,
        category: str,
        reference: str,
    ) -> None:
        code = data.draw(st.sampled_from(CODES))
        m = self.model[code]
        pool = self.live_reports(code)
        if not pool:
            return
        report = data.draw(st.sampled_from(pool))
        on = self.day(m, when)
        changes: dict[str, Any] = {}
        problem: str | None
        if field == "category":
            changes = {"category": category}
            problem = None if category in VALID_CATEGORIES else "not an MMA category"
            if problem is None and category == report[4]:
                problem = "changes nothing"
        elif field == "received_on":
            changes = {"received_on": on}
            since = m.term_start if m.kind == "prior" else m.connected_on
            problem = (
                self.window_problem(m, on)
                or ("in the future" if on > TODAY else None)
                or ("before the connection" if since is not None and on < since else None)
                or (None if m.exists(on) else "does not exist on that date")
                or ("changes nothing" if on == report[2] else None)
            )
        elif field == "reference":
            changes = {"reference": reference}
            problem = (
                "changes nothing"
                if reference == report[1]
                else ("reference counted already" if reference in self.references else None)
            )
        elif field == "colour":
            changes, problem = {"colour": "red"}, "not a field of a report"
        else:
            problem = "no change"
        if self.amend(
            code, problem, lambda: self.prog.correct(report[0], reason="x", by="c", **changes)
        ):
            if field == "category":
                report[4] = category
            elif field == "received_on":
                report[2] = on
                self.recount_reports(m)
            elif field == "reference":
                self.references.discard(report[1])
                self.references.add(reference)
                report[1] = reference

    @rule(data=st.data())
    def retract_latest_step(self, data: st.DataObject) -> None:
        """The latest lifecycle step of a municipality outside any merger was never taken."""
        code = data.draw(st.sampled_from(CODES))
        m = self.model[code]
        merged = any(s[1] == "Merged" for s in self.steps[code]) or any(
            o.successor == code for o in self.model.values()
        )
        if merged or not self.steps[code]:
            return
        position, _, previous = self.steps[code][-1]
        rests = m.reports > 0 and previous.stage != "connected" and m.stage == "connected"
        problem = "reports rest on the connection" if rests else None
        if self.amend(code, problem, lambda: self.prog.retract(position, reason="x", by="c")):
            self.steps[code].pop()
            restored = copy.copy(previous)
            restored.reports, restored.last_report = m.reports, m.last_report
            restored.costs_municipality, restored.nominated = m.costs_municipality, m.nominated
            self.model[code] = restored

    @rule()
    def read_models_equal_a_rebuild_and_a_fold(self) -> None:
        live = {code: self.prog.municipality(code) for code in CODES}
        overview = self.prog.overview().to_dict()
        later = NOW + timedelta(days=3650)
        for code in CODES:
            assert views_equal(self.prog.municipality(code, known_at=later), live[code]), code
        self.prog.views.rebuild()
        for code in CODES:
            assert views_equal(self.prog.municipality(code), live[code]), code
        assert self.prog.overview().to_dict() == overview

    # -- the state must equal the model's --------------------------------------------------

    @invariant()
    def state_equals_model(self) -> None:
        for code, m in self.model.items():
            view = self.prog.municipality(code)
            actual = (
                view.stage.value,
                view.invited_on,
                view.answered_on,
                view.connected_on,
                view.evaluation_due,
                view.reports_received,
                view.terminated_on,
                view.merged_on,
                view.successor,
                view.offer_reference,
                view.costs_province.amount,
                view.costs_municipality.amount,
            )
            expected = (
                m.stage,
                m.invited_on,
                m.answered_on,
                m.connected_on,
                m.evaluation_due,
                m.reports,
                m.terminated_on,
                m.merged_on,
                m.successor,
                m.offer,
                m.costs_province,
                m.costs_municipality,
            )
            assert actual == expected, f"{code}: {actual} != model {expected}"
            officials = {
                o.id: (o.active, o.erased, o.session_id, o.attended) for o in view.officials
            }
            assert officials == {
                oid: (o.active, o.erased, o.session, o.attended)
                for oid, o in self.officials.items()
                if o.code == code
            }
            assert len(view.active_officials) <= 2
        seats = {s.session_id: list(s.booked) for s in self.prog.sessions()}
        assert seats == self.seats
        for session_id, (_, capacity) in SESSIONS.items():
            assert len(seats[session_id]) <= capacity


# 'make test' runs a short walk; 'make test-all' sets MMA_MACHINE_EXAMPLES=200 for the long one.
LifecycleMachine.TestCase.settings = settings(
    max_examples=int(os.environ.get("MMA_MACHINE_EXAMPLES", "25")),
    stateful_step_count=60,
    deadline=None,
)
TestLifecycle = pytest.mark.machine(LifecycleMachine.TestCase)
