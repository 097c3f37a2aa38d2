"""The read models of a programme: overview, cost ledger, training roster, deadlines, waterbed.

``ReadModels`` sits beside the events (``store.py``) and is kept current by ``ViewUpdater``.
"Now" questions read it after catching up; questions about another day (``as_of``, a ``today``
in the past) replay the log into the same records and are answered by the same code.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from fractions import Fraction
from typing import Any, Protocol

import attrs

from mma_core.domain.municipality import Municipality, municipality_id
from mma_core.domain.training import TrainingSession
from mma_core.domain.values import Money, Payer, Stage
from mma_core.views.asof_index import (
    BUSINESS,
    MISSING,
    RECORDED,
    IndexState,
    fold_from,
    point_text,
)
from mma_core.views.deadlines import DUE_WITHIN, Due, deadlines, due_items
from mma_core.views.records import (
    LedgerLine,
    MunicipalityRecord,
    Reveal,
    RosterLine,
    SessionRecord,
    record_of,
    roster_of,
    session_record_of,
)
from mma_core.views.replay import fold
from mma_core.views.source import ViewSource
from mma_core.views.state import CostEntry, Overview
from mma_core.views.store import Tracking, ViewStore, store_for
from mma_core.views.updater import BATCH_SIZE, Progress, ViewUpdater
from mma_core.views.waterbed import WaterbedEntry, waterbed

CostsOf = Callable[[str], Sequence[CostEntry]]
COST_CACHE_SIZE = 256  # municipalities whose ledger lines stay in memory

_AMENDMENTS = (TrainingSession.ScheduleRetracted, TrainingSession.ScheduleCorrected)


def overview_from_records(
    records: Sequence[MunicipalityRecord],
    reveal: Reveal,
    day: date,
    known_at: datetime | None,
    costs_of: CostsOf | None,
) -> Overview:
    """The overview on ``day`` of these records (registration order); ``costs_of`` gives each
    municipality's cost lines, or ``None`` to leave them out (the totals stay)."""
    existing = [r for r in records if r.exists_on(day)]
    by_stage = {stage.value: 0 for stage in Stage}
    for r in existing:
        by_stage[r.stage.value] += 1
    # Money paid before a merger stays paid: a municipality that no longer exists on the day
    # (merged into another) stays in the list, as merged, with the costs it incurred, and the
    # costs by payer are the sum of the list, existing and merged rows together
    # (docs/events.md, "Costs of merged municipalities").
    gone = [
        r
        for r in records
        if not r.exists_on(day)
        and (r.stage is Stage.MERGED or r.costs_province.amount or r.costs_municipality.amount)
    ]
    costs = {payer.value: Money.zero() for payer in Payer}
    for r in [*existing, *gone]:
        costs[Payer.PROVINCE.value] += r.costs_province
        costs[Payer.MUNICIPALITY.value] += r.costs_municipality
    total = len(existing)
    connected = by_stage[Stage.CONNECTED.value]
    return Overview(
        as_of=day,
        known_at=known_at,
        total=total,
        by_stage=by_stage,
        connected=connected,
        coverage=Fraction(connected, total) if total else Fraction(0),
        costs_by_payer=costs,
        deadlines=tuple(deadlines(existing, day)),
        municipalities=tuple(
            r.view(reveal, day, known_at, () if costs_of is None else costs_of(r.code))
            for r in existing
        ),
        waterbed=waterbed(records, day),
        merged=tuple(
            r.view(reveal, day, known_at, () if costs_of is None else costs_of(r.code))
            for r in gone
        ),
    )


@attrs.frozen
class RosterSession:
    """A session of the roster: its seats, who booked them, who came."""

    session: SessionRecord
    lines: tuple[RosterLine, ...]  # every official ever booked on it

    @property
    def booked(self) -> int:
        return len(self.session.booked)

    @property
    def attended(self) -> int:
        return sum(1 for line in self.lines if line.attended)

    @property
    def missed(self) -> int:
        return sum(1 for line in self.lines if line.attended is False)


class ReadModels:
    """The read models of one programme, in its own store. They read the programme through
    :class:`~mma_core.views.source.ViewSource` (a ``Programme`` is one)."""

    def __init__(self, source: ViewSource, batch_size: int = BATCH_SIZE) -> None:
        self.source = source  # the programme, as far as the views need it
        self.store: ViewStore = store_for(source)
        self.updater = ViewUpdater(source, self.store, batch_size)
        # Each municipality's cost lines as last read, with the chunk and the lines of it
        # they reach: its chunks only grow (a rebuild writes the same chunks again), so a
        # later read fetches the last chunk and the ones after it.
        self._costs: OrderedDict[str, tuple[int, int, tuple[CostEntry, ...]]] = OrderedDict()
        self._costs_lock = threading.Lock()

    # -- keeping them current ------------------------------------------------------------

    def catch_up(self, progress: Progress | None = None) -> int:
        """Apply the events recorded since the last update; returns how many.

        The catch-up a query makes for itself (no ``progress``) does not wait for another
        process that holds an SQLite store's write lock: the query reads the views as they
        are, and a later query (or ``mma views update``) brings them up to date. It does wait
        (up to the lock timeout) when the views lack this programme's own writes, so that a
        query always reads what its programme wrote."""
        if progress is None and self._writer_elsewhere():
            return 0
        return self.updater.catch_up(progress)

    def _writer_elsewhere(self) -> bool:
        """Whether the views lag and another connection holds the SQLite write lock now."""
        env = self.source.env
        path = str(env.get("SQLITE_DBNAME", ""))
        if env.get("PERSISTENCE_MODULE") != "eventsourcing.sqlite" or ":memory:" in path:
            return False
        at = self.store.tracking().position
        if at >= (self.source.recorder.max_notification_id() or 0):
            return False  # nothing to write
        if at < int(getattr(self.source, "own_position", 0) or 0):
            return False  # this programme's own writes: a query reads them, waiting if need be
        probe = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
        except sqlite3.OperationalError:
            return True
        finally:
            probe.close()
        return False

    def rebuild(self, progress: Progress | None = None) -> int:
        """Rebuild every view from the whole log; returns the events applied."""
        with self._costs_lock:
            self._costs.clear()
        return self.updater.rebuild(progress)

    def tracking(self) -> Tracking:
        return self.store.tracking()

    def today(self) -> date:
        """The programme's today (its clock, in Europe/Amsterdam)."""
        return self.source.today()

    def current_on(self, day: date) -> bool:
        """Whether the views (all events) equal the state as of ``day``: no municipality event
        applied so far lies after it. Business dates never lie in the future of their recording,
        so this holds for today unless a clock was moved back."""
        latest = self.store.tracking().latest
        return latest is None or latest <= day

    # -- reading -------------------------------------------------------------------------

    def records(self) -> list[MunicipalityRecord]:
        return self.store.municipalities()

    def codes(self) -> list[str]:
        """Every municipality's code in registration order (as far as the views reach)."""
        return self.store.codes()

    def sessions(self) -> list[SessionRecord]:
        """The sessions scheduled (a retracted schedule never was)."""
        return [s for s in self.store.sessions() if not s.retracted]

    def ledger(self, code: str | None = None) -> list[LedgerLine]:
        return self.store.ledger(code)

    def costs(self, code: str) -> tuple[CostEntry, ...]:
        """The municipality's cost lines in ledger order, the views caught up first."""
        self.catch_up()
        with self._costs_lock:
            chunk, count, entries = self._costs.get(code, (-1, 0, ()))
        added: list[CostEntry] = []
        for found in self.store.cost_chunks(code, first=max(chunk, 0)):
            new = found.entries[count:] if found.chunk == chunk else found.entries
            if found.chunk < chunk or not new:
                continue  # (a rebuild in another process is behind this cache)
            added.extend(new)
            chunk, count = found.chunk, len(found.entries)
        if added:
            entries = entries + tuple(added)
        with self._costs_lock:
            if self._costs.get(code, (-1, 0))[:2] <= (chunk, count):
                self._costs[code] = (chunk, count, entries)
            self._costs.move_to_end(code)
            while len(self._costs) > COST_CACHE_SIZE:
                self._costs.popitem(last=False)
        return entries

    def cost_page(self, code: str, after: int, limit: int) -> tuple[tuple[CostEntry, ...], int]:
        """``limit`` of the municipality's cost lines after the first ``after``, and how many
        it has: reads only the chunks that hold the page (the views caught up first)."""
        self.catch_up()
        sizes = self.store.chunk_sizes(code)
        total = sum(lines for _, lines in sizes)
        first = last = None
        offset = begins = 0
        for chunk, lines in sizes:
            if offset + lines > after and offset < after + limit:
                if first is None:
                    first, begins = chunk, offset
                last = chunk
            offset += lines
        if first is None:
            return (), total
        entries = [
            entry
            for found in self.store.cost_chunks(code, first=first, last=last)
            for entry in found.entries
        ]
        skip = after - begins
        return tuple(entries[skip : skip + limit]), total

    def nearest_states(
        self, as_of: date | None, known_at: datetime | None, code: str | None = None
    ) -> dict[str, IndexState]:
        """The as-of index's states nearest ``as_of`` or ``known_at`` (one of them), per
        municipality (of ``code``, or all); the views caught up first."""
        self.catch_up()
        if as_of is not None:
            return {s.code: s for s in self.store.index_states(BUSINESS, point_text(as_of), code)}
        assert known_at is not None
        return {s.code: s for s in self.store.index_states(RECORDED, point_text(known_at), code)}

    def overview(self, day: date, *, cost_lines: bool = True) -> Overview:
        costs_of: CostsOf | None = None
        if cost_lines:
            by_code: dict[str, list[CostEntry]] = {}
            for line in self.store.ledger():
                by_code.setdefault(line.code, []).append(CostEntry(line.on, line.line))
            costs_of = lambda code: by_code.get(code, [])  # noqa: E731
        return overview_from_records(self.records(), self.source.reveal, day, None, costs_of)

    def roster(self) -> list[RosterSession]:
        lines: dict[str, list[RosterLine]] = {}
        for record in self.records():
            for line in roster_of(record):
                if line.session_id is not None:
                    lines.setdefault(line.session_id, []).append(line)
        return [RosterSession(s, tuple(lines.get(s.session_id, ()))) for s in self.sessions()]

    # -- as of another day: replayed into the same records -------------------------------

    def records_as_of(self, day: date) -> list[MunicipalityRecord]:
        """Every municipality's record as of ``day``: from its state in the as-of index and
        the few events after it (its whole history only where the index cannot serve)."""
        states = self.nearest_states(day, None)
        transcoder = self.source.mapper.transcoder
        result = []
        for code in self.codes():
            aggregate_id = municipality_id(code)
            m = fold_from(states.get(code), aggregate_id, day, None, self.source.events, transcoder)
            if m is MISSING:
                m = fold(self.source.aggregate_events(aggregate_id), day, None)
            if m is not None:
                result.append(record_of(m))
        return result

    def sessions_as_of(self, day: date) -> list[SessionRecord]:
        result = []
        for scheduled in self.source.events_of_type(TrainingSession.Scheduled):
            # A session is known from its scheduling on, whatever day it was scheduled; its seats
            # as booked and released by ``day``.
            s: Any = None
            for event in self.source.aggregate_events(scheduled.originator_id):
                if s is None:
                    s = event.mutate(None)
                elif (
                    isinstance(event, _AMENDMENTS)
                    or event.business_date is None
                    or event.business_date <= day
                ):
                    # An amended schedule is as if it had been recorded so: on every day.
                    event.apply(s)
            if s is not None and not s.retracted:
                result.append(session_record_of(s))
        return sorted(result, key=lambda s: (s.starts_at, s.session_id))

    def state_on(self, day: date) -> tuple[list[MunicipalityRecord], list[SessionRecord]]:
        """The records and sessions as they stood on ``day``: from the views when they are
        current for it (after catching up), else replayed."""
        self.catch_up()
        if self.current_on(day):
            return self.records(), self.sessions()
        return self.records_as_of(day), self.sessions_as_of(day)

    def due(self, today: date | None = None, within: int = DUE_WITHIN) -> list[Due]:
        """The deadlines due within ``within`` days of ``today`` (default: the programme's
        today), overdue ones included, most urgent first."""
        day = today or self.today()
        records, sessions = self.state_on(day)
        return due_items(records, sessions, day, within)

    def waterbed(self, as_of: date | None = None) -> tuple[WaterbedEntry, ...]:
        day = as_of or self.today()
        records, _ = self.state_on(day)
        return waterbed(records, day)


class WithViews(Protocol):
    """A programme with read models (``Programme`` is one)."""

    @property
    def views(self) -> ReadModels: ...


def due(programme: WithViews, today: date | None = None, within: int = DUE_WITHIN) -> list[Due]:
    """The deadlines list for the delivery outbox and ``mma due``: answers outstanding,
    evaluations due or overdue, municipalities without a trained official, sessions over or
    under capacity. Each :class:`Due` has ``kind``, ``code``, ``name``, ``due_on``,
    ``days_left`` (negative when overdue) and a ``detail`` without personal data."""
    return programme.views.due(today, within)


def records_and_costs(
    aggregates: Iterable[Municipality], costs_of: Callable[[Municipality], Iterable[CostEntry]]
) -> tuple[list[MunicipalityRecord], dict[str, list[CostEntry]]]:
    """Records and cost lines of folded aggregates (the replay side of the overview);
    ``costs_of`` gives an aggregate's cost lines, which it keeps only the totals of."""
    records = []
    costs: dict[str, list[CostEntry]] = {}
    for m in aggregates:
        records.append(record_of(m))
        costs[m.code] = list(costs_of(m))
    return records, costs


__all__ = [
    "FUNNEL",
    "Due",
    "ReadModels",
    "RosterSession",
    "due",
    "funnel",
    "overview_from_records",
    "records_and_costs",
]


FUNNEL = ("registered", "invited", "accepted", "trained", "connected")


def funnel(overview: Overview) -> dict[str, int]:
    """How far the municipalities that exist on the overview's day got: registered → invited →
    accepted → trained (an official attended a training) → connected (at some time up to the
    day). Every step counts how far a municipality *got*, so a later step never counts one that
    an earlier step does not, and stopping since does not take it out of the funnel: the
    overview's ``by_stage`` says who is connected now."""
    ms = overview.municipalities
    return {
        "registered": len(ms),
        "invited": sum(1 for m in ms if m.invited_on is not None or m.connected_on is not None),
        "accepted": sum(1 for m in ms if m.accepted_on is not None or m.connected_on is not None),
        "trained": sum(1 for m in ms if any(o.attended for o in m.officials)),
        "connected": sum(1 for m in ms if m.connected_on is not None),
    }
