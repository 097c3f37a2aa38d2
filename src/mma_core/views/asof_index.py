"""The as-of index: each municipality's state at regular points of both time axes, kept beside
the read models so that an as-of read folds only a short tail of events.

Two axes, as the folds of ``views.replay`` have them:

- **business dates** (``axis="b"``): at each month end M, the municipality as of M, as the
  store knows it now: every event whose business date is on or before M (and the undated
  ones), applied in the order the store recorded them. Each state also keeps ``version``, the
  last such event, and the *bucket*: version and business date of each event dated in the
  month after M. ``as_of=X`` (M ≤ X before the next month end) starts from M's state and
  applies the bucket's events dated up to X, read from the store by version. That is the full
  fold exactly when those events were all recorded after ``version``; if one was recorded
  before (a fact entered out of order), the read folds the whole history instead.
- **recorded times** (``axis="r"``): at the last microsecond of each month (UTC), the
  municipality as the store knew it then: the events up to the first one recorded later.
  ``known_at=T`` starts from the last such point at or before T and reads on from its
  ``version`` until an event recorded after T.

The first business state of a municipality is the month end before its earliest dated event:
as of any earlier day only its undated events count, which is that state.

**Facts entered later about an earlier date.** An event whose business date lies before the
municipality's latest (a report entered late, an undated event, a correction of an earlier
fact) changes what every business state from its date on answers. The updater then derives
all the municipality's business states again from its events (``business_states``), in the
batch that applies the event: what ``as_of`` answers changes at once, and exactly. The
recorded-time states are never rewritten: what the store knew at a time does not change.
"""

from __future__ import annotations

import calendar
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import attrs

from mma_core.domain.municipality import Municipality
from mma_core.views.aggregate_state import municipality_from, state_of
from mma_core.views.replay import business_day, fold

BUSINESS = "b"
RECORDED = "r"
NEVER = 0  # the ordinal of an undated event: it counts as of any day


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def month_end_before(day: date) -> date:
    """The last month end strictly before ``day``."""
    return day.replace(day=1) - timedelta(days=1)


def next_month_end(day: date) -> date:
    return month_end(day + timedelta(days=1))


def month_ends(first: date, last: date) -> Iterable[date]:
    """Every month end from ``first`` (a month end) up to and including ``last``."""
    day = first
    while day <= last:
        yield day
        day = next_month_end(day)


def recorded_point(moment: datetime) -> datetime:
    """The last microsecond of ``moment``'s month, UTC: a recorded-time point."""
    moment = moment.astimezone(UTC)
    end = month_end(moment.date())
    return datetime(end.year, end.month, end.day, 23, 59, 59, 999999, tzinfo=UTC)


def recorded_point_before(moment: datetime) -> datetime:
    """The last recorded-time point strictly before ``moment``."""
    moment = moment.astimezone(UTC)
    first = datetime(moment.year, moment.month, 1, tzinfo=UTC)
    return first - timedelta(microseconds=1)


def recorded_points(first: datetime, before: datetime) -> Iterable[datetime]:
    """The recorded-time points at or after ``first`` and before ``before``."""
    point = recorded_point(first)
    while point < before:
        yield point
        point = recorded_point(point + timedelta(microseconds=1))


def point_text(point: date | datetime) -> str:
    """A point as the index keys it: ISO text that sorts as the points do."""
    if isinstance(point, datetime):
        return point.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
    return point.isoformat()


@attrs.frozen
class IndexState:
    """One state of the index: the municipality ``code`` at ``point`` of ``axis``."""

    code: str
    axis: str
    point: str
    version: int  # the last event the state applied (business axis: the last one dated by then)
    state: str  # the aggregate's fields (``aggregate_state.state_of``), JSON via the transcoder
    bucket: tuple[tuple[int, int], ...] = ()  # business axis: (version, date ordinal)

    def row(self) -> tuple[Any, ...]:
        return (
            self.code,
            self.axis,
            self.point,
            self.version,
            self.state,
            json.dumps([list(item) for item in self.bucket], separators=(",", ":")),
        )

    @classmethod
    def from_row(cls, row: Any) -> IndexState:
        bucket = tuple((int(v), int(d)) for v, d in json.loads(row["bucket"]))
        return cls(
            row["code"], row["axis"], row["point"], int(row["version"]), row["state"], bucket
        )

    def with_event(self, version: int, day: int) -> IndexState:
        return attrs.evolve(self, bucket=(*self.bucket, (version, day)))

    def aggregate(self, transcoder: Any, aggregate_id: Any) -> Municipality | None:
        """The municipality in this state; ``None`` for a state written before the aggregate
        kept its facts (which a correction refolds from): the index cannot serve it."""
        fields = transcoder.decode(self.state.encode())
        if "facts" not in fields:
            return None
        return municipality_from(fields, aggregate_id, self.version)

    def tail(self, as_of: date) -> tuple[int, int] | None:
        """The versions (first, last) of the bucket's events visible as of ``as_of`` —
        (0, 0) when none is — or ``None`` when the state cannot serve: one of them was
        recorded before the state's own last event."""
        limit = as_of.toordinal()
        visible = [version for version, day in self.bucket if day <= limit]
        if not visible:
            return (0, 0)
        if min(visible) <= self.version:
            return None
        return (min(visible), max(visible))


MISSING: Any = object()  # the index cannot answer: fold the whole history
TAIL_PAGE = 100  # events read at a time after a recorded-time state


def fold_from(
    state: IndexState | None,
    aggregate_id: Any,
    as_of: date | None,
    known_at: datetime | None,
    events: Any,
    transcoder: Any,
) -> Any:
    """The fold of the municipality as of ``as_of`` *or* ``known_at`` (one of them), from the
    index's nearest ``state`` and the events after it (``events``: the event store, read with
    ``get(aggregate_id, gt=, lte=, limit=)``); ``MISSING`` when the state cannot serve."""
    if as_of is not None:
        if known_at is not None or state is None:
            return MISSING
        start = state.aggregate(transcoder, aggregate_id)
        if start is None:
            return MISSING
        if state.point > point_text(as_of):
            return start  # before its first dated event
        tail = state.tail(as_of)
        if tail is None:
            return MISSING
        if tail == (0, 0):
            return start
        return fold(events.get(aggregate_id, gt=tail[0] - 1, lte=tail[1]), as_of, None, start)
    if known_at is None:
        return MISSING
    known: Any = None if state is None else state.aggregate(transcoder, aggregate_id)
    if state is not None and known is None:
        return MISSING
    return fold_known(known, 0 if state is None else state.version, aggregate_id, known_at, events)


def fold_known(start: Any, since: int, aggregate_id: Any, known_at: datetime, events: Any) -> Any:
    """Fold on from ``start`` (the municipality at version ``since``, every event of it
    recorded by ``known_at``; ``None`` and 0 for none) a page of events at a time, up to the
    first one recorded after ``known_at``."""
    m: Any = start
    event: Any
    while True:
        page = list(events.get(aggregate_id, gt=since, limit=TAIL_PAGE))
        for event in page:
            if event.timestamp > known_at:
                return m
            if m is None:
                m = event.mutate(None)
            else:
                event.apply(m)
        if len(page) < TAIL_PAGE:
            return m
        since = page[-1].originator_version


def encode_state(transcoder: Any, m: Municipality) -> str:
    text: str = transcoder.encode(state_of(m)).decode()
    return text


def day_of(event: Any) -> int:
    day = business_day(event)
    return NEVER if day is None else day.toordinal()


@attrs.define
class Latest:
    """What the updater keeps of a municipality's index between its events: the latest
    business date and recorded time among its events, and its last business state."""

    day: int | None  # ordinal; None before the first dated event
    recorded: datetime | None
    last: IndexState | None


def latest_of(business: IndexState | None, recorded: datetime | None) -> Latest:
    """``Latest`` from the index as stored: the last business state's bucket holds the
    latest dated event (the state exists because an event dated after it arrived)."""
    day = None
    if business is not None and business.bucket:
        day = max(d for _, d in business.bucket)
    return Latest(day, recorded, business)


def business_states(code: str, events: Sequence[Any], transcoder: Any) -> list[IndexState]:
    """Every business state of a municipality, derived from all its events (oldest first)."""
    days = [day_of(event) for event in events]
    dated = [d for d in days if d != NEVER]
    if not dated:
        return []
    first = month_end_before(date.fromordinal(min(dated)))
    last = month_end_before(date.fromordinal(max(dated)))
    states = []
    for point in month_ends(first, last):
        limit, upper = point.toordinal(), next_month_end(point).toordinal()
        m = fold(events, point, None)
        assert isinstance(m, Municipality)
        version = max(
            event.originator_version
            for event, day in zip(events, days, strict=True)
            if day <= limit
        )
        bucket = tuple(
            (event.originator_version, day)
            for event, day in zip(events, days, strict=True)
            if limit < day <= upper
        )
        states.append(
            IndexState(
                code, BUSINESS, point_text(point), version, encode_state(transcoder, m), bucket
            )
        )
    return states


__all__ = [
    "BUSINESS",
    "MISSING",
    "RECORDED",
    "IndexState",
    "Latest",
    "business_states",
    "fold_from",
    "fold_known",
    "latest_of",
    "month_end_before",
    "point_text",
    "recorded_point_before",
    "recorded_points",
]
