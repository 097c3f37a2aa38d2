"""Eight processes recording reports on ONE municipality at once: the retries absorb the
conflicts, so at most 1% of the commands reach the caller as ConcurrencyConflict."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from mma_core import Programme

ROOT = Path(__file__).resolve().parents[2]
WRITER = Path(__file__).with_name("contention_writer.py")
WORKERS = 8
COMMANDS = int(os.environ.get("MMA_CONTENTION_COMMANDS", "50"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'contended.sqlite'}"
    else:
        yield request.getfixturevalue("postgres_url")


@pytest.mark.slow
@pytest.mark.xdist_group("scale")
def test_eight_writers_on_one_municipality_rarely_see_a_conflict(store: str) -> None:
    with Programme.open(store) as prog:
        prog.register_registry("noord-holland-2019", by="setup")
        prog.make_offer(reference="R", sent_on=date(2019, 10, 18), by="setup")
        prog.invite("GM0363", on=date(2019, 10, 18), reference="R", by="setup")
        prog.accept("GM0363", on=date(2019, 11, 1), by="setup")
        prog.connect("GM0363", on=date(2019, 12, 1), by="setup")
    env = {**os.environ, "MMA_RETRIES": ""}  # the default budget, whatever the caller's shell says
    writers = [
        subprocess.Popen(
            [sys.executable, str(WRITER), store, str(w), str(COMMANDS)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(WORKERS)
    ]
    done = conflicts = 0
    for writer in writers:
        out, err = writer.communicate(timeout=900)
        assert writer.returncode == 0, err
        result = json.loads(out.strip().splitlines()[-1])
        done += result["done"]
        conflicts += result["conflicts"]
    total = WORKERS * COMMANDS
    assert done + conflicts == total
    assert conflicts <= total // 100, f"{conflicts} of {total} commands ended in a conflict"
    with Programme.open(store) as prog:
        assert prog.municipality("GM0363").reports_received == done
