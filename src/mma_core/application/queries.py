"""The queries: where things stand, as of a business date or as the store knew them at a
time, read from the read models or folded from the log; the history; following the log."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from mma_core.application import receipts
from mma_core.application.asof import MISSING
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
from mma_core.domain.training import (
    SCHEDULE_VERSION,
    TrainingSession,
    check_session_id,
    session_id_to_uuid,
)
from mma_core.domain.values import (
    MunicipalityCode,
    OfficialId,
    Terms,
)
from mma_core.language.i18n import _ as _t
from mma_core.language.i18n import message_date
from mma_core.storage.cipher import StoreCipherError
from mma_core.storage.errors import guarded, translated
from mma_core.views.deadlines import DUE_WITHIN, Due
from mma_core.views.models import overview_from_records, records_and_costs
from mma_core.views.replay import event_data, municipality_view
from mma_core.views.state import (
    Amendment,
    CostEntry,
    CostLinesPage,
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

    def _folded(self, code: str, as_of: date | None, known_at: datetime | None, states: Any) -> Any:
        """The municipality's fold as of ``as_of`` and/or ``known_at``: from the as-of index
        when it serves (``states``: its nearest states, or ``None`` to read them), else the
        whole history's."""
        aggregate_id = municipality_id(MunicipalityCode(code))
        if (as_of is None) != (known_at is None):
            if states is None:
                try:
                    states = self.views.nearest_states(as_of, known_at, code)
                except StoreCipherError:
                    states = None  # a damaged row stops the views: fold the history
            if states is not None:
                m = self._asof.from_index(aggregate_id, states.get(code), as_of, known_at)
                if m is not MISSING:
                    return m
        return self._asof.fold(aggregate_id, as_of, known_at)

    def _as_of(self, code: str, as_of: date | None, known_at: datetime | None) -> Municipality:
        parsed = MunicipalityCode.parse(code)
        if as_of is None and known_at is None:
            return self.uow.municipality(parsed)
        m = self._folded(parsed.value, as_of, _utc(known_at), None)
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
        self,
        code: str,
        *,
        as_of: date | None = None,
        known_at: datetime | None = None,
        cost_lines: bool = False,
    ) -> MunicipalityView:
        """The municipality as of a business date and/or as the store knew it at a time.

        Its cost totals are always there; its cost lines only with ``cost_lines=True`` (they
        grow with its reports: page through them with :meth:`cost_lines` instead)."""
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
        if not cost_lines:
            costs: Sequence[CostEntry] = ()
        elif as_of is None and known_at is None:
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
    def cost_lines(
        self,
        code: str,
        *,
        as_of: date | None = None,
        known_at: datetime | None = None,
        after: int | None = None,
        limit: int = 100,
    ) -> CostLinesPage:
        """A page of the municipality's cost lines, in the order the store charged them
        (position order): the ``limit`` lines after the first ``after`` ones. The page's
        ``next`` is the ``after`` of the next page (``None`` on the last). Without ``as_of``
        and ``known_at`` a page reads only its own lines, however many there are; with
        them, the lines a fold as of then would see."""
        parsed = MunicipalityCode.parse(code)
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 10_000:
            raise InvalidInput(
                _t("{code}: limit is a whole number of cost lines, 1 to 10000").format(code=parsed)
            )
        if after is not None and (
            not isinstance(after, int) or isinstance(after, bool) or after < 0
        ):
            raise InvalidInput(
                _t("{code}: after is a number of cost lines, 0 or more").format(code=parsed)
            )
        start = after or 0
        view = self.municipality(parsed.value, as_of=as_of, known_at=known_at)
        if as_of is None and known_at is None:
            try:
                lines, total = self.views.cost_page(parsed.value, start, limit)
            except StoreCipherError:
                every = self._asof.costs(municipality_id(parsed), None, None)
                lines, total = tuple(every[start : start + limit]), len(every)
        else:
            every = self._asof.costs(municipality_id(parsed), as_of, _utc(known_at))
            lines, total = tuple(every[start : start + limit]), len(every)
        end = start + len(lines)
        return CostLinesPage(
            code=parsed.value,
            as_of=view.as_of,
            known_at=view.known_at,
            lines=lines,
            after=start,
            next=end if end < total else None,
            total=total,
            costs_province=view.costs_province,
            costs_municipality=view.costs_municipality,
        )

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
        cost_lines: bool = False,
    ) -> Overview:
        """Totals over the municipalities that exist on ``as_of`` (default: today).

        Without ``as_of`` and ``known_at`` it reads the read models, caught up first; otherwise
        each municipality's state from the as-of index and the few events after it. Cost
        totals are always there; ``cost_lines=True`` adds every municipality's cost lines
        (which grow with the whole programme: page through one municipality's with
        :meth:`cost_lines` instead).
        """
        if as_of is None and known_at is None:
            day = self.today()
            self.views.catch_up()
            if self.views.current_on(day):
                return self.views.overview(day, cost_lines=cost_lines)
        day = as_date(as_of, "as_of", "overview") if as_of is not None else self.today()
        moment = _utc(known_at)
        fold_day: date | None = day
        try:
            self.views.catch_up()
            if as_of is None and self.views.current_on(day):
                fold_day = None  # nothing dated after today: known_at alone decides
            states: Any = None
            if (fold_day is None) != (moment is None):
                states = self.views.nearest_states(fold_day, moment)
            codes = self.views.codes()
        except StoreCipherError:
            # A damaged row stops the views' catch-up: fold each municipality's history.
            fold_day, states = day, None
            codes = [m.code for m in self.events_of_type(Municipality.Registered)]
        aggregates = []
        for code in codes:
            m = self._folded(code, fold_day, moment, states)
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
        """Every training session with its seats and bookings, earliest first."""
        views = []
        for scheduled in self.events_of_type(TrainingSession.Scheduled):
            s: TrainingSession = self.repository.get(scheduled.originator_id)
            assert s.slot is not None
            if s.retracted:
                continue  # its schedule was never true
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
        """Every offer made, in the order they were made. Their references come from the read
        models, caught up first: no scan of the log."""
        try:
            self.views.catch_up()
            references = self.views.store.offer_references()
        except StoreCipherError:
            # A damaged row of another aggregate stops the views: find the offers in the log.
            references = [made.reference for made in self.events_of_type(Offer.Made)]
        return [self.offer(reference) for reference in references]

    @guarded
    def offer_terms(self, reference: str, *, on: date) -> Terms:
        """The terms of offer ``reference`` in force on ``on``."""
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
        _check_page(str(parsed), after, limit)
        aggregate_id = municipality_id(parsed)
        if not self.uow.exists(aggregate_id):
            self.uow.municipality(parsed)  # raises UnknownMunicipality

        def amended(versions: set[int]) -> set[int]:
            m: Municipality = self.uow.get(aggregate_id)
            return {int(v) for v in getattr(m, "amended", {})} & versions

        return self._history_page(aggregate_id, after, limit, latest, amended)

    @guarded
    def session_history(
        self,
        session_id: str,
        *,
        after: int | None = None,
        limit: int | None = None,
        latest: bool = False,
    ) -> list[HistoryEntry]:
        """The training session's events in the order the store recorded them, paged as
        ``history`` pages a municipality's. Its schedule is marked with what retracted or last
        corrected it; the seats booked and released name officials by id only; the schedule's
        retraction and corrections name the schedule's position in ``amends``."""
        checked = check_session_id(session_id)
        _check_page(_t("session {session}").format(session=checked), after, limit)
        aggregate_id = session_id_to_uuid(checked)
        if not self.uow.exists(aggregate_id):
            self.uow.session(checked)  # raises UnknownSession

        def amended(versions: set[int]) -> set[int]:
            # Only the schedule (the session's first event) is ever amended; a session's
            # history is short (its seats bound it), so it is read whenever the page holds it.
            return versions & {SCHEDULE_VERSION}

        return self._history_page(aggregate_id, after, limit, latest, amended)

    def _history_page(
        self,
        aggregate_id: UUID,
        after: int | None,
        limit: int | None,
        latest: bool,
        amended: Callable[[set[int]], set[int]],
    ) -> list[HistoryEntry]:
        """One page of an aggregate's history, read as ``history`` reads it. ``amended``
        says which of the page's versions may have been retracted or corrected since: only
        then is the rest of the history read, to find what amended them."""
        if limit == 0:
            return []
        page = self.keys.select_page(aggregate_id, after, limit, latest)
        if not page:
            return []
        wanted = dict(page)
        low, high = min(wanted), max(wanted)
        retracted, corrected = self._amendments(aggregate_id, amended(set(wanted)))
        entries = []
        event: Any
        for event in self.events.get(aggregate_id, gt=low - 1, lte=high):
            version = event.originator_version
            if version not in wanted:
                continue
            data = event_data(event)
            if isinstance(event, Municipality.OfficialNominated):
                data["personal_data"] = self._revealed(event.official_id, event.personal_data)
            amends = None
            if isinstance(event, AMENDMENTS):
                amends = event.position
                inner = data.get("data")
                if isinstance(inner, dict) and "personal_data" in inner:
                    inner["personal_data"] = self._revealed(
                        inner["official_id"], inner["personal_data"]
                    )
            entries.append(
                HistoryEntry(
                    position=wanted[version],
                    version=version,
                    recorded_at=event.timestamp,
                    date=event.business_date,
                    type=type(event).__name__,
                    by=event.by,
                    origin=event.origin,
                    data=data,
                    retracted_by=retracted.get(version),
                    corrected_by=corrected.get(version),
                    amends=amends,
                )
            )
        return sorted(entries, key=lambda e: e.position)

    def _revealed(self, official_id: str, sealed: str) -> Any:
        """A nomination's personal data as history shows it: name and email, or erased."""
        person = self.reveal(OfficialId(official_id), sealed)
        return "[erased]" if person is None else {"name": person.name, "email": person.email}

    def _amendments(
        self, aggregate_id: UUID, amended: set[int]
    ) -> tuple[dict[int, Amendment], dict[int, Amendment]]:
        """For the facts at versions ``amended``: the retraction and the latest correction
        of each (by this aggregate's version of the fact). The history is read only when
        the page holds an amended fact."""
        retracted: dict[int, Amendment] = {}
        corrected: dict[int, Amendment] = {}
        if not amended:
            return retracted, corrected
        positions = self.keys.select_positions(aggregate_id)
        event: Any
        for event in self.events.get(aggregate_id, gt=min(amended)):
            found = _amendment_of(event)
            if found is None or found[1] not in amended:
                continue
            at = positions.get(event.originator_version, 0)
            if found[0]:
                corrected[found[1]] = Amendment(at, event.reason)
                retracted.pop(found[1], None)
            else:
                retracted[found[1]] = Amendment(at, event.reason)
        return retracted, corrected

    def follow(
        self,
        after: int = 0,
        *,
        limit: int | None = None,
        wait: float | None = None,
        include_receipts: bool = True,
    ) -> Iterator[EventRecord]:
        """The events after position ``after``, in the store's order, as exporters see them.

        Each :class:`~mma_core.application.events.EventRecord` carries its ``position``: save
        the last one handled and resume with ``follow(after=saved)`` to miss nothing and see
        nothing twice (also across a writer's crash and rolled-back transactions; see
        :mod:`mma_core.application.follow`). ``limit`` stops after that many events. Without
        ``wait`` the iterator ends once caught up; with ``wait`` it waits up to that many
        seconds for each new event once caught up (PostgreSQL: LISTEN/NOTIFY; SQLite: polling,
        a new event shows within 0.2 s). ``include_receipts=False`` leaves out the commands'
        receipts (``CommandReceipt.Issued``, one per command given a ``request_id``; see
        ``docs/events.md``); by default they are followed like every other event.
        """
        return follow(self, after, limit, wait, include_receipts)

    @guarded
    def due(self, *, today: date | None = None, within: int = DUE_WITHIN) -> list[Due]:
        """The deadlines due within ``within`` days of ``today`` (default: the programme's
        today), overdue ones included, most urgent first: answers outstanding, evaluations
        due, municipalities without a trained official, sessions over or under capacity. Each
        :class:`~mma_core.views.deadlines.Due` has ``kind``, ``code``, ``name``, ``due_on``,
        ``days_left`` (negative when overdue), ``overdue`` and a ``detail`` without personal
        data. A ``today`` in the past is answered as of that day."""
        if today is not None:
            today = as_date(today, "today", "due")
        if not isinstance(within, int) or isinstance(within, bool) or within < 0:
            raise InvalidInput(_t("within is a whole number of days, 0 or more"))
        return self.views.due(today, within)

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


# The events that amend a fact recorded earlier: each names the fact's position.
AMENDMENTS = (
    Municipality.FactRetracted,
    Municipality.FactRestated,
    TrainingSession.ScheduleRetracted,
    TrainingSession.ScheduleCorrected,
)


def _amendment_of(event: Any) -> tuple[bool, int] | None:
    """Whether ``event`` corrects (``True``) or retracts (``False``) a fact, and the
    version of that fact in its aggregate; ``None`` if it amends nothing. The retraction a
    correction records of the fact as it was is no retraction of the fact."""
    if isinstance(event, Municipality.FactRestated):
        return True, int(event.version)
    if isinstance(event, Municipality.FactRetracted) and not event.corrected:
        return False, int(event.version)
    if isinstance(event, TrainingSession.ScheduleCorrected):
        return True, SCHEDULE_VERSION
    if isinstance(event, TrainingSession.ScheduleRetracted):
        return False, SCHEDULE_VERSION
    return None


def _check_page(label: str, after: object, limit: object) -> None:
    """A history page's bounds, refused as ``InvalidInput`` naming the history's ``label``."""
    # bool is an int to Python, not a number of events or a position to a reader.
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
        raise InvalidInput(
            _t("{code}: limit is a whole number of events, 0 or more").format(code=label)
        )
    if after is not None and (not isinstance(after, int) or isinstance(after, bool)):
        raise InvalidInput(_t("{code}: after is a position, a whole number").format(code=label))


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise InvalidInput(_t("known_at must be a date and time"))
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
