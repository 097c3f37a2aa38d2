"""Several processes writing to the same municipalities at once, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from mma_core import Programme

ROOT = Path(__file__).resolve().parents[2]
WRITER = Path(__file__).with_name("writer.py")
CODES: list[str] = runpy.run_path(str(WRITER))["CODES"]
EVENTS_PER_COMMAND: dict[str, int] = runpy.run_path(str(WRITER))["EVENTS_PER_COMMAND"]
WORKERS = 8
COMMANDS = int(os.environ.get("MMA_SCALE_COMMANDS", "500"))
PG = "postgresql://postgres@127.0.0.1:5432/test"


def _postgres_schema() -> Iterator[str]:
    psycopg = pytest.importorskip("psycopg")
    try:
        conn = psycopg.connect(PG.replace("postgresql://", "postgresql://", 1), autocommit=True)
    except psycopg.OperationalError as error:
        if os.environ.get("MMA_REQUIRE_POSTGRES") == "1":
            raise
        pytest.skip(f"PostgreSQL is not reachable on 127.0.0.1:5432 ({error.__class__.__name__})")
    schema = f"scale_{uuid.uuid4().hex[:12]}"
    conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{PG}?schema={schema}"
    finally:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")
        conn.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shared.sqlite'}"
    else:
        yield from _postgres_schema()


def _prepare(url: str) -> int:
    with Programme.open(url) as prog:
        prog.register_registry("noord-holland-2019", by="setup")
        prog.make_offer(reference="R-2019", sent_on=date(2019, 10, 18), by="setup")
        for code in CODES:
            prog.invite(code, on=date(2019, 10, 18), reference="R-2019", by="setup")
            prog.accept(code, on=date(2019, 11, 1), by="setup")
            prog.connect(code, on=date(2019, 12, 1), by="setup")
        return prog.event_count()


@pytest.mark.slow
@pytest.mark.xdist_group("scale")
def test_eight_writers_keep_every_rule(store: str) -> None:
    before = _prepare(store)
    writers = [
        subprocess.Popen(
            [sys.executable, str(WRITER), store, str(w), str(COMMANDS), str(w)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(WORKERS)
    ]
    results = []
    for writer in writers:
        out, err = writer.communicate(timeout=900)
        assert writer.returncode == 0, err[-2000:]
        results.append(json.loads(out.strip().splitlines()[-1]))

    done = {kind: sum(r["done"][kind] for r in results) for kind in EVENTS_PER_COMMAND}
    attempted = sum(sum(r["done"].values()) + sum(r["refused"].values()) for r in results)
    assert attempted == WORKERS * COMMANDS
    assert done["report"] > 0
    assert done["nominate"] > 0

    expected = before + sum(done[kind] * EVENTS_PER_COMMAND[kind] for kind in done)
    with Programme.open(store) as prog:
        # Every successful command stored exactly its events; no refused one stored any.
        assert prog.event_count() == expected
        reports = 0
        for code in CODES:
            m = prog.municipality(code)
            assert len(m.active_officials) <= 2, f"{code} has more than two active officials"
            reports += m.reports_received
        assert reports == done["report"]
        nominated = sum(len(prog.municipality(code).officials) for code in CODES)
        assert nominated == done["nominate"]

    # The audit leaves stayed consistent under the concurrent writes: one per event, every chain
    # and the tree verify, as an auditor would run it.
    env = {k: v for k, v in os.environ.items() if not k.startswith("MMA_")}
    verify = subprocess.run(
        [sys.executable, "-m", "mma_core.cli", "--store", store, "--json", "audit", "verify"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert json.loads(verify.stdout)["size"] == expected
