"""Errors a coordinator can act on.

Every message names the municipality (or session, official, offer), the rule that was broken and
what to do about it. No message ever carries an official's name or e-mail address, nor anything
about a report beyond its opaque MMA reference.
"""

from __future__ import annotations


class DomainError(Exception):
    """A command broke a rule of the programme. Nothing was written."""


class InvalidInput(DomainError, ValueError):
    """A value is malformed or out of range (a bad code, a negative amount, an empty actor)."""


class InvalidDate(InvalidInput):
    """A business date lies in the future or runs backwards within a lifecycle."""


class UnknownMunicipality(DomainError, LookupError):
    """No municipality with that code exists (on the date asked about)."""


class UnknownOfficial(DomainError, LookupError):
    """No official with that id was nominated."""


class UnknownSession(DomainError, LookupError):
    """No training session with that id was scheduled."""


class UnknownOffer(DomainError, LookupError):
    """No offer with that reference was made."""


class InvalidTransition(DomainError):
    """The command does not fit the municipality's current stage."""


class DuplicateReport(DomainError):
    """The MMA reference was recorded before; a reference counts once."""


class CapacityExceeded(DomainError):
    """A training session is full, or a municipality already has two active officials."""


class ConcurrencyConflict(DomainError):
    """Another writer changed the same aggregate at the same moment, and retrying did not help."""


class RuleViolation(DomainError):
    """A validation rule (built in or from a plugin) rejected the command."""


class ErasureIncomplete(DomainError):
    """An official's key was deleted, but the store could not show its bytes are gone from
    the file (a reader held an old snapshot). The erasure is recorded; wipe again later."""
