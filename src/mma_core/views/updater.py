"""The view updater: follows the notification log and keeps the read models current.

It reads notifications after the tracked position in batches, folds each Municipality and
TrainingSession event into the aggregate it belongs to (kept in memory between batches; loaded
from the event store at the version before the event when first met after a restart), and
writes the changed rows with the new position in one transaction (see ``store.py``). Other
aggregates' events (offers, report claims) are skipped by topic, without decoding them.

Why not eventsourcing's ``ProcessApplication``/``System``: a process application records new
events with its tracking record, while these views are rows in tables of their own; and its
``ProjectionRunner`` needs ``subscribe()``, which the SQLite recorder lacks. The tracking idea is
the same: the position is committed with the rows it produced.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from mma_core.domain.municipality import Municipality
from mma_core.domain.offer import Offer
from mma_core.domain.training import TrainingSession
from mma_core.views.asof_index import (
    BUSINESS,
    RECORDED,
    IndexState,
    Latest,
    business_states,
    day_of,
    encode_state,
    latest_of,
    month_end,
    month_end_before,
    month_ends,
    point_text,
    recorded_points,
)
from mma_core.views.records import LedgerLine, record_of, session_record_of
from mma_core.views.source import ViewSource
from mma_core.views.store import Batch, Conflict, Tracking, ViewStore

BATCH_SIZE = 2000
Progress = Callable[[int, int], None]  # (position reached, highest position in the log)

_MUNICIPALITY = get_topic(Municipality) + "."
_SESSION = get_topic(TrainingSession) + "."
_OFFER_MADE = get_topic(Offer.Made)


class ViewUpdater:
    def __init__(self, app: ViewSource, store: ViewStore, batch_size: int = BATCH_SIZE) -> None:
        self.app = app
        self.store = store
        self.batch_size = batch_size
        self._aggregates: dict[UUID, Any] = {}
        self._registered: dict[str, int] = {}
        self._latest: dict[UUID, Latest] = {}  # the as-of index's ends, per municipality
        self._at: Tracking | None = None  # the tracking the in-memory aggregates belong to
        self._lock = threading.RLock()  # one run at a time per updater (threads share a Programme)

    def rebuild(self, progress: Progress | None = None) -> int:
        """Empty the views and replay the whole log into them; returns the events applied."""
        with self._lock:
            self.store.reset()
            self._forget()
            return self.catch_up(progress)

    def catch_up(self, progress: Progress | None = None, max_batches: int | None = None) -> int:
        """Apply every event recorded after the tracked position; returns how many."""
        with self._lock:
            return self._catch_up(progress, max_batches)

    def _catch_up(self, progress: Progress | None, max_batches: int | None) -> int:
        applied = 0
        batches = 0
        top = 0
        if progress is not None:
            top = self.app.recorder.max_notification_id() or 0
        tracking = self.store.tracking()
        while max_batches is None or batches < max_batches:
            if tracking != self._at:
                self._forget()
                self._at = tracking
            notifications = self.app.recorder.select_notifications(
                tracking.position + 1, self.batch_size
            )
            if not notifications:
                break
            batch = self._batch(tracking, notifications)
            try:
                self.store.write(batch)
            except Conflict:
                # Another updater got there first: its rows stand, start again from them.
                self._forget()
                tracking = self.store.tracking()
                continue
            except BaseException:
                self._forget()  # the aggregates in memory ran ahead of what was written
                raise
            tracking = self._at = batch.end
            applied += len(notifications)
            batches += 1
            if progress is not None:
                progress(tracking.position, max(top, tracking.position))
            if len(notifications) < self.batch_size:
                break
        return applied

    def _forget(self) -> None:
        self._aggregates.clear()
        self._latest.clear()
        self._at = None

    def _batch(self, start: Tracking, notifications: Any) -> Batch:
        municipalities: dict[str, tuple[int, str]] = {}
        sessions: dict[str, tuple[str, str]] = {}
        ledger: list[LedgerLine] = []
        touched: dict[UUID, int] = {}
        latest = start.latest
        states: dict[tuple[str, str, str], IndexState] = {}
        stale: set[UUID] = set()
        to_domain_event = self.app.mapper.to_domain_event
        offers: list[tuple[str, int]] = []
        for n in notifications:
            topic = n.topic
            if topic == _OFFER_MADE:
                offers.append((to_domain_event(n).reference, int(n.id)))
                continue
            is_municipality = topic.startswith(_MUNICIPALITY)
            if not is_municipality and not topic.startswith(_SESSION):
                continue
            event: Any = to_domain_event(n)
            aggregate = self._aggregate(event)
            if is_municipality:
                self._index(event, aggregate, states, stale)
            aggregate = event.mutate(aggregate)
            self._aggregates[event.originator_id] = aggregate
            if isinstance(event, Municipality.Registered):
                touched[event.originator_id] = n.id
                continue
            touched.setdefault(event.originator_id, 0)
            if is_municipality:
                for index, (on, line) in enumerate(event.charges()):
                    ledger.append(LedgerLine.of(n.id, index, on, aggregate.code, line))
                day: date | None = event.business_date
                if day is not None and (latest is None or day > latest):
                    latest = day
        for aggregate_id, registered in touched.items():
            aggregate = self._aggregates[aggregate_id]
            if isinstance(aggregate, Municipality):
                municipalities[aggregate.code] = (registered, record_of(aggregate).to_json())
            else:
                record = session_record_of(aggregate)
                sessions[record.session_id] = (record.starts_at.isoformat(), record.to_json())
        reset = set()
        for aggregate_id in stale:
            code = self._aggregates[aggregate_id].code
            reset.add(code)
            for key in [k for k in states if k[0] == code and k[1] == BUSINESS]:
                del states[key]
            for state in self._recompute(aggregate_id):
                states[(code, BUSINESS, state.point)] = state
        end = Tracking(int(notifications[-1].id), latest)
        return Batch(
            start,
            end,
            municipalities,
            sessions,
            ledger,
            list(states.values()),
            frozenset(reset),
            offers,
        )

    # -- the as-of index (``views.asof_index``) ------------------------------------------

    def _index(
        self,
        event: Any,
        before: Any,
        index: dict[tuple[str, str, str], IndexState],
        stale: set[UUID],
    ) -> None:
        """The index's states that ``event`` completes, from the municipality ``before`` it;
        a municipality whose business states it changes in the past goes to ``stale``."""
        aggregate_id = event.originator_id
        transcoder = self.app.mapper.transcoder
        if before is None:
            self._latest[aggregate_id] = Latest(None, event.timestamp, None)
            return
        latest = self._latest.get(aggregate_id)
        if latest is None:
            latest = latest_of(self.store.index_last(before.code), before.modified_on)
            self._latest[aggregate_id] = latest
        encoded: str | None = None
        if latest.recorded is not None and event.timestamp > latest.recorded:
            for point in recorded_points(latest.recorded, event.timestamp):
                encoded = encoded or encode_state(transcoder, before)
                text = point_text(point)
                index.setdefault(
                    (before.code, RECORDED, text),
                    IndexState(before.code, RECORDED, text, before.version, encoded),
                )
        if latest.recorded is None or event.timestamp > latest.recorded:
            latest.recorded = event.timestamp
        if aggregate_id in stale:
            return
        day = day_of(event)
        version = event.originator_version
        if latest.day is None and day == 0:
            return  # undated, and nothing dated yet: part of the first state
        if latest.day is not None and day < latest.day:
            stale.add(aggregate_id)  # dated before the latest: the past changes
            return
        if latest.day is None or latest.last is None:
            first = month_end_before(date.fromordinal(day))
        else:
            first = month_end(date.fromordinal(latest.day))
        last = month_end_before(date.fromordinal(day))
        points = list(month_ends(first, last))
        state = latest.last
        if points:
            encoded = encoded or encode_state(transcoder, before)
            for month in points:
                state = IndexState(
                    before.code, BUSINESS, point_text(month), before.version, encoded
                )
                index[(state.code, BUSINESS, state.point)] = state
        assert state is not None
        state = state.with_event(version, day)
        index[(state.code, BUSINESS, state.point)] = state
        latest.last, latest.day = state, day

    def _recompute(self, aggregate_id: UUID) -> list[IndexState]:
        """Every business state of the municipality again, from its events up to the version
        this batch reached (see ``asof_index.business_states``)."""
        aggregate = self._aggregates[aggregate_id]
        events = [
            e
            for e in self.app.aggregate_events(aggregate_id)
            if e.originator_version <= aggregate.version
        ]
        states = business_states(aggregate.code, events, self.app.mapper.transcoder)
        latest = self._latest[aggregate_id]
        latest.last = states[-1] if states else None
        latest.day = max((day_of(e) for e in events), default=None) or None
        return states

    def _aggregate(self, event: Any) -> Any | None:
        """The aggregate as it stood just before ``event``."""
        if event.originator_version == 1:
            return None
        aggregate = self._aggregates.get(event.originator_id)
        if aggregate is None or aggregate.version != event.originator_version - 1:
            aggregate = self.app.repository.get(
                event.originator_id, version=event.originator_version - 1
            )
        return aggregate
