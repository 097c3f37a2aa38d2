"""The corrections over HTTP: retract and correct as coordinator commands, with the fields to
change as an object, and their refusals with the error's own status."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from conftest import COORDINATOR, INVITED, auth, count_events
from mma_core import Programme


def _report_position(prog: Programme, code: str) -> int:
    return next(e.position for e in prog.history(code) if e.type == "ReportReceived")


def test_a_report_is_corrected_and_retracted_over_http(
    client: TestClient, programme: Programme
) -> None:
    code = INVITED[0]
    today = programme.today()
    programme.accept(code, on=today - timedelta(days=20), by="setup")
    programme.connect(code, on=today - timedelta(days=10), by="setup")
    for n in range(2):
        day = today - timedelta(days=5)
        programme.record_report(
            code, received_on=day, category="fraude", reference=f"H-{n}", by="t"
        )
    at = _report_position(programme, code)
    before = programme.municipality(code).reports_received
    moved = client.post(
        "/api/v1/commands/correct",
        json={
            "position": at,
            "reason": "date typed wrong",
            "changes": {"category": "drugsdelicten"},
        },
        headers=auth(COORDINATOR),
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["result"] == code
    events = count_events(programme)
    nothing = client.post(
        "/api/v1/commands/correct",
        json={"position": at, "reason": "again", "changes": {"category": "drugsdelicten"}},
        headers=auth(COORDINATOR),
    )
    assert nothing.status_code == 422
    assert nothing.json()["code"] == "invalid_input"
    unknown = client.post(
        "/api/v1/commands/correct",
        json={"position": at, "reason": "x", "changes": {"colour": "red"}},
        headers=auth(COORDINATOR),
    )
    assert unknown.json()["code"] == "not_correctable"
    assert count_events(programme) == events
    gone = client.post(
        "/api/v1/commands/retract",
        json={"position": at, "reason": "wrong municipality"},
        headers=auth(COORDINATOR),
    )
    assert gone.status_code == 200, gone.text
    assert programme.municipality(code).reports_received == before - 1
    twice = client.post(
        "/api/v1/commands/retract",
        json={"position": at, "reason": "wrong municipality"},
        headers=auth(COORDINATOR),
    )
    assert twice.status_code == 409
    assert twice.json()["code"] == "already_retracted"
