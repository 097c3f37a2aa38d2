"""Recording many reports at once: every rule per row, all or nothing, errors naming the row;
and ``mma report import`` reading CSV or XLSX with Dutch or English headers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from mma_core import DuplicateReport, InvalidDate, InvalidInput, InvalidTransition, Programme
from mma_core.application.report_rows import ReportRow
from mma_core.cli import cli
from table_files import write_csv, write_xlsx


def connected(prog: Programme) -> None:
    prog.register_registry("noord-holland-2019", by="t")
    prog.make_offer(reference="R", sent_on=date(2019, 10, 18), by="t")
    for code in ("GM0363", "GM0358"):
        prog.invite(code, on=date(2019, 10, 18), reference="R", by="t")
        prog.accept(code, on=date(2019, 11, 1), by="t")
        prog.connect(code, on=date(2019, 12, 1), by="t")


def rows(n: int) -> list[ReportRow]:
    return [
        ReportRow(
            "GM0363" if i % 2 else "GM0358",
            date(2020, 1, 1) + timedelta(days=i),
            "fraude",
            f"mma-b-{i}",
            line=i + 2,
        )
        for i in range(n)
    ]


def test_bulk_equals_one_at_a_time(
    programme: Programme, event_count: Callable[[Programme], int]
) -> None:
    prog = programme
    connected(prog)
    before = event_count(prog)
    assert prog.record_reports(rows(30), by="t") == [f"MMA-B-{i}" for i in range(30)]
    assert event_count(prog) == before + 60  # a report and its claim each
    amsterdam = prog.municipality("GM0363", cost_lines=True)
    assert amsterdam.reports_received == 15
    assert len(amsterdam.costs) == 16
    with pytest.raises(DuplicateReport):
        prog.record_report(
            "GM0363", received_on=date(2020, 3, 1), category="fraude", reference="MMA-B-1", by="t"
        )


@pytest.mark.parametrize(
    ("bad", "error", "named"),
    [
        (ReportRow("GM0363", date(2019, 1, 1), "fraude", "X-1"), InvalidDate, "row 6"),
        (ReportRow("GM0363", date(2020, 1, 1), "lawaai", "X-1"), InvalidInput, "row 6"),
        (ReportRow("GM0363", date(2020, 1, 1), "fraude", "MMA-B-2"), DuplicateReport, "row 6"),
        (ReportRow("GM0399", date(2020, 1, 1), "fraude", "X-1"), InvalidTransition, "row 6"),
        (ReportRow("GM0363", date(2020, 1, 1), "fraude", "x 1", line=9), InvalidInput, "line 9"),
    ],
)
def test_one_bad_row_writes_nothing_and_is_named(
    memory_programme: Programme,
    event_count: Callable[[Programme], int],
    bad: ReportRow,
    error: type[Exception],
    named: str,
) -> None:
    prog = memory_programme
    connected(prog)
    before = event_count(prog)
    batch = rows(10)
    batch.insert(5, bad)
    with pytest.raises(error, match=named):
        prog.record_reports(batch, by="t")
    assert event_count(prog) == before


def test_non_atomic_batches_keep_the_batches_before_the_bad_row(
    memory_programme: Programme, event_count: Callable[[Programme], int]
) -> None:
    prog = memory_programme
    connected(prog)
    before = event_count(prog)
    batch = rows(10)
    batch[7] = ReportRow("GM0363", date(2019, 1, 1), "fraude", "X-1")
    with pytest.raises(InvalidDate, match="row 8"):
        prog.record_reports(batch, by="t", atomic=False, batch_size=3)
    assert event_count(prog) == before + 12  # rows 1-6, in two batches of three


def test_import_csv_dry_run_then_real(
    tmp_path: Path, open_programme: Callable[[str], Programme]
) -> None:
    url = f"sqlite:///{tmp_path / 'i.sqlite'}"
    prog = open_programme(url)
    connected(prog)
    before = prog.event_count()
    lines = ["Gemeente;Ontvangen op;Categorie;Kenmerk"]
    lines += [f"GM0363;{3 + i:02d}-01-2020;fraude;mma-i-{i}" for i in range(20)]
    path = write_csv(tmp_path / "meldingen.csv", lines)
    runner = CliRunner()
    dry = runner.invoke(cli, ["--store", url, "report", "import", str(path), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "20 reports" in dry.stdout
    assert "nothing was written" in dry.stdout
    assert prog.event_count() == before
    done = runner.invoke(cli, ["--store", url, "report", "import", str(path)])
    assert done.exit_code == 0, done.output
    assert prog.event_count() == before + 40
    assert prog.municipality("GM0363").reports_received == 20
    one = runner.invoke(
        cli,
        [
            *("--store", url, "report", "GM0358", "--received-on", "2020-02-01"),
            *("--category", "fraude", "--reference", "MMA-ONE"),
        ],
    )
    assert one.exit_code == 0, one.output


def test_import_with_a_bad_row_in_the_middle_writes_nothing(
    tmp_path: Path, open_programme: Callable[[str], Programme]
) -> None:
    url = f"sqlite:///{tmp_path / 'b.sqlite'}"
    prog = open_programme(url)
    connected(prog)
    before = prog.event_count()
    lines = ["municipality,received_on,category,reference"]
    lines += [f"GM0358,2020-01-{1 + i:02d},fraude,R-{i}" for i in range(10)]
    lines[6] = "GM0358,2019-01-01,fraude,R-BAD"  # line 7: before the connection
    path = write_csv(tmp_path / "reports.csv", lines)
    result = CliRunner().invoke(cli, ["--store", url, "report", "import", str(path)])
    assert result.exit_code == 1
    assert "line 7" in result.stderr
    assert prog.event_count() == before


def test_import_xlsx_with_dutch_headers(
    tmp_path: Path, open_programme: Callable[[str], Programme]
) -> None:
    url = f"sqlite:///{tmp_path / 'x.sqlite'}"
    prog = open_programme(url)
    connected(prog)
    rows = [("GM0363", date(2020, 2, 1 + i), "drugsdelicten", f"X-{i}") for i in range(5)]
    path = write_xlsx(
        tmp_path / "meldingen.xlsx", [("CBS code", "Datum", "Categorie", "Referentie"), *rows]
    )
    result = CliRunner().invoke(cli, ["--store", url, "--json", "report", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert '"reports": 5' in result.stdout
    assert prog.municipality("GM0363").reports_received == 5
