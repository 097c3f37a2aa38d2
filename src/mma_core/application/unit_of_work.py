"""The unit of work: where a command reads the aggregates it changes and holds back its saves.

A command reads every aggregate through :class:`UnitOfWork` and nothing else, so every lookup
inside a command or an ``atomic()`` block sees what the block has already done: an aggregate a
command before it changed but did not write yet, an offer made or a session scheduled earlier in
the block, a report reference claimed a moment ago. Saves made while a holder is open (an
``atomic()`` block, or a command with a request id that writes them with its receipt) are held
back in a :class:`~mma_core.application.staging.Staged` per holder, innermost first.

A held aggregate is handed out as a copy: a command that fails half-way leaves the block as the
commands before it left it, and only a command that saves puts its copy in their place.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from mma_core.application.repository import copy_aggregate
from mma_core.application.staging import Staged
from mma_core.application.wiring import StoredApplication
from mma_core.domain.errors import UnknownMunicipality, UnknownOffer, UnknownSession
from mma_core.domain.municipality import Municipality, municipality_id
from mma_core.domain.offer import Offer, offer_id
from mma_core.domain.report_claim import ReportClaim
from mma_core.domain.training import TrainingSession, session_id_to_uuid
from mma_core.domain.values import MunicipalityCode
from mma_core.language.i18n import _

__all__ = ["UnitOfWork"]


class UnitOfWork:
    """The aggregates of one programme as its commands see them, per thread."""

    def __init__(self, app: StoredApplication) -> None:
        self._app = app
        self._local = threading.local()

    # -- holding saves back ---------------------------------------------------------------

    def _stack(self) -> list[Staged]:
        stack: list[Staged] | None = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    @contextmanager
    def hold(self) -> Iterator[Staged]:
        """Hold back the saves made inside; the holder writes them (or drops them)."""
        stack = self._stack()
        staged = Staged()
        stack.append(staged)
        try:
            yield staged
        finally:
            stack.pop()

    @contextmanager
    def block(self) -> Iterator[Staged]:
        """An ``atomic()`` block: holds every save made inside. Blocks do not nest."""
        if getattr(self._local, "atomic", False):
            raise RuntimeError("Programme.atomic() blocks do not nest")
        self._local.atomic = True
        try:
            with self.hold() as staged:
                yield staged
        finally:
            self._local.atomic = False

    def stage(self, objs: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
        """Hold a save back if a holder is open (True), else leave it to the caller (False)."""
        stack = self._stack()
        if not stack:
            return False
        stack[-1].add(objs, kwargs)
        return True

    def pass_on(self, held: Staged) -> bool:
        """Hand what a closed holder held to the holder around it, if one is open (True), else
        leave it to the caller to write (False)."""
        stack = self._stack()
        if not stack:
            return False
        stack[-1].absorb(held)
        return True

    def _held(self, aggregate_id: UUID) -> Any | None:
        for staged in reversed(self._stack()):
            found = staged.get(aggregate_id)
            if found is not None:
                return found
        return None

    # -- reading --------------------------------------------------------------------------

    def get(self, aggregate_id: UUID, *, read_only: bool = False) -> Any:
        """The aggregate as held back in this thread, else as stored; raises eventsourcing's
        ``AggregateNotFoundError`` when there is neither. A copy, unless ``read_only``: then
        the object itself, which the caller only reads (the offer a price is read from)."""
        held = self._held(aggregate_id)
        if held is not None:
            return held if read_only else copy_aggregate(held)
        if read_only:
            stack = self._stack()
            if stack:  # read once a block: as if read when the block began
                reads = stack[0].reads
                if aggregate_id not in reads:
                    reads[aggregate_id] = self._app.repository.get(
                        aggregate_id, deepcopy_from_cache=False
                    )
                return reads[aggregate_id]
        return self._app.repository.get(aggregate_id, deepcopy_from_cache=not read_only)

    def exists(self, aggregate_id: UUID) -> bool:
        if self._held(aggregate_id) is not None:
            return True
        return bool(self._app.recorder.select_events(aggregate_id, limit=1))

    def existing(self, aggregate_ids: Sequence[UUID]) -> set[UUID]:
        """Which of these aggregates exist, held back or stored (one query for the stored)."""
        held = {i for i in aggregate_ids if self._held(i) is not None}
        rest = [i for i in aggregate_ids if i not in held]
        return held | (self._app.keys.select_existing(rest) if rest else set())

    def pending_events(self, aggregate: Any) -> list[Any]:
        """The events of ``aggregate`` that are held back or not yet saved, oldest first."""
        held = [e for staged in self._stack() for e in staged.events_of(aggregate.id)]
        return [*held, *getattr(aggregate, "pending_events", ())]

    def registered(self, stored: Iterable[Municipality.Registered]) -> Iterator[str]:
        """The codes of the municipalities registered: ``stored`` (the store's registrations,
        in order), then those registered in this block and not written yet."""
        seen: set[str] = set()
        for event in stored:
            seen.add(event.code)
            yield event.code
        for staged in self._stack():
            for aggregate in list(staged.aggregates.values()):
                if isinstance(aggregate, Municipality) and aggregate.code not in seen:
                    seen.add(aggregate.code)
                    yield aggregate.code

    # -- the aggregates a command names, with the error a coordinator reads --------------

    def municipality(self, code: str | MunicipalityCode) -> Municipality:
        parsed = MunicipalityCode.parse(code)
        try:
            found: Municipality = self.get(municipality_id(parsed))
        except AggregateNotFoundError:
            raise UnknownMunicipality(
                _(
                    "{code}: no such municipality is registered; register its registry first "
                    "(on the command line: 'mma init')"
                ).format(code=parsed)
            ) from None
        return found

    def offer(self, reference: str, *, read_only: bool = False) -> Offer:
        try:
            found: Offer = self.get(offer_id(reference), read_only=read_only)
        except AggregateNotFoundError:
            raise UnknownOffer(
                _("no offer {reference} was made; record the offer first ('mma offer')").format(
                    reference=repr(reference)
                )
            ) from None
        return found

    def session(self, session_id: str) -> TrainingSession:
        try:
            found: TrainingSession = self.get(session_id_to_uuid(session_id))
        except AggregateNotFoundError:
            raise UnknownSession(
                _("no training session {session} was scheduled; schedule it first").format(
                    session=repr(session_id)
                )
            ) from None
        return found

    def claim(self, claim_at: UUID) -> ReportClaim:
        found: ReportClaim = self.get(claim_at)
        return found
