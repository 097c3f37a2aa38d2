"""Several ``mma serve`` processes on one PostgreSQL store: sessions made on one are honoured
by the other, survive a restart, and end once their token is removed from the configuration;
open event streams do not starve the server, and an event recorded through one process reaches
the streams open on the other."""

from __future__ import annotations

import asyncio
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import httpx
import pytest

from conftest import COORDINATOR, VIEWER, auth, free_port, play_campaign
from mma_core import Programme

# Each test starts two or three mma serve processes (10 to 20 s): they run in make test-all.
pytestmark = pytest.mark.slow


def clean_env(tokens: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MMA_")}
    return {**env, "MMA_WEB_TOKENS": tokens, "MMA_LANG": "en"}


@contextmanager
def serving(url: str, tokens: str, *args: str) -> Iterator[str]:
    """``mma serve`` in its own process; yields its address."""
    with serving_process(url, tokens, *args) as (base, _process):
        yield base


@contextmanager
def serving_process(
    url: str, tokens: str, *args: str, port: int | None = None
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``mma serve`` in its own process; yields its address and the process."""
    port = port or free_port()
    process = subprocess.Popen(  # noqa: S603 - our own arguments
        [sys.executable, "-m", "mma_core.cli", "--store", url, "serve", "--port", str(port), *args],
        env=clean_env(tokens),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise AssertionError(f"mma serve exited: {process.communicate()[1]}")
            try:
                if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "mma serve did not become ready"
            time.sleep(0.2)
        yield base, process
    finally:
        if process.poll() is None:  # a test may have stopped it already
            process.terminate()
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def log_in(base: str, token: str) -> str:
    """Log in as a browser would; returns the session cookie's value."""
    form = httpx.get(f"{base}/login")
    nonce = form.cookies["mma_login"]
    match = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert match is not None
    done = httpx.post(
        f"{base}/login",
        data={"token": token, "csrf": match.group(1)},
        headers={"Cookie": f"mma_login={nonce}"},
    )
    assert done.status_code == 303, done.text
    session = done.cookies["mma_session"]
    assert session
    return session


def page(base: str, session: str) -> int:
    return httpx.get(f"{base}/", headers={"Cookie": f"mma_session={session}"}).status_code


@pytest.fixture
def pg_store(postgres_url: str) -> str:
    with Programme.open(postgres_url, origin="test") as prog:
        play_campaign(prog)
    return postgres_url


BOTH = f"{COORDINATOR}:coordinator:Anna,{VIEWER}:viewer:Victor"


def test_two_servers_share_sessions_that_survive_a_restart_and_end_with_their_token(
    pg_store: str,
) -> None:
    with serving(pg_store, BOTH) as second:
        with serving(pg_store, BOTH) as first:
            session = log_in(first, COORDINATOR)
            assert page(first, session) == 200
            assert page(second, session) == 200  # made on the first, honoured by the second
        with serving(pg_store, BOTH) as first:  # the first, restarted
            assert page(first, session) == 200
            viewer = log_in(first, VIEWER)
        assert page(second, viewer) == 200
    # The coordinator's token is taken out of the configuration: its session ends at the next
    # request, on every server, and the viewer's session goes on.
    with serving(pg_store, f"{VIEWER}:viewer:Victor") as restarted:
        assert page(restarted, session) == 303
        assert page(restarted, viewer) == 200
    with serving(pg_store, BOTH) as again:  # the token back: the ended session stays ended
        assert page(again, session) == 303


def test_mma_serve_with_two_workers(pg_store: str) -> None:
    with serving(pg_store, BOTH, "--workers", "2") as base:
        session = log_in(base, COORDINATOR)
        # Each request may reach either worker: the session holds on all of them.
        assert all(page(base, session) == 200 for _ in range(20))
        done = httpx.post(
            f"{base}/api/v1/commands/accept",
            json={"code": "GM0363", "on": date.today().isoformat()},
            headers=auth(COORDINATOR),
        )
        assert done.status_code == 200, done.text


async def _streams_and_health(first: str, second: str, count: int) -> tuple[list[float], int]:
    """Open ``count`` streams on ``first`` at the end of the log; time /health meanwhile;
    record an event through ``second``; count the streams it reached."""
    limits = httpx.Limits(max_connections=count + 20, max_keepalive_connections=count + 20)
    async with httpx.AsyncClient(base_url=first, timeout=60, limits=limits) as client:
        last = (await client.get("/api/v1/event-count", headers=auth(VIEWER))).json()[
            "last_position"
        ]
        opened = asyncio.Event()
        ready = 0
        reached = 0

        async def stream() -> None:
            nonlocal ready, reached
            path = f"/api/v1/events?after={last}"
            async with client.stream("GET", path, headers=auth(VIEWER)) as response:
                assert response.status_code == 200
                lines = response.aiter_lines()
                assert (await anext(lines)).startswith("retry:")
                ready += 1
                if ready == count:
                    opened.set()
                async for line in lines:
                    if line.startswith("event: Accepted"):
                        reached += 1
                        return

        tasks = [asyncio.create_task(stream()) for _ in range(count)]
        await asyncio.wait_for(opened.wait(), 60)
        timings = []
        async with httpx.AsyncClient(base_url=first, timeout=30) as probe:
            for _ in range(20):
                started = time.perf_counter()
                assert (await probe.get("/health")).status_code == 200
                timings.append(time.perf_counter() - started)
                await asyncio.sleep(0.05)
        async with httpx.AsyncClient(base_url=second, timeout=30) as writer:
            done = await writer.post(
                "/api/v1/commands/accept",
                json={"code": "GM0363", "on": date.today().isoformat()},
                headers=auth(COORDINATOR),
            )
            assert done.status_code == 200, done.text
        await asyncio.wait_for(asyncio.gather(*tasks), 60)
        return timings, reached


def test_120_open_streams_do_not_starve_health_and_hear_the_other_server(pg_store: str) -> None:
    with (
        serving(pg_store, BOTH, "--streams-per-caller", "200") as first,
        serving(pg_store, BOTH) as second,
    ):
        timings, reached = asyncio.run(_streams_and_health(first, second, 120))
    p90 = statistics.quantiles(timings, n=10)[-1]
    assert p90 < 0.5, timings
    assert reached == 120
