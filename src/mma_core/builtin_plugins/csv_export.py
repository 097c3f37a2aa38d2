"""CSV exporter: one view as a CSV file with a header row (UTF-8, comma, CRLF).

Text cells are neutralised against formula injection (:func:`mma_core.plugin_api.spreadsheet_text`);
numbers and dates are written as they are, so a spreadsheet still reads them typed.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
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
        table = source.table(view or "status")
        stream = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
        try:
            writer = csv.writer(stream)
            writer.writerow([c.name for c in table.columns])
            for row in table.rows:
                writer.writerow(
                    [spreadsheet_text(v) if isinstance(v, str) else text(v) for v in row]
                )
        finally:
            stream.detach()


@hookimpl
def mma_plugin_info() -> PluginInfo:
    return PluginInfo(name="csv", api_version=HOOK_API_VERSION, description="CSV exports")


@hookimpl
def mma_register_exporters(register: RegisterExporter) -> None:
    register(CsvExporter())
