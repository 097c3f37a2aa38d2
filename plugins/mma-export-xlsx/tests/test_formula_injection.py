"""Formula injection: text people typed (names, ``by``) reaches the CSV and XLSX exports as
text, never as a formula; numbers and dates stay typed.

The LibreOffice test opens the exports as a spreadsheet user would, with ``soffice``
(Debian ``libreoffice-calc-nogui``), and reads back what the cells show.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import openpyxl
import pytest
from mma_export_xlsx import XlsxExporter

from mma_core import Programme
from mma_core.plugin_api import Exporter, ExportSource, load_plugins, spreadsheet_text

# The strings, and each other start a spreadsheet reads as a formula.
HYPERLINK = '=HYPERLINK("http://127.0.0.1:9/x","klik")'
NAMES = {
    "GM0363": (HYPERLINK, "=1+1"),
    "GM0358": ("+1+1", "-1+1"),
    "GM0361": ("@SUM(1)", "Gewone Naam"),
}
BY = "=2*21"


@pytest.fixture
def store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'mma.sqlite'}"
    now = datetime(2023, 6, 1, 12, tzinfo=UTC)
    with Programme.open(url, clock=lambda: now) as prog:
        prog.register_registry("noord-holland-2019", by="c")
        for code, names in NAMES.items():
            for n, name in enumerate(names, 1):
                prog.nominate_official(
                    code,
                    name=name,
                    email=f"o{n}@{code.lower()}.example",
                    by=BY,
                    on=date(2019, 11, 1),
                )
    return url


def CsvExporter() -> Exporter:
    """The built-in ``csv`` exporter, found as ``mma export csv`` finds it."""
    return load_plugins(env={"MMA_LOAD_PLUGINS": ""}).hook.exporters()["csv"]


def export(store: str, exporter: Exporter, view: str, out: Path) -> Path:
    with Programme.open(store) as prog, out.open("wb") as stream:
        exporter.export(ExportSource(prog), view, stream)
    return out


def test_spreadsheet_text_prefixes_only_formula_starts() -> None:
    for text in ("=1", "+1", "-1", "@A1", "\tx", "\rx"):
        assert spreadsheet_text(text) == "'" + text
    for text in ("Jan", "'=1", " =1", "", "1-2"):
        assert spreadsheet_text(text) == text


def test_csv_text_cells_are_neutralised_and_numbers_are_not(store: str, tmp_path: Path) -> None:
    roster = list(csv.DictReader(export(store, CsvExporter(), "roster", tmp_path / "r.csv").open()))
    names = {row["name"] for row in roster}
    assert names == {spreadsheet_text(n) for pair in NAMES.values() for n in pair}
    assert "'=1+1" in names
    assert "Gewone Naam" in names
    events = list(csv.DictReader(export(store, CsvExporter(), "events", tmp_path / "e.csv").open()))
    nominated = [e for e in events if e["type"] == "OfficialNominated"]
    assert {e["by"] for e in nominated} == {"'=2*21"}
    assert all(e["position"].isdigit() for e in events)  # numbers are written as numbers
    assert all(e["business_date"][:4].isdigit() for e in nominated)


def test_xlsx_text_cells_are_strings_not_formulas(store: str, tmp_path: Path) -> None:
    book = openpyxl.load_workbook(export(store, XlsxExporter(), "roster", tmp_path / "r.xlsx"))
    sheet = book["roster"]
    header = [c.value for c in sheet[1]]
    name_column = header.index("name")
    cells = [row[name_column] for row in sheet.iter_rows(min_row=2)]
    assert all(c.data_type == "s" for c in cells)
    assert {c.value for c in cells} == {spreadsheet_text(n) for p in NAMES.values() for n in p}
    active = [row[header.index("active")] for row in sheet.iter_rows(min_row=2)]
    assert all(c.data_type == "b" for c in active)  # typed cells stay typed


@pytest.mark.slow
def test_libreoffice_shows_the_literal_text(store: str, tmp_path: Path) -> None:
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("soffice (Debian libreoffice-calc-nogui) is not installed")
    exports = tmp_path / "exports"
    exports.mkdir()
    files = [
        export(store, CsvExporter(), "roster", exports / "roster-csv.csv"),
        export(store, CsvExporter(), "events", exports / "events-csv.csv"),
        export(store, XlsxExporter(), "roster", exports / "roster-xlsx.xlsx"),
        export(store, XlsxExporter(), "events", exports / "events-xlsx.xlsx"),
    ]
    shown = tmp_path / "shown"
    subprocess.run(  # noqa: S603 - soffice from PATH, every argument is ours
        [
            soffice,
            f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76",  # what each cell shows, as UTF-8
            "--outdir",
            str(shown),
            *map(str, files),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    expected_names = {spreadsheet_text(n) for pair in NAMES.values() for n in pair}
    for stem in ("roster-csv", "roster-xlsx"):
        rows = list(csv.DictReader((shown / f"{stem}.csv").open(encoding="utf-8")))
        names = {row["name"] for row in rows}
        # Computed, they would read "klik", "2", "2", "0" and "1".
        assert names == expected_names, stem
        assert not names & {"klik", "2", "0", "1"}
    for stem in ("events-csv", "events-xlsx"):
        rows = list(csv.DictReader((shown / f"{stem}.csv").open(encoding="utf-8")))
        by = {row["by"] for row in rows if row["type"] == "OfficialNominated"}
        assert by == {"'=2*21"}, stem  # not 42
        assert all(row["position"].isdigit() for row in rows)
