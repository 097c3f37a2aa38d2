"""The API's commands on one municipality run in turns, on a thread of that municipality's
own, and those that queue up while one runs are written together.

Run side by side, the commands of several requests for one municipality would only conflict on
its aggregate and retry (read, check every rule, save) until each got its turn. So each busy
municipality has one thread that runs its queued commands back to back, and a request waits
for its answer without holding a thread of the server's pool. The thread runs every command
queued so far in one ``Programme.atomic()`` block: one read of the municipality, each command
checked against what the ones before it did, one transaction. A command refused by a rule
leaves the block as the commands before it left it (the unit of work hands out copies), so it
costs the others nothing. If the block as a whole cannot be written (another process wrote the
municipality meanwhile, the store failed, a command failed in a way that is no refusal),
nothing of it was written, and each command runs again on its own with its own retries: each
request gets the answer it would have had alone.

A command with a request id (an ``Idempotency-Key``) runs alone, in its turn: its receipt gives
the positions of its own events, which must be the last ones before the receipt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import zlib
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError
from typing import Any

from mma_core import DomainError, Programme

logger = logging.getLogger(__name__)
MOST = 64  # commands in one transaction at most
THREADS = 8  # threads for the municipalities' commands; a municipality always has the same one


class Done:
    """A command's outcome: what it returned and the last position written with it, if any."""

    __slots__ = ("position", "result")

    def __init__(self, result: Any, position: int | None) -> None:
        self.result = result
        self.position = position


def alone(programme: Programme, call: Callable[[], Any]) -> Done:
    """Run ``call`` in a transaction of its own (or with its retries)."""
    before = programme.own_position
    result = call()
    written = programme.own_position
    return Done(result, written if written > before else None)


class Job:
    """A queued command: its call, and where its answer goes (an asyncio future of a route's
    event loop, or a thread's future)."""

    __slots__ = ("call", "code", "done", "error", "future", "together", "waiter")

    def __init__(
        self,
        code: str,
        call: Callable[[], Any],
        together: bool,
        waiter: asyncio.Future[Done] | None = None,
    ) -> None:
        self.code = code
        self.call = call
        self.together = together
        self.waiter = waiter
        self.future: Future[Done] | None = None if waiter is not None else Future()
        self.done: Done | None = None
        self.error: BaseException | None = None


class Turns:
    """The queues and threads of one programme's commands. A municipality's commands always go
    to the same thread (of ``threads``, started when first needed), so they run in turns; the
    number of threads is bounded whatever the codes requests name."""

    def __init__(self, programme: Programme, most: int = MOST, threads: int = THREADS) -> None:
        self._programme = programme
        self.most = most
        self._lanes = [_Lane(self, n) for n in range(threads)]

    async def run_command(self, code: str, call: Callable[[], Any], *, together: bool) -> Done:
        """Run ``call`` on ``code``'s thread (``together``: it may share a transaction with
        others queued for that municipality) and await its :class:`Done`, or its error."""
        waiter: asyncio.Future[Done] = asyncio.get_running_loop().create_future()
        self._lane(code).put(Job(code, call, together, waiter))
        return await waiter

    def submit(self, code: str, call: Callable[[], Any], *, together: bool) -> Future[Done]:
        """:meth:`run_command` for a thread: the future has the :class:`Done` or the error."""
        job = Job(code, call, together)
        self._lane(code).put(job)
        assert job.future is not None
        return job.future

    def queued(self, code: str) -> int:
        """How many commands wait for ``code``'s thread."""
        return sum(lane.queued(code) for lane in self._lanes)

    def _lane(self, code: str) -> _Lane:
        return self._lanes[zlib.crc32(code.encode()) % len(self._lanes)]

    def run(self, batch: list[Job]) -> None:
        if len(batch) == 1:
            self._alone(batch[0])
        else:
            self._together(batch)
        _deliver(batch)

    def _alone(self, job: Job) -> None:
        try:
            job.done, job.error = alone(self._programme, job.call), None
        except BaseException as error:  # the request's own answer
            job.done, job.error = None, error

    def _together(self, batch: list[Job]) -> None:
        before = self._programme.own_position
        try:
            with self._programme.atomic():
                for job in batch:
                    try:
                        job.done, job.error = Done(job.call(), None), None
                    except DomainError as error:  # refused: the block is as it was before it
                        job.done, job.error = None, error
        except Exception:  # nothing of the block was written: each again, on its own
            for job in batch:
                self._alone(job)
            return
        except BaseException as error:  # the requests' answer; the thread goes on
            for job in batch:
                job.done, job.error = None, error
            return
        written = self._programme.own_position
        for job in batch:
            if job.done is not None and written > before:
                job.done.position = written


def _deliver(batch: list[Job]) -> None:
    """Hand each job its answer: a thread's future at once, and the routes' futures with one
    wake-up of each event loop for the whole batch."""
    by_loop: dict[asyncio.AbstractEventLoop, list[Job]] = {}
    for job in batch:
        if job.future is not None:
            # InvalidStateError: the caller cancelled it, and waits for nothing.
            with contextlib.suppress(InvalidStateError):
                if job.error is not None:
                    job.future.set_exception(job.error)
                else:
                    job.future.set_result(job.done)  # type: ignore[arg-type]
        elif job.waiter is not None:
            by_loop.setdefault(job.waiter.get_loop(), []).append(job)
    for loop, jobs in by_loop.items():
        # RuntimeError: the loop closed, and nobody waits for these answers any more.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_resolve, jobs)


def _resolve(jobs: list[Job]) -> None:
    for job in jobs:
        waiter = job.waiter
        if waiter is None or waiter.done():  # the request went away meanwhile
            continue
        if job.error is not None:
            waiter.set_exception(job.error)
        else:
            waiter.set_result(job.done)  # type: ignore[arg-type]


class _Lane:
    """One thread and its queue: the oldest command, with every command queued for the same
    municipality that may share its transaction, up to ``most``."""

    def __init__(self, turns: Turns, number: int) -> None:
        self._turns = turns
        self._number = number
        self._jobs: deque[Job] = deque()
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None

    def put(self, job: Job) -> None:
        with self._ready:
            self._jobs.append(job)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._work, name=f"mma-turns-{self._number}", daemon=True
                )
                self._thread.start()
            self._ready.notify()

    def queued(self, code: str) -> int:
        with self._ready:
            return sum(1 for job in self._jobs if job.code == code)

    def _take(self) -> list[Job]:
        with self._ready:
            self._ready.wait_for(lambda: bool(self._jobs))
            first = self._jobs.popleft()
            batch = [first]
            if first.together:
                rest: deque[Job] = deque()
                while self._jobs:
                    job = self._jobs.popleft()
                    fits = job.code == first.code and job.together
                    if fits and len(batch) < self._turns.most:
                        batch.append(job)
                    else:
                        rest.append(job)
                self._jobs = rest
            return batch

    def _work(self) -> None:
        while True:
            batch = self._take()
            try:
                self._turns.run(batch)
            except BaseException:  # a lane never loses its thread: its later commands wait on it
                logger.exception("a batch of %d commands failed outside their calls", len(batch))


__all__ = ["Done", "Turns", "alone"]
