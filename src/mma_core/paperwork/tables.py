"""Rows of a CSV or XLSX file, each with its line number, under canonical column names.

Imports (reports, answers, officials) read spreadsheets that coordinators keep in Dutch or in
English. A caller names its columns once, with the headers each may carry::

    COLUMNS = (
        Column("municipality", ("gemeente", "code", "cbs-code")),
        Column("received_on", ("ontvangen op", "datum", "date")),
        Column("note", ("opmerking",), required=False),
    )
    for row in read_table(path, COLUMNS):
        row["municipality"], row.line

Headers match whatever their letter case, surrounding spaces, and ``_``/``-``/space spelling.
Cells come back as stripped text (an XLSX date as ``YYYY-MM-DD``, a whole number without
``.0``); an empty cell is ``""``. Blank lines are skipped, but line numbers count them, so an
error can point at the line a coordinator sees in their editor or spreadsheet. Columns the caller
did not ask for are ignored.

XLSX needs ``openpyxl``, shipped with the ``xlsx`` extra (``pip install 'mma-core[xlsx]'``).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any

from attrs import field, frozen

from mma_core.domain.errors import InvalidInput
from mma_core.language.i18n import N_, _

FORMATS = ("csv", "xlsx")

# The imports' columns as a reader of the language calls them, in messages (a column's own
# name, such as ``received_on``, is a key for programs, not a word for people).
COLUMN_NAMES = {
    "municipality": N_("municipality"),
    "received_on": N_("received on"),
    "category": N_("category"),
    "reference": N_("reference"),
    "answer": N_("answer"),
    "on": N_("on"),
    "reason": N_("reason"),
    "name": N_("name"),
    "email": N_("email"),
    "session": N_("session"),
    "salutation": N_("salutation"),
    "street": N_("street or PO box"),
    "postcode": N_("postcode"),
    "place": N_("place"),
    "body": N_("addressee"),
}


def column_label(name: str) -> str:
    """The column ``name`` in the reader's language (itself when it has no label)."""
    return _(COLUMN_NAMES[name]) if name in COLUMN_NAMES else name


def normalise_header(text: str) -> str:
    """``" Ontvangen_op "`` and ``"ontvangen-op"`` are the same header: ``"ontvangen op"``."""
    return re.sub(r"[\s_\-]+", " ", text.strip().casefold()).strip()


@frozen
class Column:
    """A column a caller reads, by its canonical name and the headers it may carry in a file."""

    name: str
    aliases: tuple[str, ...] = ()
    required: bool = True

    @property
    def headers(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@frozen
class TableRow(Mapping[str, str]):
    """One data row: its line number in the file (the header is line 1) and its cells."""

    line: int
    cells: Mapping[str, str] = field(repr=False)

    def __getitem__(self, key: str) -> str:
        return self.cells[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.cells)

    def __len__(self) -> int:
        return len(self.cells)


class TableError(InvalidInput):
    """A file cannot be read as a table with the columns asked for; ``line`` says where."""

    code = "invalid_table"
    when = "a file of rows (`record_reports`, imports) cannot be read; `details.line` says where"

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(
            message
            if line is None
            else _("line {line}: {message}").format(line=line, message=message),
            details={"line": line},
        )
        self.line = line


def table_format(path: str | Path, format: str | None = None) -> str:
    """``csv`` or ``xlsx``: the format asked for, else the one the file name ends in."""
    chosen = (format or Path(path).suffix.lstrip(".")).lower()
    if chosen not in FORMATS:
        raise TableError(
            _("cannot read {file}: name a .csv or .xlsx file (or give the format)").format(
                file=repr(Path(path).name)
            )
        )
    return chosen


def read_table(
    path: str | Path, columns: Sequence[Column], *, format: str | None = None
) -> list[TableRow]:
    """Every data row of the file at ``path``, keyed by the columns' canonical names."""
    if table_format(path, format) == "xlsx":
        return list(_rows(_xlsx_lines(Path(path)), columns))
    try:
        with open(path, encoding="utf-8-sig", newline="") as stream:
            return read_csv(stream, columns)
    except UnicodeDecodeError:
        raise TableError(
            _("cannot read {file}: save the CSV as UTF-8").format(file=repr(Path(path).name))
        ) from None


def read_csv(stream: IO[str], columns: Sequence[Column]) -> list[TableRow]:
    """Rows of CSV text; the delimiter (``,`` ``;`` or tab, as Dutch Excel writes) is sniffed."""
    text = stream.read()
    if text.startswith("\ufeff"):
        text = text[1:]
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    return list(_rows(((reader.line_num, cells) for cells in reader), columns))


def _xlsx_lines(path: Path) -> Iterator[tuple[int, list[str]]]:
    try:
        import openpyxl
    except ImportError:
        raise TableError(
            _(
                "reading .xlsx needs openpyxl: pip install 'mma-core[xlsx]' (or save the sheet "
                "as CSV)"
            )
        ) from None
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises several unrelated types for a damaged file
        # Its own words ("File is not a zip file") are English and say less than this does.
        raise TableError(
            _(
                "cannot read {file} as an XLSX workbook: it is damaged or not a workbook saved "
                "as .xlsx (save it again as .xlsx, or as CSV)"
            ).format(file=repr(path.name))
        ) from None
    try:
        # A crafted file can be a valid archive whose sheet is missing or malformed: openpyxl
        # then fails while reading rows, with whatever type; it is the same refusal.
        try:
            rows = enumerate(book.worksheets[0].iter_rows(values_only=True), start=1)
        except Exception as error:
            raise _damaged(path, error) from None
        while True:
            try:
                item = next(rows, None)
                if item is None:
                    return
                number, values = item
                line = [_cell_text(v) for v in values]
            except Exception as error:
                raise _damaged(path, error) from None
            yield number, line
    finally:
        book.close()


def _damaged(path: Path, error: Exception) -> TableError:
    return TableError(
        _("cannot read {file} as an XLSX workbook: {error}").format(
            file=repr(path.name),
            error=_("the sheet is damaged ({kind})").format(kind=type(error).__name__),
        )
    )


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _rows(lines: Iterator[tuple[int, list[str]]], columns: Sequence[Column]) -> Iterator[TableRow]:
    header: dict[str, int] | None = None
    for number, cells in lines:
        cells = [c.strip() for c in cells]
        if not any(cells):
            continue
        if header is None:
            header = _header(number, cells, columns)
            continue
        yield TableRow(
            number,
            {name: cells[i] if i < len(cells) else "" for name, i in header.items()},
        )
    if header is None:
        raise TableError(_("the file is empty: it needs a header line naming its columns"))


def _header(number: int, cells: list[str], columns: Sequence[Column]) -> dict[str, int]:
    found = {normalise_header(c): i for i, c in reversed(list(enumerate(cells))) if c}
    header: dict[str, int] = {}
    missing: list[str] = []
    for column in columns:
        hits = [found[a] for a in map(normalise_header, column.headers) if a in found]
        if len(set(hits)) > 1:
            raise TableError(
                _("the header names column {column} more than once ({headers})").format(
                    column=repr(column_label(column.name)),
                    headers=", ".join(repr(cells[i]) for i in sorted(set(hits))),
                ),
                number,
            )
        if hits:
            header[column.name] = hits[0]
        elif column.required:
            missing.append(
                _("{column} (headed one of: {headers})").format(
                    column=repr(column_label(column.name)), headers=", ".join(column.headers)
                )
            )
    if missing:
        raise TableError(
            _("the header lacks column {missing}").format(missing="; ".join(missing)), number
        )
    return header
