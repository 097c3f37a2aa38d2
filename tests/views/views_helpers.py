"""Helpers for the read-model tests: small programmes, and the views dumped for comparison."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from cli_runner import invoke
from mma_core import Money, Programme, Terms
from mma_core.views.models import ReadModels
from programme_ops import run_op

REFERENCE = "1298348/1298354"
NEIGHBOURS_OF_AMSTERDAM = (
    *("GM0362", "GM0384", "GM0394", "GM0415", "GM0431"),
    *("GM0437", "GM0457", "GM0479", "GM0852", "GM1942"),
)


def base(prog: Programme) -> None:
    prog.register_registry("noord-holland-2019", by="test")
    prog.make_offer(
        reference=REFERENCE,
        sent_on=date(2019, 10, 18),
        terms=Terms(connection_fee=Money("2000.00"), report_fee=Money("22.50")),
        by="test",
    )
    prog.schedule_training(
        "2019-11-06",
        starts_at=datetime(2019, 11, 6, 10, 0),
        ends_at=datetime(2019, 11, 6, 12, 30),
        location="Provinciehuis, Dreef 3, Haarlem",
        capacity=4,
        by="test",
    )


OPS = (
    "invite",
    "accept",
    "decline",
    "nominate",
    "book",
    "attend",
    "withdraw",
    "erase",
    "connect",
    "report",
    "evaluate",
    "renew",
    "terminate",
    "views",
)


def apply(prog: Programme, ops: Sequence[tuple[str, int]]) -> None:
    """Run each op on one of the first four municipalities; an op the rules refuse is skipped.
    ``views`` catches the read models up in the middle of the run."""
    codes = prog.codes()[:4]
    for n, (op, which) in enumerate(ops):
        code = codes[which % len(codes)]
        run_op(prog, op, code, f"{code}-{1 + which % 2}", n, which, category="fraude")


def dump(models: ReadModels) -> dict[str, Any]:
    """Everything the read models hold, comparable with ==."""
    ledger = models.ledger()
    return {
        "tracking": models.tracking(),
        "municipalities": models.records(),
        "sessions": models.sessions(),
        "ledger": ledger,
        # Each municipality's lines again, as its chunks hold them (what its view reads).
        "chunks": {
            code: [entry for chunk in models.store.cost_chunks(code) for entry in chunk.entries]
            for code in dict.fromkeys(line.code for line in ledger)
        },
    }


def rebuilt(prog: Programme) -> dict[str, Any]:
    """The views of a full rebuild, in a second ReadModels on the same store."""
    fresh = ReadModels(prog)
    fresh.rebuild()
    return dump(fresh)


def mma(store: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The CLI, in-process (``tests/cli_runner.py``)."""
    env = {"MMA_STORE": store, "MMA_ACTOR": "tester", "COLUMNS": "200"}
    return invoke(args, env=env, cwd=cwd)
