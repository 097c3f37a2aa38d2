"""As-of replay on both time axes, and the views built from the folded state.

``as_of`` is a business date: events whose fact took effect later are left out. ``known_at`` is a
recorded time: events the store recorded later are left out. The fold calls each event's
``apply`` directly (``mutate`` insists on consecutive versions), which is sound because apply
methods hold no rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any

from mma_core.domain.common import Recorded
from mma_core.domain.municipality import Municipality
from mma_core.domain.values import Money, Official, OfficialId, Outcome, Payer, Stage
from mma_core.jsonable import jsonable
from mma_core.views.records import record_of
from mma_core.views.state import (
    CostEntry,
    Deadline,
    MunicipalityView,
    Overview,
)

ANSWER_REMINDER_DAYS = 21
Reveal = Callable[[OfficialId, str], Official | None]


def visible(event: Any, as_of: date | None) -> bool:
    """Whether the event's fact had taken effect by ``as_of`` (a registration always counts)."""
    if as_of is None or isinstance(event, Municipality.Registered):
        return True
    day = event.business_date if isinstance(event, Recorded) else None
    return day is None or day <= as_of


def fold(
    events: Iterable[Any],
    as_of: date | None,
    known_at: datetime | None,
    aggregate: Any | None = None,
) -> Any | None:
    """The aggregate as it stood, or ``None`` if the store knew nothing of it by then.

    ``known_at`` cuts the events at the first one recorded later: the store learnt the rest
    after it, whatever their clocks say (a clock set back must not let a later event appear
    before the one that created the aggregate). ``aggregate`` continues a fold from a state
    snapshot.
    """
    for event in events:
        if known_at is not None and event.timestamp > known_at:
            break
        if not visible(event, as_of):
            continue
        if aggregate is None:
            aggregate = event.mutate(None)
        else:
            event.apply(aggregate)
    return aggregate


def charged(
    events: Iterable[Any], as_of: date | None, known_at: datetime | None
) -> Iterator[CostEntry]:
    """The cost lines of the events ``fold`` would apply, in the order it would apply them."""
    for event in events:
        if known_at is not None and event.timestamp > known_at:
            break
        if isinstance(event, Municipality.Event) and visible(event, as_of):
            for on, line in event.charges():
                yield CostEntry(on, line)


def municipality_view(
    m: Municipality,
    reveal: Reveal,
    as_of: date | None,
    known_at: datetime | None,
    costs: Iterable[CostEntry] = (),
) -> MunicipalityView:
    """The public view of a folded aggregate: the same record the read models keep; ``costs``
    are its cost lines (the aggregate keeps only their totals)."""
    return record_of(m).view(reveal, as_of, known_at, costs)


def deadlines_of(m: Municipality, day: date) -> list[Deadline]:
    found = []
    if m.stage is Stage.INVITED and m.invited_on is not None:
        due = m.invited_on + timedelta(days=ANSWER_REMINDER_DAYS)
        found.append(Deadline(m.code, m.name, "answer", due, due < day))
    if m.stage is Stage.CONNECTED and m.evaluation_due is not None:
        evaluated_continue = (
            m.term_evaluation is not None and m.term_evaluation[1] is Outcome.CONTINUE
        )
        if m.term_evaluation is None or not evaluated_continue:
            due = m.evaluation_due
            found.append(Deadline(m.code, m.name, "evaluation", due, due < day))
    return found


def overview_of(
    aggregates: Sequence[Municipality],
    reveal: Reveal,
    day: date,
    known_at: datetime | None,
) -> Overview:
    existing = [m for m in aggregates if m.exists_on(day)]
    by_stage = {stage.value: 0 for stage in Stage}
    costs = {payer.value: Money.zero() for payer in Payer}
    deadlines: list[Deadline] = []
    for m in existing:
        by_stage[m.stage.value] += 1
        deadlines.extend(deadlines_of(m, day))
    # Costs count every municipality ever in the programme, merged ones included: money paid
    # before a merger stays paid.
    for m in aggregates:
        for payer in costs:
            costs[payer] = costs[payer] + m.costs_for(payer)
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
        deadlines=tuple(sorted(deadlines, key=lambda d: (d.due_on, d.code, d.kind))),
        municipalities=tuple(municipality_view(m, reveal, day, known_at) for m in existing),
    )


def event_data(event: Any) -> dict[str, Any]:
    """An event's own fields as plain JSON-ready values (no bookkeeping fields)."""
    skip = {"originator_id", "originator_version", "originator_topic", "timestamp", "by", "origin"}
    return {k: jsonable(v) for k, v in vars(event).items() if k not in skip}
