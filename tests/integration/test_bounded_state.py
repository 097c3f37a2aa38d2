"""A municipality's aggregate stays the same size however many reports it receives, its cost
lines live in the read models, and an MMA reference is one report however it is typed."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from datetime import date, timedelta

import pytest

from mma_core import DuplicateReport, Money, Programme
from mma_core.domain.municipality import municipality_id


def connected(prog: Programme) -> None:
    prog.register_registry("noord-holland-2019", by="t")
    prog.make_offer(reference="R", sent_on=date(2019, 10, 18), by="t")
    prog.invite("GM0363", on=date(2019, 10, 18), reference="R", by="t")
    prog.accept("GM0363", on=date(2019, 11, 1), by="t")
    prog.connect("GM0363", on=date(2019, 12, 1), by="t")


def test_the_aggregate_does_not_grow_with_reports(memory_programme: Programme) -> None:
    prog = memory_programme
    connected(prog)
    sizes = []
    for n in range(200):
        prog.record_report(
            "GM0363",
            received_on=date(2020, 1, 1) + timedelta(days=n),
            category="fraude",
            reference=f"B-{n}",
            by="t",
        )
        if n in (9, 199):
            m = prog.repository.get(municipality_id("GM0363"))
            sizes.append(len(pickle.dumps(m)))
    assert sizes[1] - sizes[0] < 16  # a counter and a date may take a few more bytes
    view = prog.municipality("GM0363", cost_lines=True)
    assert view.reports_received == 200
    assert len(view.costs) == 201  # the connection and a fee per report, from the ledger
    as_of = prog.municipality("GM0363", as_of=date(2020, 1, 10), cost_lines=True)
    assert as_of.reports_received == 10
    assert len(as_of.costs) == 11
    total = sum((e.line.amount.amount for e in view.costs if e.line.payer.value == "province"), 0)
    assert view.costs_province == Money(str(total))


@pytest.mark.parametrize("typed", ["mma-20-00001", " MMA-20-00001 ", "Mma-20-00001"])
def test_a_reference_counts_once_however_typed(
    programme: Programme, event_count: Callable[[Programme], int], typed: str
) -> None:
    prog = programme
    connected(prog)
    assert (
        prog.record_report(
            "GM0363",
            received_on=date(2020, 1, 2),
            category="fraude",
            reference="MMA-20-00001",
            by="t",
        )
        == "MMA-20-00001"
    )
    before = event_count(prog)
    with pytest.raises(DuplicateReport, match="MMA-20-00001 was recorded already"):
        prog.record_report(
            "GM0363", received_on=date(2020, 1, 3), category="fraude", reference=typed, by="t"
        )
    assert event_count(prog) == before
    assert prog.municipality("GM0363").reports_received == 1


def test_a_lower_case_reference_is_stored_in_upper_case(memory_programme: Programme) -> None:
    prog = memory_programme
    connected(prog)
    assert (
        prog.record_report(
            "GM0363", received_on=date(2020, 1, 2), category="fraude", reference=" mma-1 ", by="t"
        )
        == "MMA-1"
    )
    (report,) = [e for e in prog.history("GM0363") if e.type == "ReportReceived"]
    assert report.data["reference"] == "MMA-1"


def reports(prog: Programme, n: int) -> None:
    for i in range(n):
        prog.record_report(
            "GM0363",
            received_on=date(2020, 1, 1) + timedelta(days=i % 300),
            category="fraude",
            reference=f"P-{i}",
            by="t",
        )


def test_history_pages_read_the_same_events_as_the_whole(programme: Programme) -> None:
    prog = programme
    connected(prog)
    reports(prog, 23)
    whole = prog.history("GM0363")
    assert len(whole) == 27
    pages, after = [], 0
    while page := prog.history("GM0363", after=after, limit=5):
        assert len(page) <= 5
        pages.extend(page)
        after = page[-1].position
    assert pages == whole
    assert prog.history("GM0363", limit=4, latest=True) == whole[-4:]
    assert prog.history("GM0363", after=whole[-1].position) == []
    assert prog.history("GM0363", limit=0) == []


def test_the_cli_shows_the_latest_page_and_says_how_to_see_more(
    tmp_path: object, open_programme: Callable[[str], Programme]
) -> None:
    import json

    from click.testing import CliRunner

    from mma_core.cli import cli

    url = f"sqlite:///{tmp_path}/h.sqlite"
    prog = open_programme(url)
    connected(prog)
    reports(prog, 60)
    whole = prog.history("GM0363")
    prog.close()
    runner = CliRunner()
    shown = runner.invoke(cli, ["--store", url, "history", "GM0363"])
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert [int(line.split()[0]) for line in lines] == [e.position for e in whole[-50:]]
    assert "--after 0 --limit 50" in shown.stderr
    first = runner.invoke(
        cli, ["--store", url, "history", "GM0363", "--after", "0", "--limit", "10"]
    )
    assert [int(line.split()[0]) for line in first.stdout.splitlines()] == [
        e.position for e in whole[:10]
    ]
    assert f"--after {whole[9].position} --limit 10" in first.stderr
    streamed = runner.invoke(cli, ["--store", url, "--json", "history", "GM0363"])
    assert [e["position"] for e in json.loads(streamed.stdout)] == [e.position for e in whole]


def test_the_retry_budget_comes_from_the_argument_or_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mma_core import InvalidInput
    from mma_core.application.commanding import DEFAULT_RETRIES

    monkeypatch.delenv("MMA_RETRIES", raising=False)
    with Programme.open("memory://") as prog:
        assert prog.retries == DEFAULT_RETRIES
    monkeypatch.setenv("MMA_RETRIES", "3")
    with Programme.open("memory://") as prog:
        assert prog.retries == 3
    with Programme.open("memory://", retries=0) as prog:
        assert prog.retries == 0
    monkeypatch.setenv("MMA_RETRIES", "many")
    with pytest.raises(InvalidInput, match="MMA_RETRIES"):
        Programme.open("memory://")
    with pytest.raises(InvalidInput, match="retries"):
        Programme.open("memory://", retries=-1)
