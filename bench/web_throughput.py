"""Requests per second through ``mma serve`` against direct ``Programme`` calls.

8 HTTP clients post reports for one municipality (``POST /api/v1/commands/record_report``) to
``mma serve`` in its own process on loopback; the baseline is the same number of reports
recorded by direct calls from one thread, on the same kind of store, in the same run. The
target is a ratio of at least 0.8 (issue: the HTTP layer may cost at most a fifth).
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from bench.common import PG, drop_schema, fresh_schema, postgres_available
from mma_core import Programme

CLIENTS = 8
CODE = "GM0363"
OFFER = "1298348/1298354"


def _prepare(url: str) -> None:
    today = date.today()
    with Programme.open(url, origin="bench") as prog:
        prog.register_registry("noord-holland-2019", by="bench")
        prog.make_offer(reference=OFFER, sent_on=today, by="bench")
        prog.invite(CODE, on=today, reference=OFFER, by="bench")
        prog.accept(CODE, on=today, by="bench")
        prog.connect(CODE, on=today, by="bench")


def _direct(url: str, count: int) -> float:
    with Programme.open(url, origin="bench") as prog:
        started = time.perf_counter()
        for i in range(count):
            prog.record_report(
                CODE, received_on=date.today(), category="fraude", reference=f"D-{i}", by="bench"
            )
        return count / (time.perf_counter() - started)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _served(url: str, each: int) -> tuple[float, int]:
    token = secrets.token_urlsafe(32)
    port = _port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MMA_")}
    env["MMA_WEB_TOKENS"] = f"{token}:coordinator:bench"
    process = subprocess.Popen(
        [sys.executable, "-m", "mma_core.cli", "--store", url, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("mma serve did not start")
            time.sleep(0.2)
        failures = [0]
        headers = {"Authorization": f"Bearer {token}"}

        def client(number: int) -> None:
            with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
                for i in range(each):
                    response = http.post(
                        "/api/v1/commands/record_report",
                        json={
                            "code": CODE,
                            "received_on": date.today().isoformat(),
                            "category": "fraude",
                            "reference": f"W-{number}-{i}",
                        },
                    )
                    if response.status_code != 200:
                        failures[0] += 1

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return CLIENTS * each / (time.perf_counter() - started), failures[0]
    finally:
        process.terminate()
        process.wait(timeout=30)


def _row(store: str, url_for: Any, each: int) -> dict[str, Any]:
    direct_url, served_url = url_for("direct"), url_for("served")
    _prepare(direct_url)
    _prepare(served_url)
    direct = _direct(direct_url, CLIENTS * each)
    served, failures = _served(served_url, each)
    return {
        "benchmark": "web_throughput",
        "store": store,
        "ours_per_s": round(served, 1),
        "baseline_per_s": round(direct, 1),
        "ratio": round(served / direct, 2),
        "target": 0.8,
        "clients": CLIENTS,
        "requests": CLIENTS * each,
        "refused": failures,
    }


def run(quick: bool = False) -> list[dict[str, Any]]:
    each = 20 if quick else 100
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        rows.append(_row("sqlite", lambda name: f"sqlite:///{Path(directory) / name}.sqlite", each))
    if postgres_available():
        schemas = [fresh_schema("bench_web"), fresh_schema("bench_web")]
        try:
            by_name = {"direct": schemas[0], "served": schemas[1]}
            rows.append(_row("postgresql", lambda name: f"{PG}?schema={by_name[name]}", each))
        finally:
            for schema in schemas:
                drop_schema(schema)
    return rows
