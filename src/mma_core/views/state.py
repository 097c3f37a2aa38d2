"""Frozen, plain views returned by the queries. Safe to hand to any caller: no aggregate inside.

Each has ``to_dict()``: its fields as JSON types (``mma_core.domain.jsonable``), the shape the JSON
Schemas in ``docs/schemas/results/`` describe."""

from __future__ import annotations

from datetime import date, datetime
from fractions import Fraction
from typing import Any

import attrs

from mma_core.domain.jsonable import JSONObject, JSONReady
from mma_core.domain.values import CostLine, Money, Stage


@attrs.frozen
class OfficialView(JSONReady):
    id: str
    name: str  # "[erased]" once the official's key is gone
    email: str
    active: bool
    nominated_on: date
    session_id: str | None
    session_date: date | None
    attended: bool | None
    erased: bool
    salutation: str = ""  # how a letter greets the official; "" the neutral form


@attrs.frozen
class CostEntry(JSONReady):
    on: date
    line: CostLine


@attrs.frozen
class MunicipalityFacts(JSONReady):
    """What a municipality's view and its read-model record (``views.records``) both hold,
    declared once: where it stands in the lifecycle, its validity and its mergers."""

    code: str
    name: str
    stage: Stage
    registry: str
    population: int | None
    valid_from: date | None
    valid_until: date | None
    offer_reference: str | None
    invited_on: date | None
    answered_on: date | None
    accepted_on: date | None
    declined_on: date | None
    prior_connected_on: date | None
    prior_costs: Money | None
    connected_on: date | None
    connection_kind: str | None  # programme, prior, succession
    term_start: date | None
    evaluation_due: date | None
    evaluations: int
    last_outcome: str | None
    renewals: tuple[date, ...]
    terminated_on: date | None
    merged_on: date | None
    successor: str | None
    predecessors: tuple[str, ...]

    def exists_on(self, day: date) -> bool:
        """Whether the municipality existed on ``day``: valid then, and not merged away."""
        if self.valid_from is not None and day < self.valid_from:
            return False
        if self.valid_until is not None and day > self.valid_until:
            return False
        return self.merged_on is None or day < self.merged_on


@attrs.frozen
class MunicipalityView(MunicipalityFacts):
    # A municipality as a query returns it: its facts, its officials (personal data revealed,
    # or "[erased]"), its cost lines and their totals, and the moment it shows. (No docstring:
    # the result schemas in docs/schemas/results/ take their description from it.)

    officials: tuple[OfficialView, ...]
    reports_received: int
    costs: tuple[CostEntry, ...]
    costs_province: Money
    costs_municipality: Money
    as_of: date | None
    known_at: datetime | None

    @property
    def active_officials(self) -> tuple[OfficialView, ...]:
        return tuple(o for o in self.officials if o.active)

    @property
    def trained_officials(self) -> tuple[OfficialView, ...]:
        return tuple(o for o in self.officials if o.attended)


@attrs.frozen
class CostLinesPage(JSONReady):
    # A page of one municipality's cost lines (``Programme.cost_lines``), with its totals.
    # ``after`` is where the page starts (lines before it); ``next`` is the ``after`` of the
    # next page, ``None`` on the last; ``total`` counts all the lines.

    code: str
    as_of: date | None
    known_at: datetime | None
    lines: tuple[CostEntry, ...]
    after: int
    next: int | None
    total: int
    costs_province: Money
    costs_municipality: Money


@attrs.frozen
class Deadline(JSONReady):
    code: str
    name: str
    kind: str  # "answer", "evaluation"
    due_on: date
    overdue: bool


@attrs.frozen
class WaterbedEntry(JSONReady):
    """An unconnected municipality and how many of its neighbours are connected."""

    code: str
    name: str
    stage: str
    neighbours: int
    connected_neighbours: int
    connected: tuple[str, ...]  # the connected neighbours' codes

    @property
    def share(self) -> float:
        return self.connected_neighbours / self.neighbours if self.neighbours else 0.0

    @property
    def surrounded(self) -> bool:
        """Every neighbour is connected: the place crime moves to."""
        return self.neighbours > 0 and self.connected_neighbours == self.neighbours


@attrs.frozen
class Overview(JSONReady):
    as_of: date
    known_at: datetime | None
    total: int
    by_stage: dict[str, int]
    connected: int
    coverage: Fraction
    costs_by_payer: dict[str, Money]
    deadlines: tuple[Deadline, ...]
    municipalities: tuple[MunicipalityView, ...]
    # Unconnected municipalities ranked by their connected neighbours (``views.waterbed``).
    waterbed: tuple[WaterbedEntry, ...] = ()
    # The municipalities that no longer exist on the day (merged into another), each with the
    # costs it incurred: ``costs_by_payer`` is the sum over ``municipalities`` and ``merged``.
    merged: tuple[MunicipalityView, ...] = ()

    @property
    def merged_away(self) -> int:
        """How many municipalities had merged into another by the day: "now merged" (outside
        ``total`` and ``by_stage``, whose "merged" stays 0)."""
        return sum(1 for m in self.merged if m.stage is Stage.MERGED)

    @property
    def coverage_percent(self) -> float:
        return float(self.coverage * 100)


@attrs.frozen
class SessionView(JSONReady):
    session_id: str
    starts_at: datetime
    ends_at: datetime
    location: str
    capacity: int
    booked: tuple[str, ...]

    @property
    def seats_left(self) -> int:
        return self.capacity - len(self.booked)

    def to_dict(self) -> JSONObject:
        return {**super().to_dict(), "seats_left": self.seats_left}


@attrs.frozen
class Amendment(JSONReady):
    """A retraction or correction of a recorded fact: the position it was recorded at (in
    the same history) and the reason it gives."""

    position: int
    reason: str


@attrs.frozen
class HistoryEntry(JSONReady):
    """One stored event as an auditor reads it: the BIO 8.15.01 audit line and the data.

    A fact amended since is marked with what amended it: ``retracted_by`` (it was never
    true) or ``corrected_by`` (its latest correction). A ``FactRetracted`` or ``FactRestated``
    entry names the position of the fact it amends in ``amends``."""

    position: int  # global notification position: the order the store recorded events in
    version: int
    recorded_at: datetime
    date: date | None
    type: str
    by: str
    origin: str
    data: dict[str, Any]
    retracted_by: Amendment | None = None
    corrected_by: Amendment | None = None
    amends: int | None = None


@attrs.frozen
class EvaluationView:
    """One evaluation as recorded: the decision and, when recorded, the structured answers.
    Evaluations recorded before the structured fields existed have ``None`` there."""

    on: date
    outcome: str
    recovered: Money
    notes: str
    reports: int | None
    useful: int | None
    followed_up: int | None
    satisfaction: int | None
    reasons: str


@attrs.frozen
class OfferView:
    """An offer as sent, every change of its terms, and the covenant it is part of."""

    reference: str
    sent_on: date
    terms: tuple[tuple[date, Any], ...]  # (effective from, Terms), oldest first
    covenant_on: date | None
    covenant_place: str
