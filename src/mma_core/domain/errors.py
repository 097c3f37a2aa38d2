"""Errors a coordinator can act on.

Every message names the municipality (or session, official, offer), the rule that was broken and
what to do about it. No message ever carries an official's name or e-mail address, nor anything
about a report beyond its opaque MMA reference.
"""

from __future__ import annotations

import re
from typing import ClassVar

from mma_core.domain.jsontypes import JSONObject, JSONValue

_LEADING_CODE = re.compile(r"(GM\d{4})\b")


class DomainError(Exception):
    """A command broke a rule of the programme. Nothing was written.

    ``code`` is a stable snake_case name for the kind of error (one per class, listed in
    ``docs/embedding.md``): map it to an HTTP status or a retry decision instead of parsing the
    message. ``municipality`` is the code of the municipality the error is about, where there
    is one. ``details`` holds further JSON-ready fields (never personal data).
    """

    code: ClassVar[str] = "domain_error"
    # The HTTP status a service answers it with (``mma serve`` does), and when it is raised,
    # as the table of ``docs/embedding.md`` says it (generated from these).
    http_status: ClassVar[int] = 422
    when: ClassVar[str] = "the base class: any broken rule"

    def __init__(
        self,
        message: str = "",
        *,
        municipality: str | None = None,
        details: dict[str, JSONValue] | None = None,
    ) -> None:
        super().__init__(message)
        if municipality is None:
            # Every message names its municipality first (``GM0363 Amsterdam: ...``).
            found = _LEADING_CODE.match(message)
            municipality = found.group(1) if found else None
        self.municipality: str | None = municipality
        self.details: dict[str, JSONValue] = dict(details or {})
        self._subject = ""  # a municipality named in front of the message (with_subject)

    @property
    def message(self) -> str:
        return str(self)

    def message_in(self, lang: str) -> str:
        """The message in ``lang`` (``nl`` or ``en``), whatever language was in force where
        it was raised. A message written as one translatable text is written again; one put
        together from several (a file's row errors) stays as it was raised. Values inside it
        (codes, dates) are the same in both."""
        text = self.args[0] if self.args else ""
        again = getattr(text, "in_language", None)
        if again is None:
            return self.message
        rewritten: str = again(lang)
        return f"{self._subject}: {rewritten}" if self._subject else rewritten

    def to_dict(self, lang: str | None = None) -> JSONObject:
        """The error as JSON: ``code``, ``type``, ``message``, ``municipality``, ``details``;
        with ``lang`` the message in that language (see :meth:`message_in`)."""
        return {
            "code": self.code,
            "type": type(self).__name__,
            "message": self.message if lang is None else self.message_in(lang),
            "municipality": self.municipality,
            "details": dict(self.details),
        }

    def with_subject(self, subject: str) -> None:
        """Name ``subject`` (a municipality code) in the message and the fields, if missing."""
        if self.municipality is None:
            self.municipality = subject
        if subject not in str(self):
            self._subject = subject
            text = self.args[0] if self.args else ""
            self.args = (_Prefixed(f"{subject}: {text}", text), *self.args[1:])


class _Prefixed(str):
    """A message with a municipality put in front, keeping the message it was made from."""

    def __new__(cls, text: str, original: str = "") -> _Prefixed:
        made = super().__new__(cls, text)
        made.original = original
        return made

    original: str

    def in_language(self, lang: str) -> str:
        again = getattr(self.original, "in_language", None)
        return str(self.original) if again is None else str(again(lang))


class InvalidInput(DomainError, ValueError):
    """A value is malformed or out of range (a bad code, a negative amount, an empty actor)."""

    code = "invalid_input"
    when = "a malformed value: a code, an amount, an empty `by`, a float for money"


class InvalidDate(InvalidInput):
    """A business date lies in the future or runs backwards within a lifecycle."""

    code = "invalid_date"
    when = "a date in the future, or one that runs backwards"


class UnknownMunicipality(DomainError, LookupError):
    """No municipality with that code exists (on the date asked about)."""

    code = "unknown_municipality"
    http_status = 404
    when = "no municipality by that code (on that date)"


class UnknownOfficial(DomainError, LookupError):
    """No official with that id was nominated."""

    code = "unknown_official"
    http_status = 404
    when = "no official by that id"


class UnknownSession(DomainError, LookupError):
    """No training session with that id was scheduled."""

    code = "unknown_session"
    http_status = 404
    when = "no training session by that id"


class UnknownOffer(DomainError, LookupError):
    """No offer with that reference was made."""

    code = "unknown_offer"
    http_status = 404
    when = "no offer by that reference"


class InvalidTransition(DomainError):
    """The command does not fit the municipality's current stage."""

    code = "invalid_transition"
    http_status = 409
    when = "the command does not fit the current stage"


class MergerNotInRegistry(InvalidTransition):
    """The registry lists no merger of the two municipalities. A coordinator whose registry
    lags reality merges them all the same by saying so, with a reason (``unlisted=True``)."""

    code = "merger_not_in_registry"
    when = (
        "the registry lists no such merger; `unlisted=True` with a `reason` records one it "
        "lags behind (`details.successor`)"
    )


class DuplicateReport(DomainError):
    """The MMA reference was recorded before; a reference counts once."""

    code = "duplicate_report"
    http_status = 409
    when = "the MMA reference was recorded before (`details.reference`)"


class CapacityExceeded(DomainError):
    """A training session is full, or a municipality already has two active officials."""

    code = "capacity_exceeded"
    http_status = 409
    when = "a full session, or a third active official"


class ConcurrencyConflict(DomainError):
    """Another writer changed the same aggregate at the same moment, and retrying did not help."""

    code = "concurrency_conflict"
    http_status = 409
    when = "another writer kept changing the same aggregate; retried and gave up"


class RuleViolation(DomainError):
    """A validation rule (built in or from a plugin) rejected the command."""

    code = "rule_violation"
    when = "a validator (for example a plugin) rejected the command"


class RequestIdReused(DomainError):
    """A ``request_id`` already answered a command with other arguments (or another command).

    A retry must repeat the first call exactly; a new command needs a new request id."""

    code = "request_id_reused"
    when = "a `request_id` was used before with other arguments"


class ErasureIncomplete(DomainError):
    """An official's key was deleted, but the store could not show its bytes are gone from
    the file (a reader held an old snapshot). The erasure is recorded; wipe again later."""

    code = "erasure_incomplete"
    http_status = 503
    when = (
        "the key was deleted and the erasure recorded, but the store could not show the "
        "key's bytes gone from its files (a reader held an old snapshot): call "
        "`wipe_erased_keys()` later"
    )


class UnknownPosition(DomainError, LookupError):
    """No fact a coordinator recorded stands at that position of the log."""

    code = "unknown_position"
    http_status = 404
    when = "no event at that log position (`details.position`)"


class NotCorrectable(InvalidInput):
    """The event at that position is not a fact a coordinator can retract or correct (a
    registration, a receipt, a correction itself), or the field named is not one of its own."""

    code = "not_correctable"
    when = (
        "the position holds no correctable fact (a registration, a receipt, a correction), "
        "or a field it does not have (`details.position`, `details.field`)"
    )


class AlreadyRetracted(InvalidTransition):
    """The fact at that position was retracted already: a fact is retracted once."""

    code = "already_retracted"
    when = "the fact at that position was retracted already (`details.retracted_by`)"


class DependsOn(InvalidTransition):
    """Later facts rest on the one to be retracted or corrected: amend those first."""

    code = "depends_on"
    when = (
        "later facts rest on the fact to retract (a connection with reports after it): "
        "retract those first (`details.positions`)"
    )
