"""Store failures over HTTP: a transient one (another process holds the SQLite write lock) is
503 with Retry-After and its code, a permanent one (the store's tables gone) is 500 with its
code; neither writes anything or says more of the store than its code."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from mma_web.app import create_app
from mma_web.tokens import TokenTable

from conftest import COORDINATOR, TOKENS, auth
from mma_core import Programme

TODAY = date.today().isoformat()  # after the campaign's last step


@pytest.fixture
def busy_client(store_url: str) -> Iterator[tuple[TestClient, Path]]:
    os.environ["MMA_LOCK_TIMEOUT"] = "1"
    try:
        with Programme.open(store_url, origin="web") as prog:
            app = create_app(prog, TokenTable.parse_env(TOKENS))
            # As a server would: the handler's response, not the exception, reaches the client.
            with TestClient(
                app, base_url="https://testserver", raise_server_exceptions=False
            ) as client:
                yield client, Path(store_url.removeprefix("sqlite:///"))
    finally:
        del os.environ["MMA_LOCK_TIMEOUT"]


def _events(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM stored_events").fetchone()[0])


def test_a_held_lock_is_503_with_retry_after_and_writes_nothing(
    busy_client: tuple[TestClient, Path],
) -> None:
    client, path = busy_client
    before = _events(path)
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        holder.execute("CREATE TABLE holder (x)")
        response = client.post(
            "/api/v1/commands/accept", json={"code": "GM0363", "on": TODAY},
            headers=auth(COORDINATOR),
        )  # fmt: skip
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "5"
    assert response.json()["code"] == "store_busy"
    assert str(path) not in response.text
    assert _events(path) == before


def test_a_store_without_its_tables_is_500_with_the_code(
    busy_client: tuple[TestClient, Path],
) -> None:
    client, path = busy_client
    with sqlite3.connect(path) as conn:
        conn.execute("ALTER TABLE stored_events RENAME TO moved_away")
    response = client.post(
        "/api/v1/commands/accept", json={"code": "GM0363", "on": TODAY}, headers=auth(COORDINATOR)
    )
    assert response.status_code == 500, response.text
    assert response.json()["code"] == "store_misconfigured"
    assert "retry-after" not in response.headers
