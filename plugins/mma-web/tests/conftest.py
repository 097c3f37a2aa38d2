"""A small campaign in a real SQLite store, the app over it, and a live uvicorn server."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient
from mma_web.app import create_app
from mma_web.server import HeaderTimeoutProtocol
from mma_web.tokens import TokenTable

from mma_core import Programme

COORDINATOR = "aP6BjhGafJV2ZIYUfokqhie43rxN22wpzIrnBgb7zNA"
COORDINATOR_ANONYMOUS = "HyTDvOWLuylaAc_56z-iaEBHzo6HR0B_9LiJaI40V80"
VIEWER = "JfnbtSLzfSTsd-8wsOtFwcuNNthnXS-X-aKydBFRHgk"
AUDITOR = "Ra7twO-3D2xsc91ueTHUE_XWfxsU7Gw5p3O8BG01lus"
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


def login_form(client: TestClient, path: str = "/login") -> str:
    """Open the login page (which sets its nonce cookie); returns the form's CSRF token."""
    page = client.get(path)
    assert page.status_code == 200, page.text
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match is not None
    return match.group(1)


def post_login(client: TestClient, token: str, path: str = "/login", **kwargs):  # type: ignore[no-untyped-def]
    """Log in as a browser does: the form first, then its POST with the CSRF token."""
    csrf = login_form(client, path)
    return client.post(path, data={"token": token, "csrf": csrf}, follow_redirects=False, **kwargs)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """The app under a real uvicorn on loopback, in a thread."""

    def __init__(self, app, port: int, header_timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
        # As mma serve: open event streams get a second to finish when the server stops, and
        # a request's headers must arrive in time.
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            timeout_graceful_shutdown=1,
            http=HeaderTimeoutProtocol,
        )
        config.mma_header_timeout = header_timeout  # type: ignore[attr-defined]
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


POSTGRES_SERVER = os.environ.get("MMA_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A store URL with a fresh PostgreSQL schema of its own, dropped afterwards (skips when
    the server is not reachable, unless ``MMA_REQUIRE_POSTGRES=1``)."""
    import psycopg
    from psycopg import sql

    try:
        with psycopg.connect(POSTGRES_SERVER, connect_timeout=3):
            pass
    except psycopg.Error as error:
        if os.environ.get("MMA_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"MMA_REQUIRE_POSTGRES=1 but PostgreSQL is not reachable: {error}")
        pytest.skip("PostgreSQL is not reachable (set MMA_REQUIRE_POSTGRES=1 to fail instead)")
    schema = f"mma_web_test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(POSTGRES_SERVER, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        yield f"{POSTGRES_SERVER}?schema={schema}"
    finally:
        with psycopg.connect(POSTGRES_SERVER, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
