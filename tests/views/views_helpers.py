"""Helpers for the read-model tests: small programmes, and the views dumped for comparison."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from mma_core import DomainError, Money, Programme, Terms
from mma_core.views.models import ReadModels

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
        official = f"{code}-{1 + which % 2}"
        try:
            if op == "invite":
                prog.invite(code, on=date(2019, 10, 18), reference=REFERENCE, by="test")
            elif op == "accept":
                prog.accept(code, on=date(2019, 10, 25), by="test")
            elif op == "decline":
                prog.decline(code, on=date(2019, 10, 24), by="test", reason="no")
            elif op == "nominate":
                prog.nominate_official(
                    code, name=f"Official {n}", email=f"o{n}@example.nl", by="test"
                )
            elif op == "book":
                prog.book_training(code, official_id=official, session_id="2019-11-06", by="t")
            elif op == "attend":
                prog.record_attendance(
                    code, official_id=official, session_id="2019-11-06", attended=n % 3 > 0, by="t"
                )
            elif op == "withdraw":
                prog.withdraw_official(official, by="test")
            elif op == "erase":
                prog.erase_official(official, by="test")
            elif op == "connect":
                prog.connect(code, on=date(2019, 11, 1), by="test")
            elif op == "report":
                prog.record_report(
                    code,
                    received_on=date(2019, 12, 1),
                    category="fraude",
                    reference=f"R{n}-{which}",
                    by="test",
                )
            elif op == "evaluate":
                outcome = "continue" if which % 3 else "stop"
                prog.evaluate(code, on=date(2020, 11, 2), outcome=outcome, by="test")
            elif op == "renew":
                prog.renew(code, on=date(2020, 11, 15), by="test")
            elif op == "terminate":
                prog.terminate(code, on=date(2021, 1, 10), by="test")
            elif op == "views":
                prog.views.catch_up()
        except DomainError:
            pass


def dump(models: ReadModels) -> dict[str, Any]:
    """Everything the read models hold, comparable with ==."""
    return {
        "tracking": models.tracking(),
        "municipalities": models.records(),
        "sessions": models.sessions(),
        "ledger": models.ledger(),
    }


def rebuilt(prog: Programme) -> dict[str, Any]:
    """The views of a full rebuild, in a second ReadModels on the same store."""
    fresh = ReadModels(prog)
    fresh.rebuild()
    return dump(fresh)


def mma(store: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The CLI as a subprocess."""
    env = {**os.environ, "MMA_STORE": store, "MMA_ACTOR": "tester", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "mma_core.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
