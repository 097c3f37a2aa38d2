"""The rows of a bulk recording of reports (``Programme.record_reports``): as given, and as
checked for their values before any rule runs."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import attrs

from mma_core.domain.common import as_date
from mma_core.domain.errors import DomainError, InvalidInput
from mma_core.domain.text import _
from mma_core.domain.values import MunicipalityCode, ReportCategory, ReportReference


@attrs.frozen
class ReportRow:
    """One report of a bulk recording; ``line`` is its line in the file it came from."""

    code: str
    received_on: date
    category: str
    reference: str
    line: int | None = None


@attrs.frozen
class ParsedRow:
    where: str
    code: str
    received_on: date
    category: ReportCategory
    reference: ReportReference
    typed: str


def parse_report_row(row: Any, n: int) -> ParsedRow:
    """A row checked for its values (the rules come when it is recorded), named for errors."""
    if isinstance(row, Mapping):
        row = ReportRow(**row)
    elif isinstance(row, tuple):
        row = ReportRow(*row)
    line = getattr(row, "line", None)
    where = (
        _("row {n}").format(n=n)
        if line is None
        else _("row {n} (line {line})").format(n=n, line=line)
    )
    try:
        if not isinstance(row, ReportRow):
            raise InvalidInput(_("a row is a ReportRow, a mapping or a tuple of its fields"))
        code = MunicipalityCode.parse(row.code).value
        return ParsedRow(
            where,
            code,
            as_date(row.received_on, "report date", code),
            ReportCategory(row.category),
            ReportReference(row.reference),
            row.reference if isinstance(row.reference, str) else "",
        )
    except DomainError as error:
        # Both parts are translated already: ``where`` above, ``error`` where it was raised.
        raise type(error)(_("{what}: {error}").format(what=where, error=error)) from None
    except TypeError:
        raise InvalidInput(
            _("{where}: a row has a municipality code, received_on, category and reference").format(
                where=where
            )
        ) from None
