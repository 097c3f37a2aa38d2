"""``mma serve`` and the live server: the command through the plugin API, the refusal to listen
beyond loopback without tokens, token configuration, and server-sent events over real HTTP."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from mma_web.plugin import is_loopback
from mma_web.tokens import Role, TokenError, TokenTable, digest, load_tokens

from conftest import COORDINATOR, VIEWER, LiveServer, auth, free_port
from mma_core import Programme
from mma_core.testing import cli


def test_mma_serve_is_added_through_the_plugin_api() -> None:
    result = CliRunner().invoke(cli, ["serve", "--help"])
    assert result.exit_code == 0, result.output
    assert "--host" in result.output
    assert "MMA_WEB_TOKENS" in result.output


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "::", "example.org"])  # noqa: S104 - the refusal is the test
def test_serve_refuses_to_listen_beyond_loopback_without_tokens(
    host: str, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MMA_WEB_TOKENS", raising=False)
    result = CliRunner().invoke(cli, ["--store", store_url, "serve", "--host", host])
    assert result.exit_code == 2
    assert "refusing to listen" in result.output


@pytest.mark.parametrize(
    ("args", "tokens", "dutch"),
    [
        (["serve", "--help"], None, "Adres waarop geluisterd wordt."),
        (["serve", "--host", "10.0.0.1"], None, "Fout: luisteren op 10.0.0.1 zonder tokens"),
        (["serve"], "short:viewer", "Fout: MMA_WEB_TOKENS, item 1: een token moet minstens 16"),
    ],
)
def test_serve_speaks_dutch_from_the_plugins_own_catalog(
    args: list[str],
    tokens: str | None,
    dutch: str,
    store_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if tokens is None:
        monkeypatch.delenv("MMA_WEB_TOKENS", raising=False)
    else:
        monkeypatch.setenv("MMA_WEB_TOKENS", tokens)
    result = CliRunner().invoke(cli, ["--lang", "nl", "--store", store_url, *args], prog_name="mma")
    assert result.exit_code == (0 if "--help" in args else 2), result.output
    assert dutch in result.output, result.output
    assert "Gebruik: mma serve [OPTIONS]" in result.output
    # The choice was for that invocation only: the caller's language is as it was.
    with pytest.raises(TokenError, match="a token needs at least 16 characters"):
        TokenTable.parse_env("short:viewer")


def test_loopback() -> None:
    assert is_loopback("127.0.0.1")
    assert is_loopback("::1")
    assert is_loopback("localhost")
    assert not is_loopback("0.0.0.0")  # noqa: S104
    assert not is_loopback("10.0.0.1")


def test_tokens_from_the_environment_and_mma_toml() -> None:
    table = load_tokens(
        {
            "MMA_WEB_TOKENS": "7u1kXm47tkMN7M5LEIP5MyMerhzXf28GOu1rMJeHyJ0:viewer,"
            "QWxEbfXTKRIBCY5ml0n3V-ssgRgKDDbVrsLoDf87hOg:coordinator:Bea"
        },
        {
            "tokens": {
                "Carl": {
                    "sha256": digest("Rxz22Z5gU1EAHnrR9AeHOZ1c6G_BkhTkOOpQVoxlmTI"),
                    "role": "auditor",
                }
            }
        },
    )
    viewer = table.lookup("7u1kXm47tkMN7M5LEIP5MyMerhzXf28GOu1rMJeHyJ0")
    assert viewer is not None
    assert viewer.role is Role.VIEWER
    assert viewer.by == f"viewer-{digest('7u1kXm47tkMN7M5LEIP5MyMerhzXf28GOu1rMJeHyJ0')[:8]}"
    assert table.lookup("QWxEbfXTKRIBCY5ml0n3V-ssgRgKDDbVrsLoDf87hOg").by == "Bea"  # type: ignore[union-attr]
    assert table.lookup("Rxz22Z5gU1EAHnrR9AeHOZ1c6G_BkhTkOOpQVoxlmTI").role is Role.AUDITOR  # type: ignore[union-attr]
    assert table.lookup("b37SFZFJt8srVR9cat5LYK2y5X4A7qybZnlC1VZIpeU") is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("short:viewer", "at least 16"),
        ("7u1kXm47tkMN7M5LEIP5MyMerhzXf28GOu1rMJeHyJ0:admin", "not one of"),
        ("7u1kXm47tkMN7M5LEIP5MyMerhzXf28GOu1rMJeHyJ0:municipality", "answer links only"),
        ("7u1kXm47tkMN7M5LEIP5MyMerhzXf28GOu1rMJeHyJ0", "TOKEN:ROLE"),
        (
            "7u1kXm47tkMN7M5LEIP5MyMerhzXf28GOu1rMJeHyJ0:viewer,7u1kXm47tkMN7M5LEIP5MyMerhzXf28GOu1rMJeHyJ0:auditor",
            "twice",
        ),
    ],
)
def test_bad_token_configuration_is_refused_without_showing_the_token(
    value: str, message: str
) -> None:
    with pytest.raises(TokenError, match=message) as caught:
        TokenTable.parse_env(value)
    assert "7u1kXm47tkMN7M5LEIP5MyMerhzXf28GOu1rMJeHyJ0" not in str(caught.value)


def read_events(response: httpx.Response, count: int) -> list[dict[str, str]]:
    events: list[dict[str, str]] = []
    current: dict[str, str] = {}
    for line in response.iter_lines():
        if not line:
            if "data" in current:
                events.append(current)
                if len(events) == count:
                    return events
            current = {}
        elif not line.startswith(":"):
            key, _, value = line.partition(": ")
            current[key] = value
    return events


def test_events_stream_and_resume_from_last_event_id(
    live_server: LiveServer, programme: Programme
) -> None:
    headers = auth(VIEWER)
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        with http.stream("GET", "/api/v1/events", headers=headers) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            first = read_events(response, 3)
        assert [int(e["id"]) for e in first] == [1, 2, 3]
        assert json.loads(first[0]["data"])["position"] == 1
        resume = {**headers, "Last-Event-ID": first[-1]["id"]}
        with http.stream("GET", "/api/v1/events", headers=resume) as response:
            assert int(read_events(response, 1)[0]["id"]) == 4
        last = int(http.get("/api/v1/event-count", headers=headers).json()["last_position"])
        with http.stream("GET", f"/api/v1/events?after={last}", headers=headers) as response:
            # Recorded after the stream caught up: it arrives as it happens.
            http.post(
                "/api/v1/commands/accept",
                json={"code": "GM0363", "on": date.today().isoformat()},
                headers=auth(COORDINATOR),
            ).raise_for_status()
            event = read_events(response, 1)[0]
        assert event["event"] == "Accepted"
        assert int(event["id"]) > last
        data = json.loads(event["data"])
        assert data["code"] == "GM0363"
        assert data["by"] == "Anna"


def start_serve(store_url: str, port: int, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 - our own arguments
        [sys.executable, "-m", "mma_core.cli", "--store", store_url, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_ready(base: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, "mma serve exited"
        try:
            if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "mma serve did not become ready"
        time.sleep(0.2)


def stop(process: subprocess.Popen[str]) -> str:
    process.terminate()
    try:
        _, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
    return err


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("MMA_")}


@pytest.mark.slow
def test_mma_serve_without_tokens_makes_one_for_the_run(store_url: str) -> None:
    port = free_port()
    process = start_serve(store_url, port, clean_env())
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, process)
        assert httpx.get(f"{base}/api/v1/event-count").status_code == 401
    finally:
        err = stop(process)
    # No MMA_LANG: the line is in Dutch, as a user sees it by default.
    match = re.search(r"het coördinatortoken voor deze keer is (\S+)", err)
    assert match is not None, err
    token = match.group(1)
    process = start_serve(store_url, port, clean_env())  # a new run, a new token
    try:
        wait_ready(base, process)
        assert httpx.get(f"{base}/api/v1/event-count", headers=auth(token)).status_code == 401
    finally:
        stop(process)


def test_mma_serve_reads_web_tokens_from_mma_toml(store_url: str, tmp_path: Path) -> None:
    (tmp_path / "mma.toml").write_text(
        "[web.tokens]\n"
        'Anna = { token = "Vt3q9xLr2mZpK8wN4cYhB6dJf0sQeGu1aTkRoWiE5nA", role = "coordinator" }\n'
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = start_serve(store_url, port, clean_env())
    try:
        wait_ready(base, process)
        accepted = httpx.post(
            f"{base}/api/v1/commands/accept",
            json={"code": "GM0363", "on": date.today().isoformat()},
            headers=auth("Vt3q9xLr2mZpK8wN4cYhB6dJf0sQeGu1aTkRoWiE5nA"),
        )
        assert accepted.status_code == 200, accepted.text
    finally:
        stop(process)
    with Programme.open(store_url) as prog:
        last = prog.history("GM0363")[-1]
    assert (last.type, last.by, last.origin) == ("Accepted", "Anna", "web")


@pytest.mark.slow
def test_mma_serve_stops_promptly_with_an_event_stream_open(store_url: str) -> None:
    """A dashboard's event stream never ends by itself; stopping the server must not wait
    for the browser to close it."""
    import threading

    port = free_port()
    token = "nY7cK2pQ9rT4vX1zB6mW3sL8dF5gH0jA-uE_iOkPqRw"  # noqa: S105 - a test token
    process = start_serve(store_url, port, {**clean_env(), "MMA_WEB_TOKENS": f"{token}:viewer"})
    base = f"http://127.0.0.1:{port}"
    opened = threading.Event()

    def listen() -> None:
        try:
            with (
                httpx.Client(base_url=base, timeout=60) as http,
                http.stream("GET", "/api/v1/events", headers=auth(token)) as response,
            ):
                opened.set()
                for _ in response.iter_lines():
                    pass
        except httpx.HTTPError:
            pass  # the server went away: what the stop is for

    listener = threading.Thread(target=listen, daemon=True)
    try:
        wait_ready(base, process)
        listener.start()
        assert opened.wait(20), "the event stream did not open"
        started = time.monotonic()
        process.terminate()
        process.communicate(timeout=20)  # without the limit it waits for the stream
        assert time.monotonic() - started < 15
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
