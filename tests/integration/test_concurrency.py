"""Two programmes on one store: a report reference still counts once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from mma_core import ConcurrencyConflict, DuplicateReport, Programme
from mma_core.application.costs import CostContext, OfferTermsCalculator
from mma_core.domain.values import CostKind, CostLine

OFFER = "1298348/1298354"


class WaitForTheOther:
    """Prices a report fee like the built-in calculator, but the first time it waits until the
    other writer has priced its own: both have passed the duplicate check, neither has saved."""

    name = "wait-for-the-other"
    version = "1"

    def __init__(self, barrier: threading.Barrier) -> None:
        self.barrier = barrier
        self.waited = False
        self.inner = OfferTermsCalculator()

    def calculate(self, context: CostContext) -> CostLine:
        if not self.waited:
            self.waited = True
            self.barrier.wait(timeout=20)
        return self.inner.calculate(context)


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store two programmes can open at once."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.sqlite'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


def set_up(prog: Programme) -> None:
    prog.register_registry("noord-holland-2019", by="coordinator")
    prog.make_offer(reference=OFFER, sent_on=date(2019, 10, 18), by="cdk")
    for code in ("GM0363", "GM0479"):
        prog.invite(code, on=date(2019, 10, 18), reference=OFFER, by="cdk")
        prog.accept(code, on=date(2019, 11, 1), by="burgemeester")
        prog.connect(code, on=date(2019, 12, 1), by="coordinator")


def test_a_reference_recorded_through_another_programme_is_a_duplicate(
    shared_url: str, open_programme: Callable[[str], Programme]
) -> None:
    first = open_programme(shared_url)
    set_up(first)
    second = open_programme(shared_url)
    # the second programme has the municipality in its cache before the first records
    assert second.municipality("GM0479").reports_received == 0
    first.record_report(
        "GM0363",
        received_on=date(2020, 1, 6),
        category="fraude",
        reference="MMA-20-0001",
        by="mma",
    )
    count = second.event_count()
    with pytest.raises(DuplicateReport, match=r"GM0479.*MMA-20-0001.*recorded already"):
        second.record_report(
            "GM0479",
            received_on=date(2020, 1, 7),
            category="fraude",
            reference="MMA-20-0001",
            by="mma",
        )
    assert second.event_count() == count


def test_two_writers_racing_with_one_reference_record_it_once(
    shared_url: str, open_programme: Callable[[str], Programme], clock: Any
) -> None:
    set_up(open_programme(shared_url))
    barrier = threading.Barrier(2)
    calculators = {code: WaitForTheOther(barrier) for code in ("GM0363", "GM0479")}
    writers = {
        code: Programme.open(
            shared_url, clock=clock, cost_calculators={CostKind.REPORT_FEE: calculator}
        )
        for code, calculator in calculators.items()
    }
    before = writers["GM0363"].event_count()
    outcomes: dict[str, object] = {}

    def write(code: str) -> None:
        try:
            outcomes[code] = writers[code].record_report(
                code,
                received_on=date(2020, 1, 6),
                category="fraude",
                reference="MMA-20-0042",
                by="mma",
            )
        except Exception as error:  # recorded and asserted on below
            outcomes[code] = error

    threads = [threading.Thread(target=write, args=(code,)) for code in writers]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in threads)
        assert all(calculator.waited for calculator in calculators.values())
        succeeded = [code for code, outcome in outcomes.items() if outcome == "MMA-20-0042"]
        refused = [o for o in outcomes.values() if isinstance(o, DuplicateReport)]
        assert len(succeeded) == 1, outcomes
        assert len(refused) == 1, outcomes
        reader = writers["GM0363"]
        assert reader.event_count() == before + 2  # one report and its claim, nothing more
        reports = sum(reader.municipality(code).reports_received for code in writers)
        assert reports == 1
    finally:
        for writer in writers.values():
            writer.close()


class AnotherWriterEveryTime:
    """Prices a report fee, but every time it does, another programme records a report for the
    same municipality first: the command's save always meets a newer version."""

    name = "another-writer-every-time"
    version = "1"

    def __init__(self, other: Programme) -> None:
        self.other = other
        self.calls = 0
        self.inner = OfferTermsCalculator()

    def calculate(self, context: CostContext) -> CostLine:
        self.calls += 1
        self.other.record_report(
            context.code,
            received_on=date(2020, 1, 6),
            category="fraude",
            reference=f"MMA-OTHER-{self.calls}",
            by="mma",
        )
        return self.inner.calculate(context)


def test_a_command_that_keeps_meeting_newer_versions_gives_up_with_concurrency_conflict(
    shared_url: str, open_programme: Callable[[str], Programme], clock: Any
) -> None:
    other = open_programme(shared_url)
    set_up(other)
    interfering = AnotherWriterEveryTime(other)
    prog = Programme.open(
        shared_url, clock=clock, cost_calculators={CostKind.REPORT_FEE: interfering}, retries=4
    )
    try:
        before = prog.event_count()
        with pytest.raises(ConcurrencyConflict, match=r"^GM0363: another writer kept changing"):
            prog.record_report(
                "GM0363",
                received_on=date(2020, 1, 7),
                category="fraude",
                reference="MMA-20-0007",
                by="mma",
            )
        assert (
            interfering.calls == 5
        )  # tried 1 + retries=4 times while its rules held, then gave up
        # only the other writer's reports (each with its claim) were stored
        assert prog.event_count() == before + 2 * interfering.calls
        assert prog.municipality("GM0363").reports_received == interfering.calls
    finally:
        prog.close()
