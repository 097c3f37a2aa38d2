"""What the web layer needs from ``Programme`` beyond commands and queries: the stable error
``code``, JSON-ready values, the position of the log and following it.

Written against the embedding API (``DomainError.code``, ``to_dict()``, ``Programme.follow``,
``Programme.last_position``, ``request_id=``). Where an installed ``mma_core`` predates one of
them, the same result is derived here, so the plugin runs on both.
"""

from __future__ import annotations

import inspect
import re
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from fractions import Fraction
from typing import Any
from uuid import UUID

import attrs

from mma_core import Money, Programme
from mma_core.hookspecs import EventRecord

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")
POLL_SECONDS = 0.2


def error_code(error: BaseException) -> str:
    """The error's stable snake_case code (``InvalidTransition`` -> ``invalid_transition``)."""
    code = getattr(error, "code", None)
    if isinstance(code, str) and code:
        return code
    return _CAMEL.sub("_", type(error).__name__).lower()


def plain(value: Any) -> Any:
    """``value`` as JSON types only: money and fractions as decimal strings, dates ISO 8601."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Money):
        return str(value.amount)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Fraction):
        return str(
            (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("1e-6"))
        )
    if isinstance(value, float):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if attrs.has(type(value)):
        return {f.name: plain(getattr(value, f.name)) for f in attrs.fields(type(value))}
    if hasattr(value, "items"):  # a read-only mapping
        return {str(k): plain(v) for k, v in value.items()}
    return str(value)


def takes_request_id(method: Callable[..., Any]) -> bool:
    return "request_id" in inspect.signature(method).parameters


def last_position(programme: Programme) -> int:
    method = getattr(programme, "last_position", None)
    if callable(method):
        return int(method())
    return int(programme.recorder.max_notification_id() or 0)


def follow(
    programme: Programme, after: int = 0, *, limit: int | None = None, wait: float | None = None
) -> Iterator[EventRecord]:
    """The events after position ``after``, in order; with ``wait``, waits up to that many
    seconds for more once caught up."""
    method = getattr(programme, "follow", None)
    if callable(method):
        yield from method(after, limit=limit, wait=wait)
        return
    from mma_core.exporting import event_records

    given = 0
    deadline = None if wait is None else time.monotonic() + wait
    while True:
        for record in event_records(programme, after + 1):
            yield record
            after = record.position
            given += 1
            if limit is not None and given >= limit:
                return
            deadline = None if wait is None else time.monotonic() + wait
        if deadline is None or time.monotonic() >= deadline:
            return
        time.sleep(POLL_SECONDS)


__all__ = ["error_code", "follow", "last_position", "plain", "takes_request_id"]
