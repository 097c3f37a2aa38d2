"""A small campaign in a real SQLite store, the app over it, and a live uvicorn server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient
from mma_web.app import create_app
from mma_web.tokens import TokenTable

from mma_core import Programme

COORDINATOR = "coordinator-token-for-anna-0001"
COORDINATOR_ANONYMOUS = "coordinator-token-nameless-0002"
VIEWER = "viewer-token-for-victor-000003"
AUDITOR = "auditor-token-for-aud-00000004"
TOKENS = (
    f"{COORDINATOR}:coordinator:Anna,{COORDINATOR_ANONYMOUS}:coordinator,"
    f"{VIEWER}:viewer:Victor,{AUDITOR}:auditor:Audrey"
)
OFFER = "1298348/1298354"
INVITED = (
    "GM0363",
    "GM0392",
    "GM0377",
    "GM0394",
)  # Amsterdam, Haarlem, Bloemendaal, Haarlemmermeer
SESSION = "najaar-1"
FULL_SESSION = "vol-1"


def play_campaign(prog: Programme) -> None:
    """Registered, offered, four invited, two training sessions ahead (one with one seat)."""
    today = date.today()
    prog.register_registry("noord-holland-2019", by="setup")
    prog.make_offer(reference=OFFER, sent_on=today - timedelta(days=30), by="setup")
    for code in INVITED:
        prog.invite(code, on=today - timedelta(days=30), reference=OFFER, by="setup")
    start = datetime.combine(today + timedelta(days=40), datetime.min.time()).replace(hour=10)
    prog.schedule_training(
        SESSION,
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        location="Provinciehuis, Haarlem",
        capacity=20,
        by="setup",
    )
    prog.schedule_training(
        FULL_SESSION,
        starts_at=start + timedelta(days=1),
        ends_at=start + timedelta(days=1, hours=2),
        location="Provinciehuis, Haarlem",
        capacity=1,
        by="setup",
    )


def count_events(prog: Programme) -> int:
    """The stored events counted one by one, checked against ``event_count()``."""
    count, start = 0, 1
    while True:
        batch = prog.recorder.select_notifications(start, 500)
        count += len(batch)
        if len(batch) < 500:
            break
        start = batch[-1].id + 1
    assert prog.event_count() == count
    return count


@pytest.fixture
def event_count() -> Callable[[Programme], int]:
    return count_events


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'web.sqlite'}"
    with Programme.open(url, origin="test") as prog:
        play_campaign(prog)
    return url


@pytest.fixture
def programme(store_url: str) -> Iterator[Programme]:
    with Programme.open(store_url, origin="web") as prog:
        yield prog


@pytest.fixture
def app(programme: Programme):  # type: ignore[no-untyped-def]
    return create_app(programme, TokenTable.parse_env(TOKENS))


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    # https: the session cookie is Secure, and httpx sends it only over https.
    with TestClient(app, base_url="https://testserver") as test_client:
        yield test_client


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """The app under a real uvicorn on loopback, in a thread."""

    def __init__(self, app, port: int) -> None:  # type: ignore[no-untyped-def]
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.url = f"http://127.0.0.1:{port}"
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)


@pytest.fixture
def live_server(app) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    with LiveServer(app, free_port()) as server:
        yield server
