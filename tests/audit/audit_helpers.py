"""Helpers for the audit tests: random small programmes, tampering with plain SQL, running the
commands and the standalone verifier as subprocesses."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from mma_core import Programme
from mma_core.audit import checkpoint as notes
from mma_core.audit.export import export
from mma_core.audit.sources import open_reader, open_recorder
from mma_core.audit.verify import Result, verify
from programme_ops import run_op

ROOT = Path(__file__).resolve().parents[2]
STANDALONE = ROOT / "tools" / "verify_export.py"
REFERENCE = "1298348/1298354"
OPS = ("invite", "accept", "decline", "nominate", "erase", "connect", "report", "book")

# A small CLI with only the audit group, as the main CLI builds it: --store, env MMA_STORE.
AUDIT_CLI = """
import click, sys
from mma_core.cli.audit import register

@click.group()
@click.option("--store", envvar="MMA_STORE", default="sqlite:///mma.sqlite")
@click.option("--json", "as_json", is_flag=True)
def cli(store, as_json):
    pass

register(cli)
cli(prog_name="mma")
"""


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def base(prog: Programme) -> None:
    prog.register_registry("noord-holland-2019", by="test")
    prog.make_offer(reference=REFERENCE, sent_on=date(2019, 10, 18), by="test")
    prog.schedule_training(
        "2019-11-06",
        starts_at=datetime(2019, 11, 6, 10, 0),
        ends_at=datetime(2019, 11, 6, 12, 30),
        location="Provinciehuis, Dreef 3, Haarlem",
        capacity=20,
        by="test",
    )


def apply(prog: Programme, ops: Sequence[tuple[str, int]]) -> None:
    """Run each op on one of the first municipalities; an op the rules refuse is skipped."""
    codes = prog.codes()[:3]
    for n, (op, which) in enumerate(ops):
        code = codes[which % len(codes)]
        run_op(prog, op, code, f"{code}-1", n, which, category="drugs")


def build(path: Path, ops: Sequence[tuple[str, int]] = (), *, with_base: bool = True) -> int:
    """Write a programme into the SQLite file; returns the number of events."""
    with Programme.open(sqlite_url(path)) as prog:
        if with_base:
            base(prog)
        apply(prog, ops)
        return prog.event_count()


def verify_url(
    url: str, checkpoints: Sequence[str] = (), keys: Sequence[notes.VerifierKey] = ()
) -> Result:
    with open_recorder(url) as recorder, open_reader(recorder) as reader:
        return verify(reader, checkpoints, keys)


def sign_url(url: str, key: notes.SignerKey) -> str:
    result = verify_url(url)
    assert result.ok, result.problem
    return notes.sign(key, notes.DEFAULT_ORIGIN, result.size, result.root)


def export_url(url: str, directory: Path, key: notes.SignerKey) -> None:
    with open_recorder(url) as recorder, open_reader(recorder) as reader:
        export(reader, directory, key, notes.DEFAULT_ORIGIN)


def standalone(directory: Path, *args: str) -> tuple[int, dict[str, Any]]:
    """Run tools/verify_export.py as a subprocess with --json."""
    done = subprocess.run(
        [sys.executable, str(STANDALONE), str(directory), "--json", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode in (0, 1), done.stderr
    return done.returncode, json.loads(done.stdout)


def audit_cli(store: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MMA_STORE": store}
    env.pop("MMA_AUDIT_KEY", None)
    return subprocess.run(
        [sys.executable, "-c", AUDIT_CLI, *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env=env,
        cwd=cwd,
    )


def sql(path: Path, *statements: tuple[str, tuple[Any, ...]]) -> None:
    """Apply statements to the SQLite file with a plain connection, as an attacker would."""
    conn = sqlite3.connect(path)
    try:
        for statement, params in statements:
            conn.execute(statement, params)
        conn.commit()
    finally:
        conn.close()


def rows(path: Path, statement: str, params: tuple[Any, ...] = ()) -> list[Any]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(statement, params).fetchall()
    finally:
        conn.close()


def now() -> datetime:
    return datetime.now(UTC)


SOME_OPS = [("invite", 0), ("accept", 0), ("nominate", 0), ("nominate", 1), ("book", 0)]
