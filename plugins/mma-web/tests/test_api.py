"""The JSON API over a real SQLite store: access by role, commands and queries, errors as
problem+json, and the OpenAPI document."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from mma_web.app import create_app
from mma_web.models import commands
from mma_web.tokens import TokenTable, digest

from conftest import AUDITOR, COORDINATOR, COORDINATOR_ANONYMOUS, TOKENS, VIEWER, auth
from mma_core import Programme

TODAY = date.today().isoformat()


def post_routes(client: TestClient) -> list[str]:
    schema = client.get("/api/v1/openapi.json", headers=auth(VIEWER)).json()
    paths = sorted(path for path, item in schema["paths"].items() if "post" in item)
    return [p.replace("{code}", "GM0363").replace("{link_id}", "0123456789ab") for p in paths]


def test_every_command_of_programme_has_a_route(client: TestClient) -> None:
    routes = [path for path in post_routes(client) if path.startswith("/api/v1/commands/")]
    names = {spec.name for spec in commands()}
    assert routes == sorted(f"/api/v1/commands/{name}" for name in names)
    # The commands of Programme, found by their ``by`` argument, include the lifecycle.
    assert {"accept", "connect", "record_report", "nominate_official", "renew"} <= names


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer not-a-configured-token-xx"}, 401),
        ({"Authorization": "Basic Zm9vOmJhcg=="}, 401),
        (auth(VIEWER), 403),
        (auth(AUDITOR), 403),
    ],
)
def test_every_write_is_refused_without_a_coordinator_token(
    programme: Programme, event_count, headers: dict[str, str], status: int
) -> None:
    before = event_count(programme)
    # Two unknown tokens a route, from one address: more than the throttle allows (429 after
    # ten, see test_web_security), so this app allows more.
    app = create_app(programme, TokenTable.parse_env(TOKENS), login_failures=10_000)
    with TestClient(app, base_url="https://testserver") as client:
        for path in post_routes(client):
            # A body that would be valid for accept: the refusal must not depend on the body.
            response = client.post(path, json={"code": "GM0363", "on": TODAY}, headers=headers)
            assert response.status_code == status, (path, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["code"] == ("unauthorized" if status == 401 else "forbidden")
            response = client.post(path, content=b"{not json", headers=headers)
            assert response.status_code == status, path
    assert event_count(programme) == before


def test_no_anonymous_read(client: TestClient) -> None:
    for path in (
        "/api/v1/openapi.json",
        "/api/v1/overview",
        "/api/v1/municipalities/GM0363",
        "/api/v1/events",
        "/metrics",
    ):
        assert client.get(path).status_code == 401, path
    page = client.get("/", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/login"
    assert client.get("/health").json() == {"status": "ok", "detail": None}
    assert client.get("/ready").status_code == 200


def test_a_command_is_recorded_by_the_token_name_with_origin_web(
    client: TestClient, programme: Programme, event_count
) -> None:
    before = event_count(programme)
    response = client.post(
        "/api/v1/commands/accept", json={"code": "GM0363", "on": TODAY}, headers=auth(COORDINATOR)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["command"] == "accept"
    assert body["result"] == "GM0363"
    assert body["position"] >= before
    assert event_count(programme) == before + 1
    last = programme.history("GM0363")[-1]
    assert (last.type, last.by, last.origin) == ("Accepted", "Anna", "web")


def test_a_nameless_token_is_recorded_as_role_and_fingerprint_never_the_token(
    client: TestClient, programme: Programme
) -> None:
    response = client.post(
        "/api/v1/commands/accept",
        json={"code": "GM0392", "on": TODAY},
        headers=auth(COORDINATOR_ANONYMOUS),
    )
    assert response.status_code == 200, response.text
    by = programme.history("GM0392")[-1].by
    assert by == f"coordinator-{digest(COORDINATOR_ANONYMOUS)[:8]}"
    assert COORDINATOR_ANONYMOUS not in by


def test_a_broken_rule_is_problem_json_with_its_code_and_writes_nothing(
    client: TestClient, programme: Programme, event_count
) -> None:
    before = event_count(programme)
    response = client.post(
        "/api/v1/commands/connect", json={"code": "GM0363", "on": TODAY}, headers=auth(COORDINATOR)
    )
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "invalid_transition"
    assert problem["status"] == 409
    assert "GM0363" in problem["detail"]
    unknown = client.post(
        "/api/v1/commands/accept", json={"code": "GM9999", "on": TODAY}, headers=auth(COORDINATOR)
    )
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "unknown_municipality"
    future = (date.today() + timedelta(days=3)).isoformat()
    late = client.post(
        "/api/v1/commands/accept", json={"code": "GM0363", "on": future}, headers=auth(COORDINATOR)
    )
    assert late.status_code == 422
    assert late.json()["code"] == "invalid_date"
    assert event_count(programme) == before


def test_a_malformed_body_is_422_problem_json(
    client: TestClient, programme: Programme, event_count
) -> None:
    before = event_count(programme)
    for body in (
        {"code": "GM0363"},
        {"code": "GM0363", "on": "gisteren"},
        {"code": "GM0363", "on": TODAY, "extra": 1},
    ):
        response = client.post("/api/v1/commands/accept", json=body, headers=auth(COORDINATOR))
        assert response.status_code == 422, body
        assert response.json()["code"] == "invalid_request"
    money = client.post(
        "/api/v1/commands/record_prior_connection",
        json={"code": "GM0363", "connected_on": TODAY, "costs": "12.345"},
        headers=auth(COORDINATOR),
    )
    assert money.status_code == 422
    assert event_count(programme) == before


def test_money_and_terms_reach_the_command(client: TestClient, programme: Programme) -> None:
    response = client.post(
        "/api/v1/commands/make_offer",
        json={
            "reference": "2020/1",
            "sent_on": TODAY,
            "terms": {"evaluation_months": 6, "connection_fee": "250.00"},
        },
        headers=auth(COORDINATOR),
    )
    assert response.status_code == 200, response.text
    terms = client.get(
        "/api/v1/offer-terms", params={"reference": "2020/1", "on": TODAY}, headers=auth(VIEWER)
    ).json()
    assert terms["evaluation_months"] == 6
    assert terms["connection_fee"] == "250.00"


def test_queries_with_as_of_and_names_for_coordinators_only(
    client: TestClient, programme: Programme
) -> None:
    programme.accept("GM0363", on=date.today(), by="setup")
    programme.nominate_official("GM0363", name="Jan Jansen", email="jan@example.org", by="setup")
    seen = client.get("/api/v1/municipalities/GM0363", headers=auth(COORDINATOR)).json()
    assert seen["stage"] == "accepted"
    assert seen["officials"][0]["name"] == "Jan Jansen"
    for token in (VIEWER, AUDITOR):
        hidden = client.get("/api/v1/municipalities/GM0363", headers=auth(token)).json()
        assert hidden["officials"][0]["name"] == "[verborgen]"
        assert "jan@example.org" not in str(hidden)
    before = (date.today() - timedelta(days=60)).isoformat()
    past = client.get(
        "/api/v1/municipalities/GM0363", params={"as_of": TODAY}, headers=auth(VIEWER)
    ).json()
    assert past["as_of"] == TODAY
    earlier = client.get(
        "/api/v1/overview", params={"as_of": before, "cost_lines": "false"}, headers=auth(VIEWER)
    )
    assert earlier.status_code == 200
    assert earlier.json()["by_stage"].get("invited", 0) == 0
    now = client.get("/api/v1/overview", headers=auth(VIEWER)).json()
    assert now["by_stage"]["accepted"] == 1
    assert re.fullmatch(r"0\.\d+", now["coverage"])
    sessions = client.get("/api/v1/sessions", headers=auth(VIEWER)).json()
    assert {s["session_id"]: s["seats_left"] for s in sessions} == {"najaar-1": 20, "vol-1": 1}


def test_history_for_coordinators_and_auditors_without_personal_data_for_auditors(
    client: TestClient, programme: Programme
) -> None:
    programme.accept("GM0363", on=date.today(), by="setup")
    programme.nominate_official("GM0363", name="Jan Jansen", email="jan@example.org", by="setup")
    assert (
        client.get("/api/v1/municipalities/GM0363/history", headers=auth(VIEWER)).status_code == 403
    )
    audited = client.get("/api/v1/municipalities/GM0363/history", headers=auth(AUDITOR))
    assert audited.status_code == 200
    assert "Jan Jansen" not in audited.text
    assert [e["type"] for e in audited.json()["events"]][-2:] == ["Accepted", "OfficialNominated"]
    full = client.get("/api/v1/municipalities/GM0363/history", headers=auth(COORDINATOR))
    assert "Jan Jansen" in full.text


def test_openapi_is_3_1_with_a_response_schema_for_every_operation(client: TestClient) -> None:
    schema = client.get("/api/v1/openapi.json", headers=auth(VIEWER)).json()
    assert schema["openapi"].startswith("3.1")
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            ok = operation["responses"]["200"]["content"]
            assert any("schema" in media for media in ok.values()), (method, path)
            if path.startswith("/api/"):
                problem = operation["responses"]["401"]["content"]["application/problem+json"]
                assert problem["schema"] == {"$ref": "#/components/schemas/Problem"}


def test_idempotency_key_is_passed_as_request_id(
    client: TestClient, programme: Programme, event_count
) -> None:
    headers = {**auth(COORDINATOR), "Idempotency-Key": "accept-gm0363-1"}
    first = client.post(
        "/api/v1/commands/accept", json={"code": "GM0363", "on": TODAY}, headers=headers
    )
    after_first = event_count(programme)
    again = client.post(
        "/api/v1/commands/accept", json={"code": "GM0363", "on": TODAY}, headers=headers
    )
    assert first.status_code == again.status_code == 200
    assert again.json()["result"] == first.json()["result"]
    assert event_count(programme) == after_first
    other = client.post(
        "/api/v1/commands/accept", json={"code": "GM0392", "on": TODAY}, headers=headers
    )
    assert other.status_code == 422  # RequestIdReused.http_status
    assert other.json()["code"] == "request_id_reused"


def test_metrics_count_commands_and_errors_by_code(client: TestClient) -> None:
    client.post(
        "/api/v1/commands/accept", json={"code": "GM0363", "on": TODAY}, headers=auth(COORDINATOR)
    )
    client.post(
        "/api/v1/commands/connect", json={"code": "GM0392", "on": TODAY}, headers=auth(COORDINATOR)
    )
    text = client.get("/metrics", headers=auth(VIEWER)).text
    assert 'mma_web_commands_total{command="accept"} 1.0' in text
    assert 'mma_web_errors_total{code="invalid_transition"} 1.0' in text
    assert "mma_web_request_seconds_bucket" in text
    assert "mma_web_view_lag_events" in text


def test_answer_links_through_the_api(client: TestClient, app) -> None:  # type: ignore[no-untyped-def]
    made = client.post(
        "/api/v1/municipalities/GM0392/answer-links", json={"days": 7}, headers=auth(COORDINATOR)
    )
    assert made.status_code == 200, made.text
    link = made.json()
    assert link["code"] == "GM0392"
    assert link["path"] == f"/antwoord/{link['token']}"
    assert link["created_by"] == "Anna"
    assert client.get(link["path"]).status_code == 200
    listed = client.get("/api/v1/municipalities/GM0392/answer-links", headers=auth(COORDINATOR))
    assert [item["link_id"] for item in listed.json()] == [link["link_id"]]
    assert listed.json()[0]["token"] is None  # never shown again
    viewer = client.get("/api/v1/municipalities/GM0392/answer-links", headers=auth(VIEWER))
    assert viewer.status_code == 403
    unknown = client.post(
        "/api/v1/municipalities/GM9999/answer-links", json={}, headers=auth(COORDINATOR)
    )
    assert unknown.status_code == 404
    revoke = f"/api/v1/answer-links/{link['link_id']}/revoke"
    assert client.post(revoke, headers=auth(COORDINATOR)).json()["revoked"] is True
    assert client.post(revoke, headers=auth(COORDINATOR)).json()["revoked"] is False
    assert client.get(link["path"]).status_code == 410
    missing = client.post("/api/v1/answer-links/0123456789ab/revoke", headers=auth(COORDINATOR))
    assert missing.status_code == 404


def test_bulk_reports_all_or_nothing(client: TestClient, programme: Programme, event_count) -> None:
    for code in ("GM0363", "GM0392"):
        programme.accept(code, on=date.today(), by="setup")
        programme.connect(code, on=date.today(), by="setup")
    rows = [
        {"code": code, "received_on": TODAY, "category": "fraude", "reference": f"BULK-{n}"}
        for n, code in enumerate(("GM0363", "GM0392", "GM0363"))
    ]
    before = event_count(programme)
    bad = [*rows, {**rows[0], "code": "GM0394"}]  # GM0394 is not connected
    refused = client.post(
        "/api/v1/commands/record_reports", json={"rows": bad}, headers=auth(COORDINATOR)
    )
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "invalid_transition"
    assert event_count(programme) == before
    done = client.post(
        "/api/v1/commands/record_reports", json={"rows": rows}, headers=auth(COORDINATOR)
    )
    assert done.status_code == 200, done.text
    assert done.json()["result"] == ["BULK-0", "BULK-1", "BULK-2"]
    assert programme.municipality("GM0363").reports_received == 2
