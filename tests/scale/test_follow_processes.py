"""A follower in another process, SIGKILLed and restarted at random points while a writer (also
killed once) records 2,000 commands: in the end it has handled every position of the store,
each exactly once, though writers conflicted and rolled back (gaps on PostgreSQL)."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mma_core import Programme

WORKER = Path(__file__).with_name("follow_worker.py")
COMMANDS = 2000

pytestmark = pytest.mark.slow


def run(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, str(WORKER), *args])


def store_positions(url: str) -> list[int]:
    with Programme.open(url) as prog:
        positions, start = [], 1
        while True:
            batch = prog.recorder.select_notifications(start, 500)
            positions.extend(int(n.id) for n in batch)
            if len(batch) < 500:
                return positions
            start = batch[-1].id + 1


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_killed_and_restarted_follower_misses_nothing_and_repeats_nothing(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'follow.sqlite'}"
        if kind == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    rng = random.Random(20191018)
    subprocess.run([sys.executable, str(WORKER), "prepare", url], check=True)
    handled, done = tmp_path / "positions.txt", tmp_path / "done"
    writer = run("write", url, str(COMMANDS))
    writer_killed = False
    kills = 0
    follower = run("follow", url, str(handled), str(done))
    while writer.poll() is None:
        time.sleep(rng.uniform(0.3, 2.0))
        follower.send_signal(signal.SIGKILL)
        follower.wait()
        kills += 1
        if not writer_killed and kills == 3:
            writer.send_signal(signal.SIGKILL)  # a writer crash, mid-transaction or not
            writer.wait()
            writer_killed = True
            writer = run("write", url, str(COMMANDS))
        follower = run("follow", url, str(handled), str(done))
    assert writer.returncode == 0
    done.touch()
    assert follower.wait(timeout=120) == 0
    followed = [int(line) for line in handled.read_text().split()]
    stored = store_positions(url)
    assert kills >= 3
    assert len(followed) == len(set(followed)), "a position was handled twice"
    assert followed == stored
    assert followed == sorted(followed)
    reports = len(stored) - (49 + 1 + 3 * 4)  # registry, offer, 4 municipalities connected
    assert reports == 2 * COMMANDS  # each report is the municipality's event and its claim
