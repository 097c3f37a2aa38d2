"""The projector (``mma_core.Projector``, example ``docs/examples/projector.py``): SIGKILLed at
random points while commands are recorded, and on PostgreSQL with the server restarted under
it, it still projects every event once, in order. A projection's rows and its position are
committed together; it resumes from the position after a crash; a dropped connection while it
waits in ``follow(wait=...)`` is waited out with backoff.

PostgreSQL here is a cluster of the test's own (``initdb`` on a free port, trust
authentication), never the machine's server: the test restarts it."""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from mma_core import Programme, StoreUnavailable

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "projector.py"
PG_CTL = shutil.which("pg_ctl") or "/usr/lib/postgresql/16/bin/pg_ctl"
INITDB = shutil.which("initdb") or "/usr/lib/postgresql/16/bin/initdb"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """A PostgreSQL cluster of this test's own, run as the ``postgres`` user when root."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.port = _free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _as_owner(self, argv: list[str]) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv

    def init(self) -> None:
        subprocess.run(
            self._as_owner([INITDB, "-D", str(self.data), "-A", "trust", "-U", "postgres"]),
            check=True,
            capture_output=True,
        )

    def ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        subprocess.run(
            self._as_owner(
                [
                    PG_CTL,
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.root / "log"),
                    "-o",
                    options,
                    "-w",
                    *list(args),
                ]
            ),
            check=True,
            capture_output=True,
            timeout=60,
        )


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    if not os.path.exists(PG_CTL) or not os.path.exists(INITDB):
        pytest.skip("no initdb/pg_ctl on this machine")
    root = Path(tempfile.mkdtemp(prefix="mma-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    pg = Cluster(root)
    pg.init()
    pg.ctl("start")
    try:
        yield pg
    finally:
        subprocess.run(
            pg._as_owner([PG_CTL, "-D", str(pg.data), "-m", "immediate", "stop"]),
            check=False,
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


def _start(store: str, target: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(EXAMPLE), store, target],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _retrying(call: Any) -> Any:
    """A command, again while the store is away (the server restarting)."""
    for _ in range(200):
        try:
            return call()
        except StoreUnavailable:
            time.sleep(0.1)
    raise AssertionError("the store did not come back")


def _seen(target: str) -> list[int]:
    if target.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(target) as conn:
            return [r[0] for r in conn.execute("SELECT position FROM seen ORDER BY position")]
    with sqlite3.connect(target) as conn:
        return [r[0] for r in conn.execute("SELECT position FROM seen ORDER BY rowid")]


def _play(store: str, target: str, restart: Any, rounds: int) -> None:
    rng = random.Random(23)
    with Programme.open(store) as prog:
        prog.register_registry("noord-holland-2019", by="t")
        prog.make_offer(reference="R", sent_on=date(2019, 10, 18), by="t")
        codes = prog.codes()[:12]
        for code in codes:
            prog.invite(code, on=date(2019, 10, 18), reference="R", by="t")
            prog.accept(code, on=date(2019, 11, 1), by="t")
            prog.connect(code, on=date(2019, 12, 1), by="t")
        projector = _start(store, target)
        n = 0
        try:
            for round_ in range(rounds):
                for _ in range(rng.randint(5, 25)):
                    code = rng.choice(codes)
                    _retrying(
                        lambda code=code, n=n: prog.record_report(
                            code,
                            received_on=date(2020, 1, 2),
                            category="fraude",
                            reference=f"P-{n}",
                            by="t",
                        )
                    )
                    n += 1
                time.sleep(rng.uniform(0.05, 0.6))
                if restart is not None and round_ % 4 == 2:
                    restart()  # the server goes away under the waiting projector
                    continue
                projector.send_signal(signal.SIGKILL)
                projector.wait()
                projector = _start(store, target)
            positions = [r.position for r in _retrying(lambda: list(prog.follow()))]
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                try:
                    if _seen(target) == positions:
                        break
                except Exception:  # the table may not exist yet, or the server restarting
                    pass
                time.sleep(0.2)
            assert _seen(target) == positions, projector.stderr
        finally:
            projector.terminate()
            try:
                projector.wait(10)
            except subprocess.TimeoutExpired:
                projector.kill()


@pytest.mark.slow
def test_a_killed_projector_on_sqlite_projects_every_event_once_in_order(tmp_path: Path) -> None:
    _play(f"sqlite:///{tmp_path / 'store.sqlite'}", str(tmp_path / "projection.sqlite"), None, 12)


@pytest.mark.slow
def test_a_killed_projector_on_postgres_survives_a_server_restart(cluster: Cluster) -> None:
    import psycopg

    with psycopg.connect(cluster.url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA store")
    _play(
        f"{cluster.url}?schema=store", cluster.url, lambda: cluster.ctl("restart", "-m", "fast"), 12
    )
