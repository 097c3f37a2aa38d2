"""The as-of index (``views.asof_index``): an as-of read that starts from the index's nearest
state answers exactly what a fold of the whole history answers, on both time axes, for random
histories (facts entered late among them) and random days, however the views' batches fall.
And a fact entered late about an earlier day changes what ``as_of`` answers from then on, while
what the store knew before it was entered stays as it was."""

from __future__ import annotations

import contextlib
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mma_core import Programme
from mma_core.application import asof
from mma_core.domain.errors import DomainError, InvalidInput
from mma_core.domain.municipality import municipality_id
from mma_core.views.records import record_of
from mma_core.views.replay import fold

CODES = ("GM0363", "GM0358")
START = datetime(2019, 10, 1, 12, tzinfo=UTC)

steps = st.lists(
    st.one_of(
        st.tuples(st.just("advance"), st.sampled_from(CODES), st.integers(1, 80)),
        # A report dated up to 150 days before the clock: often before the latest one.
        st.tuples(st.just("report"), st.sampled_from(CODES), st.integers(0, 150)),
        st.tuples(st.just("bulk"), st.sampled_from(CODES), st.integers(1, 5)),
        st.tuples(st.just("lifecycle"), st.just(CODES[1]), st.just(0)),
        st.tuples(st.just("catch_up"), st.just(""), st.integers(1, 7)),
        # Corrections amend an earlier report: its day moves, or it was never true.
        st.tuples(st.just("retract"), st.sampled_from(CODES), st.integers(0, 50)),
        st.tuples(st.just("correct"), st.sampled_from(CODES), st.integers(0, 150)),
    ),
    max_size=35,
)


SERVED: list[int] = []  # reads the index answered, per example (see the next test)


class Counting:
    """Counts the reads the index answered (so the test shows it was used)."""

    def __init__(self, original: Any) -> None:
        self.original, self.served = original, 0

    def __call__(self, *args: Any) -> Any:
        found = self.original(*args)
        self.served += found is not asof.MISSING
        return found


def full_fold(prog: Programme, code: str, as_of: date | None, known_at: datetime | None) -> Any:
    return fold(prog.aggregate_events(municipality_id(code)), as_of, known_at)


def same(a: Any, b: Any) -> bool:
    return (a is None and b is None) or (
        a is not None and b is not None and record_of(a) == record_of(b)
    )


def play(prog: Programme, clock: list[datetime], steps: list[tuple[str, str, int]]) -> None:
    prog.register_registry("noord-holland-2019", by="t")
    prog.make_offer(reference="R", sent_on=date(2019, 10, 1), by="t")
    prog.invite(CODES[0], on=date(2019, 10, 1), reference="R", by="t")
    prog.accept(CODES[0], on=date(2019, 10, 1), by="t")
    prog.connect(CODES[0], on=date(2019, 10, 1), by="t")
    stage = 0
    connected = {CODES[0]: date(2019, 10, 1)}
    for n, (kind, code, value) in enumerate(steps):
        today = clock[0].date()
        if kind == "advance":
            clock[0] += timedelta(days=value)
        elif kind == "report" and code in connected:
            day = max(connected[code], today - timedelta(days=value))
            prog.record_report(code, received_on=day, category="fraude", reference=f"P{n}", by="t")
        elif kind == "bulk" and code in connected:
            rows = [(code, today, "fraude", f"B{n}-{i}") for i in range(value)]
            prog.record_reports(rows, by="t")
        elif kind == "lifecycle" and stage < 3:
            if stage == 0:
                prog.invite(code, on=today, reference="R", by="t")
            elif stage == 1:
                prog.accept(code, on=today, by="t")
            else:
                prog.connect(code, on=today, by="t")
                connected[code] = today
            stage += 1
        elif kind == "catch_up":
            prog.views.updater.batch_size = value
            prog.views.catch_up()
        elif kind in ("retract", "correct") and code in connected:
            live = [
                e.position
                for e in prog.history(code)
                if e.type == "ReportReceived" and e.retracted_by is None
            ]
            if not live:
                continue
            at = live[value % len(live)]
            clock[0] += timedelta(seconds=1)
            if kind == "retract":
                prog.retract(at, reason="recorded by mistake", by="t")
            else:
                day = max(connected[code], today - timedelta(days=value))
                current = next(e for e in prog.history(code) if e.position == at)
                if current.corrected_by is None and current.data["received_on"] == day.isoformat():
                    with pytest.raises(DomainError, match="changes nothing"):
                        prog.correct(at, reason="date misread", by="t", received_on=day)
                    continue
                with contextlib.suppress(DomainError):  # a corrected one may be on the day
                    prog.correct(at, reason="date misread", by="t", received_on=day)


@pytest.mark.parametrize("store", ["memory", "sqlite"])
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=steps,
    days=st.lists(st.integers(-40, 1200), min_size=1, max_size=6),
    hours=st.lists(st.integers(-100, 30_000), min_size=1, max_size=4),
    interval=st.integers(2, 12),
)
def test_indexed_as_of_equals_a_full_fold(
    store: str,
    steps: list[tuple[str, str, int]],
    days: list[int],
    hours: list[int],
    interval: int,
) -> None:
    with pytest.MonkeyPatch.context() as patch, tempfile.TemporaryDirectory() as tmp:
        # Stored snapshots every few events: a known_at read starts from one when it is later
        # than the index's recorded-time state.
        patch.setattr(asof, "SNAPSHOT_EVERY", interval)
        counting = Counting(asof.AsOf.from_index)
        patch.setattr(asof.AsOf, "from_index", lambda self, *a: counting(self, *a))
        clock = [START]
        url = "memory://" if store == "memory" else f"sqlite:///{Path(tmp) / 's.sqlite'}"
        with Programme.open(url, clock=lambda: clock[0]) as prog:
            play(prog, clock, steps)
            for offset in days:
                day = START.date() + timedelta(days=offset)
                for code in CODES:
                    expected = full_fold(prog, code, day, None)
                    got = prog._folded(code, day, None, None)
                    assert same(got, expected), (code, day)
                records = {r.code: r for r in prog.views.records_as_of(day)}
                for code in CODES:
                    assert records[code] == record_of(full_fold(prog, code, day, None))
                overview = prog.overview(as_of=day, cost_lines=False)
                for view in overview.municipalities:
                    expected = record_of(full_fold(prog, view.code, day, None))
                    assert (view.stage, view.reports_received) == (
                        expected.stage,
                        expected.reports_received,
                    )
                    assert (view.costs_province, view.costs_municipality) == (
                        expected.costs_province,
                        expected.costs_municipality,
                    )
            for offset in hours:
                moment = START + timedelta(hours=offset)
                for code in CODES:
                    expected = full_fold(prog, code, None, moment)
                    assert same(prog._folded(code, None, moment, None), expected), (code, moment)
        SERVED.append(counting.served)


def test_the_index_answered_reads_in_the_examples() -> None:
    """The examples above did not all fall back to full folds: the index answered reads."""
    if not SERVED:
        pytest.skip("run with the property test")
    assert sum(SERVED) > 0


def test_a_fact_entered_late_changes_as_of_but_not_what_was_known(store_url: str) -> None:
    """A report entered in March 2021 about a day in 2020 changes what ``as_of`` end 2020
    answers now; what the store knew at the end of 2020 (``known_at``) stays as it was.
    (The corrections of recorded facts will reach the index the same way: an event dated
    before the municipality's latest.)"""
    clock = [datetime(2020, 11, 2, 12, tzinfo=UTC)]
    with Programme.open(store_url, clock=lambda: clock[0]) as prog:
        prog.register_registry("noord-holland-2019", by="t")
        prog.make_offer(reference="R", sent_on=date(2020, 1, 6), by="t")
        prog.invite("GM0363", on=date(2020, 1, 6), reference="R", by="t")
        prog.accept("GM0363", on=date(2020, 2, 3), by="t")
        prog.connect("GM0363", on=date(2020, 3, 2), by="t")
        prog.record_report(
            "GM0363", received_on=date(2020, 11, 2), category="fraude", reference="A", by="t"
        )
        clock[0] = datetime(2021, 3, 1, 12, tzinfo=UTC)
        prog.record_report(
            "GM0363", received_on=date(2021, 3, 1), category="fraude", reference="B", by="t"
        )
        end_2020 = date(2020, 12, 31)
        known = datetime(2021, 1, 15, tzinfo=UTC)
        assert prog.municipality("GM0363", as_of=end_2020).reports_received == 1
        clock[0] = datetime(2021, 3, 20, 12, tzinfo=UTC)
        prog.record_report(
            "GM0363", received_on=date(2020, 12, 10), category="fraude", reference="LATE", by="t"
        )
        assert prog.municipality("GM0363", as_of=end_2020).reports_received == 2
        assert prog.municipality("GM0363", as_of=date(2020, 12, 9)).reports_received == 1
        assert prog.municipality("GM0363", known_at=known).reports_received == 1
        assert prog.overview(as_of=end_2020, cost_lines=False).municipalities[0].code
        # The index's states were derived again, not merely bypassed: a fresh process reads
        # the state at the end of 2020 with the late report in it.
        states = prog.views.nearest_states(end_2020, None, "GM0363")
        m = states["GM0363"].aggregate(prog.mapper.transcoder, municipality_id("GM0363"))
        assert m.reports_received == 2
    if store_url != "memory://":  # a fresh process: nothing in memory, the index as stored
        with Programme.open(store_url, clock=lambda: clock[0]) as prog:
            assert prog.municipality("GM0363", as_of=end_2020).reports_received == 2
            assert prog.municipality("GM0363", known_at=known).reports_received == 1


def test_cost_lines_come_in_pages_in_position_order(store_url: str) -> None:
    """``cost_lines`` pages through a municipality's lines: every line once, in the order
    they were charged, each page with the totals; bad paging arguments write nothing."""
    clock = [datetime(2021, 6, 1, 12, tzinfo=UTC)]
    with Programme.open(store_url, clock=lambda: clock[0]) as prog:
        prog.register_registry("noord-holland-2019", by="t")
        prog.make_offer(reference="R", sent_on=date(2020, 1, 6), by="t")
        prog.invite("GM0363", on=date(2020, 1, 6), reference="R", by="t")
        prog.accept("GM0363", on=date(2020, 2, 3), by="t")
        prog.connect("GM0363", on=date(2020, 3, 2), by="t")
        rows = [
            ("GM0363", date(2020, 3, 2) + timedelta(days=n), "fraude", f"C{n}") for n in range(300)
        ]
        prog.record_reports(rows, by="t")
        whole = prog.municipality("GM0363", cost_lines=True)
        assert prog.municipality("GM0363").costs == ()  # slim by default, totals kept
        assert prog.municipality("GM0363").costs_province == whole.costs_province
        seen, after = [], None
        while True:
            page = prog.cost_lines("GM0363", after=after, limit=37)
            assert page.total == len(whole.costs) == 301
            assert page.costs_province == whole.costs_province
            seen.extend(page.lines)
            if page.next is None:
                break
            assert page.next == page.after + 37
            after = page.next
        assert tuple(seen) == whole.costs
        early = prog.cost_lines("GM0363", as_of=date(2020, 3, 31), limit=1000)
        assert early.total == 1 + 30
        assert early.next is None
        before = prog.event_count()
        for bad in ({"limit": 0}, {"limit": "5"}, {"after": -1}, {"after": 1.5}):
            with pytest.raises(InvalidInput):
                prog.cost_lines("GM0363", **bad)  # type: ignore[arg-type]
        assert prog.event_count() == before
