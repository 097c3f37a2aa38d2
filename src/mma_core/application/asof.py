"""The programme as it stood: as-of folds started from stored snapshots, the snapshots
themselves, and each municipality's cost lines as of a business date and/or a time the store
knew them.

A :class:`~mma_core.application.snapshots.MunicipalitySnapshot` is stored every ``SNAPSHOT_EVERY``
events of a municipality (after the save, and caught up on first use for a store written before
them), so an as-of fold reads at most that many events after its snapshot. The cost lines are
streamed from the events once and kept in memory (``Charges``, an LRU of ``SNAPSHOT_AGGREGATES``
aggregates), extended by the events recorded since.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from array import array
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import attrs
from eventsourcing.application import Application
from eventsourcing.persistence import RecordConflictError

from mma_core.application.snapshots import SNAPSHOT_INTERVAL, MunicipalitySnapshot
from mma_core.domain.common import Recorded
from mma_core.domain.municipality import Municipality
from mma_core.views.asof_index import MISSING, IndexState, fold_from, fold_known
from mma_core.views.replay import business_day
from mma_core.views.replay import fold as fold_events
from mma_core.views.state import CostEntry

__all__ = ["MISSING", "AsOf", "Charges"]

SNAPSHOT_EVERY = SNAPSHOT_INTERVAL  # events between a municipality's stored snapshots
SNAPSHOT_AGGREGATES = 64  # aggregates whose cost lines are kept in memory (LRU)
logger = logging.getLogger(__name__)


class AsOf:
    """The as-of machinery of one application (a ``Programme``): its events, its snapshot
    store and its recorder, read once the application is constructed."""

    def __init__(self, app: Application[UUID]) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._charges: OrderedDict[UUID, Charges] = OrderedDict()

    def store_crossed(self, processing_event: Any) -> None:
        """Store the snapshots a save's events reached (each ``SNAPSHOT_EVERY``-th version):
        a save of many events of one municipality (record_reports) passes several, and one
        replay from the snapshot before them stores them all."""
        if self.app.snapshots is None:
            return
        crossed: dict[UUID, tuple[int, int]] = {}
        saved: dict[UUID, list[Any]] = {}
        for event in processing_event.events:
            aggregate = processing_event.aggregates.get(event.originator_id)
            version = event.originator_version
            if isinstance(aggregate, Municipality):
                saved.setdefault(event.originator_id, []).append(event)
                if version % SNAPSHOT_EVERY == 0:
                    first, _ = crossed.get(event.originator_id, (version, version))
                    crossed[event.originator_id] = (min(first, version), version)
        for aggregate_id, (first, last) in crossed.items():
            try:
                start = self.stored_snapshot(aggregate_id, first - 1)
                self.store(
                    aggregate_id, last, every=SNAPSHOT_EVERY, start=start, saved=saved[aggregate_id]
                )
            except Exception as error:  # never fail a command whose events are committed
                logger.info("no snapshots of %s: %s", aggregate_id, type(error).__name__)

    def fold(self, aggregate_id: UUID, as_of: date | None, known_at: datetime | None) -> Any:
        """``fold`` of the aggregate's events, started from the latest stored snapshot that
        every event it covers is visible in (see :mod:`mma_core.application.snapshots`)."""
        start = None
        if self.app.snapshots is not None:
            self.catch_up(aggregate_id)
            start = self.stored_snapshot(aggregate_id, None, (as_of, known_at))
        since = 0 if start is None else start.originator_version
        # Read no further than the last event the fold can apply: the events after it are
        # all later than ``as_of`` or cut off by ``known_at`` (a year back in a long history
        # is otherwise thousands of events decoded to be skipped).
        last = self.charges(aggregate_id).last_visible(since, as_of, known_at)
        events = self.app.events.get(aggregate_id, gt=since, lte=last) if last > since else ()
        return fold_events(events, as_of, known_at, None if start is None else start.mutate(None))

    def from_index(
        self,
        aggregate_id: UUID,
        state: IndexState | None,
        as_of: date | None,
        known_at: datetime | None,
    ) -> Any:
        """The fold as of ``as_of`` *or* ``known_at`` started from the as-of index's nearest
        ``state`` (:func:`mma_core.views.asof_index.fold_from`); ``MISSING`` when it cannot
        serve (the caller folds the whole history)."""
        if as_of is None and known_at is not None and self.app.snapshots is not None:
            # A store written within one month has no recorded-time state: the stored
            # snapshots (every SNAPSHOT_EVERY events) serve then, whichever is later.
            self.catch_up(aggregate_id)
            snapshot = self.stored_snapshot(aggregate_id, None, (None, known_at))
            if snapshot is not None and (
                state is None or snapshot.originator_version > state.version
            ):
                return fold_known(
                    snapshot.mutate(None),
                    snapshot.originator_version,
                    aggregate_id,
                    known_at,
                    self.app.events,
                )
        return fold_from(
            state, aggregate_id, as_of, known_at, self.app.events, self.app.mapper.transcoder
        )

    def stored_snapshot(
        self,
        aggregate_id: UUID,
        lte: int | None,
        visible_to: tuple[date | None, datetime | None] | None = None,
    ) -> MunicipalitySnapshot | None:
        """The latest usable stored snapshot at or before version ``lte`` (and, given
        ``visible_to`` = (as_of, known_at), one whose events are all visible to that fold)."""
        assert self.app.snapshots is not None
        # The latest one first (it usually serves), then the rest, latest first.
        for limit in (1, None):
            for snapshot in self.app.snapshots.get(aggregate_id, desc=True, lte=lte, limit=limit):
                if not isinstance(snapshot, MunicipalitySnapshot) or not snapshot.usable:
                    continue
                if visible_to is None or snapshot.covers(*visible_to):
                    return snapshot
        return None

    def catch_up(self, aggregate_id: UUID) -> None:
        """Store the snapshots a municipality lacks (a store written before snapshots were
        stored, or ones lost): one each ``SNAPSHOT_EVERY`` events, so an as-of fold reads at
        most that many events after its snapshot."""
        latest = self.stored_snapshot(aggregate_id, None)
        since = 0 if latest is None else latest.originator_version
        ahead = self.app.recorder.select_events(
            aggregate_id, gt=since + SNAPSHOT_EVERY - 1, limit=1
        )
        if ahead:
            # Another process storing them meanwhile is as good.
            with contextlib.suppress(RecordConflictError):
                self.store(aggregate_id, None, every=SNAPSHOT_EVERY, start=latest)

    def store(
        self,
        aggregate_id: UUID,
        version: int | None,
        *,
        every: int | None,
        start: MunicipalitySnapshot | None = None,
        saved: list[Any] | None = None,
    ) -> None:
        """Replay from ``start`` (default: the latest stored snapshot before ``version``) and
        store a snapshot at ``version`` (``every`` None) or at each multiple of ``every``.
        ``saved`` are the aggregate's events a save just recorded, in order: they are replayed
        as they are, and only the events before them are read (a bulk import's thousands
        would otherwise be read back and decoded)."""
        assert self.app.snapshots is not None
        if start is None and every is None:
            start = self.stored_snapshot(aggregate_id, None if version is None else version - 1)
        m: Any = None if start is None else start.mutate(None)
        recorded_until = None if start is None else start.recorded_until
        business_until = None if start is None else start.business_until
        since = None if start is None else start.originator_version
        taken = []
        event: Any
        for event in self._events(aggregate_id, since, version, saved or []):
            m = event.mutate(m)
            recorded_until = later(recorded_until, event.timestamp)
            if isinstance(event, Recorded) and not isinstance(event, Municipality.Registered):
                business_until = later(business_until, event.business_date)
            if every is not None and event.originator_version % every == 0:
                taken.append(MunicipalitySnapshot.of(m, recorded_until, business_until))
        if not isinstance(m, Municipality) or recorded_until is None:
            return
        if every is None and (version is None or m.version == version):
            taken.append(MunicipalitySnapshot.of(m, recorded_until, business_until))
        if taken:
            self.app.snapshots.put(taken)

    def _events(
        self, aggregate_id: UUID, since: int | None, version: int | None, saved: list[Any]
    ) -> Iterator[Any]:
        """The aggregate's events after ``since`` up to ``version``: read from the store up
        to the first of ``saved``, then ``saved`` themselves."""
        after = since or 0
        if not saved or (version is not None and saved[0].originator_version > version):
            yield from self.app.events.get(aggregate_id, gt=since, lte=version)
            return
        first = saved[0].originator_version
        if first > after + 1:
            yield from self.app.events.get(aggregate_id, gt=since, lte=first - 1)
        for event in saved:
            if event.originator_version > after and (
                version is None or event.originator_version <= version
            ):
                yield event

    def costs(
        self, aggregate_id: UUID, as_of: date | None, known_at: datetime | None
    ) -> tuple[CostEntry, ...]:
        """The cost lines an as-of fold of the aggregate sees, from its charges as streamed
        from the events (kept in memory and extended by the events recorded since)."""
        return self.charges(aggregate_id).visible(as_of, known_at)

    def charges(self, aggregate_id: UUID) -> Charges:
        """The aggregate's charges and the dates of its events, streamed once and kept in
        memory (LRU), extended by the events recorded since."""
        with self._lock:
            charges = self._charges.get(aggregate_id) or Charges()
        new = []
        days = array("i")
        until = array("q")
        version, recorded_until = charges.version, charges.recorded_until
        event: Any
        for event in self.app.events.get(aggregate_id, gt=charges.version):
            version = event.originator_version
            recorded_until = later(recorded_until, event.timestamp)
            day = business_day(event)
            days.append(0 if day is None else day.toordinal())
            until.append(micros(recorded_until))
            if isinstance(event, Municipality.Event):
                for on, line in event.charges():
                    new.append((recorded_until, day, CostEntry(on, line)))
        if version != charges.version:
            charges = Charges(
                version,
                recorded_until,
                charges.entries + tuple(new),
                charges.days + days,
                charges.until + until,
            )
        with self._lock:
            current = self._charges.get(aggregate_id)
            if current is None or current.version <= charges.version:
                self._charges[aggregate_id] = charges
            self._charges.move_to_end(aggregate_id)
            while len(self._charges) > SNAPSHOT_AGGREGATES:
                self._charges.popitem(last=False)
        return charges


@attrs.frozen
class Charges:
    """An aggregate's cost lines up to ``version``, each with the latest recorded time among
    the events up to the one that charged it, and that event's business date; and per event
    (``version - 1`` indexes them) its business date and that latest recorded time.

    A fold with ``known_at`` stops at the first event recorded later, so it applies a charge
    exactly when that latest time is not after ``known_at``; with ``as_of`` it skips the
    charging event when its business date lies after ``as_of`` (``views.replay.visible``).
    """

    version: int = 0
    recorded_until: datetime | None = None
    entries: tuple[tuple[datetime, date | None, CostEntry], ...] = ()
    days: array[int] = attrs.field(factory=lambda: array("i"))  # ordinal; 0: always visible
    until: array[int] = attrs.field(factory=lambda: array("q"))  # microseconds since 1970

    def visible(self, as_of: date | None, known_at: datetime | None) -> tuple[CostEntry, ...]:
        return tuple(
            entry
            for recorded, day, entry in self.entries
            if (known_at is None or recorded <= known_at)
            and (as_of is None or day is None or day <= as_of)
        )

    def last_visible(self, since: int, as_of: date | None, known_at: datetime | None) -> int:
        """The last version after ``since`` that a fold as of ``as_of``/``known_at`` applies
        (``since`` if none): the fold stops at the first event recorded after ``known_at``,
        and skips those dated after ``as_of``."""
        last = self.version
        if known_at is not None:
            # ``until`` never decreases: the events up to the cut were recorded by known_at.
            last = min(last, bisect_right(self.until, micros(known_at)))
        if as_of is not None:
            limit, days = as_of.toordinal(), self.days
            while last > since and days[last - 1] > limit:
                last -= 1
        return max(last, since)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(moment: datetime) -> int:
    """A recorded time as whole microseconds since 1970 (exact, unlike a float)."""
    return (moment - EPOCH) // timedelta(microseconds=1)


def later(current: Any, value: Any) -> Any:
    if value is None:
        return current
    return value if current is None or value > current else current
