"""Following the event log: every event after a saved position, in order, once.

Positions are the store's notification ids. They only ever grow, in commit order:

- SQLite: one writer at a time, and a new row's id is one more than the highest committed one;
  a transaction that rolls back leaves no id behind.
- PostgreSQL: eventsourcing takes the events table's EXCLUSIVE lock before a transaction draws
  its ids and holds it until commit, so no transaction commits an id lower than one already
  visible. A transaction that rolls back (a conflict between writers) leaves a gap that is never
  filled in later. A follower that resumes after the last position it handled therefore never
  misses an event and never sees one twice, also after a writer crashed mid-transaction.
- ``memory://``: ids are assigned under the recorder's lock.

Waiting for new events: PostgreSQL through eventsourcing's LISTEN/NOTIFY subscription (the
recorder NOTIFYs in every insert); SQLite and memory by polling one indexed query with a short,
growing interval, woken at once by writes of the same ``Programme``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

from mma_core.application.events import EventReader, EventRecord
from mma_core.application.ports import Host
from mma_core.domain.errors import InvalidInput
from mma_core.language.i18n import _
from mma_core.storage.errors import StoreUnavailable, translated
from mma_core.storage.signals import Signal

BATCH = 500
POLL_FIRST = 0.01  # seconds before the first poll once caught up
POLL_MAX = 0.2  # the longest pause between polls: a new event shows within this
RESUME_PAUSE = 0.5  # seconds between attempts to resume after a transient store failure


def check_arguments(after: int, limit: int | None, wait: float | None) -> None:
    if isinstance(after, bool) or not isinstance(after, int) or after < 0:
        raise InvalidInput(
            _("after must be a position of 0 or more, not {value}").format(value=repr(after))
        )
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise InvalidInput(
            _("limit must be 1 or more (or None), not {value}").format(value=repr(limit))
        )
    if wait is not None and (isinstance(wait, bool) or not wait >= 0):
        raise InvalidInput(
            _("wait must be 0 or more seconds (or None), not {value}").format(value=repr(wait))
        )


def follow(
    programme: Host,
    after: int,
    limit: int | None,
    wait: float | None,
    include_receipts: bool = True,
) -> Iterator[EventRecord]:
    """The generator behind :meth:`Programme.follow`.

    With ``wait``, a transient store failure (a lost connection, a server restarting: a
    :class:`StoreUnavailable`) does not end the follow: it resumes after the last event it
    handed out, for as long as it would wait for an event. A permanent failure
    (:class:`StoreMisconfigured`, :class:`StoreForbidden`) is raised at once."""
    check_arguments(after, limit, wait)
    if not isinstance(include_receipts, bool):
        raise InvalidInput(_("include_receipts is True or False"))
    if not wait:
        yield from _follow(programme, after, limit, wait, include_receipts)
        return
    position, left = after, limit
    failing_since: float | None = None
    while True:
        try:
            for record in _follow(programme, position, left, wait, include_receipts):
                failing_since = None
                position = record.position
                if left is not None:
                    left -= 1
                yield record
            return
        except StoreUnavailable:
            now = time.monotonic()
            failing_since = now if failing_since is None else failing_since
            if now - failing_since >= wait:
                raise
            time.sleep(min(RESUME_PAUSE, wait))


def _follow(
    programme: Host, after: int, limit: int | None, wait: float | None, include_receipts: bool
) -> Iterator[EventRecord]:
    reader = EventReader(programme, include_receipts)
    left = limit
    position = after

    def select(start: int) -> Sequence[Any]:
        with translated(programme.store_label, programme.store_secrets):
            return programme.recorder.select_notifications(start, BATCH)

    # Catch up with what is stored.
    while True:
        batch = select(position + 1)
        for notification in batch:
            position = int(notification.id)
            if not reader.wanted(notification):
                continue
            yield reader.record(notification)
            if left is not None:
                left -= 1
                if left == 0:
                    return
        if len(batch) < BATCH:
            break
    if not wait:
        return
    if programme.env.get("PERSISTENCE_MODULE") == "eventsourcing.postgres":
        yield from _listen(programme, reader, position, left, wait)
    else:
        yield from _poll(programme, reader, select, position, left, wait)


def _poll(
    programme: Host,
    reader: EventReader,
    select: Any,
    position: int,
    left: int | None,
    wait: float,
) -> Iterator[EventRecord]:
    deadline = time.monotonic() + wait
    pause = POLL_FIRST
    signal: Signal = programme.follow_signal
    while True:
        seen = signal.count()
        batch = select(position + 1)
        if batch:
            for notification in batch:
                position = int(notification.id)
                if not reader.wanted(notification):
                    continue
                yield reader.record(notification)
                if left is not None:
                    left -= 1
                    if left == 0:
                        return
            deadline = time.monotonic() + wait  # caught up again: wait afresh
            pause = POLL_FIRST
            continue
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        signal.wait(seen, min(pause, remaining))
        pause = min(pause * 2, POLL_MAX)


def _listen(
    programme: Host,
    reader: EventReader,
    position: int,
    left: int | None,
    wait: float,
) -> Iterator[EventRecord]:
    """Through eventsourcing's PostgreSQL subscription: LISTEN on the events table's channel,
    select what is new after each NOTIFY. It blocks without a timeout, so a watchdog stops it
    once the follower has waited ``wait`` seconds for the next event."""
    label, secrets = programme.store_label, programme.store_secrets
    with translated(label, secrets):
        subscription: Any = programme.recorder.subscribe(gt=position)
    waiting_since: list[float | None] = [None]
    done = threading.Event()

    def watchdog() -> None:
        while not done.wait(0.05):
            since = waiting_since[0]
            if since is not None and time.monotonic() - since >= wait:
                subscription.stop()
                return

    guard = threading.Thread(target=watchdog, name="mma-follow-watchdog", daemon=True)
    guard.start()
    try:
        with subscription:
            while True:
                waiting_since[0] = time.monotonic()
                with translated(label, secrets):
                    notification = next(subscription, None)
                if notification is None:  # stopped: waited long enough
                    return
                waiting_since[0] = None
                if not reader.wanted(notification):
                    continue
                yield reader.record(notification)
                if left is not None:
                    left -= 1
                    if left == 0:
                        return
    finally:
        done.set()
        subscription.stop()
        guard.join()


def last_position(programme: Host) -> int:
    """The highest position in the store (0 when empty)."""
    with translated(programme.store_label, programme.store_secrets):
        return int(programme.recorder.max_notification_id() or 0)


def wait_for(programme: Host, position: int, timeout: float) -> None:
    """The loop behind :meth:`Programme.wait_for`: catch the read models up until they
    include ``position``; ``TimeoutError`` after ``timeout`` seconds."""
    if isinstance(position, bool) or not isinstance(position, int) or position < 0:
        raise InvalidInput(
            _("position must be 0 or more, not {value}").format(value=repr(position))
        )
    deadline = time.monotonic() + timeout
    pause = POLL_FIRST
    while True:
        seen = programme.follow_signal.count()
        with translated(programme.store_label, programme.store_secrets):
            programme.views.catch_up()
            reached = programme.views.tracking().position
        if reached >= position:
            return
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(
                f"the read models reached position {reached}, not {position}, "
                f"within {timeout} seconds"
            )
        programme.follow_signal.wait(seen, min(pause, remaining))
        pause = min(pause * 2, POLL_MAX)


__all__ = ["Signal", "follow", "last_position", "wait_for"]
