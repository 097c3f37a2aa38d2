"""Idempotent commands: every command takes ``request_id``; a retry gets the first answer.

How it works (all of it behind the ``@command`` decorator and ``Programme._run``):

1. Before anything else, the command's receipt is looked up by request id. Found with the same
   command and arguments: its result is returned and nothing is written. Found with others:
   :class:`~mma_core.domain.errors.RequestIdReused`.
2. Otherwise the command runs as usual, except that its ``save()`` is held back
   (``mma_core.application.staging``, as in ``Programme.atomic()``); the held aggregates are then
   saved together with a new :class:`CommandReceipt` (last), in ONE transaction. The receipt's id
   derives from the request id, so of two writers answering the same request concurrently one
   wins on the primary key; the other's transaction rolls back and its retry finds the
   winner's receipt.
3. A command that breaks a rule writes no receipt: a retry runs it again.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import unicodedata
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import attrs
from eventsourcing.application import AggregateNotFoundError

from mma_core.application.unit_of_work import UnitOfWork
from mma_core.domain.common import Stamp
from mma_core.domain.errors import InvalidInput, RequestIdReused
from mma_core.domain.jsonable import JSONReady, jsonable
from mma_core.domain.receipt import CommandReceipt, receipt_id
from mma_core.language.i18n import _
from mma_core.storage.keys import KeyStore

if TYPE_CHECKING:  # pragma: no cover
    from mma_core.application.staging import Staged


class Answerer(Protocol):
    """What the receipts need of the programme (``mma_core.application.programme.Programme`` is
    one): its store, its keys table's positions, its origin and clock, and its ``save``."""

    origin: str
    clock: Callable[[], datetime]

    @property
    def recorder(self) -> Any: ...

    @property
    def repository(self) -> Any: ...

    @property
    def keys(self) -> KeyStore: ...

    @property
    def uow(self) -> UnitOfWork: ...

    def save(self, *objs: Any, **kwargs: Any) -> Any: ...

    def _save_held(self, held: Staged, *more: Any) -> Any: ...


MAX_REQUEST_ID = 200
PERSONAL_ARGUMENTS = frozenset({"name", "email"})
# Arguments that do not change what a command does, left out of its fingerprint.
UNFINGERPRINTED = PERSONAL_ARGUMENTS | {"request_id", "self", "progress"}


@attrs.frozen
class Receipt(JSONReady):
    """The answer to a request id: the command, its result and the positions it wrote.

    ``first_position`` is the command's first event, ``last_position`` the receipt's own event,
    the last one written in the command's transaction: ``wait_for(last_position)`` waits for
    all of it.
    """

    command: str
    result: str | list[str]
    first_position: int
    last_position: int


@attrs.frozen
class Request:
    """A command under way with a request id."""

    request_id: str
    command: str
    fingerprint: str
    by: str
    origin: str | None


CURRENT: contextvars.ContextVar[Request | None] = contextvars.ContextVar(
    "mma_request", default=None
)


def check_request_id(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(_("request_id must be a non-empty string (e.g. a UUID)"))
    if len(value) > MAX_REQUEST_ID:
        raise InvalidInput(
            _("request_id is at most {limit} characters").format(limit=MAX_REQUEST_ID)
        )
    if any(unicodedata.category(c).startswith("C") for c in value):
        raise InvalidInput(_("request_id may not contain control characters"))
    return value


def fingerprint(command: str, arguments: Mapping[str, Any]) -> str:
    """SHA-256 of the command and its arguments in canonical JSON (personal data left out)."""
    try:
        data = {k: jsonable(v) for k, v in arguments.items() if k not in UNFINGERPRINTED}
    except TypeError as error:
        raise InvalidInput(
            _("{command}: an argument has no stable form ({error})").format(
                command=command, error=error
            )
        ) from None
    text = json.dumps([command, data], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def request_for(command: str, request_id: object, arguments: Mapping[str, Any]) -> Request:
    by = arguments.get("by")
    origin = arguments.get("origin")
    return Request(
        request_id=check_request_id(request_id),
        command=command,
        fingerprint=fingerprint(command, arguments),
        by=by if isinstance(by, str) else "-",
        origin=origin if isinstance(origin, str) else None,
    )


def stored(programme: Answerer, request_id: str, held: bool = True) -> CommandReceipt | None:
    """The receipt of ``request_id``. A command reads it through the unit of work (``held``),
    so a request answered earlier in the same atomic() block is answered again, not run twice;
    the query :func:`receipt_view` reads only what was written (a held receipt has no
    positions yet)."""
    if held:
        found = programme.uow.exists(receipt_id(request_id))
    else:
        found = bool(programme.recorder.select_events(receipt_id(request_id), limit=1))
    if not found:
        return None
    try:
        receipt: CommandReceipt = (
            programme.uow.get(receipt_id(request_id))
            if held
            else programme.repository.get(receipt_id(request_id))
        )
    except AggregateNotFoundError:  # pragma: no cover - selected just above
        return None
    return receipt


def answered(programme: Answerer, request: Request) -> CommandReceipt | None:
    """The receipt of an earlier answer to ``request``; ``RequestIdReused`` if it was another."""
    receipt = stored(programme, request.request_id)
    if receipt is None:
        return None
    if receipt.command != request.command or receipt.fingerprint != request.fingerprint:
        what = (
            _("other arguments")
            if receipt.command == request.command
            else _("another command ({command})").format(command=receipt.command)
        )
        raise RequestIdReused(
            _(
                "request_id {request_id} was used before with {what}; a retry must repeat the "
                "first call exactly, a new command needs a new request_id"
            ).format(request_id=repr(request.request_id), what=what),
            details={"request_id": request.request_id, "command": receipt.command},
        )
    return receipt


def result_of(receipt: CommandReceipt) -> Any:
    return list(receipt.result) if isinstance(receipt.result, list | tuple) else receipt.result


def receipt_view(programme: Answerer, request_id: str) -> Receipt | None:
    receipt = stored(programme, check_request_id(request_id), held=False)
    if receipt is None:
        return None
    positions = programme.keys.select_positions(receipt.id)
    last = positions.get(1, 0)
    # The command's events were saved just before the receipt, in the same transaction, and
    # a transaction's positions are consecutive (one writer at a time holds the lock).
    first = last - receipt.events if receipt.events else last
    return Receipt(receipt.command, result_of(receipt), first, last)


def save_with_receipt(programme: Answerer, held: Staged, request: Request, result: Any) -> None:
    """Save what the command held back and its receipt (last), in one transaction: at once,
    or with the rest of an enclosing ``atomic()`` block."""
    stamp = Stamp(by=request.by, origin=request.origin or programme.origin, at=programme.clock())
    receipt = CommandReceipt.issue(
        request.request_id, request.command, request.fingerprint, result, held.events, stamp
    )
    programme._save_held(held, receipt)


__all__ = ["Receipt", "check_request_id", "fingerprint"]
