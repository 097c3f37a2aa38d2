"""Server-sent event streams fanned out from one follower per process.

One thread follows the event log (``Programme.follow`` with a wait: PostgreSQL's LISTEN/NOTIFY,
or the SQLite store's own signal and a short poll) and hands each new record to every open
stream on the event loop. A stream is a coroutine that waits on its own queue: 1,000 open
streams cost one follower thread and 1,000 queues, and no worker thread waits for a stream.

A stream first catches up from the store (in the thread pool, without waiting), and only then
reads its queue, skipping what it already sent. A stream whose queue overflows (a slow client)
catches up from the store again. The number of open streams per caller is capped.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections import Counter
from collections.abc import AsyncIterator

from starlette.concurrency import run_in_threadpool

from mma_core import Programme
from mma_core.plugin_api import EventRecord, jsonable

log = logging.getLogger("mma_web")
HEARTBEAT_SECONDS = 5.0
FOLLOW_WAIT = 2.0  # how long the follower waits per call before looking whether to stop
QUEUE = 1000  # records a stream may fall behind before it reads from the store again
BATCH = 500
STREAMS_PER_CALLER = 32
MAX_POSITION = 2**63 - 1


class TooManyStreams(Exception):
    """The caller holds as many open streams as allowed."""


class Subscriber:
    def __init__(self, key: str) -> None:
        self.key = key
        self.queue: asyncio.Queue[EventRecord] = asyncio.Queue(QUEUE)
        self.overflow = False


class Broadcaster:
    """One follower of the log and the open streams it feeds, for one app."""

    def __init__(
        self,
        programme: Programme,
        *,
        per_caller: int = STREAMS_PER_CALLER,
        heartbeat: float = HEARTBEAT_SECONDS,
    ) -> None:
        self.programme = programme
        self.per_caller = per_caller
        self.heartbeat = heartbeat
        self.subscribers: set[Subscriber] = set()
        self.open_by: Counter[str] = Counter()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready: asyncio.Event | None = None
        self._stop = threading.Event()

    def check(self, key: str) -> None:
        """:class:`TooManyStreams` if ``key`` holds as many open streams as allowed."""
        if self.open_by[key] >= self.per_caller:
            raise TooManyStreams(key)

    def subscribe(self, key: str) -> Subscriber:
        """A queue for a new stream of ``key``."""
        subscriber = Subscriber(key)
        self.open_by[key] += 1
        self.subscribers.add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        if subscriber in self.subscribers:
            self.subscribers.discard(subscriber)
            self.open_by[subscriber.key] -= 1
            if self.open_by[subscriber.key] <= 0:
                del self.open_by[subscriber.key]

    async def started(self) -> None:
        """Start the follower (once) and return when it follows from the log's current end:
        a stream that catches up after this misses nothing."""
        if self._ready is None:
            self._loop = asyncio.get_running_loop()
            self._ready = asyncio.Event()
            self._thread = threading.Thread(
                target=self._follow, name="mma-web-follower", daemon=True
            )
            self._thread.start()
        await self._ready.wait()

    def stop(self) -> None:
        self._stop.set()

    def _signal_ready(self) -> None:
        assert self._ready is not None
        self._ready.set()

    def _follow(self) -> None:
        loop = self._loop
        assert loop is not None
        position: int | None = None
        while not self._stop.is_set():
            try:
                if position is None:
                    position = self.programme.last_position()
                    loop.call_soon_threadsafe(self._signal_ready)
                for record in self.programme.follow(position, limit=BATCH, wait=FOLLOW_WAIT):
                    position = record.position
                    loop.call_soon_threadsafe(self._publish, record)
                    if self._stop.is_set():
                        return
            except RuntimeError:  # the event loop closed: the server stopped
                return
            except Exception as error:  # the store is away for a moment: try again
                log.warning("event follower: %s", type(error).__name__)
                self._stop.wait(1.0)

    def _publish(self, record: EventRecord) -> None:
        for subscriber in self.subscribers:
            if subscriber.overflow:
                continue
            try:
                subscriber.queue.put_nowait(record)
            except asyncio.QueueFull:
                subscriber.overflow = True


def sse(record: EventRecord) -> str:
    return (
        f"id: {record.position}\nevent: {record.type}\n"
        f"data: {json.dumps(jsonable(record), separators=(',', ':'))}\n\n"
    )


def _read(programme: Programme, position: int) -> list[EventRecord]:
    return list(programme.follow(position, limit=BATCH))


async def event_stream(broadcaster: Broadcaster, key: str, after: int) -> AsyncIterator[str]:
    """The log from ``after``, then each new event as the follower hands it over. The stream
    counts against ``key``'s cap from its first step to its end."""
    programme = broadcaster.programme
    position = after
    subscriber = broadcaster.subscribe(key)
    try:
        yield "retry: 2000\n\n"
        await broadcaster.started()
        while True:
            while True:  # catch up from the store
                subscriber.overflow = False
                records = await run_in_threadpool(_read, programme, position)
                for record in records:
                    position = record.position
                    yield sse(record)
                if len(records) < BATCH:
                    break
            while not subscriber.overflow:  # then live, from the follower
                try:
                    record = await asyncio.wait_for(subscriber.queue.get(), broadcaster.heartbeat)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if record.position > position:
                    position = record.position
                    yield sse(record)
            while not subscriber.queue.empty():
                subscriber.queue.get_nowait()
    finally:
        broadcaster.unsubscribe(subscriber)
