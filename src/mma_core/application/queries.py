"""The queries: where things stand, as of a business date or as the store knew them at a
time, read from the read models or folded from the log; the history; following the log."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

from eventsourcing.utils import get_topic

from mma_core.application import receipts
from mma_core.application.commanding import Commanding
from mma_core.application.events import EventRecord
from mma_core.application.follow import follow, last_position, wait_for
from mma_core.application.health import Health, health
from mma_core.application.receipts import Receipt
from mma_core.domain.common import as_date
from mma_core.domain.errors import (
    InvalidInput,
    UnknownMunicipality,
)
from mma_core.domain.municipality import Municipality, municipality_id
from mma_core.domain.offer import Offer, check_offer_reference
from mma_core.domain.training import TrainingSession
from mma_core.domain.values import (
    MunicipalityCode,
    OfficialId,
    Terms,
)
from mma_core.language.i18n import _ as _t
from mma_core.language.i18n import message_date
from mma_core.storage.cipher import StoreCipherError
from mma_core.storage.errors import guarded, translated
from mma_core.views.models import overview_from_records, records_and_costs
from mma_core.views.replay import event_data, municipality_view
from mma_core.views.state import (
    EvaluationView,
    HistoryEntry,
    MunicipalityView,
    OfferView,
    Overview,
    SessionView,
)


class Queries(Commanding):
    """What a service asks the programme. Queries return frozen plain values."""

    def receipt(self, request_id: str) -> Receipt | None:
        """The answer a command gave to ``request_id``, or ``None`` if none did (yet)."""
        with translated(self.store_label, self.store_secrets):
            return receipts.receipt_view(self, request_id)

    def _as_of(self, code: str, as_of: date | None, known_at: datetime | None) -> Municipality:
        parsed = MunicipalityCode.parse(code)
        if as_of is None and known_at is None:
            return self.uow.municipality(parsed)
        m = self._asof.fold(municipality_id(parsed), as_of, _utc(known_at))
        if m is None:
            raise UnknownMunicipality(
                (
                    _t(
                        "{code}: the store knew no such municipality; register its registry "
                        "first (on the command line: 'mma init')"
                    )
                    if known_at is None
                    else _t(
                        "{code}: the store knew no such municipality at {when}; register its "
                        "registry first (on the command line: 'mma init')"
                    )
                ).format(code=parsed, when=known_at and known_at.isoformat())
            )
        return m  # type: ignore[no-any-return]

    @guarded
    def municipality(
        self, code: str, *, as_of: date | None = None, known_at: datetime | None = None
    ) -> MunicipalityView:
        """The municipality as of a business date and/or as the store knew it at a time."""
        if as_of is not None:
            as_of = as_date(as_of, "as_of", str(code))
        m = self._as_of(code, as_of, known_at)
        if as_of is not None and not m.exists_on(as_of):
            raise UnknownMunicipality(
                _t("{label}: did not exist on {day} (valid {start} to {end})").format(
                    label=m.label,
                    day=message_date(as_of),
                    start=message_date(m.valid_from) if m.valid_from else _t("before 2019"),
                    end=message_date(ended)
                    if (ended := m.merged_on or m.valid_until)
                    else _t("now"),
                )
            )
        if as_of is None and known_at is None:
            try:
                costs = self.views.costs(m.code)
            except StoreCipherError:
                # A damaged row of another aggregate stops the views' catch-up; this
                # municipality's own events still answer, as they did before the ledger moved.
                costs = self._asof.costs(m.id, None, None)
        else:
            costs = self._asof.costs(m.id, as_of, _utc(known_at))
        return municipality_view(m, self.reveal, as_of, _utc(known_at), costs)

    @guarded
    def codes(self) -> list[str]:
        """Every registered municipality code, in registration order."""
        return [m.code for m in self.events_of_type(Municipality.Registered)]

    @guarded
    def overview(
        self,
        *,
        as_of: date | None = None,
        known_at: datetime | None = None,
        cost_lines: bool = True,
    ) -> Overview:
        """Totals over the municipalities that exist on ``as_of`` (default: today).

        Without ``as_of`` and ``known_at`` it reads the read models, caught up first; otherwise
        it replays. ``cost_lines=False`` leaves each municipality's cost lines out (their totals
        stay), which keeps a large programme's status fast.
        """
        if as_of is None and known_at is None:
            day = self.today()
            self.views.catch_up()
            if self.views.current_on(day):
                return self.views.overview(day, cost_lines=cost_lines)
        day = as_date(as_of, "as_of", "overview") if as_of is not None else self.today()
        aggregates = []
        for registered in self.events_of_type(Municipality.Registered):
            m = self._asof.fold(registered.originator_id, day, _utc(known_at))
            if m is not None:
                aggregates.append(m)
        records, costs = records_and_costs(
            aggregates,
            lambda m: self._asof.costs(m.id, day, _utc(known_at)) if cost_lines else (),
        )
        costs_of = costs.__getitem__ if cost_lines else None
        return overview_from_records(records, self.reveal, day, _utc(known_at), costs_of)

    @guarded
    def sessions(self) -> list[SessionView]:
        views = []
        for scheduled in self.events_of_type(TrainingSession.Scheduled):
            s: TrainingSession = self.repository.get(scheduled.originator_id)
            assert s.slot is not None
            views.append(
                SessionView(
                    session_id=s.session_id,
                    starts_at=s.slot.starts_at,
                    ends_at=s.slot.ends_at,
                    location=s.slot.location,
                    capacity=s.slot.capacity,
                    booked=tuple(s.booked),
                )
            )
        return sorted(views, key=lambda v: v.starts_at)

    @guarded
    def offer(self, reference: str) -> OfferView:
        """The offer, its terms and their history, and the covenant if it was signed."""
        o = self.uow.offer(check_offer_reference(reference))
        covenant = getattr(o, "covenant", None)
        return OfferView(
            reference=o.reference,
            sent_on=o.sent_on,
            terms=tuple(o.terms_history),
            covenant_on=covenant[0] if covenant else None,
            covenant_place=covenant[1] if covenant else "",
        )

    @guarded
    def offers(self) -> list[OfferView]:
        """Every offer made, in the order they were made."""
        topic = get_topic(Offer.Made)
        found: list[OfferView] = []
        start = 1
        while True:
            batch = self.recorder.select_notifications(start, 500, topics=[topic])
            for notification in batch:
                made = self.mapper.to_domain_event(notification)
                found.append(self.offer(made.reference))  # type: ignore[attr-defined]
            if len(batch) < 500:
                return found
            start = batch[-1].id + 1

    @guarded
    def offer_terms(self, reference: str, *, on: date) -> Terms:
        return self.uow.offer(check_offer_reference(reference)).terms_on(on)

    @guarded
    def evaluations(self, code: str) -> list[EvaluationView]:
        """Every evaluation of the municipality, oldest first."""
        return [
            EvaluationView(
                on=event.on,
                outcome=event.outcome,
                recovered=event.recovered,
                notes=event.notes,
                reports=getattr(event, "reports", None),
                useful=getattr(event, "useful", None),
                followed_up=getattr(event, "followed_up", None),
                satisfaction=getattr(event, "satisfaction", None),
                reasons=getattr(event, "reasons", ""),
            )
            for event in self.aggregate_events(self.uow.municipality(code).id)
            if isinstance(event, Municipality.Evaluated)
        ]

    @guarded
    def history(
        self,
        code: str,
        *,
        after: int | None = None,
        limit: int | None = None,
        latest: bool = False,
    ) -> list[HistoryEntry]:
        """The municipality's events in the order the store recorded them: those at positions
        after ``after``, at most ``limit`` of them (the first ones, or with ``latest`` the last
        ones). Only the events of the page are read, so a page costs the same however long
        the history."""
        parsed = MunicipalityCode.parse(code)
        if limit is not None and (not isinstance(limit, int) or limit < 0):
            raise InvalidInput(
                _t("{code}: limit is a whole number of events, 0 or more").format(code=parsed)
            )
        if after is not None and not isinstance(after, int):
            raise InvalidInput(
                _t("{code}: after is a position, a whole number").format(code=parsed)
            )
        aggregate_id = municipality_id(parsed)
        if not self.uow.exists(aggregate_id):
            self.uow.municipality(parsed)  # raises UnknownMunicipality
        if limit == 0:
            return []
        page = self.keys.select_page(aggregate_id, after, limit, latest)
        if not page:
            return []
        wanted = dict(page)
        low, high = min(wanted), max(wanted)
        entries = []
        event: Any
        for event in self.events.get(aggregate_id, gt=low - 1, lte=high):
            if event.originator_version not in wanted:
                continue
            data = event_data(event)
            if isinstance(event, Municipality.OfficialNominated):
                person = self.reveal(OfficialId(event.official_id), event.personal_data)
                data["personal_data"] = (
                    "[erased]" if person is None else {"name": person.name, "email": person.email}
                )
            entries.append(
                HistoryEntry(
                    position=wanted[event.originator_version],
                    version=event.originator_version,
                    recorded_at=event.timestamp,
                    date=event.business_date,
                    type=type(event).__name__,
                    by=event.by,
                    origin=event.origin,
                    data=data,
                )
            )
        return sorted(entries, key=lambda e: e.position)

    def follow(
        self, after: int = 0, *, limit: int | None = None, wait: float | None = None
    ) -> Iterator[EventRecord]:
        """The events after position ``after``, in the store's order, as exporters see them.

        Each :class:`~mma_core.application.events.EventRecord` carries its ``position``: save
        the last one handled and resume with ``follow(after=saved)`` to miss nothing and see
        nothing twice (also across a writer's crash and rolled-back transactions; see
        :mod:`mma_core.application.follow`). ``limit`` stops after that many events. Without
        ``wait`` the iterator ends once caught up; with ``wait`` it waits up to that many
        seconds for each new event once caught up (PostgreSQL: LISTEN/NOTIFY; SQLite: polling,
        a new event shows within 0.2 s).
        """
        return follow(self, after, limit, wait)

    def last_position(self) -> int:
        """The latest position in the store (0 when empty)."""
        return last_position(self)

    def wait_for(self, position: int, *, timeout: float = 10.0) -> None:
        """Return once the read models include ``position`` (e.g. a receipt's
        ``last_position``), so that queries read this writer's writes; ``TimeoutError`` if
        they do not within ``timeout`` seconds."""
        wait_for(self, position, timeout)

    def health(self) -> Health:
        """Store reachability, schema version, view lag and outbox backlog. Never raises."""
        return health(self)

    @guarded
    def event_count(self) -> int:
        """How many events the store holds. Not the highest position: PostgreSQL's sequence
        skips the numbers of transactions that rolled back."""
        return self.keys.count_events()


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise InvalidInput(_t("known_at must be a date and time"))
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
