"""Retracting and correcting a recorded fact from a municipality's history: which fields a
correction form shows, how what was typed is read, and what the confirmation shows will change.

The fields a correction of each fact can change are the core's (``CORRECTABLE``); this module
gives each its label, its kind of input and how its text is read, with a Dutch error naming
the field. Only the fields whose value was changed are sent to ``Programme.correct``; the
core reads them again (``coerce``) and checks every rule.

Every text is marked with ``_`` (:mod:`mma_web.words`): English in the source, Dutch on the page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from mma_core import Money
from mma_core.plugin_api import CORRECTABLE, MMA_CATEGORIES
from mma_web.forms import (
    FOLLOWED_UP,
    OUTCOME,
    SATISFACTION,
    USEFUL,
    Field,
    FormError,
    _choice,
    _count,
    _date,
    _money,
    _text,
)
from mma_web.words import _

# The two amendments, by the last part of their address.
RETRACT = "intrekken"
CORRECT = "corrigeren"
ACTIONS = (RETRACT, CORRECT)
# The correction's own reason (why the record was wrong), as the form names it.
REASON = Field(
    "reden",
    _("Reason"),
    hint=_("Why the record was wrong, in one line; no names or other personal data."),
)
YES_NO = (("ja", _("Yes")), ("nee", _("No")))

# Each correctable field of a fact: its input on the form (named by the fact's own field
# name) and whether it may be left empty.
FIELDS: Mapping[str, Field] = {
    "on": Field("on", _("Date"), "date"),
    "connected_on": Field("connected_on", _("Connected on"), "date"),
    "received_on": Field("received_on", _("Received on"), "date"),
    "costs": Field("costs", _("Costs (€)"), "money"),
    "recovered": Field("recovered", _("Amount recovered (€)"), "money"),
    "category": Field(
        "category", _("Category"), "select", choices=tuple((c, c) for c in MMA_CATEGORIES)
    ),
    "reference": Field("reference", _("MMA reference")),
    "outcome": Field("outcome", OUTCOME.label, "select", choices=OUTCOME.choices),
    "useful": Field("useful", USEFUL.label, "number", required=False),
    "followed_up": Field("followed_up", FOLLOWED_UP.label, "number", required=False),
    "satisfaction": Field(
        "satisfaction", SATISFACTION.label, "select", required=False, choices=SATISFACTION.choices
    ),
    "notes": Field("notes", _("Notes"), "textarea", required=False),
    "reasons": Field("reasons", _("Reasons for the decision"), "textarea", required=False),
    "reason": Field("reason", _("Reason given"), "textarea", required=False),
    "name": Field("name", _("Name")),
    "email": Field("email", _("E-mail address"), "email"),
    "salutation": Field("salutation", _("Salutation"), required=False),
    "session_id": Field("session_id", _("Training (its code)")),
    "attended": Field("attended", _("Attended"), "select", choices=YES_NO),
}
# The order the form shows them in.
ORDER = tuple(FIELDS)


def correctable(fact: str) -> bool:
    """Whether a fact of this kind (an event's name) can be retracted and corrected."""
    return bool(CORRECTABLE.get(fact))


def fields_of(fact: str, current: Mapping[str, Any]) -> list[Field]:
    """The fields a correction of ``fact`` can change that the fact holds (an erased
    official's name is no longer there to correct)."""
    allowed = CORRECTABLE.get(fact, frozenset())
    return [FIELDS[name] for name in ORDER if name in allowed and name in current]


def as_typed(value: object) -> str:
    """A fact's value as its input shows it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Money):
        return f"{value.amount:.2f}".replace(".", ",")
    return str(value)


def read(f: Field, values: Mapping[str, str]) -> object:
    """What was typed in ``f``, as the fact holds it; a Dutch ``FormError`` next to the
    field when it cannot be."""
    readers: dict[str, Callable[[], object]] = {
        "date": lambda: _date(values, f.name, f.label),
        "money": lambda: _money_required(values, f),
        "number": lambda: _count(values, f.name, f.label),
    }
    if f.kind in readers:
        return readers[f.kind]()
    if f.kind == "select":
        chosen = _choice(values, f)
        if f.name == "attended":
            return chosen == "ja"
        if f.name == "satisfaction":
            return int(chosen) if chosen else None
        return chosen
    text = _text(values, f.name, f.label, f.required)
    if ("\n" in text or "\r" in text) and f.kind != "textarea":
        raise FormError(_("{label}: one line only").format(label=f.label), f.name)
    return text


def _money_required(values: Mapping[str, str], f: Field) -> Money | None:
    _text(values, f.name, f.label)  # an amount is never left empty: 0 is an amount
    return _money(values, f.name, f.label)


def changes(
    fields: list[Field], current: Mapping[str, Any], values: Mapping[str, str]
) -> dict[str, object]:
    """The fields whose typed value differs from the fact's, as the fact would hold them.

    A field that was not sent keeps its value; each field that cannot be read is a
    ``FormError`` next to it (the first found)."""
    changed: dict[str, object] = {}
    for f in fields:
        if f.name not in values:
            continue
        new = read(f, values)
        old = current.get(f.name)
        if isinstance(old, str) and new is None:
            new = ""
        if new != old:
            changed[f.name] = new
    return changed


def shown(f: Field, value: object, datum: Callable[[date], str], geld: Callable[[Any], str]) -> str:
    """A value as a person reads it on the confirmation page."""
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, date):
        return datum(value)
    if isinstance(value, Money):
        return geld(value)
    if f.kind == "select":
        return dict(f.choices).get(str(value), str(value))
    return str(value)


def keyword(name: str) -> str:
    """The keyword ``Programme.correct`` takes a field by: a fact's own ``reason`` is
    ``fact_reason`` (``reason`` says why the correction is made)."""
    return "fact_reason" if name == "reason" else name


def in_words(message: str, fields: list[Field]) -> str:
    """A rule's message with the fact's field names (``received_on``) as the form labels
    them: the core names a field in the message by its name."""
    for f in sorted(fields, key=lambda f: len(f.name), reverse=True):
        if "_" in f.name:
            message = message.replace(f.name, f.label.lower())
    return message


__all__ = [
    "ACTIONS",
    "CORRECT",
    "FIELDS",
    "REASON",
    "RETRACT",
    "as_typed",
    "changes",
    "correctable",
    "fields_of",
    "in_words",
    "keyword",
    "read",
    "shown",
]
