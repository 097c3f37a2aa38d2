"""The xlsx export opens with openpyxl and has typed cells."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from mma_export_xlsx import XlsxExporter

from mma_core import Money, Programme, Terms
from mma_core.plugin_api import ExportSource, load_plugins

OFFER = "1298348/1298354"


@pytest.fixture
def store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'mma.sqlite'}"
    now = datetime(2023, 6, 1, 12, tzinfo=UTC)
    with Programme.open(url, clock=lambda: now) as prog:
        prog.register_registry("noord-holland-2019", by="c")
        terms = Terms(connection_fee=Money("1250.00"), report_fee=Money("22.50"))
        prog.make_offer(reference=OFFER, sent_on=date(2019, 10, 18), by="cdk", terms=terms)
        prog.schedule_training(
            "2019-11-06",
            starts_at=datetime(2019, 11, 6, 10),
            ends_at=datetime(2019, 11, 6, 12, 30),
            location="Provinciehuis, Dreef 3, Haarlem",
            capacity=60,
            by="c",
        )
        for code in ("GM0363", "GM0358"):
            prog.invite(code, on=date(2019, 10, 18), reference=OFFER, by="cdk")
            prog.accept(code, on=date(2019, 11, 1), by="b")
            prog.connect(code, on=date(2019, 12, 1), by="c")
        official = prog.nominate_official(
            "GM0363",
            name="Test Persoon",
            email="t.p@gemeente.example",
            by="c",
            on=date(2019, 11, 1),
        )
        prog.book_training(
            "GM0363", official_id=official, session_id="2019-11-06", by="c", on=date(2019, 11, 2)
        )
        prog.record_report(
            "GM0363", received_on=date(2020, 2, 3), category="fraude", reference="R-1", by="mma"
        )
    return url


def test_typed_cells(store: str, tmp_path: Path) -> None:
    out = tmp_path / "programma.xlsx"
    with Programme.open(store) as prog, out.open("wb") as stream:
        XlsxExporter().export(ExportSource(prog, as_of=date(2020, 6, 30)), None, stream)
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["status", "ledger", "roster"]

    ledger = book["ledger"]
    header = [c.value for c in ledger[1]]
    rows = [dict(zip(header, (c for c in row), strict=True)) for row in ledger.iter_rows(2)]
    assert len(rows) == 3  # two connections, one report
    for row in rows:
        assert row["amount"].data_type == "n"
        assert row["amount"].number_format == "#,##0.00"
        assert row["on"].is_date
        assert isinstance(row["on"].value, datetime)
    amounts = sorted(Decimal(str(r["amount"].value)) for r in rows)
    assert amounts == [Decimal("22.5"), Decimal("1250"), Decimal("1250")]
    assert rows[0]["on"].value.date() == date(2019, 12, 1)

    status = book["status"]
    header = [c.value for c in status[1]]
    amsterdam = next(r for r in status.iter_rows(2) if r[0].value == "GM0363")
    cells = dict(zip(header, amsterdam, strict=True))
    assert cells["population"].value == 869709
    assert cells["population"].data_type == "n"
    assert cells["connected_on"].is_date
    assert cells["reports_received"].value == 1
    assert cells["costs_province"].value == 1250
    assert cells["costs_municipality"].value == Decimal("22.50")

    roster = book["roster"]
    header = [c.value for c in roster[1]]
    (official,) = [dict(zip(header, r, strict=True)) for r in roster.iter_rows(2)]
    assert official["active"].value is True
    assert official["active"].data_type == "b"
    assert official["session_date"].is_date


def test_events_sheet_has_utc_datetimes(store: str, tmp_path: Path) -> None:
    out = tmp_path / "events.xlsx"
    with Programme.open(store) as prog, out.open("wb") as stream:
        XlsxExporter().export(ExportSource(prog), "events", stream)
    sheet = openpyxl.load_workbook(out)["events"]
    assert sheet["B1"].value == "recorded_at (UTC)"
    assert sheet["B2"].is_date
    assert sheet["B2"].value == datetime(2023, 6, 1, 12)


def test_through_mma_export(store: str, tmp_path: Path) -> None:
    plugins = load_plugins(env={"MMA_LOAD_PLUGINS": "mma-export-xlsx"})
    assert "xlsx" in plugins.hook.exporters()
    out = tmp_path / "cli.xlsx"
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "mma_core.cli", "--store", store, "export", "xlsx", "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert openpyxl.load_workbook(out).sheetnames == ["status", "ledger", "roster"]
