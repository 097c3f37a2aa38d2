"""The ``xlsx`` format: one sheet per view, every cell typed, in the reader's language.

A workbook is for people: under Dutch (the default, or ``mma --lang nl`` / ``MMA_LANG=nl``, or
``mma export xlsx --lang nl``) the sheets, the header row and the words in the cells (stages,
kinds of cost, payers) are Dutch, dates are date cells shown ``dd-mm-jjjj`` and amounts number
cells shown ``€ 1.234,50`` (format ``[$€-413] #,##0.00``: a spreadsheet in any language still
computes with them). In English the sheets and headers keep the views' own names and the cells
their values, as before. CSV and JSONL are for programs and always keep the stable keys.

Recorded times are date-time cells in UTC, yes/no boolean cells, counts integer cells.
Without ``--view`` the workbook has the status, ledger and roster sheets.

Text cells are string cells, neutralised against formula injection
(:func:`mma_core.extensions.exporting.spreadsheet_text`): a name ``=1+1`` is the text ``'=1+1``,
never a formula that a spreadsheet program computes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import IO, Any

from mma_core.plugin_api import ExportSource, Table, current_language, spreadsheet_text

DEFAULT_VIEWS = ("status", "ledger", "roster")
FORMATS = {
    "en": {"decimal": "#,##0.00", "date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm:ss"},
    # 413 is nl-NL: the euro sign before the amount, thousands with "." and cents with ",".
    "nl": {"decimal": "[$€-413] #,##0.00", "date": "dd-mm-yyyy", "datetime": "dd-mm-yyyy hh:mm:ss"},
}

# The Dutch workbook's words: sheets, headers, and the values of the columns that hold a word.
SHEETS_NL = {
    "status": "Stand",
    "ledger": "Kosten",
    "roster": "Functionarissen",
    "events": "Gebeurtenissen",
}
HEADERS_NL = {
    "code": "Code",
    "name": "Naam",
    "stage": "Fase",
    "population": "Inwoners",
    "invited_on": "Uitgenodigd op",
    "answered_on": "Geantwoord op",
    "connected_on": "Aangesloten op",
    "connection_kind": "Soort aansluiting",
    "evaluation_due": "Evaluatie uiterlijk",
    "reports_received": "Meldingen ontvangen",
    "costs_province": "Kosten provincie",
    "costs_municipality": "Kosten gemeente",
    "successor": "Opgegaan in",
    "on": "Datum",
    "kind": "Soort kosten",
    "amount": "Bedrag",
    "payer": "Betaald door",
    "payee": "Ontvanger",
    "calculator": "Rekenregel",
    "calculator_version": "Versie rekenregel",
    "tariff_id": "Tarief",
    "note": "Toelichting",
    "municipality": "Gemeente",
    "official_id": "Functionaris",
    "email": "E-mail",
    "active": "Actief",
    "session_id": "Sessie",
    "session_date": "Sessiedatum",
    "attended": "Aanwezig",
    "position": "Positie",
    "recorded_at": "Vastgelegd op",
    "aggregate": "Aggregaat",
    "type": "Soort gebeurtenis",
    "business_date": "Datum",
    "by": "Door",
    "origin": "Herkomst",
}
VALUES_NL = {
    "stage": {
        "registered": "geregistreerd",
        "invited": "uitgenodigd",
        "accepted": "akkoord",
        "declined": "afgewezen",
        "connected": "aangesloten",
        "stopped": "gestopt",
        "merged": "gefuseerd",
    },
    "connection_kind": {
        "programme": "via het programma",
        "prior": "eerdere aansluiting",
        "succession": "door opvolging",
    },
    "kind": {
        "connection": "aansluitkosten",
        "report_fee": "vergoeding per melding",
        "compensation": "compensatie eerdere aansluiting",
    },
    "payer": {"province": "provincie", "municipality": "gemeente"},
}


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        # openpyxl stores a string that starts with "=" as a formula.
        return spreadsheet_text(value)
    if isinstance(value, datetime):
        # Excel has no time zones: write UTC, and say so in the column header.
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _header(name: str, kind: str, lang: str) -> str:
    text = HEADERS_NL.get(name, name) if lang == "nl" else name
    return f"{text} (UTC)" if kind == "datetime" else text


def _word(column: str, value: Any, lang: str) -> Any:
    if lang == "nl" and isinstance(value, str):
        return VALUES_NL.get(column, {}).get(value, value)
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

        lang = getattr(source, "lang", None) or current_language()
        lang = lang if lang in FORMATS else "nl"
        formats = FORMATS[lang]
        workbook = Workbook()
        workbook.remove(workbook.active)
        for name in (view,) if view else DEFAULT_VIEWS:
            table: Table = source.table(name)
            sheet = workbook.create_sheet(SHEETS_NL.get(name, name) if lang == "nl" else name)
            headers = [_header(c.name, c.type, lang) for c in table.columns]
            sheet.append(headers)
            for cell in sheet[1]:
                cell.font = Font(bold=True)
            for row in table.rows:
                sheet.append(
                    [_cell(_word(c.name, v, lang)) for c, v in zip(table.columns, row, strict=True)]
                )
            for index, column in enumerate(table.columns, start=1):
                number_format = formats.get(column.type)
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
