"""A command's route takes a shorter way through than FastAPI's for a request FastAPI would
accept; every other request goes FastAPI's own way. The answers must be the same either way:
the same requests to two apps on two copies of one store, one of them with FastAPI's handler
only, get the same status, the same body and write the same events."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from mma_web.api import CommandRoute
from mma_web.app import create_app
from mma_web.tokens import TokenTable

from conftest import COORDINATOR, INVITED, auth, count_events, play_campaign
from mma_core import Programme

JSON = {"Content-Type": "application/json"}
CODE = INVITED[0]
TODAY = date.today()  # the campaign invited a month ago
ACCEPT, CONNECT, LATER, REPORT = (str(TODAY - timedelta(days=n)) for n in (20, 10, 9, 5))

# (command, body as sent, extra headers)
REQUESTS: list[tuple[str, bytes | str, dict[str, str]]] = [
    ("accept", json.dumps({"code": CODE, "on": ACCEPT}), {}),
    ("accept", json.dumps({"code": CODE, "on": ACCEPT}), {}),  # refused now: accepted
    ("connect", json.dumps({"code": CODE, "on": CONNECT}), {"Idempotency-Key": "c-1"}),
    ("connect", json.dumps({"code": CODE, "on": CONNECT}), {"Idempotency-Key": "c-1"}),
    ("connect", json.dumps({"code": CODE, "on": LATER}), {"Idempotency-Key": "c-1"}),
    ("connect", json.dumps({"code": CODE, "on": CONNECT}), {"Idempotency-Key": "a b"}),
    ("connect", json.dumps({"code": CODE, "on": CONNECT}), {"Idempotency-Key": ""}),
    ("connect", json.dumps({"code": CODE, "on": CONNECT}), {"Idempotency-Key": "x" * 129}),
    (
        "record_report",
        json.dumps({"code": CODE, "received_on": REPORT, "category": "fraude", "reference": "R-1"}),
        {},
    ),
    (
        "record_report",
        json.dumps({"code": CODE, "received_on": REPORT, "category": "fraude", "reference": "R-1"}),
        {},
    ),
    ("record_report", json.dumps({"code": CODE, "received_on": REPORT}), {}),
    ("record_report", json.dumps({"code": CODE, "surplus": 1}), {}),
    ("record_report", json.dumps([{"code": CODE}]), {}),
    ("record_report", json.dumps("GM0363"), {}),
    ("record_report", "null", {}),
    ("record_report", "", {}),
    ("record_report", "{not json", {}),
    ("record_report", json.dumps({"code": "GM9", "received_on": "x"}), {}),
    ("accept", json.dumps({"code": CODE, "on": "2026-1-5"}), {}),
    ("accept", json.dumps({"code": CODE, "on": ACCEPT}), {"Content-Type": "text/plain"}),
    ("invite_all", json.dumps({"on": REPORT, "reference": "1298348/1298354"}), {}),
    ("decline", json.dumps({"code": INVITED[1], "on": REPORT, "reason": None}), {}),
]


@pytest.fixture
def two_stores(tmp_path: Path) -> Iterator[tuple[Programme, Programme]]:
    first = tmp_path / "a.sqlite"
    with Programme.open(f"sqlite:///{first}", origin="test") as prog:
        play_campaign(prog)
    shutil.copy(first, tmp_path / "b.sqlite")
    with (
        Programme.open(f"sqlite:///{first}", origin="web") as a,
        Programme.open(f"sqlite:///{tmp_path / 'b.sqlite'}", origin="web") as b,
    ):
        yield a, b


def _answers(prog: Programme) -> list[tuple[int, Any, int]]:
    app = create_app(prog, TokenTable.parse_env(f"{COORDINATOR}:coordinator:Anna"))
    answers = []
    with TestClient(app, base_url="https://testserver") as client:
        for name, body, headers in REQUESTS:
            response = client.post(
                f"/api/v1/commands/{name}",
                content=body,
                headers={**auth(COORDINATOR), **JSON, **headers},
            )
            answers.append((response.status_code, response.json(), count_events(prog)))
    return answers


def test_the_short_way_answers_as_fastapi_does(
    two_stores: tuple[Programme, Programme], monkeypatch: pytest.MonkeyPatch
) -> None:
    short, fastapi_only = two_stores
    ours = _answers(short)
    monkeypatch.setattr(CommandRoute, "get_route_handler", APIRoute.get_route_handler)
    theirs = _answers(fastapi_only)
    statuses = [status for status, _, _ in ours]
    assert {200, 409, 415, 422} <= set(statuses)  # the battery reaches each kind of answer
    assert ours == theirs
