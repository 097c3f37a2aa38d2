"""One unit of work: every lookup inside a command or an ``atomic()`` block sees what the block
has already done.

The first three tests are the faults the unit of work fixed: each failed before it (the same
reference counted twice, an offer made in the block was unknown to the next command, a session
could be scheduled twice). The property test plays random command sequences once command by
command and once inside one ``atomic()`` block, and finds the same state.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mma_core import DomainError, DuplicateReport, InvalidTransition, Money, Programme, Terms

OFFER = "1298348/1298354"
TERMS = Terms(connection_fee=Money("1500.00"), report_fee=Money("22.50"))
STARTS = datetime(2019, 11, 6, 10, tzinfo=UTC)
ENDS = datetime(2019, 11, 6, 12, 30, tzinfo=UTC)


def _connected(prog: Programme, code: str = "GM0363") -> None:
    prog.register_registry("noord-holland-2019", by="coordinator")
    prog.make_offer(reference=OFFER, sent_on=date(2019, 10, 18), terms=TERMS, by="cdk")
    prog.invite(code, on=date(2019, 10, 18), reference=OFFER, by="cdk")
    prog.accept(code, on=date(2019, 11, 1), by="burgemeester")
    prog.connect(code, on=date(2019, 12, 1), by="coordinator")


def test_one_reference_twice_in_one_block_counts_once_and_writes_nothing(
    programme: Programme, event_count: Callable[[Programme], int]
) -> None:
    prog = programme
    _connected(prog)
    before = event_count(prog)
    raises = pytest.raises(DuplicateReport, match="MMA-20-0001 was recorded already")
    with raises, prog.atomic():
        for _ in range(2):
            prog.record_report(
                "GM0363",
                received_on=date(2020, 2, 3),
                category="fraude",
                reference="MMA-20-0001",
                by="mma",
            )
    assert event_count(prog) == before
    m = prog.municipality("GM0363")
    assert m.reports_received == 0


def test_one_reference_twice_in_one_block_with_one_request_id_is_answered_once(
    programme: Programme, event_count: Callable[[Programme], int]
) -> None:
    prog = programme
    _connected(prog)
    before = prog.municipality("GM0363").costs_municipality
    with prog.atomic():
        answers = [
            prog.record_report(
                "GM0363",
                received_on=date(2020, 2, 3),
                category="fraude",
                reference="MMA-20-0001",
                by="mma",
                request_id="import-1",
            )
            for _ in range(2)
        ]
    assert answers == ["MMA-20-0001", "MMA-20-0001"]
    m = prog.municipality("GM0363")
    assert m.reports_received == 1
    assert m.costs_municipality == before + Money("22.50")


def test_an_offer_made_in_a_block_is_known_to_the_next_command(
    programme: Programme, event_count: Callable[[Programme], int]
) -> None:
    prog = programme
    prog.register_registry("noord-holland-2019", by="coordinator")
    with prog.atomic():
        prog.make_offer(reference=OFFER, sent_on=date(2019, 10, 18), by="cdk")
        prog.invite("GM0363", on=date(2019, 10, 18), reference=OFFER, by="cdk")
    assert prog.municipality("GM0363").stage == "invited"
    assert prog.offer(OFFER).sent_on == date(2019, 10, 18)


def test_a_session_scheduled_twice_in_a_block_is_refused_and_nothing_is_written(
    programme: Programme, event_count: Callable[[Programme], int]
) -> None:
    prog = programme
    before = event_count(prog)
    with pytest.raises(InvalidTransition, match="scheduled already"), prog.atomic():  # noqa: PT012
        for _ in range(2):
            prog.schedule_training(
                "2019-11-06",
                starts_at=STARTS,
                ends_at=ENDS,
                location="Provinciehuis, Dreef 3, Haarlem",
                capacity=60,
                by="coordinator",
            )
    assert event_count(prog) == before
    assert prog.sessions() == []


def test_a_command_that_fails_inside_a_block_leaves_the_block_as_it_was(
    memory_programme: Programme,
) -> None:
    prog = memory_programme
    _connected(prog)
    with prog.atomic():
        prog.record_report(
            "GM0363", received_on=date(2020, 2, 3), category="fraude", reference="A-1", by="mma"
        )
        with pytest.raises(DomainError):
            # Fails on its date after reading the held municipality: it must not leave a
            # half-made change behind in the block.
            prog.record_report(
                "GM0363", received_on=date(2019, 1, 1), category="fraude", reference="A-2", by="mma"
            )
        prog.record_report(
            "GM0363", received_on=date(2020, 2, 4), category="fraude", reference="A-3", by="mma"
        )
    assert prog.municipality("GM0363").reports_received == 2


def test_a_block_hands_out_its_aggregates_without_the_events_it_holds(
    memory_programme: Programme,
) -> None:
    """A later command in a block gets a copy of the municipality; the events the block holds
    stay apart from it (a copy carrying them grew with every command) and are written in order
    when the block ends."""
    prog = memory_programme
    _connected(prog)
    before = prog.event_count()
    with prog.atomic():
        for n in range(5):
            prog.record_report(
                "GM0363",
                received_on=date(2020, 2, 3),
                category="fraude",
                reference=f"H-{n}",
                by="m",
            )
        held = prog.uow.municipality("GM0363")
        assert held.pending_events == []
        assert len(prog.uow.pending_events(held)) == 5  # the five reports, held by the block
        assert held.version == len(prog.aggregate_events(held.id)) + 5
    reports = [h for h in prog.history("GM0363") if h.type == "ReportReceived"]
    assert [h.data["reference"] for h in reports] == [f"H-{n}" for n in range(5)]
    assert [h.version for h in reports] == sorted(h.version for h in reports)
    assert prog.event_count() > before


def test_an_evaluation_counts_the_reports_recorded_earlier_in_its_block(
    memory_programme: Programme,
) -> None:
    prog = memory_programme
    _connected(prog)
    with prog.atomic():
        for n, day in enumerate((date(2020, 2, 3), date(2020, 3, 3)), start=1):
            prog.record_report(
                "GM0363", received_on=day, category="fraude", reference=f"B-{n}", by="mma"
            )
        prog.evaluate("GM0363", on=date(2020, 12, 1), outcome="continue", by="oov")
    assert prog.evaluations("GM0363")[-1].reports == 2


# -- the same state inside and outside a block ------------------------------------------------

CODES = ("GM0363", "GM0358", "GM0457")
REFS = ("R-1", "R-2", "R-3")
DAYS = (date(2019, 10, 18), date(2019, 11, 1), date(2019, 12, 1), date(2020, 2, 3))

COMMANDS = st.one_of(
    st.tuples(st.just("make_offer")),
    st.tuples(st.just("schedule")),
    st.tuples(st.just("invite"), st.sampled_from(CODES)),
    st.tuples(st.just("accept"), st.sampled_from(CODES), st.sampled_from(DAYS)),
    st.tuples(st.just("decline"), st.sampled_from(CODES)),
    st.tuples(st.just("connect"), st.sampled_from(CODES), st.sampled_from(DAYS)),
    st.tuples(st.just("report"), st.sampled_from(CODES), st.sampled_from(REFS)),
    st.tuples(st.just("nominate"), st.sampled_from(CODES)),
    st.tuples(st.just("book"), st.sampled_from(CODES), st.integers(1, 3)),
    st.tuples(st.just("evaluate"), st.sampled_from(CODES)),
)


def _play(prog: Programme, step: tuple[object, ...]) -> None:
    kind, *args = step
    if kind == "make_offer":
        prog.make_offer(reference=OFFER, sent_on=date(2019, 10, 18), terms=TERMS, by="cdk")
    elif kind == "schedule":
        prog.schedule_training(
            "2019-11-06", starts_at=STARTS, ends_at=ENDS, location="Haarlem", capacity=2, by="c"
        )
    elif kind == "invite":
        prog.invite(str(args[0]), on=date(2019, 10, 18), reference=OFFER, by="cdk")
    elif kind == "accept":
        prog.accept(str(args[0]), on=args[1], by="b")  # type: ignore[arg-type]
    elif kind == "decline":
        prog.decline(str(args[0]), on=date(2019, 11, 4), by="b")
    elif kind == "connect":
        prog.connect(str(args[0]), on=args[1], by="c")  # type: ignore[arg-type]
    elif kind == "report":
        prog.record_report(
            str(args[0]),
            received_on=date(2020, 2, 3),
            category="fraude",
            reference=str(args[1]),
            by="mma",
        )
    elif kind == "nominate":
        prog.nominate_official(
            str(args[0]), name="A. Smit", email="a.smit@example.nl", on=date(2019, 10, 20), by="c"
        )
    elif kind == "book":
        prog.book_training(
            str(args[0]),
            official_id=f"{args[0]}-{args[1]}",
            session_id="2019-11-06",
            on=date(2019, 10, 25),
            by="c",
        )
    elif kind == "evaluate":
        prog.evaluate(str(args[0]), on=date(2020, 12, 1), outcome="continue", by="oov")


def _state(prog: Programme) -> object:
    views = []
    for code in CODES:
        m = prog.municipality(code)
        views.append(
            (
                m.stage,
                m.invited_on,
                m.answered_on,
                m.connected_on,
                m.reports_received,
                m.costs_province,
                m.costs_municipality,
                tuple((o.id, o.session_id) for o in m.officials),
                tuple((e.reports, e.outcome) for e in prog.evaluations(code)),
            )
        )
    sessions = tuple((s.session_id, s.booked) for s in prog.sessions())
    claims = sum(1 for _ in prog.follow() if _.type == "Claimed")
    # The events themselves, in their aggregates' order: a block writes what the commands one
    # by one write (its events held apart from their aggregates while the block runs).
    events = tuple(
        (e.type, e.version, tuple(sorted((k, repr(v)) for k, v in e.data.items())))
        for code in CODES
        for e in prog.history(code)
    )
    return views, sessions, claims, events


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(COMMANDS, max_size=14))
def test_commands_inside_a_block_reach_the_state_they_reach_one_by_one(
    steps: list[tuple[object, ...]], open_programme: Callable[[str], Programme]
) -> None:
    one_by_one, in_a_block = open_programme("memory://"), open_programme("memory://")
    for prog in (one_by_one, in_a_block):
        prog.register_registry("noord-holland-2019", by="coordinator")
    refused = []
    for step in steps:
        try:
            _play(one_by_one, step)
        except DomainError as error:
            refused.append(error.code)
    refused_in_block = []
    with in_a_block.atomic():
        for step in steps:
            try:
                _play(in_a_block, step)
            except DomainError as error:
                refused_in_block.append(error.code)
    assert refused_in_block == refused
    assert _state(in_a_block) == _state(one_by_one)
