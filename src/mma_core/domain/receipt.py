"""A command's receipt: the answer to a ``request_id``, stored once.

A receipt is a one-event aggregate whose id derives from the request id, saved in the same
transaction as the command's own events. Two writers answering the same request id collide on
the store's primary key, like two claims of one report reference: the loser retries and finds
the receipt. It holds the command's name, a fingerprint of its arguments (a SHA-256 of them in
canonical JSON, officials' names and e-mail addresses left out), the result and how many events
the command wrote before it.
"""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from mma_core.domain.common import Recorded, Stamp


def receipt_id(request_id: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"/requests/{request_id}")


class CommandReceipt(Aggregate):
    """The answer to a command given a ``request_id``: one event, saved in the same transaction
    as the command's own events and right after them, so a retry with the same request id gets
    the same answer and writes nothing. It changes no municipality and counts on no day. A
    follower that wants only the programme's facts passes ``include_receipts=False`` to
    ``follow()`` (the default, ``True``, follows them like every other event)."""

    class Event(Recorded):
        pass

    class Issued(Event, Aggregate.Created):
        request_id: str
        command: str
        fingerprint: str
        result: Any  # a command's result: a str or a list of str
        events: int  # the command's own events, saved just before this one

        def apply(self, aggregate: Any) -> None:
            aggregate.request_id = self.request_id
            aggregate.command = self.command
            aggregate.fingerprint = self.fingerprint
            aggregate.result = self.result
            aggregate.events = self.events

    def __init__(self) -> None:
        self.request_id = ""
        self.command = ""
        self.fingerprint = ""
        self.result: Any = None
        self.events = 0

    @classmethod
    def issue(
        cls,
        request_id: str,
        command: str,
        fingerprint: str,
        result: Any,
        events: int,
        stamp: Stamp,
    ) -> CommandReceipt:
        return cls._create(
            cls.Issued,
            id=receipt_id(request_id),
            timestamp=stamp.at,
            by=stamp.by,
            origin=stamp.origin,
            request_id=request_id,
            command=command,
            fingerprint=fingerprint,
            result=list(result) if isinstance(result, list | tuple) else result,
            events=events,
        )
