"""Property-based API tests: schemathesis runs every check it has (``--checks all``) in its
examples, coverage, fuzzing and stateful phases, from the live OpenAPI document, against a real
uvicorn on a SQLite store.

It may report one kind of failure only: a schema-valid request the programme refuses by one of
its rules (``positive_data_acceptance``, ST202) with 422, where the rule and the commands it
applies to are listed in docs/web.md ("What schemathesis reports"), each with why the schema
cannot say it. Anything else (a 5xx, a response against its schema, a schema-invalid request
accepted, a 405 without ``Allow``, an open operation that should need a token, a refusal the
page does not list) fails the test with every case of it."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mma_web.app import create_app
from mma_web.tokens import TokenTable

from conftest import COORDINATOR, TOKENS, LiveServer, auth
from mma_core import Programme

pytestmark = pytest.mark.slow
MIN_REQUESTS = 1000
WEB_DOCS = Path(__file__).resolve().parents[3] / "docs" / "web.md"
SECTION = "### What schemathesis reports"
# A body over --max-body is refused with 413 before it is read whole (a schema-invalid body
# too: the rows of a bulk command beyond its maxItems); schemathesis' default list of refusals
# lacks it.
CONFIG = """
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422",
                     "428", "429", "5xx"]
"""


@pytest.fixture
def app(programme: Programme):  # type: ignore[no-untyped-def]
    # The ignored_auth check sends unknown tokens again and again from one address: the
    # throttle would answer 429 where the check looks for 401 (the throttle has tests of its
    # own, in test_web_security.py).
    return create_app(programme, TokenTable.parse_env(TOKENS), login_failures=10_000)


def requests_served(metrics: str) -> int:
    """Requests the app answered, from its own latency histogram."""
    counts = re.findall(r"^mma_web_request_seconds_count\{[^}]*\} ([0-9.e+]+)$", metrics, re.M)
    return int(sum(float(c) for c in counts))


def documented_refusals(text: str) -> dict[str, set[str] | None]:
    """The refusals docs/web.md lists: each error code with the commands it may refuse
    (``None``: any command)."""
    section = text.split(SECTION, 1)[1].split("\n#", 1)[0]
    refusals: dict[str, set[str] | None] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 4 or not cells[0].startswith("`"):
            continue
        code = cells[0].strip("`")
        commands = set(re.findall(r"`([a-z_]+)`", cells[1]))
        if cells[1].startswith("any command"):
            refusals[code] = None
        elif refusals.get(code, set()) is not None:
            refusals[code] = refusals.get(code, set()) | commands  # type: ignore[operator]
    return refusals


def decoded(payload: dict[str, Any] | None) -> bytes:
    if not payload:
        return b""
    if "$base64" in payload:
        return base64.b64decode(payload["$base64"])
    return str(payload.get("string", "")).encode()


def failures(report: Path) -> Iterator[dict[str, Any]]:
    """Every failed check of the run, with the request and the answer it was about."""
    for line in report.read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        finished = event.get("ScenarioFinished")
        if finished is None:
            continue
        recorder = finished["recorder"]
        for case_id, checks in recorder.get("checks", {}).items():
            for check in checks:
                if check["status"] != "failure":
                    continue
                failure = check["failure_info"]["failure"]
                interaction = recorder.get("interactions", {}).get(case_id) or {}
                response = interaction.get("response") or {}
                body = decoded(response.get("content"))
                try:
                    problem = json.loads(body)
                except ValueError:
                    problem = {}
                request = interaction.get("request") or {}
                yield {
                    "check": check["name"],
                    "code": failure.get("code"),
                    "operation": failure.get("operation", ""),
                    "status": response.get("status_code"),
                    "problem": problem.get("code") if isinstance(problem, dict) else None,
                    "detail": problem.get("detail") if isinstance(problem, dict) else None,
                    "request": f"{request.get('method')} {request.get('uri')} "
                    f"{decoded(request.get('body'))[:300]!r}",
                }


def undocumented(found: dict[str, Any], refusals: dict[str, set[str] | None]) -> bool:
    """Whether ``found`` is anything but a listed refusal of a schema-valid command."""
    if found["check"] != "positive_data_acceptance" or found["status"] != 422:
        return True
    method, _, path = found["operation"].partition(" ")
    if method != "POST" or not path.startswith("/api/v1/commands/"):
        return True
    if found["problem"] not in refusals:
        return True
    commands = refusals[found["problem"]]
    return commands is not None and path.rsplit("/", 1)[1] not in commands


def test_the_docs_list_the_refusals() -> None:
    refusals = documented_refusals(WEB_DOCS.read_text(encoding="utf-8"))
    assert refusals["invalid_date"] is None
    assert refusals["request_id_reused"] is None
    assert {"book_training", "record_attendance", "schedule_training"} <= (
        refusals["invalid_input"] or set()
    )


def test_every_check_passes_but_the_documented_refusals(
    live_server: LiveServer, tmp_path: Path
) -> None:
    import httpx

    def served() -> int:
        return requests_served(
            httpx.get(f"{live_server.url}/metrics", headers=auth(COORDINATOR)).text
        )

    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG, encoding="utf-8")
    before = served()
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(config),
        "run",
        f"{live_server.url}/api/v1/openapi.json",
        "--header",
        f"Authorization: Bearer {COORDINATOR}",
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        # The event stream never ends by design; its other behaviour has tests of its own.
        "--exclude-path",
        "/api/v1/events",
        "--max-examples",
        "40",
        "--seed",
        "2019",
        "--generation-deterministic",
        "--request-timeout",
        "30",
        "--workers",
        "1",
        "--report",
        "ndjson",
        "--report-dir",
        str(tmp_path),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=1200, check=False)  # noqa: S603 - our own arguments
    output = result.stdout + result.stderr
    reports = list(tmp_path.glob("*.ndjson"))
    assert reports, output[-6000:]
    refusals = documented_refusals(WEB_DOCS.read_text(encoding="utf-8"))
    found = list(failures(reports[0]))
    wrong = [f for f in found if undocumented(f, refusals)]
    assert not wrong, "\n".join(json.dumps(f, ensure_ascii=False) for f in wrong[:30])
    # Only refusals failed the run; without them it would have passed.
    assert result.returncode == (1 if found else 0), output[-6000:]
    total = served() - before
    assert total >= MIN_REQUESTS, f"only {total} requests were generated\n{output[-3000:]}"
