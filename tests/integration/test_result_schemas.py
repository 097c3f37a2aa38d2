"""Every result's to_dict() is JSON and matches the JSON Schema generated into docs/."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, ValidationError

from mma_core import InvalidTransition, Money, Programme
from mma_core.application.schemas import all_schemas

SCHEMAS = Path(__file__).parents[2] / "docs" / "schemas" / "results"
OFFER = "1298348/1298354"


def validator(name: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{name}.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def valid(name: str, data: Any) -> None:
    assert json.loads(json.dumps(data)) == data, "not made of JSON types only"
    validator(name).validate(data)


def test_the_schemas_in_docs_are_current() -> None:
    expected = all_schemas()
    written = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in SCHEMAS.glob("*.json")}
    regenerate = "python -m mma_core.application.schemas docs/schemas/results"
    assert written == expected, f"regenerate: {regenerate}"


@pytest.fixture
def busy(memory_programme: Programme) -> Programme:
    prog = memory_programme
    prog.register_registry("noord-holland-2019", by="coordinator")
    prog.make_offer(reference=OFFER, sent_on=date(2019, 10, 18), by="cdk")
    prog.schedule_training(
        "2019-11-06",
        starts_at=datetime(2019, 11, 6, 10),
        ends_at=datetime(2019, 11, 6, 12, 30),
        location="Provinciehuis, Dreef 3, Haarlem",
        capacity=60,
        by="coordinator",
    )
    for code in ("GM0363", "GM0358"):
        prog.invite(code, on=date(2019, 10, 18), reference=OFFER, by="cdk")
    prog.accept("GM0363", on=date(2019, 11, 1), by="burgemeester", request_id="acc")
    oid = prog.nominate_official(
        "GM0363", name="Jan Jansen", email="jan@example.nl", on=date(2019, 11, 1), by="c"
    )
    prog.book_training(
        "GM0363", official_id=oid, session_id="2019-11-06", on=date(2019, 11, 1), by="c"
    )
    prog.record_attendance(
        "GM0363", official_id=oid, session_id="2019-11-06", attended=True, by="c"
    )
    prog.connect("GM0363", on=date(2019, 12, 1), by="coordinator")
    prog.record_report(
        "GM0363",
        received_on=date(2020, 2, 3),
        category="sociale zekerheid",
        reference="MMA-20-0001",
        by="mma",
    )
    prog.evaluate(
        "GM0363", on=date(2020, 12, 1), outcome="continue", recovered=Money("12000"), by="oov"
    )
    return prog


def test_real_results_validate_against_their_schemas(busy: Programme) -> None:
    prog = busy
    m = prog.municipality("GM0363")
    data = m.to_dict()
    valid("MunicipalityView", data)
    assert data["costs_province"] == str(m.costs_province.amount)
    assert data["officials"][0]["attended"] is True
    valid("MunicipalityView", prog.municipality("GM0363", as_of=date(2019, 11, 15)).to_dict())
    for overview in (prog.overview(), prog.overview(as_of=date(2020, 1, 1))):
        data = overview.to_dict()
        valid("Overview", data)
        assert re.fullmatch(r"[01]\.\d{4}", data["coverage"])  # a decimal string
        assert isinstance(data["waterbed"], list)
    for entry in prog.history("GM0363"):
        valid("HistoryEntry", entry.to_dict())
    records = list(prog.follow())
    assert {r.type for r in records} >= {"TrainingBooked", "Issued", "Claimed", "Scheduled"}
    for record in records:
        valid("EventRecord", record.to_dict())
    booked = next(r for r in records if r.type == "TrainingBooked")
    assert booked.to_dict()["session"]["seats_left"] == 59
    for session in prog.sessions():
        valid("SessionView", session.to_dict())
    receipt = prog.receipt("acc")
    assert receipt is not None
    valid("Receipt", receipt.to_dict())
    valid("Health", prog.health().to_dict())
    dues = prog.views.due(today=date(2020, 11, 20), within=60)
    assert dues
    for due in dues:
        valid("Due", due.to_dict())
    with pytest.raises(InvalidTransition) as caught:
        prog.accept("GM0363", on=date(2019, 11, 1), by="burgemeester")
    valid("Error", caught.value.to_dict())


def test_the_schemas_are_strict_enough_to_catch_a_wrong_type(busy: Programme) -> None:
    data = busy.municipality("GM0363").to_dict()
    data["costs_province"] = 12.5  # money as a float: what must never happen
    with pytest.raises(ValidationError):
        validator("MunicipalityView").validate(data)
    data = busy.municipality("GM0363").to_dict()
    data["connected_on"] = "1 december 2019"
    with pytest.raises(ValidationError):
        validator("MunicipalityView").validate(data)
    data = busy.municipality("GM0363").to_dict()
    data["surprise"] = 1
    with pytest.raises(ValidationError):
        validator("MunicipalityView").validate(data)
