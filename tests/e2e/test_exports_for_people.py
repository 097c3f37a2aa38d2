"""XLSX for people, CSV for programs: the workbook speaks the reader's language; CSV keeps its
stable keys, and ``--excel-nl`` writes a CSV a Dutch spreadsheet opens in columns, with amounts
as numbers (checked with LibreOffice set to Dutch)."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from cli_runner import invoke


def _export(url: str, cwd: Path, *args: str, lang: str = "nl") -> subprocess.CompletedProcess[str]:
    return invoke(["--store", url, "--lang", lang, "export", *args], env={}, cwd=cwd)


def test_the_xlsx_workbook_is_dutch_under_nl(demo_store: str, tmp_path: Path) -> None:
    out = tmp_path / "programma.xlsx"
    assert _export(demo_store, tmp_path, "xlsx", "-o", str(out)).returncode == 0
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["Stand", "Kosten", "Functionarissen"]
    status = book["Stand"]
    header = [c.value for c in status[1]]
    assert header[:4] == ["Code", "Naam", "Fase", "Inwoners"]
    assert "stage" not in header
    stages = {row[2].value for row in status.iter_rows(2)}
    assert "aangesloten" in stages
    assert "connected" not in stages
    ledger = book["Kosten"]
    header = [c.value for c in ledger[1]]
    assert header[:5] == ["Code", "Naam", "Datum", "Soort kosten", "Bedrag"]
    row = next(ledger.iter_rows(2))
    cells = dict(zip(header, row, strict=True))
    assert cells["Bedrag"].data_type == "n"  # a number the sheet computes with
    assert cells["Bedrag"].number_format == "[$€-413] #,##0.00"
    assert cells["Datum"].is_date
    assert cells["Datum"].number_format == "dd-mm-yyyy"
    assert cells["Soort kosten"].value in {
        "aansluitkosten",
        "vergoeding per melding",
        "compensatie eerdere aansluiting",
    }
    assert cells["Betaald door"].value in {"provincie", "gemeente"}


def test_the_xlsx_workbook_keeps_the_keys_in_english(demo_store: str, tmp_path: Path) -> None:
    out = tmp_path / "programme.xlsx"
    assert _export(demo_store, tmp_path, "xlsx", "-o", str(out), lang="en").returncode == 0
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["status", "ledger", "roster"]
    assert [c.value for c in book["status"][1]][:3] == ["code", "name", "stage"]


def test_csv_keeps_its_stable_keys_in_dutch(demo_store: str, tmp_path: Path) -> None:
    out = tmp_path / "ledger.csv"
    assert _export(demo_store, tmp_path, "csv", "--view", "ledger", "-o", str(out)).returncode == 0
    text = out.read_text(encoding="utf-8")
    assert text.startswith("code,name,on,kind,amount,payer,")
    assert not text.startswith("\ufeff")


def _excel_nl(url: str, cwd: Path) -> tuple[Path, list[list[str]]]:
    out = cwd / "kosten.csv"
    done = _export(url, cwd, "csv", "--view", "ledger", "--excel-nl", "-o", str(out))
    assert done.returncode == 0, done.stderr
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads UTF-8
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    return out, rows


def test_excel_nl_writes_semicolons_decimal_commas_and_a_bom(
    demo_store: str, tmp_path: Path
) -> None:
    _, rows = _excel_nl(demo_store, tmp_path)
    header = rows[0]
    assert header[:6] == ["code", "name", "on", "kind", "amount", "payer"]
    amounts = [r[header.index("amount")] for r in rows[1:]]
    assert amounts
    assert all("," in a and "." not in a for a in amounts), amounts[:5]


@pytest.mark.parametrize(
    "args",
    [
        ("xlsx", "--excel-nl"),
        ("jsonl", "--excel-nl", "--view", "ledger"),
    ],
)
def test_excel_nl_with_another_format_is_refused_in_dutch_and_writes_nothing(
    demo_store: str, tmp_path: Path, args: tuple[str, ...]
) -> None:
    out = tmp_path / "x.out"
    done = _export(demo_store, tmp_path, *args, "-o", str(out))
    assert done.returncode == 2
    assert "--excel-nl is alleen voor het formaat csv" in done.stderr
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) not installed")
def test_libreoffice_in_dutch_opens_excel_nl_in_columns_with_amounts_as_numbers(
    demo_store: str, tmp_path: Path
) -> None:
    source, rows = _excel_nl(demo_store, tmp_path)
    profile = tmp_path / "profile"
    # As a Dutch user imports it: semicolon-separated, UTF-8, first line a header, Dutch
    # (1043, nl-NL) number recognition.
    done = subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--infilter=CSV:59,34,76,1,,1043",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(tmp_path / "out"),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    book = openpyxl.load_workbook(tmp_path / "out" / "kosten.xlsx")
    sheet = book.active
    header = [c.value for c in sheet[1]]
    assert header[:6] == ["code", "name", "on", "kind", "amount", "payer"]  # separate columns
    column = header.index("amount")
    cells = [row[column] for row in sheet.iter_rows(2)]
    assert len(cells) == len(rows) - 1
    assert all(c.data_type == "n" for c in cells), [c.value for c in cells[:5]]
    expected = [Decimal(r[column].replace(",", ".")) for r in rows[1:]]
    assert [Decimal(str(c.value)).quantize(Decimal("0.01")) for c in cells] == expected
