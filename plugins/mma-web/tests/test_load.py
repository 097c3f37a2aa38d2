"""A bounded load test: ``mma serve`` in its own process on loopback, 8 clients each posting 250
reports, on SQLite and on PostgreSQL. No 5xx, every success stored exactly once, and the audit
log verifies. Throughput and latency go to ``test-artifacts/web-load-STORE.json`` (the figures in
``docs/performance.md`` come from there); nothing here asserts a speed."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest

from conftest import COORDINATOR, INVITED, TOKENS, auth, count_events, free_port, play_campaign
from mma_core import Programme

pytestmark = pytest.mark.slow
CLIENTS = 8
REPORTS_EACH = 250
BASELINE_REPORTS = 100
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
MMA = [sys.executable, "-m", "mma_core.cli"]


def prepare(url: str) -> tuple[int, int, float]:
    """The campaign with the invited municipalities connected; returns the event count and
    how many events one report records (measured, not assumed), and the reports per second
    of direct calls."""
    with Programme.open(url, origin="test") as prog:
        play_campaign(prog)
        for code in INVITED:
            prog.accept(code, on=date.today(), by="setup")
            prog.connect(code, on=date.today(), by="setup")
        before = count_events(prog)
        prog.record_report(
            INVITED[0], received_on=date.today(), category="fraude", reference="SETUP-1", by="setup"
        )
        after = count_events(prog)
        # The baseline, in the same run: reports recorded by direct calls, one thread.
        started = time.perf_counter()
        for i in range(BASELINE_REPORTS):
            prog.record_report(
                INVITED[i % len(INVITED)],
                received_on=date.today(),
                category="fraude",
                reference=f"DIRECT-{i}",
                by="setup",
            )
        direct = BASELINE_REPORTS / (time.perf_counter() - started)
        return count_events(prog), after - before, direct


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MMA_")}
    env["MMA_WEB_TOKENS"] = TOKENS
    return env


def serve(url: str, port: int) -> Iterator[str]:
    process = subprocess.Popen(  # noqa: S603 - our own arguments
        [*MMA, "--store", url, "serve", "--port", str(port)],
        env=environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            try:
                if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "mma serve did not become ready"
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def hammer(base: str) -> tuple[list[int], list[float], float, set[str]]:
    statuses: list[int] = []
    refusals: set[str] = set()
    latencies: list[float] = []
    lock = threading.Lock()
    today = date.today().isoformat()

    def client(number: int) -> None:
        mine: list[tuple[int, float]] = []
        with httpx.Client(base_url=base, headers=auth(COORDINATOR), timeout=60) as http:
            for i in range(REPORTS_EACH):
                body = {
                    "code": INVITED[(number + i) % len(INVITED)],
                    "received_on": today,
                    "category": "fraude",
                    "reference": f"LOAD-{number}-{i}",
                }
                started = time.perf_counter()
                response = http.post("/api/v1/commands/record_report", json=body)
                mine.append((response.status_code, time.perf_counter() - started))
                if response.status_code != 200:
                    with lock:
                        refusals.add(response.json().get("code", "?"))
        with lock:
            statuses.extend(s for s, _ in mine)
            latencies.extend(t for _, t in mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses, latencies, time.perf_counter() - started, refusals


def run_load(url: str, kind: str) -> None:
    before, per_report, direct = prepare(url)
    for base in serve(url, free_port()):
        statuses, latencies, wall, refusals = hammer(base)
    assert len(statuses) == CLIENTS * REPORTS_EACH
    assert not [s for s in statuses if s >= 500], sorted(set(statuses))
    successes = sum(1 for s in statuses if s == 200)
    # Eight writers on four municipalities: a command that lost its retries to the others is
    # refused as a conflict (and writes nothing); nothing else may go wrong.
    assert refusals <= {"concurrency_conflict"}, refusals
    assert successes >= 0.9 * CLIENTS * REPORTS_EACH
    with Programme.open(url, origin="test") as prog:
        assert count_events(prog) == before + per_report * successes
    verify = subprocess.run(  # noqa: S603 - our own arguments
        [*MMA, "--store", url, "audit", "verify"],
        env=environment(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    quantiles = statistics.quantiles(latencies, n=100)
    figures = {
        "store": kind,
        "clients": CLIENTS,
        "requests": len(statuses),
        "successes": successes,
        "conflicts": len(statuses) - successes,
        "seconds": round(wall, 2),
        "requests_per_second": round(len(statuses) / wall, 1),
        "p50_ms": round(quantiles[49] * 1000, 1),
        "p99_ms": round(quantiles[98] * 1000, 1),
        "direct_calls_per_second": round(direct, 1),
        "ratio_to_direct": round(len(statuses) / wall / direct, 2),
        "load_average": round(os.getloadavg()[0], 1),
        "date": date.today().isoformat(),
    }
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"web-load-{kind}.json").write_text(json.dumps(figures, indent=2) + "\n")


def test_load_on_sqlite(tmp_path: Path) -> None:
    run_load(f"sqlite:///{tmp_path / 'load.sqlite'}", "sqlite")


@pytest.mark.postgres
def test_load_on_postgresql(postgres_url: str) -> None:
    run_load(postgres_url, "postgresql")
