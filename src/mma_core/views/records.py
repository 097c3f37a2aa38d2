"""The rows of the read models: plain, JSON-ready records derived from the folded aggregates.

A :class:`MunicipalityRecord` holds everything a :class:`MunicipalityView` shows except the cost
lines (those are the ledger's rows) and the officials' personal data (kept sealed, exactly as in
the event; revealed with the official's key when a view is built, so erasure works on the views
too). The same records are built from an as-of replay, so the overview, the deadlines and the
waterbed are computed by one piece of code whether they come from the views or from a replay.
"""

from __future__ import annotations

import functools
import json
import types
import typing
from collections.abc import Callable, Iterable
from datetime import date, datetime
from enum import Enum
from typing import Any, TypeVar

import attrs

from mma_core.domain.jsonable import fields_of
from mma_core.domain.municipality import Municipality
from mma_core.domain.training import TrainingSession
from mma_core.domain.values import (
    ERASED,
    CostKind,
    CostLine,
    Money,
    Official,
    OfficialId,
    Outcome,
    Payer,
    Stage,
)
from mma_core.views.state import CostEntry, MunicipalityFacts, MunicipalityView, OfficialView

Reveal = Callable[[OfficialId, str], Official | None]


@attrs.frozen
class OfficialRecord:
    id: str
    sealed: str
    nominated_on: date
    active: bool
    erased: bool
    session_id: str | None
    session_date: date | None
    attended: bool | None


@attrs.frozen
class MunicipalityRecord(MunicipalityFacts):
    """The facts of :class:`MunicipalityView` (declared once, in ``MunicipalityFacts``), the
    officials still sealed, and no cost lines: their totals only."""

    evaluation_open: bool  # due and not yet answered with "continue" in this term
    officials: tuple[OfficialRecord, ...]
    reports_received: int
    costs_province: Money
    costs_municipality: Money

    @property
    def has_trained_official(self) -> bool:
        return any(o.active and o.attended for o in self.officials)

    # -- JSON (the views' tables hold records as JSON) ------------------------------------

    def to_json(self) -> str:
        return _dumps(self)

    @classmethod
    def from_json(cls, text: str) -> MunicipalityRecord:
        return _loads(cls, text)

    def view(
        self,
        reveal: Reveal,
        as_of: date | None,
        known_at: datetime | None,
        costs: Iterable[CostEntry] = (),
    ) -> MunicipalityView:
        """The public view; ``costs`` are the municipality's ledger lines, in date order (a
        backdated line recorded later still stands at its date; one day keeps ledger order)."""
        officials = []
        for o in self.officials:
            person = None if o.erased else reveal(OfficialId(o.id), o.sealed)
            officials.append(
                OfficialView(
                    id=o.id,
                    name=ERASED if person is None else person.name,
                    email=ERASED if person is None else person.email,
                    active=o.active,
                    nominated_on=o.nominated_on,
                    session_id=o.session_id,
                    session_date=o.session_date,
                    attended=o.attended,
                    erased=o.erased or person is None,
                    salutation="" if person is None else person.salutation,
                )
            )
        facts = {a.name: getattr(self, a.name) for a in attrs.fields(MunicipalityFacts)}
        return MunicipalityView(
            **facts,
            officials=tuple(officials),
            reports_received=self.reports_received,
            costs=tuple(sorted(costs, key=lambda entry: entry.on)),
            costs_province=self.costs_province,
            costs_municipality=self.costs_municipality,
            as_of=as_of,
            known_at=known_at,
        )


def record_of(m: Municipality) -> MunicipalityRecord:
    """The record of a folded Municipality aggregate."""
    evaluation_open = m.stage is Stage.CONNECTED and m.evaluation_due is not None
    if evaluation_open and m.term_evaluation is not None:
        evaluation_open = m.term_evaluation[1] is not Outcome.CONTINUE
    return MunicipalityRecord(
        code=m.code,
        name=m.name,
        stage=m.stage,
        registry=m.registry,
        population=m.population,
        valid_from=m.valid_from,
        valid_until=m.valid_until,
        offer_reference=m.offer_reference,
        invited_on=m.invited_on,
        answered_on=m.answered_on,
        accepted_on=m.accepted_on,
        declined_on=m.declined_on,
        prior_connected_on=m.prior_connected_on,
        prior_costs=m.prior_costs,
        connected_on=m.connected_on,
        connection_kind=m.connection_kind,
        term_start=m.term_start,
        evaluation_due=m.evaluation_due,
        evaluation_open=evaluation_open,
        evaluations=m.evaluations,
        last_outcome=None if m.last_outcome is None else m.last_outcome.value,
        renewals=tuple(m.renewals),
        terminated_on=m.terminated_on,
        merged_on=m.merged_on,
        successor=m.successor,
        predecessors=tuple(m.predecessors),
        officials=tuple(
            OfficialRecord(
                id=o.id,
                sealed=o.sealed,
                nominated_on=o.nominated_on,
                active=o.active,
                erased=o.erased,
                session_id=o.session_id,
                session_date=o.session_date,
                attended=o.attended,
            )
            for o in m.officials.values()
        ),
        reports_received=m.reports_received,
        costs_province=m.costs_for(Payer.PROVINCE.value),
        costs_municipality=m.costs_for(Payer.MUNICIPALITY.value),
    )


@attrs.frozen
class LedgerLine:
    """One cost: when, for whom, who pays whom how much, why, and the event that charged it."""

    position: int  # the notification position of the event that charged it
    index: int  # its place among that event's costs (0 for every event today)
    on: date
    code: str
    kind: CostKind
    amount: Money
    payer: Payer
    payee: str
    calculator: str
    calculator_version: str
    tariff_id: str

    @classmethod
    def of(cls, position: int, index: int, on: date, code: str, line: CostLine) -> LedgerLine:
        return cls(
            position=position,
            index=index,
            on=on,
            code=code,
            kind=line.kind,
            amount=line.amount,
            payer=line.payer,
            payee=line.payee,
            calculator=line.calculator,
            calculator_version=line.calculator_version,
            tariff_id=line.tariff_id,
        )

    @property
    def line(self) -> CostLine:
        return CostLine(
            kind=self.kind,
            amount=self.amount,
            payer=self.payer,
            payee=self.payee,
            calculator=self.calculator,
            calculator_version=self.calculator_version,
            tariff_id=self.tariff_id,
        )

    def row(self) -> tuple[Any, ...]:
        return (
            self.position,
            self.index,
            self.on.isoformat(),
            self.code,
            self.kind.value,
            str(self.amount.amount),
            self.payer.value,
            self.payee,
            self.calculator,
            self.calculator_version,
            self.tariff_id,
        )

    @classmethod
    def from_row(cls, row: Any) -> LedgerLine:
        return cls(
            position=int(row["position"]),
            index=int(row["idx"]),
            on=date.fromisoformat(row["on_date"]),
            code=row["code"],
            kind=CostKind(row["kind"]),
            amount=Money(row["amount"]),
            payer=Payer(row["payer"]),
            payee=row["payee"],
            calculator=row["calculator"],
            calculator_version=row["calculator_version"],
            tariff_id=row["tariff_id"],
        )


LEDGER_COLUMNS = (
    "position",
    "idx",
    "on_date",
    "code",
    "kind",
    "amount",
    "payer",
    "payee",
    "calculator",
    "calculator_version",
    "tariff_id",
)


@attrs.frozen
class SessionRecord:
    """A training session as the roster shows it: time, place, seats and who holds them."""

    session_id: str
    starts_at: datetime
    ends_at: datetime
    location: str
    capacity: int
    online: bool
    booked: tuple[str, ...]  # official ids holding a seat
    # Its schedule retracted: it was never scheduled (kept as a row, never shown).
    retracted: bool = False

    @property
    def seats_left(self) -> int:
        return self.capacity - len(self.booked)

    def to_json(self) -> str:
        return _dumps(self)

    @classmethod
    def from_json(cls, text: str) -> SessionRecord:
        return _loads(cls, text)


def session_record_of(s: TrainingSession) -> SessionRecord:
    assert s.slot is not None
    return SessionRecord(
        session_id=s.session_id,
        starts_at=s.slot.starts_at,
        ends_at=s.slot.ends_at,
        location=s.slot.location,
        capacity=s.slot.capacity,
        online=s.online,
        booked=tuple(s.booked),
        retracted=s.retracted,
    )


@attrs.frozen
class RosterLine:
    """One official's place in the training roster (no personal data: the id only)."""

    official_id: str
    code: str
    active: bool
    session_id: str | None
    session_date: date | None
    attended: bool | None


def roster_of(record: MunicipalityRecord) -> list[RosterLine]:
    return [
        RosterLine(
            official_id=o.id,
            code=record.code,
            active=o.active,
            session_id=o.session_id,
            session_date=o.session_date,
            attended=o.attended,
        )
        for o in record.officials
    ]


# -- the records as JSON: written by ``mma_core.domain.jsonable``, read back by their field types
# ------

T = TypeVar("T")


def _dumps(record: Any) -> str:
    return json.dumps(fields_of(record), separators=(",", ":"), sort_keys=True)


def _loads(cls: type[T], text: str) -> T:
    kind: Any = cls
    record: T = _reader(kind)(json.loads(text))
    return record


@functools.cache
def _reader(kind: Any) -> Callable[[Any], Any]:
    """What reads a value of type ``kind`` back from the JSON ``jsonable`` made of it."""
    if kind is Money or (isinstance(kind, type) and issubclass(kind, Enum)):
        return kind  # made from its JSON form, a string
    if attrs.has(kind):
        hints = typing.get_type_hints(kind)
        fields = [(a.name, _reader(hints[a.name])) for a in attrs.fields(kind)]
        # A field added since a row was written is left to its default (a required one
        # still fails).
        return lambda d: kind(**{name: read(d[name]) for name, read in fields if name in d})
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is types.UnionType or origin is typing.Union:
        read = _reader(next(a for a in args if a is not type(None)))
        return lambda v: None if v is None else read(v)
    if origin is tuple:
        item = _reader(args[0])
        return lambda v: tuple(item(x) for x in v)
    if kind is date or kind is datetime:
        return kind.fromisoformat
    if kind in (str, int, bool):
        return lambda v: v
    raise TypeError(f"no reader of {kind!r} from JSON")
