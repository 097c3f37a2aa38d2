"""The FastAPI example of docs/embedding.md: it runs, maps errors by code, answers retries from
their receipts, follows the log; and mypy --strict sees no Any from mma_core in it."""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fastapi.testclient import TestClient

from mma_core import Programme

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "fastapi_service.py"
OFFER = "1298348/1298354"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fastapi_service_example", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # pydantic resolves the models' annotations through it
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'service.sqlite'}"
    with Programme.open(url) as prog:
        prog.register_registry("noord-holland-2019", by="coordinator")
        prog.make_offer(reference=OFFER, sent_on=date(2019, 10, 18), by="cdk")
        prog.invite("GM0363", on=date(2019, 10, 18), reference=OFFER, by="cdk")
    return url


@pytest.fixture
def client(store: str) -> Iterator[TestClient]:
    app = load_example().create_app(store)
    with TestClient(app) as test_client:
        yield test_client


def test_idempotency_key_answers_a_retry_from_its_receipt(client: TestClient, store: str) -> None:
    body = {"on": "2019-11-01", "by": "burgemeester"}
    headers = {"Idempotency-Key": "4b1f0c2e-accept"}
    first = client.post("/municipalities/GM0363/accept", json=body, headers=headers)
    assert first.status_code == 200, first.text
    events = client.get("/events").json()["last_position"]
    retry = client.post("/municipalities/GM0363/accept", json=body, headers=headers)
    assert retry.status_code == 200
    assert retry.json() == first.json()
    assert retry.json()["receipt"]["command"] == "accept"
    assert client.get("/events").json()["last_position"] == events  # nothing written
    # Without the key the same retry is a broken rule, mapped by its code.
    again = client.post("/municipalities/GM0363/accept", json=body)
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_transition"
    assert again.json()["municipality"] == "GM0363"
    # The key with other arguments.
    other = client.post(
        "/municipalities/GM0363/accept", json={**body, "on": "2019-11-02"}, headers=headers
    )
    assert other.status_code == 422
    assert other.json()["code"] == "request_id_reused"
    # Read your writes.
    position = first.json()["position"]
    view = client.get("/municipalities/GM0363", params={"min_position": position})
    assert view.json()["stage"] == "accepted"
    assert view.json()["accepted_on"] == "2019-11-01"


def test_errors_map_to_statuses_by_code(client: TestClient) -> None:
    missing = client.get("/municipalities/GM9999")
    assert missing.status_code == 404
    assert missing.json()["code"] == "unknown_municipality"
    bad = client.get("/municipalities/XX")
    assert bad.status_code == 422
    assert bad.json()["code"] == "invalid_input"
    assert client.get("/health").json()["ok"] is True


def test_the_follow_endpoint_resumes_by_position_and_waits(client: TestClient) -> None:
    page = client.get("/events", params={"limit": 10}).json()
    positions = [e["position"] for e in page["events"]]
    assert len(positions) == 10
    rest = client.get("/events", params={"after": positions[-1], "limit": 1000}).json()
    assert [e["position"] for e in rest["events"]][:1] == [positions[-1] + 1]
    last = rest["last_position"]
    body = {"on": "2019-11-01", "by": "burgemeester"}
    timer = threading.Timer(0.3, lambda: client.post("/municipalities/GM0363/accept", json=body))
    timer.start()
    waited = client.get("/events", params={"after": last, "wait": 5, "limit": 1}).json()
    timer.join()
    assert [e["type"] for e in waited["events"]] == ["Accepted"]
    assert waited["events"][0]["code"] == "GM0363"


def _lines_touching_mma_core(source: str) -> set[int]:
    """Lines that use a name imported from mma_core or the programme built from one."""
    tree = ast.parse(source)
    names = {"programme", "receipt", "report", "error"}
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mma_core"):
            names.update(alias.asname or alias.name for alias in node.names)
            lines.add(node.lineno)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in names:
            lines.add(node.lineno)
    return lines


def _mypy(*options: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "--strict", *options, str(EXAMPLE)],
        capture_output=True,
        text=True,
        check=False,
    )
    return [line for line in done.stdout.splitlines() if ": error:" in line]


@pytest.mark.slow
def test_mypy_strict_passes_with_no_any_from_mma_core() -> None:
    assert _mypy() == []
    touching = _lines_touching_mma_core(EXAMPLE.read_text(encoding="utf-8"))
    assert len(touching) > 25  # the filter keeps most of the example
    report = _mypy("--disallow-any-expr")
    found: list[Any] = []
    for line in report:
        number = int(line.split(":")[1])
        if number in touching:
            found.append(line)
    assert found == [], "Any from mma_core's public API:\n" + "\n".join(found)
    # The check can fail: FastAPI's decorators do carry Any, on lines that do not touch mma_core.
    assert report, "mypy reported no Any at all: is --disallow-any-expr in effect?"
