"""The programme's public contract as one list: every command and query a service calls.

:class:`~mma_core.application.aio.AsyncProgramme` is built from it (one coroutine per name),
the command table of ``docs/embedding.md`` is generated from it (``tools/api_table.py``), and
a test checks that it names every public method of ``Programme`` and that ``AsyncProgramme``
has each one with the same signature.
"""

from __future__ import annotations

# Commands record what happened; each takes ``by=`` and ``request_id=``.
COMMANDS: tuple[str, ...] = (
    "register_registry",
    "make_offer",
    "change_offer_terms",
    "sign_covenant",
    "schedule_training",
    "invite",
    "invite_all",
    "record_prior_connection",
    "accept",
    "decline",
    "connect",
    "record_report",
    "record_reports",
    "evaluate",
    "renew",
    "terminate",
    "merge",
    "record_address",
    "nominate_official",
    "book_training",
    "record_attendance",
    "withdraw_official",
    "erase_official",
    "retract",
    "correct",
)

# Queries say where things stand; they write nothing.
QUERIES: tuple[str, ...] = (
    "municipality",
    "overview",
    "cost_lines",
    "codes",
    "history",
    "session_history",
    "amendable",
    "evaluations",
    "sessions",
    "addresses",
    "offer",
    "offers",
    "offer_terms",
    "due",
    "receipt",
    "event_count",
    "last_position",
    "wait_for",
    "health",
    "today",
)

# Upkeep a service may call: the erased keys' bytes wiped from the store's files.
OPERATIONS: tuple[str, ...] = ("wipe_erased_keys", "copy_store")

# Public names of Programme (besides those of eventsourcing's Application) that are not calls
# of the contract: opening, the transaction block, following the log (an iterator:
# AsyncProgramme has its own), upgrading a store, and what the read models and plugins use.
NOT_IN_THE_LIST: frozenset[str] = frozenset(
    {
        "open",
        "atomic",
        "follow",
        "upgrade_store",
        "aggregate_events",
        "events_of_type",
        "reveal",
        "validate",
    }
)

ALL: tuple[str, ...] = COMMANDS + QUERIES + OPERATIONS

__all__ = ["ALL", "COMMANDS", "NOT_IN_THE_LIST", "OPERATIONS", "QUERIES"]
