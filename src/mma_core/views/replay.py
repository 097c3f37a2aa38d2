"""As-of replay on both time axes, and the views built from the folded state.

``as_of`` is a business date: events whose fact took effect later are left out. ``known_at`` is a
recorded time: events the store recorded later are left out. The fold calls each event's
``apply`` directly (``mutate`` insists on consecutive versions), which is sound because apply
methods hold no rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any

from mma_core.domain.common import Recorded
from mma_core.domain.jsonable import jsonable
from mma_core.domain.municipality import Municipality
from mma_core.views.records import Reveal, record_of
from mma_core.views.state import (
    CostEntry,
    MunicipalityView,
)


def business_day(event: Any) -> date | None:
    """The day the event's fact took effect, as an as-of fold reads it (``None``: it counts
    whatever the day; a registration always counts)."""
    if isinstance(event, Municipality.Registered) or not isinstance(event, Recorded):
        return None
    day: date | None = event.business_date
    return day


def visible(event: Any, as_of: date | None) -> bool:
    """Whether the event's fact had taken effect by ``as_of`` (a registration always counts)."""
    if as_of is None:
        return True
    day = business_day(event)
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


def event_data(event: Any) -> dict[str, Any]:
    """An event's own fields as plain JSON-ready values (no bookkeeping fields)."""
    skip = {"originator_id", "originator_version", "originator_topic", "timestamp", "by", "origin"}
    return {k: jsonable(v) for k, v in vars(event).items() if k not in skip}
