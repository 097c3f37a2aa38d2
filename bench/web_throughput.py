"""Requests per second through ``mma serve`` against direct ``Programme`` calls.

8 HTTP clients post reports for one municipality (``POST /api/v1/commands/record_report``) to
``mma serve`` in its own process on loopback; the baseline is reports recorded by direct calls
from one thread, on the same kind of store, in the same run. The target is a ratio of at least
0.8 (issue: the HTTP layer may cost at most a fifth).

The two sides are measured in short slices in turns (a slice of direct calls, then a slice of
requests, and again), and the ratio is the direct calls' total time over the requests' total
time for the same number of reports: a shared machine's busy moments, which can halve or double
either rate for a second, then fall on both sides alike instead of on one whole run. The
clients are ``http.client`` connections kept alive through a slice, so that the load
generator, which shares the machine's CPUs with the server, costs as little as it can. The
server's CPU per request is recorded too: it moves with the load much less than the rates.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from http.client import HTTPConnection
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


def _direct(prog: Programme, count: int, tag: str) -> float:
    """Seconds for ``count`` reports recorded one after another from this thread."""
    started = time.perf_counter()
    for i in range(count):
        prog.record_report(
            CODE, received_on=date.today(), category="fraude", reference=f"D-{tag}-{i}", by="bench"
        )
    return time.perf_counter() - started


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cpu_seconds(pid: int) -> float:
    """The CPU time (user and system) a process has used so far, from /proc (Linux)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def _server(url: str) -> Iterator[tuple[int, str, int]]:
    """``mma serve`` on the store, as a user starts it: its port, a token and its pid."""
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
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("mma serve did not start")
            time.sleep(0.2)
        yield port, token, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def _served(port: int, token: str, each: int, tag: str) -> tuple[float, int]:
    """Seconds for ``CLIENTS`` clients to post ``each`` reports each, and how many failed."""
    failures = [0]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    ready = threading.Barrier(CLIENTS + 1)

    def client(number: int) -> None:
        # http.client on one kept-alive connection: a client as light as the standard
        # library makes it. The clients share the two CPUs with the server; httpx took
        # 3.5 to 4.3 ms of CPU a request on this machine, more than the command itself.
        http = HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            http.connect()
            ready.wait()
            for i in range(each):
                body = json.dumps(
                    {
                        "code": CODE,
                        "received_on": date.today().isoformat(),
                        "category": "fraude",
                        "reference": f"W-{tag}-{number}-{i}",
                    }
                )
                http.request("POST", "/api/v1/commands/record_report", body, headers)
                response = http.getresponse()
                response.read()
                if response.status != 200:
                    failures[0] += 1
        finally:
            http.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    ready.wait()  # every client connected: time the requests, not the connections
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, failures[0]


def _row(store: str, url_for: Callable[[str], str], each: int, slices: int) -> dict[str, Any]:
    """``slices`` turns of a direct slice and a served slice of ``CLIENTS * each`` reports."""
    direct_url, served_url = url_for("direct"), url_for("served")
    _prepare(direct_url)
    _prepare(served_url)
    per_slice = CLIENTS * each
    direct_s = served_s = 0.0
    failures = 0
    with Programme.open(direct_url, origin="bench") as prog, _server(served_url) as server:
        port, token, pid = server
        _direct(prog, per_slice // 4, "warm")  # both sides warmed up before the clock runs
        _served(port, token, max(1, each // 4), "warm")
        cpu = _cpu_seconds(pid)
        for n in range(slices):
            direct_s += _direct(prog, per_slice, str(n))
            seconds, refused = _served(port, token, each, str(n))
            served_s += seconds
            failures += refused
        cpu_ms = (_cpu_seconds(pid) - cpu) / (per_slice * slices) * 1000
    requests = per_slice * slices
    return {
        "benchmark": "web_throughput",
        "store": store,
        "ours_per_s": round(requests / served_s, 1),
        "baseline_per_s": round(requests / direct_s, 1),
        "ratio": round(direct_s / served_s, 2),
        "target": 0.8,
        "clients": CLIENTS,
        "requests": requests,
        "slices": slices,
        "refused": failures,
        "server_cpu_ms_per_request": round(cpu_ms, 2),
    }


def run(quick: bool = False) -> list[dict[str, Any]]:
    each, slices = (10, 8) if quick else (15, 20)
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        rows.append(
            _row("sqlite", lambda name: f"sqlite:///{Path(directory) / name}.sqlite", each, slices)
        )
    if postgres_available():
        schemas = [fresh_schema("bench_web"), fresh_schema("bench_web")]
        try:
            by_name = {"direct": schemas[0], "served": schemas[1]}
            rows.append(
                _row("postgresql", lambda name: f"{PG}?schema={by_name[name]}", each, slices)
            )
        finally:
            for schema in schemas:
                drop_schema(schema)
    return rows
