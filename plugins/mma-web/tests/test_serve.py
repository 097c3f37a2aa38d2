"""``mma serve`` and the live server: the command through the plugin API, the refusal to listen
beyond loopback without tokens, token configuration, and server-sent events over real HTTP."""

from __future__ import annotations

import json
from datetime import date

import httpx
import pytest
from click.testing import CliRunner
from mma_web.plugin import is_loopback
from mma_web.tokens import Role, TokenError, TokenTable, digest, load_tokens

from conftest import COORDINATOR, VIEWER, LiveServer, auth
from mma_core import Programme
from mma_core.cli import cli


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


def test_loopback() -> None:
    assert is_loopback("127.0.0.1")
    assert is_loopback("::1")
    assert is_loopback("localhost")
    assert not is_loopback("0.0.0.0")  # noqa: S104
    assert not is_loopback("10.0.0.1")


def test_tokens_from_the_environment_and_mma_toml() -> None:
    table = load_tokens(
        {"MMA_WEB_TOKENS": "aaaaaaaaaaaaaaaa1:viewer,bbbbbbbbbbbbbbbb2:coordinator:Bea"},
        {"tokens": {"Carl": {"sha256": digest("cccccccccccccccc3"), "role": "auditor"}}},
    )
    viewer = table.lookup("aaaaaaaaaaaaaaaa1")
    assert viewer is not None
    assert viewer.role is Role.VIEWER
    assert viewer.by == f"viewer-{digest('aaaaaaaaaaaaaaaa1')[:8]}"
    assert table.lookup("bbbbbbbbbbbbbbbb2").by == "Bea"  # type: ignore[union-attr]
    assert table.lookup("cccccccccccccccc3").role is Role.AUDITOR  # type: ignore[union-attr]
    assert table.lookup("dddddddddddddddd4") is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("short:viewer", "at least 16"),
        ("aaaaaaaaaaaaaaaa1:admin", "not one of"),
        ("aaaaaaaaaaaaaaaa1:municipality", "answer links only"),
        ("aaaaaaaaaaaaaaaa1", "TOKEN:ROLE"),
        ("aaaaaaaaaaaaaaaa1:viewer,aaaaaaaaaaaaaaaa1:auditor", "twice"),
    ],
)
def test_bad_token_configuration_is_refused_without_showing_the_token(
    value: str, message: str
) -> None:
    with pytest.raises(TokenError, match=message) as caught:
        TokenTable.parse_env(value)
    assert "aaaaaaaaaaaaaaaa1" not in str(caught.value)


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
