"""The API's contract at its edges, through the app over a real SQLite store: which operations
need a token, what a 405 allows, the patterns the OpenAPI document gives and the 422 behind
them, strict dates and times, idempotency keys scoped per caller, paged history and cost lines,
and each error answered with the status its class gives. Every refused write writes nothing."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from mma_web.app import create_app
from mma_web.errors import domain_problem
from mma_web.tokens import TokenTable

from conftest import AUDITOR, COORDINATOR, COORDINATOR_ANONYMOUS, TOKENS, VIEWER, auth
from mma_core import DomainError, Programme
from mma_core.plugin_api import MMA_CATEGORIES, Command

TODAY = date.today().isoformat()
PROBES = ("/health", "/ready")


def openapi(client: TestClient) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json", headers=auth(VIEWER))
    assert response.status_code == 200
    schema: dict[str, Any] = response.json()
    return schema


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def body_schema(schema: dict[str, Any], command: str) -> dict[str, Any]:
    operation = schema["paths"][f"/api/v1/commands/{command}"]["post"]
    return resolve(schema, operation["requestBody"]["content"]["application/json"]["schema"])


def connected(programme: Programme, code: str = "GM0363", reports: int = 0) -> None:
    programme.accept(code, on=date.today(), by="setup")
    programme.connect(code, on=date.today(), by="setup")
    for n in range(reports):
        programme.record_report(
            code, received_on=date.today(), category="fraude", reference=f"R-{code}-{n}", by="setup"
        )


# -- 1. the probes need no token; everything else a bearer token ------------------------------


def test_only_the_probes_are_open_in_the_openapi_document(client: TestClient) -> None:
    schema = openapi(client)
    assert schema["security"] == [{"bearer": []}]
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if path in PROBES:
                assert operation["security"] == [], (method, path)
                assert client.request(method.upper(), path).status_code == 200
            else:
                assert "security" not in operation, (method, path)  # the document's: bearer
    assert set(PROBES) <= set(schema["paths"])


# -- 2. a 405 says which methods the path has ---------------------------------------------------


ALLOWED = (
    ("PUT", "/api/v1/overview", "GET"),
    ("DELETE", "/api/v1/municipalities/GM0363", "GET"),
    ("GET", "/api/v1/commands/accept", "POST"),
    # Two routes at one path: the Allow header names the methods of both.
    ("OPTIONS", "/api/v1/municipalities/GM0363/answer-links", "GET, POST"),
    ("TRACE", "/api/v1/municipalities/GM0363/answer-links", "GET, POST"),
    ("POST", "/health", "GET"),
)


def test_a_405_carries_an_allow_header(
    client: TestClient, programme: Programme, event_count
) -> None:
    before = event_count(programme)
    for method, path, allow in ALLOWED:
        response = client.request(method, path, headers=auth(COORDINATOR))
        assert response.status_code == 405, (method, path, response.text)
        assert response.headers["allow"] == allow, (method, path)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "method_not_allowed"
    assert event_count(programme) == before


# -- 3. patterns in the document, and the 422 behind them ------------------------------------------


def test_openapi_gives_the_report_reference_the_categories_and_the_idempotency_key(
    client: TestClient,
) -> None:
    schema = openapi(client)
    report = body_schema(schema, "record_report")["properties"]
    assert report["reference"]["pattern"] == "^[A-Za-z0-9-]{1,40}$"
    assert report["category"]["enum"] == list(MMA_CATEGORIES)
    rows = body_schema(schema, "record_reports")["properties"]["rows"]
    row = resolve(schema, rows["items"])["properties"]
    assert row["reference"]["pattern"] == report["reference"]["pattern"]
    assert row["category"]["enum"] == list(MMA_CATEGORIES)
    offer = body_schema(schema, "invite")["properties"]["reference"]
    assert offer["pattern"] == "^[A-Za-z0-9./_-]{1,60}$"
    for path, item in schema["paths"].items():
        if path.startswith("/api/v1/commands/") and path != "/api/v1/commands/record_reports":
            headers = {
                p["name"]: p["schema"]
                for p in item["post"].get("parameters", [])
                if p["in"] == "header"
            }
            key = headers["Idempotency-Key"]
            assert key["anyOf"][0]["pattern"] == "^[!-~]{1,128}$", path


AGAINST_A_PATTERN: tuple[tuple[str, dict[str, Any], dict[str, str]], ...] = (
    # Free text where only MMA's opaque reference may stand.
    (
        "record_report",
        {"code": "GM0363", "received_on": TODAY, "category": "fraude", "reference": "MMA 1 x"},
        {},
    ),
    (
        "record_report",
        {"code": "GM0363", "received_on": TODAY, "category": "onbekend", "reference": "R-1"},
        {},
    ),
    (
        "record_reports",
        {"rows": [{"code": "GM0363", "received_on": TODAY, "category": "x", "reference": "R"}]},
        {},
    ),
    ("accept", {"code": "GM0363", "on": TODAY}, {"Idempotency-Key": "a key with spaces"}),
    ("accept", {"code": "GM0363", "on": TODAY}, {"Idempotency-Key": "k" * 129}),
    ("invite", {"code": "GM0377", "on": TODAY, "reference": "no spaces please"}, {}),
    ("evaluate", {"code": "GM0363", "on": TODAY, "outcome": "maybe"}, {}),
    ("nominate_official", {"code": "GM0363", "name": " ", "email": "a@example.org"}, {}),
    ("nominate_official", {"code": "GM0363", "name": "A", "email": "a@b.nl, c@d.nl"}, {}),
)


def test_a_request_against_a_pattern_is_422_and_writes_nothing(
    client: TestClient, programme: Programme, event_count
) -> None:
    connected(programme)
    before = event_count(programme)
    for command, body, headers in AGAINST_A_PATTERN:
        response = client.post(
            f"/api/v1/commands/{command}", json=body, headers={**auth(COORDINATOR), **headers}
        )
        assert response.status_code == 422, (command, body, headers, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        # Refused by the schema, not by the domain after it.
        assert response.json()["code"] == "invalid_request", (command, body, headers)
    assert event_count(programme) == before


# -- 4. dates and times are ISO 8601 text, a time with its offset ---------------------------------


NOT_A_TIME = (
    "0.5",
    "1700000000",
    "0",
    "2020-01-01",
    "2020-01-01T00:00:00",  # no offset
    "2020-01-01 00:00:00+00:00",  # a space for the T
    "2020-13-01T00:00:00Z",
    "gisteren",
)


def test_known_at_that_is_no_iso_8601_date_time_with_offset_is_422(client: TestClient) -> None:
    for path in (
        "/api/v1/municipalities/GM0363",
        "/api/v1/overview",
        "/api/v1/municipalities/GM0363/costs",
    ):
        for known_at in NOT_A_TIME:
            response = client.get(path, params={"known_at": known_at}, headers=auth(VIEWER))
            assert response.status_code == 422, (path, known_at, response.text)
            problem = response.json()
            assert problem["code"] == "invalid_request"
            assert problem["detail"].startswith("query.known_at:")


def test_known_at_with_an_offset_is_read(client: TestClient) -> None:
    # A moment after the campaign was recorded, in whole seconds.
    now = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    for text in (
        now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        now.astimezone().isoformat(),
        now.astimezone(UTC).isoformat(timespec="microseconds"),
    ):
        response = client.get(
            "/api/v1/municipalities/GM0363", params={"known_at": text}, headers=auth(VIEWER)
        )
        assert response.status_code == 200, (text, response.text)
        assert response.json()["stage"] == "invited"


def test_a_date_that_is_a_number_is_422_and_writes_nothing(
    client: TestClient, programme: Programme, event_count
) -> None:
    before = event_count(programme)
    for on in ("0", "86400", "2020-01-01T00:00:00Z", "20200101"):
        response = client.post(
            "/api/v1/commands/accept", json={"code": "GM0363", "on": on}, headers=auth(COORDINATOR)
        )
        assert response.status_code == 422, (on, response.text)
        assert response.json()["code"] == "invalid_request"
        query = client.get(
            "/api/v1/municipalities/GM0363", params={"as_of": on}, headers=auth(VIEWER)
        )
        assert query.status_code == 422, (on, query.text)
    naive = datetime.combine(date.today() + timedelta(days=60), datetime.min.time())
    training = client.post(
        "/api/v1/commands/schedule_training",
        json={
            "session_id": "naief",
            "starts_at": naive.isoformat(),
            "ends_at": (naive + timedelta(hours=2)).isoformat(),
            "location": "Haarlem",
            "capacity": 10,
        },
        headers=auth(COORDINATOR),
    )
    assert training.status_code == 422, training.text
    assert training.json()["detail"].startswith("body.starts_at:")
    assert event_count(programme) == before


# -- 5. idempotency keys are the caller's own ----------------------------------------------------


def test_the_same_key_from_two_callers_is_two_commands(
    client: TestClient, programme: Programme, event_count
) -> None:
    key = {"Idempotency-Key": "answer-2019-1"}
    anna = {**auth(COORDINATOR), **key}
    other = {**auth(COORDINATOR_ANONYMOUS), **key}
    start = event_count(programme)
    first = client.post(
        "/api/v1/commands/accept", json={"code": "GM0363", "on": TODAY}, headers=anna
    )
    assert first.status_code == 200, first.text
    written = event_count(programme) - start  # the acceptance and its receipt
    # The same key and body from another caller is a command of its own, not a replay of
    # Anna's: GM0363 was accepted already. A refused command keeps no receipt.
    again = client.post(
        "/api/v1/commands/accept", json={"code": "GM0363", "on": TODAY}, headers=other
    )
    assert again.status_code == 409, again.text
    assert again.json()["code"] == "invalid_transition"
    assert event_count(programme) == start + written
    second = client.post(
        "/api/v1/commands/accept", json={"code": "GM0392", "on": TODAY}, headers=other
    )
    assert second.status_code == 200, second.text
    assert second.json()["result"] == "GM0392"
    assert second.json()["request_id"] == "answer-2019-1"  # the caller's key, as it was sent
    assert event_count(programme) == start + 2 * written
    assert programme.municipality("GM0392").stage.value == "accepted"
    # Anna's retry is answered from her receipt, writing nothing.
    retry = client.post(
        "/api/v1/commands/accept", json={"code": "GM0363", "on": TODAY}, headers=anna
    )
    assert retry.status_code == 200
    assert retry.json() == first.json()
    # Anna's key with another body is refused, naming her key and nothing of its scope.
    reused = client.post(
        "/api/v1/commands/accept", json={"code": "GM0377", "on": TODAY}, headers=anna
    )
    assert reused.status_code == 422
    problem = reused.json()
    assert problem["code"] == "request_id_reused"
    assert "'answer-2019-1'" in problem["detail"]
    assert "web:" not in reused.text
    assert problem["details"] == {"idempotency_key": "answer-2019-1", "command": "accept"}
    assert event_count(programme) == start + 2 * written


# -- 6. paging: cost lines and history, in position order, with a cursor -------------------------


def test_the_municipality_carries_no_cost_lines_only_its_totals(
    client: TestClient, programme: Programme
) -> None:
    connected(programme, reports=3)
    seen = client.get("/api/v1/municipalities/GM0363", headers=auth(VIEWER)).json()
    assert seen["costs"] == []
    assert seen["costs_province"] == "0.00"
    assert seen["costs_municipality"] == "0.00"
    overview = client.get("/api/v1/overview", headers=auth(VIEWER)).json()
    assert all(m["costs"] == [] for m in overview["municipalities"])


def test_cost_lines_page_by_page(client: TestClient, programme: Programme) -> None:
    connected(programme, reports=5)  # a connection and five report fees
    every = programme.cost_lines("GM0363", limit=1000)
    assert every.total == 6
    lines: list[Any] = []
    after: int | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 4}
        if after is not None:
            params["after"] = after
        response = client.get(
            "/api/v1/municipalities/GM0363/costs", params=params, headers=auth(VIEWER)
        )
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["total"] == 6
        assert page["after"] == (after or 0)
        lines.extend(page["lines"])
        pages += 1
        after = page["next"]
        if after is None:
            break
    assert pages == 2
    assert lines == [entry.to_dict() for entry in every.lines]  # in the order charged
    assert [line["line"]["kind"] for line in lines] == ["connection"] + ["report_fee"] * 5
    past = client.get(
        "/api/v1/municipalities/GM0363/costs",
        params={"as_of": (date.today() - timedelta(days=1)).isoformat()},
        headers=auth(VIEWER),
    ).json()
    assert (past["total"], past["next"], past["lines"]) == (0, None, [])


def test_history_page_by_page(client: TestClient, programme: Programme) -> None:
    connected(programme, reports=4)
    every = programme.history("GM0363")
    events: list[dict[str, Any]] = []
    after: int | None = None
    while True:
        params: dict[str, Any] = {"limit": 3}
        if after is not None:
            params["after"] = after
        response = client.get(
            "/api/v1/municipalities/GM0363/history", params=params, headers=auth(AUDITOR)
        )
        assert response.status_code == 200, response.text
        page = response.json()
        assert (page["code"], page["limit"], page["after"]) == ("GM0363", 3, after or 0)
        assert len(page["events"]) <= 3
        events.extend(page["events"])
        after = page["next"]
        if after is None:
            break
        assert after == page["events"][-1]["position"]
    positions = [e["position"] for e in events]
    assert positions == [e.position for e in every]
    assert positions == sorted(positions)
    default = client.get("/api/v1/municipalities/GM0363/history", headers=auth(AUDITOR)).json()
    assert (default["limit"], default["next"]) == (100, None)
    assert len(default["events"]) == len(every)


def test_a_page_outside_the_bounds_is_422(client: TestClient) -> None:
    for path in ("history", "costs"):
        for params in (
            {"limit": 0},
            {"limit": 1001},
            {"after": -1},
            {"after": "x"},
            {"limit": "1.5"},
        ):
            response = client.get(
                f"/api/v1/municipalities/GM0363/{path}", params=params, headers=auth(COORDINATOR)
            )
            assert response.status_code == 422, (path, params, response.text)
            assert response.json()["code"] == "invalid_request"


# -- 7. every error with its class's status; bodies that are no JSON object ---------------------


def every_domain_error() -> Iterator[type[DomainError]]:
    found = [DomainError]
    while found:
        cls = found.pop()
        yield cls
        found.extend(cls.__subclasses__())


def load_every_error() -> None:
    """Import every module of mma_core that defines an error class: each top-level name
    loads its module (a plugin's tests reach mma_core through its top-level names only)."""
    import mma_core

    for name in mma_core.__all__:
        getattr(mma_core, name)


def test_every_domain_error_is_answered_with_the_status_of_its_class() -> None:
    load_every_error()
    seen = set()
    for cls in every_domain_error():
        error = cls.__new__(cls)  # whatever its own constructor takes (ImportRejected: rows)
        DomainError.__init__(error, "GM0363 Amsterdam: a test message")
        response = domain_problem(error)
        assert response.status_code == cls.http_status, cls
        seen.add(cls.code)
    assert {"rule_violation", "request_id_reused", "erasure_incomplete", "import_rejected"} <= seen


def test_a_rule_violation_is_422_and_writes_nothing(store_url: str, event_count) -> None:
    def no_acceptance(command: Command, municipality: object) -> list[str]:
        return ["no acceptances this week"] if command.name == "accept" else []

    with Programme.open(store_url, origin="web", validators=[no_acceptance]) as programme:
        app = create_app(programme, TokenTable.parse_env(TOKENS))
        with TestClient(app, base_url="https://testserver") as client:
            before = event_count(programme)
            response = client.post(
                "/api/v1/commands/accept",
                json={"code": "GM0363", "on": TODAY},
                headers=auth(COORDINATOR),
            )
            assert response.status_code == 422, response.text
            assert response.json()["code"] == "rule_violation"
            assert event_count(programme) == before


def test_an_incomplete_erasure_is_503_with_retry_after(
    client: TestClient, programme: Programme, store_url: str, event_count
) -> None:
    official = programme.nominate_official(
        "GM0363", name="Joke Bakker", email="joke@example.nl", by="setup"
    )
    # A reader holding an old snapshot keeps the WAL, and the erased key's bytes in it.
    reader = sqlite3.connect(store_url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT COUNT(*) FROM stored_events").fetchone()
        before = event_count(programme)
        response = client.post(
            "/api/v1/commands/erase_official",
            json={"official_id": official},
            headers=auth(COORDINATOR),
        )
    finally:
        reader.execute("ROLLBACK")
        reader.close()
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "5"
    problem = response.json()
    assert problem["code"] == "erasure_incomplete"
    assert "Bakker" not in response.text  # no personal data in the problem
    assert "joke@example.nl" not in response.text
    assert event_count(programme) == before + 1  # the erasure itself is recorded
    assert programme.municipality("GM0363").officials[0].name == "[erased]"


NO_JSON_OBJECT: tuple[tuple[bytes, str | None, int, str, str], ...] = (
    (b"{not json", "application/json", 422, "invalid_request", "the body is not JSON"),
    (b"", "application/json", 422, "invalid_request", "the body must be a JSON object"),
    (b"[]", "application/json", 422, "invalid_request", "the body must be a JSON object"),
    (b'"GM0363"', "application/json", 422, "invalid_request", "the body must be"),
    (b"null", "application/json", 422, "invalid_request", "the body must be"),
    (b'{"code": "GM0363"}', None, 415, "unsupported_media_type", "application/json"),
    (b'{"code": "GM0363"}', "text/plain", 415, "unsupported_media_type", "application/json"),
    (b"code=GM0363", "application/x-www-form-urlencoded", 415, "unsupported_media_type", ""),
)


def test_a_body_that_is_no_json_object_is_refused_and_writes_nothing(
    client: TestClient, programme: Programme, event_count
) -> None:
    before = event_count(programme)
    for content, content_type, status, code, detail in NO_JSON_OBJECT:
        headers = auth(COORDINATOR)
        if content_type is not None:
            headers["Content-Type"] = content_type
        for path in ("/api/v1/commands/accept", "/api/v1/municipalities/GM0363/answer-links"):
            response = client.post(path, content=content, headers=headers)
            assert response.status_code == status, (path, content, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            problem = response.json()
            assert problem["code"] == code
            assert detail in problem["detail"], (content, problem["detail"])
    assert event_count(programme) == before


def test_a_json_body_with_a_charset_or_a_json_suffix_is_read(client: TestClient) -> None:
    for content_type in ("application/json; charset=utf-8", "application/merge-patch+json"):
        response = client.post(
            "/api/v1/commands/accept",
            content=b'{"code": "GM0363", "on": "%s"}' % TODAY.encode(),
            headers={**auth(COORDINATOR), "Content-Type": content_type},
        )
        assert response.status_code in (200, 409), response.text


def test_the_status_table_of_docs_web_md_is_the_classes() -> None:
    """Every error code of the library is in docs/web.md's status table, under its class's
    status: the page cannot drift from what mma serve answers."""
    from mma_core import StoreError

    load_every_error()

    text = (Path(__file__).resolve().parents[3] / "docs" / "web.md").read_text(encoding="utf-8")
    table = text.split("| status | codes |", 1)[1].split("\n\n", 1)[0]
    documented: dict[str, int] = {}
    for row in table.splitlines()[2:]:
        status, codes = row.strip("|").split("|", 1)
        for code in re.findall(r"`([a-z_]+)`", codes):
            documented.setdefault(code, int(status))
    store_errors: list[type[StoreError]] = [StoreError]
    for cls in store_errors:
        store_errors.extend(cls.__subclasses__())
    classes = [*every_domain_error(), *store_errors]
    for cls in classes:
        if cls.code in ("domain_error", "store_error"):
            continue  # the base classes: never raised as such
        assert documented.get(cls.code) == cls.http_status, cls
