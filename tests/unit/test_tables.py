"""Reading CSV and XLSX tables: headers in Dutch or English, line numbers, clear errors."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from mma_core.domain.errors import InvalidInput
from mma_core.paperwork.tables import Column, TableError, normalise_header, read_table

COLUMNS = (
    Column("municipality", ("gemeente", "cbs code")),
    Column("received_on", ("ontvangen op", "date")),
    Column("note", ("opmerking",), required=False),
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_dutch_headers_semicolons_and_line_numbers_counting_blank_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "meldingen.csv",
        "\ufeffGemeente; Ontvangen_op ;Extra\nGM0363;2020-01-02;x\n\n GM0358 ;2020-01-03;y\n",
    )
    rows = read_table(path, COLUMNS)
    assert [(r.line, dict(r)) for r in rows] == [
        (2, {"municipality": "GM0363", "received_on": "2020-01-02"}),
        (4, {"municipality": "GM0358", "received_on": "2020-01-03"}),
    ]


def test_english_headers_with_commas_and_optional_column(tmp_path: Path) -> None:
    path = write(tmp_path, "r.csv", "municipality,received_on,note\nGM0363,2020-01-02,hi\n")
    (row,) = read_table(path, COLUMNS)
    assert row["note"] == "hi"
    assert row.line == 2


def test_a_missing_column_names_it_and_its_headers(tmp_path: Path) -> None:
    path = write(tmp_path, "r.csv", "gemeente,opmerking\nGM0363,x\n")
    with pytest.raises(
        TableError, match=r"line 1: .*'received on' \(headed one of: received_on, ontvangen op"
    ) as caught:
        read_table(path, COLUMNS)
    assert caught.value.line == 1
    assert isinstance(caught.value, InvalidInput)


def test_a_column_headed_twice_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "r.csv", "gemeente,municipality,date\nGM0363,GM0363,2020-01-01\n")
    with pytest.raises(TableError, match="more than once"):
        read_table(path, COLUMNS)


def test_empty_file_and_unknown_format_are_refused(tmp_path: Path) -> None:
    with pytest.raises(TableError, match="empty"):
        read_table(write(tmp_path, "e.csv", "\n\n"), COLUMNS)
    with pytest.raises(TableError, match=r"\.csv or \.xlsx"):
        read_table(write(tmp_path, "e.txt", "a"), COLUMNS)


def test_short_rows_read_as_empty_cells(tmp_path: Path) -> None:
    (row,) = read_table(write(tmp_path, "r.csv", "gemeente,date,note\nGM0363\n"), COLUMNS)
    assert dict(row) == {"municipality": "GM0363", "received_on": "", "note": ""}


def test_xlsx_dates_and_numbers_read_as_text(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["CBS-code", "Ontvangen op", "Opmerking"])
    sheet.append(["GM0363", datetime(2020, 1, 2), 7.0])
    sheet.append([None, None, None])
    sheet.append(["GM0358", date(2020, 1, 3), None])
    path = tmp_path / "meldingen.xlsx"
    book.save(path)
    rows = read_table(path, COLUMNS)
    assert [(r.line, dict(r)) for r in rows] == [
        (2, {"municipality": "GM0363", "received_on": "2020-01-02", "note": "7"}),
        (4, {"municipality": "GM0358", "received_on": "2020-01-03", "note": ""}),
    ]


def test_a_damaged_xlsx_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(TableError, match="XLSX"):
        read_table(write(tmp_path, "bad.xlsx", "not a zip"), COLUMNS)


def test_header_spellings() -> None:
    assert normalise_header(" Ontvangen_op ") == normalise_header("ontvangen-op") == "ontvangen op"
