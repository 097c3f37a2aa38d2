"""The ``xlsx`` format: one sheet per view, every cell typed.

Amounts are number cells (format ``#,##0.00``), dates date cells (``yyyy-mm-dd``), recorded
times date-time cells in UTC, yes/no boolean cells, counts integer cells. Without ``--view``
the workbook has the status, ledger and roster sheets.

Text cells are string cells, neutralised against formula injection
(:func:`mma_core.extensions.exporting.spreadsheet_text`): a name ``=1+1`` is the text ``'=1+1``,
never a formula that a spreadsheet program computes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import IO, Any

from mma_core.plugin_api import ExportSource, Table, spreadsheet_text

DEFAULT_VIEWS = ("status", "ledger", "roster")
FORMATS = {"decimal": "#,##0.00", "date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm:ss"}


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        # openpyxl stores a string that starts with "=" as a formula.
        return spreadsheet_text(value)
    if isinstance(value, datetime):
        # Excel has no time zones: write UTC, and say so in the column header.
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


class XlsxExporter:
    format = "xlsx"
    suffix = ".xlsx"
    views: tuple[str, ...] = ("status", "ledger", "roster", "events")
    # The default workbook has the roster sheet: private (0600), like the roster and events.
    shareable_views: tuple[str | None, ...] = ("status", "ledger")

    def export(self, source: ExportSource, view: str | None, out: IO[bytes]) -> None:
        from openpyxl import Workbook  # type: ignore[import-untyped]
        from openpyxl.styles import Font  # type: ignore[import-untyped]

        workbook = Workbook()
        workbook.remove(workbook.active)
        for name in (view,) if view else DEFAULT_VIEWS:
            table: Table = source.table(name)
            sheet = workbook.create_sheet(name)
            headers = [f"{c.name} (UTC)" if c.type == "datetime" else c.name for c in table.columns]
            sheet.append(headers)
            for cell in sheet[1]:
                cell.font = Font(bold=True)
            for row in table.rows:
                sheet.append([_cell(v) for v in row])
            for index, column in enumerate(table.columns, start=1):
                number_format = FORMATS.get(column.type)
                letter = sheet.cell(row=1, column=index).column_letter
                width = max(len(headers[index - 1]), 12)
                sheet.column_dimensions[letter].width = min(width + 2, 40)
                if number_format is None:
                    continue
                for (cell,) in sheet.iter_rows(
                    min_row=2, min_col=index, max_col=index, max_row=sheet.max_row
                ):
                    cell.number_format = number_format
            sheet.freeze_panes = "A2"
            sheet.auto_filter.ref = sheet.dimensions
        workbook.save(out)
