"""Property-based API tests: schemathesis generates requests from the live OpenAPI document
(examples, coverage, fuzzing and stateful phases) against a real uvicorn on a SQLite store. No
response may be a 5xx or break the schema the document gives for it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import COORDINATOR, LiveServer, auth

pytestmark = pytest.mark.slow
MIN_REQUESTS = 1000
CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    )
)


def requests_served(metrics: str) -> int:
    """Requests the app answered, from its own latency histogram."""
    counts = re.findall(r"^mma_web_request_seconds_count\{[^}]*\} ([0-9.e+]+)$", metrics, re.M)
    return int(sum(float(c) for c in counts))


def test_no_5xx_and_no_schema_breaking_response(live_server: LiveServer, tmp_path: Path) -> None:
    import httpx

    def served() -> int:
        return requests_served(
            httpx.get(f"{live_server.url}/metrics", headers=auth(COORDINATOR)).text
        )

    before = served()
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{live_server.url}/api/v1/openapi.json",
        "--header",
        f"Authorization: Bearer {COORDINATOR}",
        "--checks",
        CHECKS,
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
        "junit",
        "--report-dir",
        str(tmp_path),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=1200, check=False)  # noqa: S603 - our own arguments
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    total = served() - before
    assert total >= MIN_REQUESTS, f"only {total} requests were generated\n{output[-3000:]}"
