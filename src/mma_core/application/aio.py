"""``AsyncProgramme``: the Programme's API as coroutines, for asyncio services.

Each call runs the Programme's own method in a worker thread (``asyncio.to_thread``), so the
event loop never blocks on the store; one ``Programme`` may be shared by threads (see
``docs/embedding.md``), so calls may overlap. Arguments, results and errors are the
Programme's.

    async with AsyncProgramme.open("sqlite:///mma.sqlite", origin="case-system") as prog:
        await prog.accept("GM0363", on=date(2019, 11, 1), by="burgemeester", request_id=key)
        async for record in prog.follow(after=saved, wait=1.0):
            ...
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from mma_core.application import api
from mma_core.application.events import EventRecord
from mma_core.application.programme import Programme

P = ParamSpec("P")
T = TypeVar("T")
_DONE = object()


def _in_thread(
    method: Callable[Concatenate[Programme, P], T],
) -> Callable[Concatenate[AsyncProgramme, P], Awaitable[T]]:
    async def call(self: AsyncProgramme, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await asyncio.to_thread(method, self.programme, *args, **kwargs)

    call.__name__ = method.__name__
    call.__qualname__ = f"AsyncProgramme.{method.__name__}"
    call.__doc__ = method.__doc__
    call.__signature__ = inspect.signature(method)  # type: ignore[attr-defined]
    return call


class AsyncProgramme:
    """A :class:`~mma_core.Programme` whose every method is a coroutine."""

    def __init__(self, programme: Programme) -> None:
        self.programme = programme

    @classmethod
    async def open(cls, url: str, **options: Any) -> AsyncProgramme:
        """``Programme.open(url, **options)`` in a worker thread."""
        programme = await asyncio.to_thread(Programme.open, url, **options)
        return cls(programme)

    async def close(self) -> None:
        await asyncio.to_thread(self.programme.close)

    async def __aenter__(self) -> AsyncProgramme:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # One coroutine per command, query and operation of ``mma_core.application.api``: added
    # below from that list; declared here for type checkers.
    if TYPE_CHECKING:
        register_registry = _in_thread(Programme.register_registry)
        make_offer = _in_thread(Programme.make_offer)
        change_offer_terms = _in_thread(Programme.change_offer_terms)
        sign_covenant = _in_thread(Programme.sign_covenant)
        schedule_training = _in_thread(Programme.schedule_training)
        invite = _in_thread(Programme.invite)
        invite_all = _in_thread(Programme.invite_all)
        record_prior_connection = _in_thread(Programme.record_prior_connection)
        accept = _in_thread(Programme.accept)
        decline = _in_thread(Programme.decline)
        connect = _in_thread(Programme.connect)
        record_report = _in_thread(Programme.record_report)
        record_reports = _in_thread(Programme.record_reports)
        evaluate = _in_thread(Programme.evaluate)
        renew = _in_thread(Programme.renew)
        terminate = _in_thread(Programme.terminate)
        merge = _in_thread(Programme.merge)
        nominate_official = _in_thread(Programme.nominate_official)
        book_training = _in_thread(Programme.book_training)
        record_attendance = _in_thread(Programme.record_attendance)
        withdraw_official = _in_thread(Programme.withdraw_official)
        erase_official = _in_thread(Programme.erase_official)
        retract = _in_thread(Programme.retract)
        correct = _in_thread(Programme.correct)
        municipality = _in_thread(Programme.municipality)
        overview = _in_thread(Programme.overview)
        cost_lines = _in_thread(Programme.cost_lines)
        codes = _in_thread(Programme.codes)
        history = _in_thread(Programme.history)
        amendable = _in_thread(Programme.amendable)
        evaluations = _in_thread(Programme.evaluations)
        sessions = _in_thread(Programme.sessions)
        offer = _in_thread(Programme.offer)
        offers = _in_thread(Programme.offers)
        offer_terms = _in_thread(Programme.offer_terms)
        due = _in_thread(Programme.due)
        receipt = _in_thread(Programme.receipt)
        event_count = _in_thread(Programme.event_count)
        last_position = _in_thread(Programme.last_position)
        wait_for = _in_thread(Programme.wait_for)
        health = _in_thread(Programme.health)
        today = _in_thread(Programme.today)
        wipe_erased_keys = _in_thread(Programme.wipe_erased_keys)

    async def follow(
        self,
        after: int = 0,
        *,
        limit: int | None = None,
        wait: float | None = None,
        include_receipts: bool = True,
    ) -> AsyncIterator[EventRecord]:
        """:meth:`Programme.follow` as an async iterator (each step in a worker thread)."""
        records = self.programme.follow(
            after, limit=limit, wait=wait, include_receipts=include_receipts
        )
        try:
            while True:
                record = await asyncio.to_thread(next, records, _DONE)
                if record is _DONE:
                    return
                assert isinstance(record, EventRecord)
                yield record
        finally:
            close = getattr(records, "close", None)  # a generator: end its subscription
            if close is not None:
                await asyncio.to_thread(close)


for _name in api.ALL:
    setattr(AsyncProgramme, _name, _in_thread(getattr(Programme, _name)))

__all__ = ["AsyncProgramme"]
