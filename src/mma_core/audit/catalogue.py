"""The event catalogue: ``docs/events.md`` and one JSON Schema per event type under
``docs/schemas/``, generated from the event classes, so that an auditor can read every stored
event without this library.

    python -m mma_core.audit.catalogue [DOCS_DIR]   # regenerate (default: docs)

A test compares the committed files with what this module generates: a changed event class
makes it fail until the catalogue is regenerated.
"""

from __future__ import annotations

import inspect
import json
import re
import sys
import types
import typing
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, CanInitAggregate
from eventsourcing.utils import get_topic

from mma_core.domain.budget import Budget
from mma_core.domain.municipality import Municipality
from mma_core.domain.offer import Offer
from mma_core.domain.receipt import CommandReceipt
from mma_core.domain.report_claim import ReportClaim
from mma_core.domain.training import TrainingSession
from mma_core.domain.values import CostLine, Money, ReportCategories, Terms

# Fields stored as plain strings whose values are one of a fixed list.
ENUMS: dict[str, tuple[dict[str, Any], str]] = {
    "Municipality.ReportReceived.category": (
        {"type": "string", "enum": [category.value for category in ReportCategories]},
        "string, one of the 17 categories (`mma_core.ReportCategories`)",
    ),
}

AGGREGATES: tuple[type[Aggregate], ...] = (
    Municipality,
    Offer,
    TrainingSession,
    ReportClaim,
    Budget,
    CommandReceipt,
)
# Kept by the recorder in the row, not in the state.
ROW_FIELDS = ("originator_id", "originator_version")
SCHEMA_BASE = "https://mma-core.example/schemas/"

# What each field means; "Event.field" overrides the field's general meaning for one type.
MEANINGS: dict[str, str] = {
    "timestamp": "when the store recorded the event (UTC); the `known_at` axis",
    "Municipality.Evaluated.reports": "reports received in the term, counted from the history "
    "when the evaluation was recorded; null in evaluations recorded before it was kept",
    "Municipality.Evaluated.useful": "how many of the term's reports were useful; null: not said",
    "Municipality.Evaluated.followed_up": "how many of the term's reports were followed up; "
    "null: not said",
    "Municipality.Evaluated.satisfaction": "satisfaction with MMA from 1 to 5; null: not said",
    "Municipality.Evaluated.reasons": "the reasons for the decision (no personal data)",
    "Municipality.FactRetracted.on": "the amended fact's business date: the retraction "
    "counts from it on the `as_of` axis",
    "Municipality.FactRestated.on": "the corrected fact's business date (moved, if the "
    "correction moved it)",
    "Municipality.FactRetracted.position": "the log position of the fact retracted (for a "
    "corrected fact too: its original position)",
    "Municipality.FactRestated.position": "the log position of the fact corrected",
    "Municipality.FactRetracted.version": "the retracted fact's version in this aggregate",
    "Municipality.FactRestated.version": "the corrected fact's version in this aggregate",
    "Municipality.FactRetracted.fact": "the retracted fact's event name, e.g. ReportReceived",
    "Municipality.FactRestated.fact": "the corrected fact's event name, e.g. ReportReceived",
    "Municipality.FactRetracted.data": "the fact's fields as they stood before (as that "
    "event stores them)",
    "Municipality.FactRestated.data": "the fact's fields as corrected, in full (as that event "
    "stores them; a moved date is priced again)",
    "Municipality.FactRetracted.reason": "why the fact was retracted or corrected (free "
    "text, required, no personal data)",
    "Municipality.FactRestated.reason": "why the fact was corrected (free text, required, no "
    "personal data)",
    "Municipality.FactRetracted.corrected": "true: part of a correction, a FactRestated "
    "follows; false: the fact was never true",
    "Municipality.FactRetracted.reports_from": "a retracted report: the day of the first "
    "report left (null: none left, or another fact)",
    "Municipality.FactRetracted.reports_until": "a retracted report: the day of the last "
    "report left (null: none left, or another fact)",
    "TrainingSession.ScheduleRetracted.on": "the day the session was planned (the retracted "
    "schedule's `on`): the session was never scheduled, on every day",
    "TrainingSession.ScheduleRetracted.position": "the log position of the session's "
    "`Scheduled` event",
    "TrainingSession.ScheduleRetracted.reason": "why the schedule was retracted (free text, "
    "required, no personal data)",
    "TrainingSession.ScheduleCorrected.on": "the day the session was planned (the corrected "
    "schedule's `on`): the session is read as corrected on every day",
    "TrainingSession.ScheduleCorrected.position": "the log position of the session's "
    "`Scheduled` event (a later correction of it names the same)",
    "TrainingSession.ScheduleCorrected.reason": "why the schedule was corrected (free text, "
    "required, no personal data)",
    "TrainingSession.ScheduleCorrected.starts_at": "when the session starts, as corrected "
    "(every field of the schedule is given, changed or not)",
    "TrainingSession.ScheduleCorrected.capacity": "the seats, as corrected; never fewer than "
    "the officials holding one",
    "Municipality.AddressRecorded.on": "the day the address took effect; a later "
    "AddressRecorded replaces it from its own day",
    "Municipality.AddressRecorded.body": "the body a letter is addressed to, e.g. College van "
    "burgemeester en wethouders van de gemeente Amsterdam; empty: the mayor (an organisation, "
    "not a person)",
    "Municipality.AddressRecorded.street": "a street and number or a PO box, e.g. Postbus 202",
    "Municipality.AddressRecorded.postcode": "the Dutch postcode, written 1000 AE",
    "Municipality.AddressRecorded.place": "the place, e.g. Amsterdam",
    "ReportClaim.Released.on": "the day the reference was released (its report retracted, "
    "or its reference corrected)",
    "ReportClaim.Reclaimed.received_on": "the day MMA received the report that takes the "
    "released reference again",
    "ReportClaim.Reclaimed.code": "the CBS code of the municipality the report counts for",
    "Budget.Opened.tariff": "the name of the calculator whose budget this is, e.g. fryslan-2022 "
    "(the aggregate's id derives from it)",
    "Budget.Opened.ceiling": "the most the tariff pays over all municipalities together",
    "Budget.Opened.charged_before": "what the tariff's cost lines charged before the budget "
    "was kept, less the reversal lines that took one of them back (read from the ledger when "
    "it was opened); 0.00 in a store that kept it from the first connection",
    "Budget.Charged.on": "the day of the connection charged",
    "Budget.Charged.code": "the CBS code of the municipality whose connection was charged",
    "Budget.Charged.amount": "what the connection was charged (0.00 once nothing is left); "
    "charged = charged_before + the Charged amounts - the Refunded amounts, and what is left "
    "is the ceiling minus charged (never below 0.00)",
    "Budget.Refunded.on": "the day of the connection whose charge is given back (its date as "
    "it stood before the correction)",
    "Budget.Refunded.code": "the CBS code of the municipality whose connection was retracted "
    "or priced again",
    "Budget.Refunded.amount": "what is given back: the connection's amount as it stood, "
    "taken off charged (more than 0.00, never more than charged)",
    "Budget.Refunded.reverses": "the log position of the connection fact retracted or "
    "corrected (its original position: the reversal line's `reverses:<position>`)",
    "Offer.CovenantSigned.place": "where the covenant was signed, e.g. the mayors' conference",
    "originator_topic": "the aggregate's class; only in the event that creates the aggregate",
    "class_version": "the event class's version, written when above 1 (see Versions)",
    "by": "who recorded it (a role or name, never a reporter)",
    "origin": "the channel it came through: cli, api, demo or a service name",
    "on": "the day the fact took effect (the `as_of` axis)",
    "code": "the municipality's CBS code, e.g. GM0363",
    "name": "the municipality's name",
    "province": "the province's CBS code, e.g. PV27",
    "valid_from": "first day the municipality exists; null: before 2019",
    "valid_until": "last day the municipality exists; null: it still does",
    "successor": "the municipality's successor's CBS code after a merger",
    "population": "inhabitants, from the registry; null when unknown",
    "registry": "the registry the row came from, e.g. noord-holland-2019",
    "offer_reference": "the offer the municipality was invited under (letter reference)",
    "connected_on": "the day an earlier (prior) connection to MMA started",
    "costs": "the costs of the prior connection, in euros",
    "evaluation_due": "the day the connection's evaluation is due",
    "cost": "the connection fee, as a cost line",
    "compensation": "the compensation owed for a prior connection, as a cost line",
    "received_on": "the day MMA received the report (the `as_of` axis for reports)",
    "category": "the report's MMA category (one of the 17 of the contract)",
    "reference": "the reference: of a report (MMA's number) or of an offer (the letter's)",
    "fee": "the report fee, as a cost line",
    "outcome": "the evaluation's outcome: continue or stop",
    "recovered": "euros recovered through reports, as the evaluation records it",
    "notes": "the evaluation's notes (no personal data)",
    "reason": "why (free text, at most 500 characters, no personal data)",
    "predecessor": "the absorbed municipality's CBS code",
    "unlisted": (
        "true: the registry does not list this merger; the coordinator recorded it all the "
        "same, saying why in reason"
    ),
    "connected_by_succession": "whether this municipality became connected by the merger",
    "official_id": "the official's id: CBS code and a number, e.g. GM0363-1",
    "personal_data": "the official's name and e-mail (and the salutation, when set), AES-GCM "
    "encrypted under the official's own key (`v1:` and base64); unreadable once the official is "
    "erased",
    "session_id": "the training session's id",
    "session_date": "the day of the booked training session",
    "attended": "whether the official attended the session",
    "terms": "the offer's terms (fees, payers, evaluation period)",
    "starts_at": "when the session starts (with its UTC offset)",
    "ends_at": "when the session ends (with its UTC offset)",
    "location": "where the session is held",
    "capacity": "seats in the session",
    "online": "whether the session is held online",
    "Offer.Made.on": "the day the offer's letter was sent",
    "Offer.TermsChanged.on": "the day the new terms take effect",
    "ReportClaim.Claimed.code": "the CBS code of the municipality the report counts for",
    "ReportClaim.Claimed.reference": "the report's MMA reference (claimed once in the programme)",
    "Municipality.PredecessorMerged.offer_reference": "the offer a successor connected by "
    "succession continues under, when it had none of its own",
    "Municipality.Renewed.fee": "the yearly fee charged at this renewal, as a cost line; null "
    "or absent: none (renewals recorded before yearly fees existed)",
    "Municipality.Merged.successor": "the CBS code of the municipality it merged into",
    "CommandReceipt.Issued.request_id": "the caller's request id the command was given",
    "CommandReceipt.Issued.command": "the command's name, e.g. accept",
    "CommandReceipt.Issued.fingerprint": "SHA-256 (hex) of the command's arguments in canonical "
    "JSON, officials' names and e-mail addresses left out",
    "CommandReceipt.Issued.result": "what the command returned: a string, or a list of strings",
    "CommandReceipt.Issued.events": "how many events the command wrote, saved just before this "
    "one in the same transaction",
}

_TAGGED = {
    date: ("date_iso", {"type": "string", "format": "date"}, "date"),
    datetime: ("datetime_iso", {"type": "string", "format": "date-time"}, "date-time"),
    Money: ("money", {"type": "string", "pattern": "^-?[0-9]+\\.[0-9]{2}$"}, "euros"),
}
_COST_LINE = {
    "type": "object",
    "required": [
        "kind",
        "amount",
        "payer",
        "payee",
        "calculator",
        "calculator_version",
        "tariff_id",
    ],
    "additionalProperties": False,
    "properties": {
        "kind": {"enum": ["connection", "report_fee", "compensation"]},
        "amount": {"type": "string", "pattern": "^[0-9]+\\.[0-9]{2}$"},
        "payer": {"enum": ["province", "municipality"]},
        "payee": {"type": "string"},
        "calculator": {"type": "string"},
        "calculator_version": {"type": "string"},
        "tariff_id": {"type": "string"},
    },
}
_MONEY_OR_NULL = {"anyOf": [{"type": "string"}, {"type": "null"}]}
_TERMS = {
    "type": "object",
    "properties": {
        "evaluation_months": {"type": "integer"},
        "officials_per_municipality": {"type": "integer"},
        "connection_fee": {"type": "string"},
        "report_fee": {"type": "string"},
        "compensation_cap": _MONEY_OR_NULL,
        "connection_payer": {"enum": ["province", "municipality"]},
        "report_fee_payer": {"enum": ["province", "municipality"]},
        "compensation_payer": {"enum": ["province", "municipality"]},
    },
}


def _tagged(name: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["_type_", "_data_"],
        "additionalProperties": False,
        "properties": {"_type_": {"const": name}, "_data_": data},
    }


def type_schema(annotation: Any) -> tuple[dict[str, Any], str]:
    """The JSON Schema of a field's stored value, and the type's name for the table."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(annotation)) == 2:
            schema, name = type_schema(args[0])
            return {"anyOf": [schema, {"type": "null"}]}, f"{name} or null"
    if annotation in _TAGGED:
        tag, data, name = _TAGGED[annotation]
        return _tagged(tag, data), f"{name} (`{tag}`)"
    if annotation is CostLine:
        return _tagged("cost_line", _COST_LINE), "cost line (`cost_line`)"
    if annotation is Terms:
        return _tagged("terms", _TERMS), "terms (`terms`)"
    if annotation is bool:
        return {"type": "boolean"}, "boolean"
    if annotation is int:
        return {"type": "integer"}, "integer"
    if annotation is str:
        return {"type": "string"}, "string"
    if annotation is UUID:
        return {"type": "string", "format": "uuid"}, "UUID"
    if typing.get_origin(annotation) is dict:  # an amended fact's fields
        return {"type": "object"}, "object"
    if annotation is Any:  # a receipt's result
        strings = {"type": "array", "items": {"type": "string"}}
        return {"anyOf": [{"type": "string"}, strings]}, "string or list of strings"
    return {}, str(annotation)


@dataclass(frozen=True)
class Field:
    name: str
    type_name: str
    schema: dict[str, Any]
    required: bool
    meaning: str


@dataclass(frozen=True)
class EventType:
    aggregate: str
    name: str
    topic: str
    doc: str
    creates: bool
    version: int
    upcasters: tuple[tuple[str, str], ...]  # (method name, what it does)
    fields: tuple[Field, ...]

    @property
    def qualname(self) -> str:
        return f"{self.aggregate}.{self.name}"


def _doc(obj: Any) -> str:
    text = inspect.getdoc(obj) or ""
    inherited = {inspect.getdoc(c) for c in (Aggregate, Aggregate.Event, Aggregate.Created)}
    generated = f"{getattr(obj, '__name__', '')}("  # a dataclass's signature, not a doc
    if text in inherited or text.startswith(generated):
        return ""
    return " ".join(text.split())


def _upcast_comment(method: Any) -> str:
    """What an upcaster does: its docstring, else the comments in its body."""
    doc = _doc(method)
    if doc:
        return doc
    try:
        source = inspect.getsource(method)
    except (OSError, TypeError):
        return ""
    comments = re.findall(r"#\s*(.+)", source)
    return " ".join(c.strip() for c in comments)


def event_types() -> list[EventType]:
    found = []
    for aggregate in AGGREGATES:
        for name, value in vars(aggregate).items():
            if (
                not isinstance(value, type)
                or not issubclass(value, Aggregate.Event)
                or name in ("Event", "Created")  # the bases eventsourcing adds
            ):
                continue
            hints = typing.get_type_hints(value)
            creates = issubclass(value, CanInitAggregate)
            version = int(getattr(value, "class_version", 1))
            names = [
                n
                for n in hints
                if n not in ROW_FIELDS
                and not n.startswith("_")
                and typing.get_origin(hints[n]) is not typing.ClassVar
            ]
            names = [n for n in names if n != "originator_topic" or creates]
            if version > 1:
                names.append("class_version")
            fields = []
            for field in names:
                annotation = int if field == "class_version" else hints[field]
                schema, type_name = type_schema(annotation)
                if f"{aggregate.__name__}.{name}.{field}" in ENUMS:
                    schema, type_name = ENUMS[f"{aggregate.__name__}.{name}.{field}"]
                default = getattr(value, field, inspect.Parameter.empty)
                has_default = field != "class_version" and not isinstance(
                    default, type(inspect.Parameter.empty)
                )
                if field == "class_version":
                    schema = {"const": version}
                meaning = MEANINGS.get(f"{aggregate.__name__}.{name}.{field}") or MEANINGS.get(
                    field, ""
                )
                fields.append(Field(field, type_name, schema, not has_default, meaning))
            upcasters = tuple(
                (attr, _upcast_comment(getattr(value, attr)))
                for attr in sorted(vars(value))
                if attr.startswith("upcast_v")
            )
            found.append(
                EventType(
                    aggregate=aggregate.__name__,
                    name=name,
                    topic=get_topic(value),
                    doc=_doc(value),
                    creates=creates,
                    version=version,
                    upcasters=upcasters,
                    fields=tuple(fields),
                )
            )
    return found


def schema_of(event: EventType) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{SCHEMA_BASE}{event.qualname}.schema.json",
        "title": event.qualname,
        "description": f"The stored state (JSON) of {event.topic}"
        + (f", class version {event.version}" if event.version > 1 else "")
        + ". Older versions are read after the upcasters in docs/events.md.",
        "type": "object",
        "required": [f.name for f in event.fields if f.required],
        "additionalProperties": False,
        "properties": {
            f.name: {**f.schema, **({"description": f.meaning} if f.meaning else {})}
            for f in event.fields
        },
    }


INTRO = """# Event catalogue

<!-- Generated by `python -m mma_core.audit.catalogue` from the event classes; do not edit.
     A test fails when this page or docs/schemas/ no longer match the classes. -->

Every stored event row (see [the audit format](audit-format.md), section 1) has a **topic**, the
event's type, and a **state**: UTF-8 JSON, one object whose members are the fields below. This page
and the JSON Schemas in `docs/schemas/` (one per event type, `<Aggregate>.<Event>.schema.json`) are
enough to read a history without this library; `tools/replay_export.py` does so from an export.

**How values are written.** Strings, integers, booleans and `null` are plain JSON. Other values
are tagged objects `{"_type_": TAG, "_data_": DATA}`:

| tag | value | `_data_` |
| --- | --- | --- |
| `date_iso` | a date | `"YYYY-MM-DD"` |
| `datetime_iso` | a moment with its UTC offset | ISO 8601, e.g. `"2019-11-06T10:00:00+01:00"` |
| `money` | euros, exact to the cent | a decimal string, e.g. `"22.50"` |
{TAGGED_ROWS}

**Which events count on a day** (`as_of`): an event counts on day *D* when its business date is
on or before *D*: `received_on` for `ReportReceived` and `Claimed`, `on` for every other event
with an `on`; events without one (and a municipality's `Registered`) always count. The aggregate
an event belongs to is the row's aggregate id; the row's version orders its events.

**Versions.** An event type whose class version is above 1 writes `class_version`; a state
without it is version 1 and is read after applying the upcasters in order (`upcast_v1_v2`
turns a version 1 state into version 2, and so on).

**A municipality's stage and costs.** Fold a municipality's events that count on day *D*, in
version order. `Registered` starts it at stage `registered`; `Invited` sets `invited`,
`Accepted` `accepted`, `Declined` `declined`; `Connected` and `PriorConnectionCompensated` set
`connected`, as does `PredecessorMerged` when `connected_by_succession` is true; `Terminated`
sets `stopped` and `Merged` `merged`. No other event changes the stage. Its costs are the cost
lines of `Connected` (`cost`), `PriorConnectionCompensated` (`compensation`), `ReportReceived`
(`fee`) and `Renewed` (`fee`, when present and not null); the costs by payer are the sums of
their `amount` per `payer`. A municipality exists on *D* when `valid_from` is null or not after
*D*, `valid_until` is null or not before *D*, and no `Merged` event of it counts on *D*.

**Costs of merged municipalities.** Money paid before a merger stays paid, and stays where it
was paid: a municipality that no longer exists on *D* but whose `Merged` event counts on *D*
(or that has costs) stays in the list of municipalities, at stage `merged`, with its own costs;
its costs are never moved to its successor. The costs by payer of the whole programme on *D* are
the sums over that list: the municipalities that exist on *D* and the merged ones. So the
headline of `mma status` (`costs_by_payer`) is always the sum of the rows of `mma --json status`,
and `tools/replay_export.py` lists the same rows.
"""


TAGGED_ROWS = (
    "| `cost_line` | one cost | an object: `kind` (`connection`, `report_fee`, `compensation`), "
    "`amount` (euros, decimal string), `payer` (`province` or `municipality`), `payee`, "
    "`calculator`, `calculator_version`, `tariff_id` |\n"
    "| `terms` | an offer's terms | an object: `evaluation_months`, "
    "`officials_per_municipality`, `connection_fee`, `report_fee`, `compensation_cap` (decimal "
    "strings or null), `connection_payer`, `report_fee_payer`, `compensation_payer` |"
)


def render(events: list[EventType]) -> str:
    out = [INTRO.replace("{TAGGED_ROWS}", TAGGED_ROWS)]
    for aggregate in AGGREGATES:
        doc = _doc(aggregate)
        out.append(f"\n## {aggregate.__name__}\n")
        if doc:
            out.append(f"\n{doc}\n")
        for event in (e for e in events if e.aggregate == aggregate.__name__):
            out.append(f"\n### {event.qualname}\n\n")
            out.append(f"Topic: `{event.topic}`. ")
            if event.creates:
                out.append("Creates the aggregate. ")
            out.append(f"Class version {event.version}. ")
            out.append(f"Schema: `docs/schemas/{event.qualname}.schema.json`.\n")
            if event.doc:
                out.append(f"\n{event.doc}\n")
            out.append("\n| field | type | required | meaning |\n| --- | --- | --- | --- |\n")
            for f in event.fields:
                required = "yes" if f.required else "no"
                out.append(f"| `{f.name}` | {f.type_name} | {required} | {f.meaning} |\n")
            if event.upcasters:
                out.append("\nUpcasters:\n\n")
                for method, what in event.upcasters:
                    out.append(f"- `{method}`: {what or '(no description)'}\n")
    return "".join(out)


def generate() -> dict[str, str]:
    """Relative path under docs/ -> content, for every generated file."""
    events = event_types()
    files = {"events.md": render(events)}
    for event in events:
        text = json.dumps(schema_of(event), indent=2, ensure_ascii=False) + "\n"
        files[f"schemas/{event.qualname}.schema.json"] = text
    return files


def write(docs: Path) -> list[Path]:
    (docs / "schemas").mkdir(parents=True, exist_ok=True)
    written = []
    wanted = generate()
    for old in (docs / "schemas").glob("*.schema.json"):
        if f"schemas/{old.name}" not in wanted:
            old.unlink()
    for relative, text in wanted.items():
        path = docs / relative
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # pragma: no cover - a maintainer's command
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs")
    for path in write(target):
        print(path)
