"""Run ``mma`` against an SQLite file in the test's tmp_path.

In-process through click's ``CliRunner`` by default (a subprocess per command costs a second of
start-up and adds nothing to what a command does); ``mma.real(...)`` runs the real
``python -m mma_core.cli`` for what only a process shows: the entry point, exit codes through
the interpreter, the environment, stdout and stderr apart.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pytest

from cli_runner import invoke
from mma_core import Money, Programme, Terms

OFFER = "1298348/1298354"
LETTER = date(2019, 10, 18)
ACTOR = "tester"


@dataclass
class Mma:
    """The CLI bound to one store; a fresh Programme on the same file checks what it wrote."""

    store: str
    cwd: Path

    def _env(self, env: dict[str, str] | None) -> dict[str, str]:
        return {
            "MMA_STORE": self.store,
            "MMA_ACTOR": ACTOR,
            "COLUMNS": "200",  # wide enough that rich never wraps a table cell
            **(env or {}),
        }

    def __call__(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return invoke(args, env=self._env(env), cwd=self.cwd)

    def real(
        self, *args: str, env: dict[str, str] | None = None, input_text: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """The command in a real ``python -m mma_core.cli`` process (``input_text`` on its
        standard input)."""
        return subprocess.run(
            [sys.executable, "-m", "mma_core.cli", *args],
            cwd=self.cwd,
            env={**os.environ, **self._env(env)},
            input=input_text,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def ok(self, *args: str) -> str:
        """Run a command that must succeed; its stdout."""
        result = self(*args)
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
        return result.stdout

    @contextmanager
    def programme(self) -> Iterator[Programme]:
        # A fresh instance each time: a long-lived one would serve stale aggregates from its cache.
        with Programme.open(self.store) as prog:
            yield prog

    def count(self) -> int:
        with self.programme() as prog:
            return prog.event_count()

    def connect(self, code: str, on: date = date(2019, 12, 1)) -> None:
        """Accept on 1 November 2019 and connect, straight through Programme."""
        with self.programme() as prog:
            prog.accept(code, on=date(2019, 11, 1), by="seed")
            prog.connect(code, on=on, by="seed")


@pytest.fixture
def mma(tmp_path: Path) -> Mma:
    return Mma(store=f"sqlite:///{tmp_path / 'mma.sqlite'}", cwd=tmp_path)


def seed_invited(prog: Programme) -> None:
    """Registry, the letter's offer (with fees), one small session, all 47 invited."""
    prog.register_registry("noord-holland-2019", by="seed")
    terms = Terms(connection_fee=Money("2000.00"), report_fee=Money("22.50"))
    prog.make_offer(reference=OFFER, sent_on=LETTER, terms=terms, by="seed")
    prog.schedule_training(
        "2019-11-06",
        starts_at=datetime(2019, 11, 6, 10, 0),
        ends_at=datetime(2019, 11, 6, 12, 30),
        location="Provinciehuis, Dreef 3, Haarlem",
        capacity=2,
        by="seed",
    )
    for code in prog.codes():
        if code not in ("GM1980", "GM0393"):  # not in existence on the day of the letter
            prog.invite(code, on=LETTER, reference=OFFER, by="seed")


@pytest.fixture
def invited(mma: Mma) -> Mma:
    """A store where the offer was made and every municipality invited."""
    with mma.programme() as prog:
        seed_invited(prog)
    return mma
