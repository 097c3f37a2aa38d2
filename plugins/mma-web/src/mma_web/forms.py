"""The coordinator's forms: what each asks, and the command it records.

A form is read into the command's arguments here; anything malformed (a date that is not a
date, an empty required field) is a :class:`FormError` naming its field before any command
runs, and a rule the programme enforces is its ``DomainError``. Either way nothing is written
and the page shows the error next to the field (or atop the form) with what was typed.

A form marked ``final`` records what cannot be undone (a termination, a withdrawal, a merger):
the page asks for confirmation first, showing what will be recorded.

Every text is marked with ``_`` (:mod:`mma_web.words`): English in the source, Dutch on the page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

import attrs

from mma_core import Money
from mma_core.plugin_api import MMA_CATEGORIES
from mma_web.words import _


class FormError(ValueError):
    """A field could not be read; the message is Dutch and names the field. ``field`` is the
    field's name, for the page to show the message next to it."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@attrs.frozen
class Field:
    name: str
    label: str
    kind: str = "text"  # text, email, date, select, money, number, textarea, checkbox
    required: bool = True
    choices: tuple[tuple[str, str], ...] = ()  # (value, label); "officials"/"sessions" filled late
    dynamic: str | None = None  # "officials", "sessions" or "municipalities": filled per page
    hint: str = ""


@attrs.frozen
class Form:
    key: str
    title: str
    command: Callable[[Mapping[str, str]], tuple[str, dict[str, Any]]]
    fields: tuple[Field, ...]
    submit: str
    # What the page says once it was recorded.
    done: str = ""
    # What cannot be undone: the page shows what will be recorded and asks to confirm.
    final: bool = False
    # The field a rule's error belongs next to, by the error's code (else atop the form).
    error_fields: Mapping[str, str] = attrs.field(factory=dict)

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


def _text(values: Mapping[str, str], field: str, label: str, required: bool = True) -> str:
    value = values.get(field, "").strip()
    if required and not value:
        raise FormError(_("{label}: fill in this field").format(label=label), field)
    return value


def _date(values: Mapping[str, str], field: str, label: str, required: bool = True) -> date | None:
    text = _text(values, field, label, required)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise FormError(
            _("{label}: not a valid date (yyyy-mm-dd)").format(label=label), field
        ) from None


def _money(values: Mapping[str, str], field: str, label: str) -> Money | None:
    text = _text(values, field, label, required=False).replace("€", "").strip()
    if not text:
        return None
    if "," in text:  # Dutch: 1.234,50
        text = text.replace(".", "").replace(",", ".")
    try:
        return Money(text)
    except Exception:
        raise FormError(
            _("{label}: not a valid amount (for example 1.234,50)").format(label=label), field
        ) from None


def _count(values: Mapping[str, str], field: str, label: str) -> int | None:
    text = _text(values, field, label, required=False)
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        raise FormError(_("{label}: a whole number, 0 or more").format(label=label), field)
    return int(text)


def _choice(values: Mapping[str, str], field: Field) -> str:
    value = _text(values, field.name, field.label, field.required)
    if value and field.choices and value not in {v for v, _label in field.choices}:
        allowed = ", ".join(label for _value, label in field.choices)
        raise FormError(
            _("{label}: choose one of {choices}").format(label=field.label, choices=allowed),
            field.name,
        )
    return value


def _answer(v: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    decision = _choice(v, DECISION)
    on = _date(v, "datum", _("Date"))
    if decision == "akkoord":
        return "accept", {"on": on}
    return "decline", {"on": on, "reason": _text(v, "reden", _("Reason"), required=False)}


def _official(v: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    return "nominate_official", {
        "name": _text(v, "naam", _("Name")),
        "email": _text(v, "email", _("E-mail address")),
        "on": _date(v, "datum", _("Date"), required=False),
    }


def _booking(v: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    return "book_training", {
        "official_id": _text(v, "functionaris", _("Official")),
        "session_id": _text(v, "sessie", _("Training")),
        "on": _date(v, "datum", _("Date"), required=False),
    }


def _attendance(v: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    present = _choice(v, PRESENT)
    return "record_attendance", {
        "official_id": _text(v, "functionaris", _("Official")),
        "session_id": _text(v, "sessie", _("Training")),
        "attended": present == "ja",
    }


def _connection(v: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    return "connect", {"on": _date(v, "datum", _("Connection date"))}


def _report(v: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    return "record_report", {
        "received_on": _date(v, "ontvangen", _("Received on")),
        "category": _text(v, "categorie", _("Category")),
        "reference": _text(v, "kenmerk", _("MMA reference")),
    }


def _evaluation(v: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    outcome = _choice(v, OUTCOME)
    satisfaction = _choice(v, SATISFACTION)
    return "evaluate", {
        "on": _date(v, "datum", _("Date")),
        "outcome": outcome,
        "useful": _count(v, "nuttig", USEFUL.label),
        "followed_up": _count(v, "opgevolgd", FOLLOWED_UP.label),
        "satisfaction": int(satisfaction) if satisfaction else None,
        "recovered": _money(v, "teruggevorderd", _("Amount recovered")),
        "reasons": _text(v, "redenen", _("Reasons for the decision"), required=False),
        "notes": _text(v, "notities", _("Notes"), required=False),
    }


def _renewal(v: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    return "renew", {"on": _date(v, "datum", _("Renewal date"))}


def _termination(v: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    return "terminate", {
        "on": _date(v, "datum", _("Last day of participation")),
        "reason": _text(v, "reden", _("Reason"), required=False),
    }


def _withdrawal(v: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    return "withdraw_official", {
        "official_id": _text(v, "functionaris", _("Official")),
        "on": _date(v, "datum", _("Withdrawn from"), required=False),
    }


def _merger(v: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    into = _text(v, "opvolger", _("Merges into")).upper()
    on = _date(v, "datum", _("Merger date"))
    unlisted = v.get("niet-in-register", "") == "ja"
    reason = _text(v, "reden", _("Reason"), required=False)
    if unlisted and not reason:
        raise FormError(
            _(
                "Reason: a merger the registry does not list needs a reason (which decision, "
                "why the registry lags)"
            ),
            "reden",
        )
    return "merge", {"into": into, "on": on, "unlisted": unlisted, "reason": reason}


DECISION = Field(
    "besluit",
    _("Decision"),
    "select",
    choices=(("akkoord", _("Accepted (takes part)")), ("afgewezen", _("Declined"))),
)
PRESENT = Field("aanwezig", _("Attended"), "select", choices=(("ja", _("Yes")), ("nee", _("No"))))
OUTCOME = Field(
    "uitkomst",
    _("Outcome"),
    "select",
    choices=(("continue", _("Continue")), ("stop", _("Stop"))),
)
USEFUL = Field(
    "nuttig",
    _("Useful reports"),
    "number",
    required=False,
    hint=_("How many of the term's reports were of use; at most the reports received."),
)
FOLLOWED_UP = Field(
    "opgevolgd",
    _("Reports followed up"),
    "number",
    required=False,
    hint=_("How many of them the municipality acted on; at most the useful ones."),
)
SATISFACTION = Field(
    "tevredenheid",
    _("Satisfaction"),
    "select",
    required=False,
    choices=(
        ("1", _("1 (very dissatisfied)")),
        ("2", _("2 (dissatisfied)")),
        ("3", _("3 (neutral)")),
        ("4", _("4 (satisfied)")),
        ("5", _("5 (very satisfied)")),
    ),
)
DATE = Field("datum", _("Date"), "date")
OFFICIAL = Field("functionaris", _("Official"), "select", dynamic="officials")
SESSION = Field("sessie", _("Training"), "select", dynamic="sessions")
FORMS: dict[str, Form] = {
    form.key: form
    for form in (
        Form(
            "antwoord",
            _("Answer to the offer"),
            _answer,
            (DECISION, DATE, Field("reden", _("Reason (when declined)"), required=False)),
            _("Record the answer"),
            done=_("The answer was recorded."),
        ),
        Form(
            "functionaris",
            _("Nominate a public order and safety official"),
            _official,
            (
                Field("naam", _("Name")),
                Field("email", _("E-mail address"), "email"),
                Field("datum", _("Date"), "date", required=False),
            ),
            _("Nominate the official"),
            done=_("The official was nominated."),
        ),
        Form(
            "boeking",
            _("Book a training"),
            _booking,
            (OFFICIAL, SESSION, Field("datum", _("Date"), "date", required=False)),
            _("Book the training"),
            done=_("The training was booked."),
        ),
        Form(
            "aanwezigheid",
            _("Record attendance"),
            _attendance,
            (OFFICIAL, SESSION, PRESENT),
            _("Record the attendance"),
            done=_("The attendance was recorded."),
        ),
        Form(
            "aansluiting",
            _("Record the connection"),
            _connection,
            (Field("datum", _("Connection date"), "date"),),
            _("Record the connection"),
            done=_("The connection was recorded."),
        ),
        Form(
            "melding",
            _("Record a report"),
            _report,
            (
                Field("ontvangen", _("Received on"), "date"),
                Field(
                    "categorie",
                    _("Category"),
                    "select",
                    choices=tuple((c, c) for c in MMA_CATEGORIES),
                ),
                Field("kenmerk", _("MMA reference")),
            ),
            _("Record the report"),
            done=_("The report was recorded."),
        ),
        Form(
            "evaluatie",
            _("Record the evaluation"),
            _evaluation,
            (
                DATE,
                OUTCOME,
                USEFUL,
                FOLLOWED_UP,
                SATISFACTION,
                Field("teruggevorderd", _("Amount recovered (€)"), "money", required=False),
                Field("redenen", _("Reasons for the decision"), "textarea", required=False),
                Field("notities", _("Notes"), "textarea", required=False),
            ),
            _("Record the evaluation"),
            done=_("The evaluation was recorded."),
            error_fields={"invalid_date": "datum"},
        ),
        Form(
            "verlenging",
            _("Record the renewal"),
            _renewal,
            (Field("datum", _("Renewal date"), "date"),),
            _("Record the renewal"),
            done=_("The renewal was recorded."),
        ),
        Form(
            "beeindigen",
            _("End the participation"),
            _termination,
            (
                Field(
                    "datum",
                    _("Last day of participation"),
                    "date",
                    hint=_("On or after the last report received."),
                ),
                Field("reden", _("Reason"), "textarea", required=False),
            ),
            _("Next: check and confirm"),
            done=_("The participation was ended."),
            final=True,
            error_fields={"invalid_date": "datum"},
        ),
        Form(
            "afmelden",
            _("Withdraw an official"),
            _withdrawal,
            (
                OFFICIAL,
                Field(
                    "datum",
                    _("Withdrawn from"),
                    "date",
                    required=False,
                    hint=_("Empty: today. A seat on a training still to come is released."),
                ),
            ),
            _("Next: check and confirm"),
            done=_("The official was withdrawn."),
            final=True,
            error_fields={
                "invalid_date": "datum",
                "unknown_official": "functionaris",
                "invalid_transition": "functionaris",
            },
        ),
        Form(
            "fusie",
            _("Record a merger"),
            _merger,
            (
                Field("opvolger", _("Merges into"), "select", dynamic="municipalities"),
                Field("datum", _("Merger date"), "date"),
                Field(
                    "niet-in-register",
                    _("The registry does not list this merger"),
                    "checkbox",
                    required=False,
                    hint=_(
                        "Only when the registry lags reality: the merger is recorded as not "
                        "listed, with the reason."
                    ),
                ),
                Field(
                    "reden",
                    _("Reason"),
                    "textarea",
                    required=False,
                    hint=_("Required for a merger the registry does not list."),
                ),
            ),
            _("Next: check and confirm"),
            done=_("The merger was recorded."),
            final=True,
            error_fields={
                "merger_not_in_registry": "opvolger",
                "unknown_municipality": "opvolger",
                "invalid_input": "opvolger",
                "invalid_transition": "opvolger",
                "invalid_date": "datum",
            },
        ),
    )
}
