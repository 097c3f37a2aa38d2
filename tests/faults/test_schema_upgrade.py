"""A store of schema version 1 (the first releases' layout: no read-model cost chunks) brought
to the current version on SQLite and on PostgreSQL: ``--dry-run`` shows the steps first and
changes nothing, the upgrade then applies them, and the history and the answers are unchanged."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

import pytest

from mma_core.application.migrations import SCHEMA_VERSION
from mma_core.application.store_copy import copy_store

pytestmark = pytest.mark.slow


def mma(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mma_core.cli", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env={**os.environ, "MMA_LANG": "en"},
    )


def _to_version_1(url: str) -> None:
    """The fixture: a version-1 store, as the first releases left it."""
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            conn.execute("DROP TABLE mma_views_cost_chunks")
            conn.execute("UPDATE mma_schema SET version = 1")
        return
    import psycopg

    server, schema = url.split("?schema=")
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP TABLE "{schema}".mma_views_cost_chunks')
        conn.execute(f'UPDATE "{schema}".programme_schema SET version = 1')


def _chunks(url: str) -> int | None:
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            if "mma_views_cost_chunks" not in names:
                return None
            return int(conn.execute("SELECT COUNT(*) FROM mma_views_cost_chunks").fetchone()[0])
    import psycopg

    server, schema = url.split("?schema=")
    with psycopg.connect(server) as conn:
        found = conn.execute("SELECT to_regclass(%s)", (f"{schema}.mma_views_cost_chunks",))
        if found.fetchone()[0] is None:  # type: ignore[index]
            return None
        row = conn.execute(f'SELECT COUNT(*) FROM "{schema}".mma_views_cost_chunks').fetchone()
        return int(row[0])  # type: ignore[index]


def _upgrade_from_version_1(url: str) -> None:
    status_before = mma("--json", "--store", url, "status", "--as-of", "2024-01-01")
    assert status_before.returncode == 0, status_before.stderr
    _to_version_1(url)
    # Opening it for work is refused until it is upgraded.
    refused = mma("--json", "--store", url, "status")
    assert refused.returncode == 3
    assert json.loads(refused.stdout)["error"]["code"] == "store_version"

    plan = mma("--json", "--store", url, "store", "upgrade", "--dry-run")
    assert plan.returncode == 0, plan.stderr
    steps = json.loads(plan.stdout)
    assert steps["before"] == 1
    assert steps["after"] == SCHEMA_VERSION
    # Every step after version 1, in order: the cost chunks (2), the as-of index (3), ...
    assert [s["version"] for s in steps["steps"]] == list(range(2, SCHEMA_VERSION + 1))
    assert "cost chunks" in steps["steps"][0]["does"]
    assert "as-of index" in steps["steps"][1]["does"]
    text = mma("--store", url, "store", "upgrade", "--dry-run")
    assert "Nothing was changed" in text.stdout
    assert _chunks(url) is None  # the dry run changed nothing

    done = mma("--json", "--store", url, "store", "upgrade")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"before": 1, "after": SCHEMA_VERSION}
    assert (_chunks(url) or 0) > 0  # filled from the ledger
    status_after = mma("--json", "--store", url, "status", "--as-of", "2024-01-01")
    assert status_after.stdout == status_before.stdout
    assert mma("--store", url, "audit", "verify").returncode == 0


def test_a_version_1_sqlite_store_is_upgraded_after_a_dry_run(demo_copy: str) -> None:
    _upgrade_from_version_1(demo_copy)


@pytest.mark.postgres
def test_a_version_1_postgresql_store_is_upgraded_after_a_dry_run(
    demo_copy: str, postgres_url: str
) -> None:
    copy_store(demo_copy, postgres_url)
    _upgrade_from_version_1(postgres_url)
