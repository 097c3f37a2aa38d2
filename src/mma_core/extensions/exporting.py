"""What exporters and notification rules read: typed tables of the programme and the event log
as plugin-facing :class:`~mma_core.application.events.EventRecord` values; and the
:class:`Exporter` protocol an exporter plugin implements.

Every cell holds a typed value (``str``, ``int``, ``bool``, ``Decimal``, ``date``,
``datetime`` or ``None``) and every column says its type, so a spreadsheet exporter can write
real number and date cells. Money is ``Decimal`` euros.

Text cells come from people (names, ``by``, reasons) and a spreadsheet program runs a cell that
starts with ``=`` as a formula: every spreadsheet exporter writes text cells through
:func:`spreadsheet_text`, which neutralises them as OWASP recommends.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import IO, TYPE_CHECKING, Any, Protocol, runtime_checkable

import attrs

from mma_core.application.events import event_records
from mma_core.domain.values import CostLine
from mma_core.language.i18n import _ as _t

if TYPE_CHECKING:  # pragma: no cover
    from mma_core.application.programme import Programme
    from mma_core.views.state import MunicipalityView, SessionView

VIEWS = ("status", "ledger", "roster", "events")
COLUMN_TYPES = ("str", "int", "bool", "decimal", "date", "datetime")
BATCH = 500
# What a spreadsheet program reads as the start of a formula (or of DDE in old ones).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(value: str) -> str:
    """``value`` as a spreadsheet shows it as text: a leading ``=``, ``+``, ``-``, ``@``, tab
    or CR gets a ``'`` in front, so ``=1+1`` stays the text ``'=1+1`` and is never computed."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


@attrs.frozen
class Column:
    name: str
    type: str  # one of COLUMN_TYPES


@attrs.frozen
class Table:
    """One view as rows of typed cells."""

    name: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]

    def dicts(self) -> Iterator[dict[str, Any]]:
        names = [c.name for c in self.columns]
        for row in self.rows:
            yield dict(zip(names, row, strict=True))


def _columns(spec: str) -> tuple[Column, ...]:
    columns = []
    for item in spec.split():
        name, kind = item.split(":")
        columns.append(Column(name, kind))
    return tuple(columns)


STATUS = _columns(
    "code:str name:str stage:str population:int invited_on:date answered_on:date "
    "connected_on:date connection_kind:str evaluation_due:date reports_received:int "
    "costs_province:decimal costs_municipality:decimal successor:str"
)
# ``note``: what a line is, in words, where its tariff does not say it (a correction's reversal).
LEDGER = _columns(
    "code:str name:str on:date kind:str amount:decimal payer:str payee:str calculator:str "
    "calculator_version:str tariff_id:str note:str"
)
ROSTER = _columns(
    "code:str municipality:str official_id:str name:str email:str active:bool "
    "session_id:str session_date:date attended:bool"
)
EVENTS = _columns(
    "position:int recorded_at:datetime aggregate:str type:str code:str business_date:date "
    "by:str origin:str"
)


def correction_words(line: CostLine) -> str | None:
    """A reversal line in the reader's language: "correction: retracted (position 1234)";
    ``None`` for any other line."""
    if line.reverses is None:
        return None
    return _t("correction: retracted (position {position})").format(position=line.reverses)


class ExportSource:
    """The programme's views for exporters, computed on first use.

    ``as_of`` (default: today) is the business date of the status and roster views; the ledger
    holds every cost charged on or before it, merged municipalities included; the events view
    is the whole log in the order the store recorded it.
    """

    def __init__(
        self, programme: Programme, as_of: date | None = None, lang: str | None = None
    ) -> None:
        self.programme = programme
        self.as_of = as_of
        self.lang = lang  # for documents read by people; None: the exporter's default
        self._overview: Any = None

    def _municipalities(self) -> tuple[MunicipalityView, ...]:
        if self._overview is None:
            self._overview = self.programme.overview(as_of=self.as_of)
        result: tuple[MunicipalityView, ...] = self._overview.municipalities
        return result

    def table(self, view: str) -> Table:
        if view not in VIEWS:
            raise ValueError(f"view {view!r} is not one of {', '.join(VIEWS)}")
        maker = {
            "status": self.status,
            "ledger": self.ledger,
            "roster": self.roster,
            "events": self.events,
        }[view]
        return maker()

    def status(self) -> Table:
        rows = tuple(
            (
                m.code,
                m.name,
                m.stage.value,
                m.population,
                m.invited_on,
                m.answered_on,
                m.connected_on,
                m.connection_kind,
                m.evaluation_due,
                m.reports_received,
                m.costs_province.amount,
                m.costs_municipality.amount,
                m.successor,
            )
            for m in self._municipalities()
        )
        return Table("status", STATUS, rows)

    def ledger(self) -> Table:
        rows = []
        for code in self.programme.codes():
            m = self.programme.municipality(code, cost_lines=True)
            for entry in m.costs:
                if self.as_of is not None and entry.on > self.as_of:
                    continue
                line = entry.line
                rows.append(
                    (
                        m.code,
                        m.name,
                        entry.on,
                        line.kind.value,
                        line.amount.amount,
                        line.payer.value,
                        line.payee,
                        line.calculator,
                        line.calculator_version,
                        line.tariff_id,
                        correction_words(line) or "",
                    )
                )
        rows.sort(key=lambda r: (r[2], r[0]))
        return Table("ledger", LEDGER, tuple(rows))

    def roster(self) -> Table:
        rows = tuple(
            (
                m.code,
                m.name,
                o.id,
                o.name,
                o.email,
                o.active,
                o.session_id,
                o.session_date,
                o.attended,
            )
            for m in self._municipalities()
            for o in m.officials
        )
        return Table("roster", ROSTER, rows)

    def events(self) -> Table:
        rows = tuple(
            (
                r.position,
                r.recorded_at,
                r.aggregate,
                r.type,
                r.code,
                r.business_date,
                r.by,
                r.data.get("origin", ""),
            )
            for r in event_records(self.programme)
        )
        return Table("events", EVENTS, rows)

    def sessions(self) -> list[SessionView]:
        return self.programme.sessions()


@runtime_checkable
class Exporter(Protocol):
    """Writes a view of the programme in one format. ``views`` lists the views it can write
    (``status``, ``ledger``, ``roster``, ``events``, or its own); ``view=None`` asks for its
    default. It writes bytes to ``out``."""

    format: str
    suffix: str
    views: tuple[str, ...]

    def export(self, source: ExportSource, view: str | None, out: IO[bytes]) -> None: ...
