"""The coordinator's forms: what each asks, and the command it records.

A form is read into the command's arguments here; anything malformed (a date that is not a
date, an empty required field) is a :class:`FormError` before any command runs, and a rule the
programme enforces is its ``DomainError``. Either way nothing is written and the page shows the
error next to the form with what was typed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

import attrs

from mma_core import Money
from mma_core.plugin_api import MMA_CATEGORIES


class FormError(ValueError):
    """A field could not be read; the message is Dutch and names the field."""


@attrs.frozen
class Field:
    name: str
    label: str
    kind: str = "text"  # text, email, date, select, money, textarea
    required: bool = True
    choices: tuple[tuple[str, str], ...] = ()  # (value, label); "officials"/"sessions" filled late
    dynamic: str | None = None  # "officials" or "sessions": choices from the municipality


@attrs.frozen
class Form:
    key: str
    title: str
    command: Callable[[Mapping[str, str]], tuple[str, dict[str, Any]]]
    fields: tuple[Field, ...]
    submit: str


def _text(values: Mapping[str, str], field: str, label: str, required: bool = True) -> str:
    value = values.get(field, "").strip()
    if required and not value:
        raise FormError(f"{label}: vul dit veld in")
    return value


def _date(values: Mapping[str, str], field: str, label: str, required: bool = True) -> date | None:
    text = _text(values, field, label, required)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise FormError(f"{label}: geen geldige datum (jjjj-mm-dd)") from None


def _money(values: Mapping[str, str], field: str, label: str) -> Money | None:
    text = _text(values, field, label, required=False).replace("€", "").strip()
    if not text:
        return None
    if "," in text:  # Dutch: 1.234,50
        text = text.replace(".", "").replace(",", ".")
    try:
        return Money(text)
    except Exception:
        raise FormError(f"{label}: geen geldig bedrag (bijvoorbeeld 1.234,50)") from None


def _answer(v: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    decision = _text(v, "besluit", "Besluit")
    on = _date(v, "datum", "Datum")
    if decision == "akkoord":
        return "accept", {"on": on}
    if decision == "afgewezen":
        return "decline", {"on": on, "reason": _text(v, "reden", "Reden", required=False)}
    raise FormError("Besluit: kies akkoord of afgewezen")


def _official(v: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    return "nominate_official", {
        "name": _text(v, "naam", "Naam"),
        "email": _text(v, "email", "E-mailadres"),
        "on": _date(v, "datum", "Datum", required=False),
    }


def _booking(v: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    return "book_training", {
        "official_id": _text(v, "functionaris", "Functionaris"),
        "session_id": _text(v, "sessie", "Training"),
        "on": _date(v, "datum", "Datum", required=False),
    }


def _attendance(v: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    present = _text(v, "aanwezig", "Aanwezig")
    if present not in ("ja", "nee"):
        raise FormError("Aanwezig: kies ja of nee")
    return "record_attendance", {
        "official_id": _text(v, "functionaris", "Functionaris"),
        "session_id": _text(v, "sessie", "Training"),
        "attended": present == "ja",
    }


def _connection(v: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    return "connect", {"on": _date(v, "datum", "Datum van aansluiting")}


def _report(v: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    return "record_report", {
        "received_on": _date(v, "ontvangen", "Ontvangen op"),
        "category": _text(v, "categorie", "Categorie"),
        "reference": _text(v, "kenmerk", "MMA-kenmerk"),
    }


def _evaluation(v: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    outcome = _text(v, "uitkomst", "Uitkomst")
    if outcome not in ("continue", "stop"):
        raise FormError("Uitkomst: kies doorgaan of stoppen")
    return "evaluate", {
        "on": _date(v, "datum", "Datum"),
        "outcome": outcome,
        "recovered": _money(v, "teruggevorderd", "Teruggevorderd bedrag"),
        "notes": _text(v, "notities", "Notities", required=False),
    }


def _renewal(v: Mapping[str, str]) -> tuple[str, dict[str, Any]]:
    return "renew", {"on": _date(v, "datum", "Datum van verlenging")}


DATE = Field("datum", "Datum", "date")
OFFICIAL = Field("functionaris", "Functionaris", "select", dynamic="officials")
SESSION = Field("sessie", "Training", "select", dynamic="sessions")
FORMS: dict[str, Form] = {
    form.key: form
    for form in (
        Form(
            "antwoord",
            "Antwoord op het aanbod",
            _answer,
            (
                Field(
                    "besluit",
                    "Besluit",
                    "select",
                    choices=(("akkoord", "Akkoord (neemt deel)"), ("afgewezen", "Afgewezen")),
                ),
                DATE,
                Field("reden", "Reden (bij afwijzing)", required=False),
            ),
            "Antwoord vastleggen",
        ),
        Form(
            "functionaris",
            "OOV-functionaris aanmelden",
            _official,
            (
                Field("naam", "Naam"),
                Field("email", "E-mailadres", "email"),
                Field("datum", "Datum", "date", required=False),
            ),
            "Functionaris aanmelden",
        ),
        Form(
            "boeking",
            "Training boeken",
            _booking,
            (OFFICIAL, SESSION, Field("datum", "Datum", "date", required=False)),
            "Training boeken",
        ),
        Form(
            "aanwezigheid",
            "Aanwezigheid vastleggen",
            _attendance,
            (
                OFFICIAL,
                SESSION,
                Field("aanwezig", "Aanwezig", "select", choices=(("ja", "Ja"), ("nee", "Nee"))),
            ),
            "Aanwezigheid vastleggen",
        ),
        Form(
            "aansluiting",
            "Aansluiting vastleggen",
            _connection,
            (Field("datum", "Datum van aansluiting", "date"),),
            "Aansluiting vastleggen",
        ),
        Form(
            "melding",
            "Melding vastleggen",
            _report,
            (
                Field("ontvangen", "Ontvangen op", "date"),
                Field(
                    "categorie",
                    "Categorie",
                    "select",
                    choices=tuple((c, c) for c in MMA_CATEGORIES),
                ),
                Field("kenmerk", "MMA-kenmerk"),
            ),
            "Melding vastleggen",
        ),
        Form(
            "evaluatie",
            "Evaluatie vastleggen",
            _evaluation,
            (
                DATE,
                Field(
                    "uitkomst",
                    "Uitkomst",
                    "select",
                    choices=(("continue", "Doorgaan"), ("stop", "Stoppen")),
                ),
                Field("teruggevorderd", "Teruggevorderd bedrag (€)", "money", required=False),
                Field("notities", "Notities", "textarea", required=False),
            ),
            "Evaluatie vastleggen",
        ),
        Form(
            "verlenging",
            "Verlenging vastleggen",
            _renewal,
            (Field("datum", "Datum van verlenging", "date"),),
            "Verlenging vastleggen",
        ),
    )
}
