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

    @property
    def message(self) -> str:
        return str(self)

    def to_dict(self) -> JSONObject:
        """The error as JSON: ``code``, ``type``, ``message``, ``municipality``, ``details``."""
        return {
            "code": self.code,
            "type": type(self).__name__,
            "message": self.message,
            "municipality": self.municipality,
            "details": dict(self.details),
        }

    def with_subject(self, subject: str) -> None:
        """Name ``subject`` (a municipality code) in the message and the fields, if missing."""
        if self.municipality is None:
            self.municipality = subject
        if subject not in str(self):
            self.args = (f"{subject}: {self}", *self.args[1:])


class InvalidInput(DomainError, ValueError):
    """A value is malformed or out of range (a bad code, a negative amount, an empty actor)."""

    code = "invalid_input"


class InvalidDate(InvalidInput):
    """A business date lies in the future or runs backwards within a lifecycle."""

    code = "invalid_date"


class UnknownMunicipality(DomainError, LookupError):
    """No municipality with that code exists (on the date asked about)."""

    code = "unknown_municipality"


class UnknownOfficial(DomainError, LookupError):
    """No official with that id was nominated."""

    code = "unknown_official"


class UnknownSession(DomainError, LookupError):
    """No training session with that id was scheduled."""

    code = "unknown_session"


class UnknownOffer(DomainError, LookupError):
    """No offer with that reference was made."""

    code = "unknown_offer"


class InvalidTransition(DomainError):
    """The command does not fit the municipality's current stage."""

    code = "invalid_transition"


class MergerNotInRegistry(InvalidTransition):
    """The registry lists no merger of the two municipalities. A coordinator whose registry
    lags reality merges them all the same by saying so, with a reason (``unlisted=True``)."""

    code = "merger_not_in_registry"


class DuplicateReport(DomainError):
    """The MMA reference was recorded before; a reference counts once."""

    code = "duplicate_report"


class CapacityExceeded(DomainError):
    """A training session is full, or a municipality already has two active officials."""

    code = "capacity_exceeded"


class ConcurrencyConflict(DomainError):
    """Another writer changed the same aggregate at the same moment, and retrying did not help."""

    code = "concurrency_conflict"


class RuleViolation(DomainError):
    """A validation rule (built in or from a plugin) rejected the command."""

    code = "rule_violation"


class RequestIdReused(DomainError):
    """A ``request_id`` already answered a command with other arguments (or another command).

    A retry must repeat the first call exactly; a new command needs a new request id."""

    code = "request_id_reused"


class ErasureIncomplete(DomainError):
    """An official's key was deleted, but the store could not show its bytes are gone from
    the file (a reader held an old snapshot). The erasure is recorded; wipe again later."""

    code = "erasure_incomplete"
