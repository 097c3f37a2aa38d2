"""Corrections end to end: every kind of fact retracted and corrected, on every store.

What must hold: the municipality's view follows the amended history (as of any date), the
store as it was known before a correction still answers as before, a refused amendment writes
nothing and says why with a stable code, money follows by reversal lines, a report's reference
is freed or moved with it, and the read models equal a rebuild and an as-of fold.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from mma_core import DomainError, Money, Programme, Stage, Terms

if TYPE_CHECKING:
    from conftest import Clock


OFFER = "1298348/1298354"
SENT = date(2019, 10, 18)
CONNECTION_FEE, REPORT_FEE = Decimal("1500.00"), Decimal("22.50")
TERMS = Terms(connection_fee=Money(CONNECTION_FEE), report_fee=Money(REPORT_FEE))
AMS, WEESP = "GM0363", "GM0457"
SESSION, LATER_SESSION = "2019-11-06", "2019-11-20"


def position(prog: Programme, code: str, kind: str, nth: int = -1) -> int:
    entries = [e for e in prog.history(code) if e.type == kind]
    assert entries, f"no {kind} in the history of {code}"
    return entries[nth].position


def refused(prog: Programme, call: Callable[[], object]) -> DomainError:
    """``call`` must raise a DomainError and write nothing; the error is returned."""
    before = prog.event_count()
    with pytest.raises(DomainError) as raised:
        call()
    assert prog.event_count() == before
    return raised.value


@pytest.fixture
def prog(programme: Programme) -> Programme:
    programme.register_registry("noord-holland-2019", by="coordinator")
    programme.make_offer(reference=OFFER, sent_on=SENT, terms=TERMS, by="cdk")
    return programme


def connect(prog: Programme, code: str = AMS, reports: int = 0) -> Programme:
    prog.invite(code, on=SENT, reference=OFFER, by="cdk")
    prog.accept(code, on=date(2019, 11, 1), by="burgemeester")
    prog.connect(code, on=date(2019, 12, 1), by="coordinator")
    for i in range(reports):
        prog.record_report(
            code,
            received_on=date(2020, 1, 1) + timedelta(days=i),
            category="woonfraude",
            reference=f"MMA-20-{i + 1:04d}",
            by="coordinator",
        )
    return prog


def nominate(prog: Programme, code: str = AMS) -> str:
    connect(prog, code)
    for session, day in ((SESSION, date(2019, 11, 6)), (LATER_SESSION, date(2019, 11, 20))):
        prog.schedule_training(
            session,
            starts_at=datetime(day.year, day.month, day.day, 10),
            ends_at=datetime(day.year, day.month, day.day, 12, 30),
            location="Haarlem",
            capacity=2,
            on=date(2019, 10, 1),
            by="coordinator",
        )
    oid: str = prog.nominate_official(
        code, name="A. Ambtenaar", email="a@gemeente.nl", on=date(2019, 10, 20), by="c"
    )
    return oid


def official(prog: Programme, oid: str, code: str = AMS, **kw: Any) -> Any:
    return next(o for o in prog.municipality(code, **kw).officials if o.id == oid)


# -- every kind of fact, retracted and corrected -------------------------------------------------


def test_invitation_retracted_and_corrected(prog: Programme) -> None:
    prog.invite(AMS, on=date(2019, 10, 20), reference=OFFER, by="cdk")
    at = position(prog, AMS, "Invited")
    prog.correct(at, on=date(2019, 10, 25), reason="date typo", by="c")
    assert prog.municipality(AMS).invited_on == date(2019, 10, 25)
    assert prog.municipality(AMS, as_of=date(2019, 10, 22)).stage is Stage.REGISTERED
    prog.retract(at, reason="sent to the wrong municipality", by="c")
    view = prog.municipality(AMS)
    assert view.stage is Stage.REGISTERED
    assert view.invited_on is None


def test_acceptance_retracted_and_corrected(prog: Programme) -> None:
    prog.invite(AMS, on=SENT, reference=OFFER, by="cdk")
    prog.accept(AMS, on=date(2019, 11, 1), by="b")
    at = position(prog, AMS, "Accepted")
    prog.correct(at, on=date(2019, 11, 5), reason="letter was dated later", by="c")
    assert prog.municipality(AMS).accepted_on == date(2019, 11, 5)
    assert prog.municipality(AMS, as_of=date(2019, 11, 2)).stage is Stage.INVITED
    prog.retract(at, reason="not accepted after all", by="c")
    view = prog.municipality(AMS)
    assert view.stage is Stage.INVITED
    assert view.accepted_on is None


def test_acceptance_with_prior_connection_takes_its_compensation_along(prog: Programme) -> None:
    prog.invite(AMS, on=SENT, reference=OFFER, by="cdk")
    prog.record_prior_connection(
        AMS, connected_on=date(2018, 5, 1), costs=Money("800.00"), on=date(2019, 10, 20), by="c"
    )
    before = prog.municipality(AMS)
    prog.accept(AMS, on=date(2019, 11, 1), by="b")
    compensated = prog.municipality(AMS)
    at = position(prog, AMS, "Accepted")
    prog.correct(at, on=date(2019, 11, 8), reason="letter was dated later", by="c")
    moved = prog.municipality(AMS)
    assert moved.accepted_on == date(2019, 11, 8)
    assert moved.costs_province == compensated.costs_province
    assert moved.connected_on == compensated.connected_on  # a prior connection stays connected
    assert prog.municipality(AMS, as_of=date(2019, 11, 5)).accepted_on is None
    prog.retract(at, reason="not accepted", by="c")
    after = prog.municipality(AMS)
    assert after.accepted_on is None
    assert after.stage is before.stage
    assert after.costs_province == before.costs_province
    assert after.prior_connected_on == date(2018, 5, 1)


def test_decline_retracted_and_corrected(prog: Programme) -> None:
    prog.invite(AMS, on=SENT, reference=OFFER, by="cdk")
    prog.decline(AMS, on=date(2019, 11, 1), reason="no budget", by="b")
    at = position(prog, AMS, "Declined")
    # ``reason`` is the correction's own reason: a decline's reason cannot be named here
    prog.correct(at, on=date(2019, 11, 4), reason="letter was dated later", by="c")
    assert prog.municipality(AMS).declined_on == date(2019, 11, 4)
    assert prog.municipality(AMS, as_of=date(2019, 11, 2)).stage is Stage.INVITED
    prog.retract(at, reason="it was another municipality's letter", by="c")
    view = prog.municipality(AMS)
    assert view.stage is Stage.INVITED
    assert view.declined_on is None


def test_prior_connection_retracted_and_corrected(prog: Programme) -> None:
    prog.invite(AMS, on=SENT, reference=OFFER, by="cdk")
    prog.record_prior_connection(
        AMS, connected_on=date(2018, 5, 1), costs=Money("800.00"), on=date(2019, 10, 20), by="c"
    )
    at = position(prog, AMS, "PriorConnectionRecorded")
    prog.correct(at, costs="900.00", connected_on=date(2018, 6, 1), reason="invoice", by="c")
    view = prog.municipality(AMS)
    assert view.prior_costs == Money("900.00")
    assert view.prior_connected_on == date(2018, 6, 1)
    prog.retract(at, reason="never connected before", by="c")
    view = prog.municipality(AMS)
    assert view.prior_connected_on is None
    assert view.prior_costs is None
    assert view.stage is Stage.INVITED


def test_connection_retracted_and_corrected(prog: Programme) -> None:
    connect(prog)
    at = position(prog, AMS, "Connected")
    prog.correct(at, on=date(2019, 12, 15), reason="went live later", by="c")
    view = prog.municipality(AMS)
    assert view.connected_on == date(2019, 12, 15)
    assert view.evaluation_due == date(2020, 12, 15)
    assert view.costs_province == Money(CONNECTION_FEE)
    assert prog.municipality(AMS, as_of=date(2019, 12, 10)).costs_province == Money.zero()
    lines = prog.cost_lines(AMS).lines
    assert [ln.line.tariff_id for ln in lines if ln.line.calculator == "correction"] == [
        f"reverses:{at}"
    ]
    prog.retract(at, reason="never went live", by="c")
    view = prog.municipality(AMS)
    assert view.stage is Stage.ACCEPTED
    assert view.connected_on is None
    assert view.costs_province == Money.zero()


def test_report_retracted_and_corrected(prog: Programme) -> None:
    connect(prog, reports=3)
    first, last = position(prog, AMS, "ReportReceived", 0), position(prog, AMS, "ReportReceived")
    before = prog.municipality(AMS)
    prog.correct(first, category="drugsdelicten", reason="misfiled", by="c")
    assert prog.municipality(AMS).reports_received == 3
    assert prog.municipality(AMS).costs_municipality == before.costs_municipality
    prog.retract(last, reason="was for Haarlem", by="c")
    view = prog.municipality(AMS)
    assert view.reports_received == 2
    assert view.costs_municipality == before.costs_municipality - Money(REPORT_FEE)


def test_evaluation_retracted_and_corrected(prog: Programme) -> None:
    connect(prog)
    prog.evaluate(AMS, on=date(2020, 12, 1), outcome="continue", recovered=Money("10"), by="o")
    at = position(prog, AMS, "Evaluated")
    prog.correct(at, outcome="stop", reason="the minutes say stop", by="c")
    assert prog.municipality(AMS).last_outcome == "stop"
    prog.correct(at, outcome="continue", recovered="25.00", reason="read again", by="c")
    assert prog.municipality(AMS).last_outcome == "continue"
    prog.retract(at, reason="no evaluation was held", by="c")
    view = prog.municipality(AMS)
    assert view.evaluations == 0
    assert view.last_outcome is None
    assert view.evaluation_due == date(2020, 12, 1)


def test_renewal_retracted_and_corrected(prog: Programme) -> None:
    connect(prog)
    prog.evaluate(AMS, on=date(2020, 12, 1), outcome="continue", by="o")
    prog.renew(AMS, on=date(2020, 12, 2), by="b")
    at = position(prog, AMS, "Renewed")
    prog.correct(at, on=date(2020, 12, 10), reason="signed later", by="c")
    view = prog.municipality(AMS)
    assert view.renewals == (date(2020, 12, 10),)
    assert view.evaluation_due == date(2021, 12, 10)
    assert prog.municipality(AMS, as_of=date(2020, 12, 5)).renewals == ()
    prog.retract(at, reason="not renewed", by="c")
    view = prog.municipality(AMS)
    assert view.renewals == ()
    assert view.stage is Stage.CONNECTED


def test_termination_retracted_and_corrected(prog: Programme) -> None:
    connect(prog)
    prog.terminate(AMS, on=date(2021, 1, 1), reason="budget", by="b")
    at = position(prog, AMS, "Terminated")
    prog.correct(at, on=date(2021, 2, 1), reason="the letter's date", by="c")
    assert prog.municipality(AMS).terminated_on == date(2021, 2, 1)
    assert prog.municipality(AMS, as_of=date(2021, 1, 15)).stage is Stage.CONNECTED
    prog.retract(at, reason="never terminated", by="c")
    view = prog.municipality(AMS)
    assert view.stage is Stage.CONNECTED
    assert view.terminated_on is None


def test_merger_retracted_restores_both_municipalities(prog: Programme) -> None:
    connect(prog, WEESP)
    before_weesp, before_ams = prog.municipality(WEESP), prog.municipality(AMS)
    prog.merge(WEESP, into=AMS, on=date(2022, 3, 24), by="c")
    assert prog.municipality(AMS).predecessors == (WEESP,)
    at = position(prog, WEESP, "Merged")
    n = prog.event_count()
    prog.retract(at, reason="recorded too early", by="c")
    assert prog.event_count() > n
    weesp, ams = prog.municipality(WEESP), prog.municipality(AMS)
    assert weesp.stage is before_weesp.stage
    assert weesp.merged_on is None
    assert weesp.successor is None
    assert ams.predecessors == before_ams.predecessors == ()
    assert ams.stage is before_ams.stage


def test_merger_corrected_moves_both_municipalities(prog: Programme) -> None:
    connect(prog, WEESP)
    prog.merge(WEESP, into=AMS, on=date(2022, 3, 24), by="c")
    at = position(prog, WEESP, "Merged")
    prog.correct(at, on=date(2022, 3, 1), reason="the council's date", by="c")
    assert prog.municipality(WEESP).merged_on == date(2022, 3, 1)
    assert prog.municipality(WEESP).successor == AMS
    assert prog.municipality(WEESP, as_of=date(2022, 2, 28)).merged_on is None
    assert prog.municipality(AMS).predecessors == (WEESP,)
    assert prog.municipality(AMS, as_of=date(2022, 2, 28)).predecessors == ()
    assert prog.municipality(AMS, as_of=date(2022, 3, 2)).predecessors == (WEESP,)


def test_nomination_corrected_is_sealed_and_retracted(prog: Programme, store_url: str) -> None:
    oid = nominate(prog)
    at = position(prog, AMS, "OfficialNominated")
    new_name = "B. Zijlstra-Onvindbaar"
    prog.correct(at, name=new_name, email="b.zijlstra@gemeente.nl", reason="typo", by="c")
    o = official(prog, oid)
    assert (o.name, o.email) == (new_name, "b.zijlstra@gemeente.nl")
    raw = b"".join(n.state for n in prog.recorder.select_notifications(1, 100_000))
    assert new_name.encode() not in raw
    assert b"b.zijlstra" not in raw
    prog.retract(at, reason="nominated by mistake", by="c")
    assert all(o.id != oid for o in prog.municipality(AMS).officials)


def test_training_booking_retracted_and_corrected(prog: Programme) -> None:
    oid = nominate(prog)
    prog.book_training(AMS, official_id=oid, session_id=SESSION, on=date(2019, 10, 21), by="c")
    at = position(prog, AMS, "TrainingBooked")
    prog.correct(at, session_id=LATER_SESSION, reason="booked the wrong day", by="c")
    o = official(prog, oid)
    assert (o.session_id, o.session_date) == (LATER_SESSION, date(2019, 11, 20))
    prog.retract(at, reason="never booked", by="c")
    assert official(prog, oid).session_id is None


def test_attendance_retracted_and_corrected(prog: Programme) -> None:
    oid = nominate(prog)
    prog.book_training(AMS, official_id=oid, session_id=SESSION, on=date(2019, 10, 21), by="c")
    prog.record_attendance(AMS, official_id=oid, session_id=SESSION, attended=True, by="c")
    at = position(prog, AMS, "AttendanceRecorded")
    prog.correct(at, attended=False, reason="absent after all", by="c")
    assert official(prog, oid).attended is False
    prog.retract(at, reason="not recorded yet", by="c")
    assert official(prog, oid).attended is None


def test_withdrawal_retracted_and_corrected(prog: Programme) -> None:
    oid = nominate(prog)
    prog.withdraw_official(oid, on=date(2020, 3, 1), by="c")
    at = position(prog, AMS, "OfficialWithdrawn")
    prog.correct(at, on=date(2020, 4, 1), reason="left later", by="c")
    assert official(prog, oid).active is False
    assert official(prog, oid, as_of=date(2020, 3, 15)).active is True
    prog.retract(at, reason="still there", by="c")
    assert official(prog, oid).active is True


# -- refusals write nothing -----------------------------------------------------------------------


def test_bad_input_writes_nothing_and_says_why(prog: Programme) -> None:
    connect(prog, reports=1)
    report = position(prog, AMS, "ReportReceived")
    registration = position(prog, AMS, "Registered")
    cases: list[tuple[Callable[[], object], str]] = [
        (lambda: prog.retract(10**9, reason="x", by="c"), "unknown_position"),
        (lambda: prog.retract(0, reason="x", by="c"), "invalid_input"),
        (lambda: prog.retract(registration, reason="x", by="c"), "not_correctable"),
        (lambda: prog.retract(report, reason="", by="c"), "invalid_input"),
        (lambda: prog.retract(report, reason="   ", by="c"), "invalid_input"),
        (
            lambda: prog.correct(report, reason="", by="c", category="drugsdelicten"),
            "invalid_input",
        ),
        (lambda: prog.correct(report, reason="x", by="c", colour="red"), "not_correctable"),
        (lambda: prog.correct(report, reason="x", by="c", category="nonsense"), "invalid_input"),
        (
            lambda: prog.correct(report, reason="x", by="c", received_on="2020-13-01"),
            "invalid_input",
        ),
        (lambda: prog.correct(report, reason="x", by="c"), "invalid_input"),
        (lambda: prog.correct(report, reason="x", by="c", category="woonfraude"), "invalid_input"),
        (
            lambda: prog.correct(report, reason="x", by="c", received_on=date(2030, 1, 1)),
            "invalid_date",
        ),
    ]
    for call, code in cases:
        error = refused(prog, call)
        assert error.code == code, (code, error.code, str(error))


def test_a_receipt_position_is_not_correctable(prog: Programme) -> None:
    connect(prog)
    prog.record_report(
        AMS,
        received_on=date(2020, 1, 1),
        category="woonfraude",
        reference="MMA-20-0001",
        by="c",
        request_id="req-1",
    )
    last = prog.last_position()
    rows = prog.recorder.select_notifications(1, 100_000)
    receipts = [int(r.id) for r in rows if "Receipt" in r.topic]
    assert receipts, "a request id leaves a receipt in the log"
    for at in receipts:
        assert refused(prog, lambda at=at: prog.retract(at, reason="x", by="c")).code == (
            "not_correctable"
        )
    assert prog.last_position() == last


# -- money, references and time -------------------------------------------------------------------


def test_retracting_a_report_adds_a_negative_reversal_line(prog: Programme) -> None:
    connect(prog, reports=2)
    at = position(prog, AMS, "ReportReceived")
    before = prog.municipality(AMS).costs_municipality
    prog.retract(at, reason="was for Haarlem", by="c")
    assert prog.municipality(AMS).costs_municipality == before - Money(REPORT_FEE)
    reversals = [e for e in prog.cost_lines(AMS).lines if e.line.calculator == "correction"]
    assert len(reversals) == 1
    assert reversals[0].line.tariff_id == f"reverses:{at}"
    assert reversals[0].line.amount == Money.zero() - Money(REPORT_FEE)
    assert reversals[0].on == date(2020, 1, 2)


def test_correcting_a_report_date_moves_it_on_the_business_axis(prog: Programme) -> None:
    connect(prog, reports=1)
    at = position(prog, AMS, "ReportReceived")
    prog.correct(at, received_on=date(2020, 3, 1), reason="date typo", by="c")
    assert prog.municipality(AMS, as_of=date(2020, 2, 1)).reports_received == 0
    assert prog.municipality(AMS, as_of=date(2020, 2, 1)).costs_municipality == Money.zero()
    assert prog.municipality(AMS, as_of=date(2020, 3, 1)).reports_received == 1
    assert prog.municipality(AMS, as_of=date(2020, 3, 1)).costs_municipality == Money(REPORT_FEE)
    assert prog.municipality(AMS).reports_received == 1


def test_references_follow_the_report(prog: Programme) -> None:
    connect(prog, reports=2)
    first, second = (position(prog, AMS, "ReportReceived", i) for i in (0, 1))
    # taken by the other report: refused, nothing written
    error = refused(prog, lambda: prog.correct(first, reference="MMA-20-0002", reason="x", by="c"))
    assert error.code == "duplicate_report"
    prog.correct(first, reference="MMA-20-0009", reason="typo in the reference", by="c")
    # the old reference is free now, the new one taken
    prog.record_report(
        AMS, received_on=date(2020, 2, 1), category="woonfraude", reference="MMA-20-0001", by="c"
    )
    assert (
        refused(
            prog,
            lambda: prog.record_report(
                AMS,
                received_on=date(2020, 2, 2),
                category="woonfraude",
                reference="MMA-20-0009",
                by="c",
            ),
        ).code
        == "duplicate_report"
    )
    prog.retract(second, reason="was for Haarlem", by="c")
    prog.record_report(
        AMS, received_on=date(2020, 2, 3), category="woonfraude", reference="MMA-20-0002", by="c"
    )
    assert prog.municipality(AMS).reports_received == 3


def test_known_at_before_a_correction_answers_as_before(prog: Programme, clock: Clock) -> None:
    connect(prog, reports=3)
    before = prog.municipality(AMS)
    before_asof = prog.municipality(AMS, as_of=date(2020, 1, 2))
    then = clock.now
    clock.set(date(2023, 6, 2))
    prog.retract(position(prog, AMS, "ReportReceived"), reason="x", by="c")
    prog.correct(position(prog, AMS, "Connected"), on=date(2019, 12, 20), reason="x", by="c")
    known = prog.municipality(AMS, known_at=then + timedelta(minutes=1))
    assert (known.reports_received, known.costs_province, known.costs_municipality) == (
        before.reports_received,
        before.costs_province,
        before.costs_municipality,
    )
    assert known.connected_on == before.connected_on == date(2019, 12, 1)
    both = prog.municipality(AMS, as_of=date(2020, 1, 2), known_at=then + timedelta(minutes=1))
    assert both.reports_received == before_asof.reports_received
    assert prog.municipality(AMS).reports_received == 2


# -- read models equal a rebuild and a fold ------------------------------------------------------


def _shape(view: Any) -> dict[str, Any]:
    data = dict(view.to_dict())
    data.pop("as_of", None)
    data.pop("known_at", None)
    data.pop("costs", None)  # the fold lists lines, the read model totals them
    return data


def test_read_models_equal_a_rebuild_after_corrections(prog: Programme) -> None:
    connect(prog, reports=4)
    connect(prog, WEESP)
    prog.retract(position(prog, AMS, "ReportReceived", 1), reason="x", by="c")
    prog.correct(
        position(prog, AMS, "ReportReceived", 2), received_on=date(2020, 5, 1), reason="x", by="c"
    )
    prog.correct(position(prog, WEESP, "Connected"), on=date(2019, 12, 9), reason="x", by="c")
    prog.merge(WEESP, into=AMS, on=date(2022, 3, 24), by="c")
    prog.retract(position(prog, WEESP, "Merged"), reason="x", by="c")
    codes = [AMS, WEESP]
    live = {c: _shape(prog.municipality(c)) for c in codes}
    overview = prog.overview().to_dict()
    prog.views.rebuild()
    assert {c: _shape(prog.municipality(c)) for c in codes} == live
    assert prog.overview().to_dict() == overview
    later = datetime(2030, 1, 1, tzinfo=UTC)
    for c in codes:
        folded = _shape(prog.municipality(c, known_at=later))
        assert folded == live[c], c
    assert _shape(prog.municipality(AMS, as_of=date(2023, 6, 1))) == live[AMS]
    for day in (date(2020, 1, 3), date(2020, 5, 1), date(2022, 3, 24)):
        o = prog.overview(as_of=day).to_dict()
        assert sum(o["by_stage"].values()) == o["total"]


def test_the_reason_of_a_decline_can_be_corrected(memory_programme: Programme) -> None:
    prog = memory_programme
    prog.register_registry("noord-holland-2019", by="coordinator")
    prog.make_offer(reference=OFFER, sent_on=SENT, by="cdk")
    prog.invite(AMS, on=SENT, reference=OFFER, by="cdk")
    prog.decline(AMS, on=date(2019, 11, 1), reason="no budget", by="b")
    at = position(prog, AMS, "Declined")
    prog.correct(at, reason="typed the wrong reason", by="c", fact_reason="no capacity")
    history = prog.history(AMS)
    restated = [e for e in history if e.type == "FactRestated"]
    assert restated[-1].data["data"]["reason"] == "no capacity"
    assert restated[-1].data["reason"] == "typed the wrong reason"


# -- a training session's schedule ----------------------------------------------------------------


def scheduled_at(prog: Programme, session_id: str) -> int:
    found = [
        e.position
        for e in prog.follow()
        if e.type == "Scheduled" and e.data.get("session_id") == session_id
    ]
    assert found, session_id
    return found[0]


def session(prog: Programme, session_id: str) -> Any:
    return next((s for s in prog.sessions() if s.session_id == session_id), None)


def view_session(prog: Programme, session_id: str, day: date | None = None) -> Any:
    prog.views.catch_up()
    records = prog.views.sessions() if day is None else prog.views.sessions_as_of(day)
    return next((s for s in records if s.session_id == session_id), None)


@pytest.fixture
def booked(prog: Programme) -> tuple[Programme, str]:
    oid = nominate(prog)
    prog.book_training(AMS, official_id=oid, session_id=SESSION, on=date(2019, 10, 21), by="c")
    return prog, oid


def test_a_schedule_corrected_shows_everywhere(prog: Programme) -> None:
    nominate(prog)
    at = scheduled_at(prog, LATER_SESSION)
    code = prog.correct(
        at,
        starts_at="2019-11-21T13:00",
        ends_at=datetime(2019, 11, 21, 15, 30),
        location="Alkmaar",
        capacity="5",
        online="ja",
        reason="the room was moved",
        by="c",
    )
    assert code == LATER_SESSION
    s = session(prog, LATER_SESSION)
    assert (s.location, s.capacity, s.starts_at.hour) == ("Alkmaar", 5, 13)
    v = view_session(prog, LATER_SESSION)
    assert (v.location, v.capacity, v.online) == ("Alkmaar", 5, True)
    # As of a day before the correction was recorded, the session was as corrected.
    assert view_session(prog, LATER_SESSION, date(2019, 10, 15)).location == "Alkmaar"
    prog.views.rebuild()
    assert view_session(prog, LATER_SESSION) == v
    # The correction's position names the schedule: correcting it again amends the same fact.
    again = [e for e in prog.follow() if e.type == "ScheduleCorrected"][-1]
    assert again.data["position"] == at
    assert prog.amendable(again.position).position == at
    prog.correct(again.position, capacity=3, reason="a smaller room", by="c")
    assert session(prog, LATER_SESSION).capacity == 3


def test_a_schedule_retracted_is_gone_and_takes_no_bookings(booked: tuple[Programme, str]) -> None:
    prog, _ = booked
    at = scheduled_at(prog, LATER_SESSION)
    assert prog.retract(at, reason="never planned", by="c") == LATER_SESSION
    assert session(prog, LATER_SESSION) is None
    assert view_session(prog, LATER_SESSION) is None
    assert view_session(prog, LATER_SESSION, date(2019, 10, 15)) is None
    prog.views.rebuild()
    assert view_session(prog, LATER_SESSION) is None
    other = prog.nominate_official(AMS, name="B", email="b@gemeente.nl", by="c")
    error = refused(
        prog,
        lambda: prog.book_training(AMS, official_id=other, session_id=LATER_SESSION, by="c"),
    )
    assert error.code == "invalid_transition"
    assert refused(prog, lambda: prog.retract(at, reason="x", by="c")).code == ("already_retracted")
    assert refused(prog, lambda: prog.correct(at, capacity=9, reason="x", by="c")).code == (
        "already_retracted"
    )
    kinds = [e.type for e in prog.follow()]
    assert "ScheduleRetracted" in kinds


def test_seats_held_refuse_a_retraction_and_a_new_day(booked: tuple[Programme, str]) -> None:
    prog, oid = booked
    at = scheduled_at(prog, SESSION)
    booking = position(prog, AMS, "TrainingBooked")
    error = refused(prog, lambda: prog.retract(at, reason="x", by="c"))
    assert error.code == "depends_on"
    assert error.details["positions"] == [booking]
    error = refused(
        prog,
        lambda: prog.correct(
            at, starts_at="2019-11-07T10:00", ends_at="2019-11-07T12:00", reason="x", by="c"
        ),
    )
    assert error.code == "depends_on"
    assert error.details["positions"] == [booking]
    # The same day at another hour, or another place, keeps the bookings right.
    prog.correct(at, starts_at="2019-11-06T09:00", location="Zaandam", reason="x", by="c")
    assert session(prog, SESSION).booked == (oid,)
    # Once the booking is moved, the day may change and the schedule be retracted.
    prog.correct(booking, session_id=LATER_SESSION, reason="moved", by="c")
    prog.correct(at, starts_at="2019-11-07T10:00", ends_at="2019-11-07T12:00", reason="x", by="c")
    assert session(prog, SESSION).starts_at.day == 7
    prog.retract(at, reason="never held", by="c")
    assert session(prog, SESSION) is None


def test_seats_may_not_drop_below_those_held(booked: tuple[Programme, str]) -> None:
    prog, _ = booked
    other = prog.nominate_official(
        AMS, name="B", email="b@gemeente.nl", on=date(2019, 10, 20), by="c"
    )
    prog.book_training(AMS, official_id=other, session_id=SESSION, on=date(2019, 10, 21), by="c")
    at = scheduled_at(prog, SESSION)
    error = refused(prog, lambda: prog.correct(at, capacity=1, reason="x", by="c"))
    assert error.code == "capacity_exceeded"
    prog.correct(at, capacity=4, reason="a larger room", by="c")
    assert session(prog, SESSION).capacity == 4


def test_the_rules_of_schedule_training_hold(prog: Programme) -> None:
    nominate(prog)
    at = scheduled_at(prog, SESSION)
    cases: list[dict[str, Any]] = [
        {"ends_at": "2019-11-06T09:00"},  # before it starts
        {"capacity": 0},
        {"capacity": "many"},
        {"location": " "},
        {"location": "a\x1bb"},
        {"starts_at": "not a time"},
        {"online": "perhaps"},
        {"location": "Haarlem"},  # changes nothing
        {"session_id": "other"},  # not a field a correction of a schedule changes
    ]
    for changes in cases:
        error = refused(prog, lambda c=changes: prog.correct(at, reason="x", by="c", **c))
        assert error.code in ("invalid_input", "not_correctable"), (changes, error.code)


def test_a_schedule_shows_as_amendable(prog: Programme) -> None:
    nominate(prog)
    fact = prog.amendable(scheduled_at(prog, SESSION))
    assert (fact.fact, fact.code, fact.name) == ("Scheduled", SESSION, "Haarlem")
    assert fact.fields["capacity"] == 2


# -- a reversal line in words: statements and the ledger export ---------------------------------


def test_statement_and_ledger_show_a_reversal_as_a_correction(memory_programme: Programme) -> None:
    from mma_core.extensions.exporting import ExportSource
    from mma_core.paperwork.letters import compose

    prog = memory_programme
    prog.register_registry("noord-holland-2019", by="coordinator")
    prog.make_offer(reference=OFFER, sent_on=SENT, terms=TERMS, by="cdk")
    connect(prog, reports=3)
    at = position(prog, AMS, "ReportReceived", 1)
    prog.retract(at, reason="a duplicate", by="c")
    (letter,) = compose(prog, "statement", [AMS], as_of=date(2021, 1, 4), year=2020)
    (block,) = [b for b in letter.blocks if b.table_rows]
    words = f"correctie: ingetrokken (positie {at})"
    rows = [" | ".join(r).replace("\xa0", " ") for r in block.table_rows]
    (reversal,) = [r for r in rows if words in r]
    assert "€ -22,50" in reversal
    # The quarter counts the reports, not the reversal; the total is what was paid.
    assert any("3 meldingen" in r and "€ 67,50" in r for r in rows), rows
    footer = [" | ".join(r).replace("\xa0", " ") for r in block.table_footer]
    assert any("gemeente" in r and "€ 45,00" in r for r in footer), footer
    ledger = ExportSource(prog).ledger()
    notes = list(ledger.dicts())
    (line,) = [n for n in notes if n["tariff_id"] == f"reverses:{at}"]
    assert line["note"] == f"correction: retracted (position {at})"
    assert line["amount"] == Decimal("-22.50")
    assert {n["note"] for n in notes if n is not line} == {""}
