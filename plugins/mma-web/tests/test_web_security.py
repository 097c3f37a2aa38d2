"""The web's defences, each as an attacker or a careless deployment would meet it: login CSRF
and Origin, throttling, weak tokens, session renewal, bearer-only API under a root path, no
caching, body and header limits, the stream cap, and answer-link tokens kept out of the logs."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from mma_web.app import create_app
from mma_web.db import Database
from mma_web.links import LinkStore
from mma_web.server import ACCESS_FORMAT, AccessFormatter
from mma_web.sessions import Throttle
from mma_web.tokens import TokenError, TokenTable, new_token, strength
from uvicorn.logging import AccessFormatter as UvicornAccessFormatter

from conftest import (
    COORDINATOR,
    TOKENS,
    VIEWER,
    LiveServer,
    auth,
    free_port,
    login_form,
    post_login,
)
from mma_core import Programme

WRONG = "W" + "rong-token-that-is-long-enough-to-be-tried-0"


def cookie(client: TestClient, name: str = "mma_session") -> str | None:
    return client.cookies.get(name)


# -- login --------------------------------------------------------------------------------


def test_login_needs_the_forms_csrf_token(client: TestClient) -> None:
    without = client.post("/login", data={"token": COORDINATOR}, follow_redirects=False)
    assert without.status_code == 403
    assert cookie(client) is None
    login_form(client)  # the nonce cookie, but a token from elsewhere
    forged = client.post(
        "/login", data={"token": COORDINATOR, "csrf": "0" * 64}, follow_redirects=False
    )
    assert forged.status_code == 403
    assert cookie(client) is None
    assert post_login(client, COORDINATOR).status_code == 303


def test_login_from_another_origin_is_refused(client: TestClient) -> None:
    refused = post_login(client, COORDINATOR, headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403
    assert cookie(client) is None
    cross = post_login(client, COORDINATOR, headers={"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403
    sibling = post_login(client, COORDINATOR, headers={"Sec-Fetch-Site": "same-site"})
    assert sibling.status_code == 403
    # A page without a referrer policy of its own may post with Origin: null; only the
    # browser's Sec-Fetch-Site can vouch for it.
    unknown = post_login(client, COORDINATOR, headers={"Origin": "null"})
    assert unknown.status_code == 403
    assert cookie(client) is None
    ours = post_login(
        client, COORDINATOR, headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"}
    )
    assert ours.status_code == 303
    same = post_login(client, COORDINATOR, headers={"Origin": "https://testserver"})
    assert same.status_code == 303


def test_failed_logins_are_throttled_with_retry_after(client: TestClient) -> None:
    statuses = [post_login(client, f"{WRONG}{n}").status_code for n in range(10)]
    assert statuses[:9] == [401] * 9
    assert statuses[9] == 429
    blocked = post_login(client, COORDINATOR)  # even the right token, from this address
    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["Retry-After"]) <= 300
    assert cookie(client) is None


def test_the_throttle_counts_per_token_prefix_across_addresses() -> None:
    now = [1000.0]
    throttle = Throttle(Database.in_memory(), b"k" * 32, failures=3, clock=lambda: now[0])
    for n in range(3):  # three addresses, one prefix
        keys = throttle.keys(f"10.0.0.{n}", "AAAAAAAA-guess-" + str(n))
        assert throttle.retry_after(keys) is None
        throttle.failed(keys)
    assert throttle.retry_after(throttle.keys("10.0.0.9", "AAAAAAAA-another")) == 300
    assert throttle.retry_after(throttle.keys("10.0.0.9", "BBBBBBBB-another")) is None
    now[0] += 301  # the window is over
    assert throttle.retry_after(throttle.keys("10.0.0.9", "AAAAAAAA-another")) is None


def test_failed_bearer_tokens_are_throttled_per_address_with_retry_after(
    app,  # type: ignore[no-untyped-def]
) -> None:
    with TestClient(app, base_url="https://testserver", client=("10.0.0.1", 50000)) as guesser:
        statuses = [
            guesser.get("/api/v1/municipalities", headers=auth(f"{WRONG}{n}")).status_code
            for n in range(10)
        ]
        assert statuses[:9] == [401] * 9
        assert statuses[9] == 429
        blocked = guesser.get("/api/v1/municipalities", headers=auth(COORDINATOR))
        assert blocked.status_code == 429  # even the right token, from this address
        assert 0 < int(blocked.headers["Retry-After"]) <= 300
        assert blocked.json()["code"] == "too_many_requests"
        write = guesser.post(
            "/api/v1/commands/accept",
            json={"code": "GM0363", "on": "2019-11-01"},
            headers=auth(COORDINATOR),
        )
        assert write.status_code == 429
        # The same secrets through the other door: logins from the address wait too.
        assert post_login(guesser, COORDINATOR).status_code == 429
    with TestClient(app, base_url="https://testserver", client=("10.0.0.2", 50000)) as other:
        assert other.get("/api/v1/municipalities", headers=auth(COORDINATOR)).status_code == 200
        # No token at all is no guess: never counted.
        statuses = [other.get("/api/v1/municipalities").status_code for _ in range(12)]
        assert statuses == [401] * 12
        assert other.get("/api/v1/municipalities", headers=auth(VIEWER)).status_code == 200


def test_a_bearer_block_holds_in_every_process_on_the_store(programme: Programme) -> None:
    tokens = TokenTable.parse_env(TOKENS)
    one, two = create_app(programme, tokens), create_app(programme, tokens)
    with TestClient(two, client=("10.0.0.3", 1)) as later:
        assert later.get("/api/v1/municipalities", headers=auth(VIEWER)).status_code == 200
    with TestClient(one, client=("10.0.0.3", 1)) as guesser:
        for n in range(10):
            guesser.get("/api/v1/municipalities", headers=auth(f"{WRONG}{n}"))
    two.state.bearer_throttle.refresh = 0  # the next request reads the store (1 s otherwise)
    with TestClient(two, client=("10.0.0.3", 1)) as later:
        refused = later.get("/api/v1/municipalities", headers=auth(VIEWER))
        assert refused.status_code == 429
        assert 0 < int(refused.headers["Retry-After"]) <= 300


def test_a_valid_token_is_heard_while_the_throttle_cannot_be_read(
    app,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def unreadable() -> dict[str, float]:
        raise OSError("the store is away")

    monkeypatch.setattr(app.state.throttle, "blocked", unreadable)
    with TestClient(app, base_url="https://testserver") as client:
        assert client.get("/api/v1/municipalities", headers=auth(VIEWER)).status_code == 200


def test_each_login_gets_a_new_session_id_and_ends_the_earlier_one(
    app,  # type: ignore[no-untyped-def]
) -> None:
    with TestClient(app, base_url="https://testserver") as client:
        post_login(client, COORDINATOR)
        first = cookie(client)
        assert first is not None
        assert client.get("/", follow_redirects=False).status_code == 200
        post_login(client, COORDINATOR)
        second = cookie(client)
        assert second is not None
        assert second != first
    with TestClient(app, base_url="https://testserver", cookies={"mma_session": first}) as old:
        assert old.get("/", follow_redirects=False).status_code == 303


def test_the_api_takes_no_cookie_under_a_root_path(app) -> None:  # type: ignore[no-untyped-def]
    with TestClient(app, base_url="https://testserver", root_path="/mma") as proxied:
        assert post_login(proxied, COORDINATOR).status_code == 303
        assert proxied.get("/", follow_redirects=False).status_code == 200  # the page: yes
        api = proxied.get("/api/v1/event-count")
        assert api.status_code == 401
        assert proxied.get("/metrics").status_code == 401
        assert proxied.get("/api/v1/event-count", headers=auth(VIEWER)).status_code == 200
        # As uvicorn --root-path passes a request on: the root path still on the path.
        assert proxied.get("/mma/api/v1/event-count").status_code == 401
        assert proxied.get("/mma/metrics").status_code == 401
        assert proxied.get("/mma/api/v1/event-count", headers=auth(VIEWER)).status_code == 200


# -- tokens -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "weak",
    [
        "aaaaaaaaaaaaaaaa",
        "coordinator-token-for-anna-0001",
        "Password1Password1Password1",
        "0123456789abcdef0123456789abcdef",
    ],
)
def test_a_weak_token_is_refused_with_the_reason(weak: str) -> None:
    with pytest.raises(TokenError, match="too weak") as caught:
        TokenTable.parse_env(f"{weak}:coordinator:Anna")
    assert weak not in str(caught.value)
    with pytest.raises(TokenError, match="too weak"):
        TokenTable.from_config({"Anna": {"token": weak, "role": "coordinator"}})


def test_new_tokens_are_strong_and_accepted() -> None:
    tokens = {new_token() for _ in range(200)}
    assert len(tokens) == 200
    assert min(strength(t) for t in tokens) >= 128
    table = TokenTable.parse_env(",".join(f"{t}:viewer" for t in list(tokens)[:5]))
    assert len(table.principals) == 5


def serve_command(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own arguments
        [sys.executable, "-m", "mma_core.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_mma_serve_stops_at_a_weak_token_and_prints_new_ones(store_url: str) -> None:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("MMA_")}
    env["MMA_LANG"] = "en"
    weak = serve_command(
        "--store",
        store_url,
        "serve",
        env={**env, "MMA_WEB_TOKENS": "aaaaaaaaaaaaaaaa:coordinator:Anna"},
    )
    assert weak.returncode == 2
    assert "too weak" in weak.stderr
    assert "--new-token" in weak.stderr
    assert "aaaaaaaaaaaaaaaa" not in weak.stderr
    made = serve_command("serve", "--new-token", "coordinator:Anna", env=env)
    assert made.returncode == 0, made.stderr
    entry = made.stdout.strip()
    principal = TokenTable.parse_env(entry).lookup(entry.split(":")[0])
    assert principal is not None
    assert principal.by == "Anna"
    assert "sha256" in made.stderr


# -- limits and headers -------------------------------------------------------------------


def test_responses_with_personal_data_are_not_cached(client: TestClient) -> None:
    coordinator = auth(COORDINATOR)
    for path in ("/api/v1/municipalities/GM0363", "/api/v1/overview", "/api/v1/sessions"):
        response = client.get(path, headers=coordinator)
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store", path
    post_login(client, COORDINATOR)
    assert client.get("/gemeente/GM0363").headers["cache-control"] == "no-store"
    assert client.get("/api/v1/nothing", headers=coordinator).headers["cache-control"] == "no-store"


def test_a_body_over_the_limit_is_413_and_writes_nothing(
    client: TestClient, programme: Programme, event_count
) -> None:  # type: ignore[no-untyped-def]
    before = event_count(programme)
    big = b'{"code": "GM0363", "on": "2030-01-01", "x": "' + b"a" * (5 * 1024 * 1024) + b'"}'
    response = client.post(
        "/api/v1/commands/accept",
        content=big,
        headers={**auth(COORDINATOR), "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"code": "GM0363", "x": "'
        for _ in range(20):
            yield b"a" * 100_000
        yield b'"}'

    streamed = client.post(
        "/api/v1/commands/accept",
        content=chunks(),
        headers={**auth(COORDINATOR), "Content-Type": "application/json"},
    )
    assert streamed.status_code == 413
    assert event_count(programme) == before


def test_the_body_limit_is_configurable(programme: Programme) -> None:
    app = create_app(programme, TokenTable.parse_env(TOKENS), max_body=2048)
    with TestClient(app, base_url="https://testserver") as client:
        response = client.post(
            "/api/v1/commands/accept",
            json={"code": "GM0363", "on": "2030-01-01", "pad": "a" * 3000},
            headers=auth(COORDINATOR),
        )
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("query", "headers"),
    [
        ("?after=1e23", {}),
        ("?after=99999999999999999999999", {}),
        ("?after=-1", {}),
        ("", {"Last-Event-ID": "1" * 40}),
    ],
)
def test_a_position_out_of_range_is_a_clean_400(
    client: TestClient, query: str, headers: dict[str, str]
) -> None:
    response = client.get(f"/api/v1/events{query}", headers={**auth(VIEWER), **headers})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "position" in response.json()["detail"]


def test_half_sent_headers_are_closed_within_the_timeout(app) -> None:  # type: ignore[no-untyped-def]
    with LiveServer(app, free_port(), header_timeout=1.0) as server:
        port = int(server.url.rsplit(":", 1)[1])
        connections = []
        for _ in range(20):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            connections.append(sock)
        started = time.monotonic()
        closed = 0
        for sock in connections:
            try:
                data = sock.recv(100)
            except TimeoutError:
                data = b"still open"
            closed += data == b""
            sock.close()
        assert closed == 20
        assert time.monotonic() - started < 5
        # A whole request is still answered.
        assert httpx.get(f"{server.url}/health", timeout=5).status_code == 200


def test_the_header_deadline_starts_again_when_a_response_ends(app) -> None:  # type: ignore[no-untyped-def]
    with LiveServer(app, free_port(), header_timeout=1.0) as server:
        port = int(server.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            # Three whole requests, 0.6 s apart, on one keep-alive connection: 1.8 s in all,
            # but each arrived within the second after the response before it ended.
            for _ in range(3):
                time.sleep(0.6)
                sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                assert read_response(sock).startswith(b"HTTP/1.1 200 ")
            # Then half a request: closed about a second after the last response.
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
            started = time.monotonic()
            assert sock.recv(100) == b""
            assert 0.5 < time.monotonic() - started < 5


def test_a_request_answered_for_longer_than_the_header_timeout_is_not_cut(
    programme: Programme,
) -> None:
    app = create_app(programme, TokenTable.parse_env(TOKENS))
    with (
        LiveServer(app, free_port(), header_timeout=1.0) as server,
        httpx.Client(base_url=server.url, timeout=10) as http,
    ):
        last = programme.last_position()
        with http.stream("GET", f"/api/v1/events?after={last}", headers=auth(VIEWER)) as stream:
            assert stream.status_code == 200
            lines = stream.iter_lines()
            assert next(lines).startswith("retry:")
            time.sleep(2.5)  # the stream's headers came long ago; it goes on
            programme.accept("GM0363", on=date.today(), by="test")
            assert any(line == "event: Accepted" for line in lines)


def test_request_headers_over_16_kib_are_a_400_and_closed(app) -> None:  # type: ignore[no-untyped-def]
    with LiveServer(app, free_port()) as server:
        port = int(server.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            padding = b"".join(b"X-Pad-%d: %s\r\n" % (i, b"a" * 1000) for i in range(17))
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n" + padding + b"\r\n")
            answer = read_response(sock)
            assert answer.startswith(b"HTTP/1.1 400 ")
            assert sock.recv(100) == b""  # and closed
        # Headers under the limit are answered.
        padding = {f"X-Pad-{i}": "a" * 1000 for i in range(12)}
        assert httpx.get(f"{server.url}/health", headers=padding, timeout=5).status_code == 200


def read_response(sock: socket.socket) -> bytes:
    """One response with a Content-Length from ``sock``: its head and body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        assert chunk, f"closed after {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")[1:]
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = sock.recv(4096)
        assert chunk, "closed in the body"
        body += chunk
    return head + b"\r\n\r\n" + body


def test_open_streams_per_caller_are_capped(programme: Programme) -> None:
    app = create_app(programme, TokenTable.parse_env(TOKENS), streams_per_caller=2)
    with (
        LiveServer(app, free_port()) as server,
        httpx.Client(base_url=server.url, timeout=10) as http,
    ):
        last = programme.last_position()
        with (
            http.stream("GET", f"/api/v1/events?after={last}", headers=auth(VIEWER)) as one,
            http.stream("GET", f"/api/v1/events?after={last}", headers=auth(VIEWER)) as two,
        ):
            assert (one.status_code, two.status_code) == (200, 200)
            # Kept: an iterator dropped would close its stream.
            lines = one.iter_lines(), two.iter_lines()
            assert all(next(line).startswith("retry:") for line in lines)
            # A stream, so that a server without a cap fails here instead of streaming on.
            with http.stream("GET", "/api/v1/events", headers=auth(VIEWER)) as third:
                assert third.status_code == 429
                assert "Retry-After" in third.headers
            with http.stream(
                "GET", f"/api/v1/events?after={last}", headers=auth(COORDINATOR)
            ) as other:
                assert other.status_code == 200  # another caller's streams are its own
        # Closed streams no longer count.
        deadline = time.monotonic() + 10
        while True:
            with http.stream("GET", "/api/v1/events", headers=auth(VIEWER)) as again:
                if again.status_code == 200:
                    break
            assert time.monotonic() < deadline, "closed streams still count"
            time.sleep(0.2)


# -- answer links -------------------------------------------------------------------------


def test_opening_a_link_does_not_use_it_up(client: TestClient, programme: Programme) -> None:
    token, _ = LinkStore.for_programme(programme).create("GM0363", by="test")
    for _ in range(3):
        assert client.get(f"/antwoord/{token}").status_code == 200
    link = LinkStore.for_programme(programme).resolve(token)
    assert link is not None
    assert link.used_at is None


def test_link_tokens_are_nowhere_in_the_server_output(store_url: str, tmp_path: Path) -> None:
    import os

    with Programme.open(store_url) as prog:
        token, _ = LinkStore.for_programme(prog).create("GM0363", by="test")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MMA_")}
    env["MMA_WEB_TOKENS"] = f"{COORDINATOR}:coordinator:Anna"
    process = subprocess.Popen(  # noqa: S603 - our own arguments
        [sys.executable, "-m", "mma_core.cli", "--store", store_url, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "mma serve exited"
            try:
                if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert httpx.get(f"{base}/antwoord/{token}").status_code == 200
        assert httpx.get(f"{base}/antwoord/{token}?x=1").status_code == 200
        posted = httpx.post(f"{base}/antwoord/{token}", data={"csrf": "nope"})
        assert posted.status_code == 403
    finally:
        process.terminate()
        out, err = process.communicate(timeout=30)
    assert "/antwoord/…" in out + err  # the requests were logged, without their token
    assert token not in out + err
    assert token[:16] not in out + err


@pytest.mark.parametrize("status", [200, 401, 410, 599])
def test_the_access_log_line_is_uvicorns(status: int) -> None:
    formatter = AccessFormatter(ACCESS_FORMAT, use_colors=False)
    theirs = UvicornAccessFormatter(ACCESS_FORMAT, use_colors=False)
    args = ("127.0.0.1:40000", "POST", "/antwoord/…?x=1", "1.1", status)
    message = '%s - "%s %s HTTP/%s" %d'  # as uvicorn logs a request
    record = logging.LogRecord("uvicorn.access", logging.INFO, "x", 1, message, args, None)
    assert formatter.format(record) == theirs.format(record)
    assert formatter.format(record).startswith('INFO:     127.0.0.1:40000 - "POST /antwoord/…?x=1 ')
    coloured = AccessFormatter(ACCESS_FORMAT, use_colors=True)  # a terminal: uvicorn's own
    assert coloured.format(record) == UvicornAccessFormatter(ACCESS_FORMAT, use_colors=True).format(
        record
    )


def test_an_answer_link_takes_one_address_per_official_not_a_list(
    client: TestClient, programme: Programme, event_count
) -> None:  # type: ignore[no-untyped-def]
    import re

    from conftest import SESSION

    token, _ = LinkStore.for_programme(programme).create("GM0392", by="test")
    form = client.get(f"/antwoord/{token}")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    before = event_count(programme)
    refused = client.post(
        f"/antwoord/{token}",
        data={
            "csrf": csrf,
            "besluit": "akkoord",
            "naam1": "Eva de Vries",
            "email1": "zz@x.nl,alle-medewerkers",
            "naam2": "Piet Bakker",
            "email2": "piet@haarlem.example",
            "sessie": SESSION,
        },
    )
    assert refused.status_code == 422
    assert "e-mailadres is niet geldig" in refused.text
    assert event_count(programme) == before
    assert client.get(f"/antwoord/{token}").status_code == 200  # the link still works


def test_table_names_are_quoted_identifiers() -> None:
    from mma_web.db import postgres_identifier, sqlite_identifier

    assert postgres_identifier('we"ird', "mma_web_links") == '"we""ird"."mma_web_links"'
    assert sqlite_identifier('x"; DROP TABLE y; --') == '"x""; DROP TABLE y; --"'
    database = Database.in_memory()
    assert database.sql("SELECT 1 FROM {t} WHERE a = ?", t="mma_web_links") == (
        'SELECT 1 FROM "mma_web_links" WHERE a = ?'
    )


def test_the_web_tables_work_in_a_postgresql_schema(postgres_url: str) -> None:
    with Programme.open(postgres_url, origin="test") as prog:
        prog.register_registry("noord-holland-2019", by="setup")
        links = LinkStore.for_programme(prog)
        token, link = links.create("GM0363", by="test")
        assert links.resolve(token) == link
        assert links.use(link)
        assert links.resolve(token) is None
        app = create_app(prog, TokenTable.parse_env(TOKENS))
        with TestClient(app, base_url="https://testserver") as client:
            assert post_login(client, COORDINATOR).status_code == 303
            assert client.get("/", follow_redirects=False).status_code == 200


def test_the_links_table_works_in_a_schema_that_needs_quoting(postgres_url: str) -> None:
    """The links table's schema was once formatted into SQL by hand ('"{schema}".table'): a
    double quote in the name broke every statement. psycopg's sql.Identifier quotes it.

    eventsourcing reads the schema unquoted when it opens a store (a capital or a quote in the
    name and it finds no table of its own), so the events stay in the ordinary schema and the
    open store's datastore is pointed at the odd one only for the plugin's own SQL."""
    import uuid

    import psycopg
    from psycopg import sql

    server = postgres_url.split("?")[0]
    odd = f'Mma "web"; {uuid.uuid4().hex[:12]}'
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(odd)))
    try:
        with Programme.open(postgres_url, origin="test") as prog:
            prog.register_registry("noord-holland-2019", by="setup")
            datastore = prog.factory.datastore  # type: ignore[attr-defined]
            ordinary = datastore.schema
            datastore.schema = odd
            try:
                links = LinkStore.for_programme(prog)
                token, link = links.create("GM0363", by="test")
                assert links.resolve(token) == link
                assert links.use(link)
                assert links.resolve(token) is None
            finally:
                datastore.schema = ordinary
        with psycopg.connect(server) as connection:
            (count,) = connection.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(odd, "mma_web_links"))
            ).fetchone() or (0,)
        assert count == 1  # the link is in the odd schema's table, nowhere else
    finally:
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(odd)))
