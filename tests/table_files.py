"""Writing the CSV and XLSX files that the import tests feed to ``mma ... import``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import openpyxl


def write_csv(path: Path, text: str | Sequence[str]) -> Path:
    """A UTF-8 text file: ``text`` as it is, or the lines each ended by a newline."""
    if not isinstance(text, str):
        text = "".join(f"{line}\n" for line in text)
    path.write_text(text, encoding="utf-8")
    return path


def write_xlsx(path: Path, rows: Iterable[Sequence[object]]) -> Path:
    """A workbook whose first sheet holds ``rows``, the header first."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(list(row))
    book.save(path)
    return path
