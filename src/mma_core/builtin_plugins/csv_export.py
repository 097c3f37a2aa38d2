"""CSV exporter: one view as a CSV file with a header row (UTF-8, comma, CRLF).

CSV is for programs: the header row holds the views' stable keys (``code``, ``received_on``,
``amount``), in every language, and numbers use a decimal point. For a Dutch Excel,
``mma export csv --excel-nl`` writes the same keys and cells with a semicolon between them,
amounts with a decimal comma (``2000,00``) and a byte order mark, so Excel (and LibreOffice
with a Dutch locale) opens it in columns with amounts as numbers.

Text cells are neutralised against formula injection (:func:`mma_core.plugin_api.spreadsheet_text`);
numbers and dates are written as they are, so a spreadsheet still reads them typed.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from mma_core.plugin_api import (
    HOOK_API_VERSION,
    VIEWS,
    ExportSource,
    PluginInfo,
    RegisterExporter,
    hookimpl,
    spreadsheet_text,
)


def text(value: Any) -> str:
    """A typed cell that is not text as CSV writes it: empty, true/false, ISO 8601, digits."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


class CsvExporter:
    format = "csv"
    suffix = ".csv"
    views: tuple[str, ...] = VIEWS
    # Outputs without personal data (None: the default view), written with the usual mode.
    shareable_views: tuple[str | None, ...] = (None, "status", "ledger")

    def export(self, source: ExportSource, view: str | None, out: IO[bytes]) -> None:
        self._write(source, view, out, excel_nl=False)

    def export_excel_nl(self, source: ExportSource, view: str | None, out: IO[bytes]) -> None:
        """The view for a Dutch Excel: ``;`` between cells, decimal commas, a BOM."""
        self._write(source, view, out, excel_nl=True)

    def _write(
        self, source: ExportSource, view: str | None, out: IO[bytes], *, excel_nl: bool
    ) -> None:
        table = source.table(view or "status")
        encoding = "utf-8-sig" if excel_nl else "utf-8"
        stream = io.TextIOWrapper(out, encoding=encoding, newline="", write_through=True)

        def cell(value: Any) -> str:
            if isinstance(value, str):
                return spreadsheet_text(value)
            if excel_nl and isinstance(value, Decimal):
                return str(value).replace(".", ",")  # no thousands mark: a number, not a text
            return text(value)

        try:
            writer = csv.writer(stream, delimiter=";" if excel_nl else ",")
            writer.writerow([c.name for c in table.columns])
            for row in table.rows:
                writer.writerow([cell(v) for v in row])
        finally:
            stream.detach()


@hookimpl
def mma_plugin_info() -> PluginInfo:
    return PluginInfo(name="csv", api_version=HOOK_API_VERSION, description="CSV exports")


@hookimpl
def mma_register_exporters(register: RegisterExporter) -> None:
    register(CsvExporter())
