"""``mma demo``: the 2019 campaign played into a fresh store, checked through Programme."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from mma_core import Programme, Stage
from mma_core.cli.campaign import BY_SIMULATED, campaign

if TYPE_CHECKING:
    from conftest import Mma


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """One demo run for the module (store URL, stdout): it is the slow part."""
    cwd = tmp_path_factory.mktemp("demo")
    store = f"sqlite:///{cwd / 'demo.sqlite'}"
    result = subprocess.run(
        [sys.executable, "-m", "mma_core.cli", "demo", "--store", store],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return store, result.stdout


def test_the_demo_prints_the_status_table_on_both_dates(played: tuple[str, str]) -> None:
    _, out = played
    assert "Programme status as of 31 December 2020" in out
    assert "Programme status as of today" in out
    assert "47 of 47 (100.0%)" in out  # every municipality connected by the end of 2020
    assert "costs paid by province" in out
    assert "simulated" in out
    assert "the letter" in out


def test_the_demo_respects_the_registry_across_the_mergers(played: tuple[str, str]) -> None:
    store, _ = played
    with Programme.open(store) as prog:
        before = prog.overview(as_of=date(2021, 6, 1))
        between = prog.overview(as_of=date(2022, 1, 1))
        after = prog.overview(as_of=date(2022, 6, 1))
        dijk_en_waard = prog.municipality("GM1980")
        amsterdam = prog.municipality("GM0363")
        weesp = prog.municipality("GM0457")
    assert before.total == 47
    assert between.total == 45
    assert after.total == 44
    assert dijk_en_waard.stage is Stage.CONNECTED
    assert dijk_en_waard.connection_kind == "succession"
    assert set(dijk_en_waard.predecessors) == {"GM0398", "GM0416"}
    assert "GM0457" in amsterdam.predecessors
    assert weesp.stage is Stage.MERGED
    assert weesp.merged_on == date(2022, 3, 24)
    assert after.by_stage["stopped"] in (1, 2)  # one or two stopped after their evaluation


def test_the_demo_plays_the_letter_and_a_believable_year(played: tuple[str, str]) -> None:
    store, _ = played
    with Programme.open(store) as prog:
        views = prog.overview(as_of=date(2021, 6, 1)).municipalities
        sessions = prog.sessions()
        zaanstad = prog.history("GM0479")
        attendance = [
            e.data["attended"]
            for v in views
            for e in prog.history(v.code)
            if e.type == "AttendanceRecorded"
        ]
    assert {v.invited_on for v in views} == {date(2019, 10, 18)}
    assert {v.offer_reference for v in views} == {"1298348/1298354"}
    assert [s.session_id for s in sessions] == ["2019-11-06", "2019-11-07", "2019-11-13"]
    assert {s.location for s in sessions} == {"Provinciehuis, Dreef 3, Haarlem"}
    assert all(len(s.booked) <= s.capacity for s in sessions)
    assert sum(1 for v in views if v.declined_on is not None) >= 1
    assert sum(1 for v in views if v.connection_kind == "prior") >= 1
    assert all(len(v.trained_officials) >= 1 for v in views)
    assert 1 <= attendance.count(False) <= 10  # a few missed, and were trained later
    reports = {v.code: v.reports_received for v in views}
    assert 150 <= sum(reports.values()) <= 800
    assert reports["GM0363"] > reports["GM0431"]  # Amsterdam far above Oostzaan
    assert all(v.evaluations >= 1 for v in views)
    invitation = next(e for e in zaanstad if e.type == "Invited")
    assert invitation.by == "cdk"
    simulated = next(e for e in zaanstad if e.type == "Accepted")
    assert simulated.by == BY_SIMULATED
    assert simulated.origin == "demo"


def test_the_campaign_is_reproducible_and_dated_forwards() -> None:
    first, second = campaign(2019), campaign(2019)
    assert [(s.on, s.kind) for s in first] == [(s.on, s.kind) for s in second]
    assert [(s.on, s.kind) for s in campaign(7)] != [(s.on, s.kind) for s in first]
    days = [s.on for s in first]
    assert days == sorted(days)
    assert days[-1] == date(2022, 3, 24)


def test_the_demo_replaces_its_own_store_but_no_other(mma: Mma, demo_copy: str) -> None:
    # demo_copy holds what a first 'mma demo' wrote; playing again replaces it, not adds to it.
    with Programme.open(demo_copy) as prog:
        first = prog.event_count()
    second = json.loads(mma.ok("--json", "demo", "--store", demo_copy))
    assert first == second["events"] > 1000
    assert second["status"]["2020-12-31"]["total"] == 47
    assert second["status"]["2020-12-31"]["coverage"] == "1.0000"

    mma.ok("init")  # a programme the demo did not write
    before = mma.count()
    refused = mma("demo", "--store", mma.store)
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: ")
    assert mma.count() == before


def test_the_demo_speaks_dutch_by_default(tmp_path: Path) -> None:
    """What ``make demo`` shows a new user, in Dutch unless asked otherwise: the parts played,
    the count in Dutch digits, both status tables and the closing line."""
    from cli_runner import invoke

    result = invoke(
        ["demo", "--store", "memory://"], env={"MMA_LANG": "", "COLUMNS": "200"}, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Wat de demo heeft afgespeeld (seed 2019)" in out
    assert "herindelingen van 2022 (Dijk en Waard, Purmerend, Amsterdam)" in out
    assert re.search(r"\b\d\.\d{3} gebeurtenissen vastgelegd in memory://\.", out), out
    assert "Stand van het programma op 31 december 2020" in out
    assert "Stand van het programma vandaag, " in out
    assert "De simulatie eindigt met de herindelingen van 2022" in out
    prose = re.sub(r"'[^']*'|memory://|\bGM\d{4}\b", " ", out)
    assert sorted({m.group(0).lower() for m in ENGLISH.finditer(prose)}) == [], out


# The words of the demo's summary as it was printed in English.
ENGLISH = re.compile(
    r"\b(the|of|and|at|on|what|played|part|source|real|letter|simulated|registry|offer|trainings?|"
    r"invitations?|covenant|signed|mergers?|events|recorded|programme|status|as of|today|"
    r"stage|total|costs|paid|deadlines?|see|ends|due|since|stay)\b",
    re.IGNORECASE,
)


def test_a_merger_the_registry_does_not_list_is_refused_and_writes_nothing(
    mma: Mma, demo_copy: str, event_count: Callable[[Programme], int]
) -> None:
    # Schagen into Amsterdam never happened: a typo of a new coordinator, not a merger.
    with Programme.open(demo_copy) as prog:
        before = event_count(prog)
    refused = mma("--store", demo_copy, "merge", "GM0441", "--into", "GM0363", "--on", "2022-03-24")
    assert refused.returncode == 1
    assert "the registry lists no merger into GM0363 Amsterdam" in refused.stderr
    assert "--unlisted --reason" in refused.stderr
    with Programme.open(demo_copy) as prog:
        assert event_count(prog) == before
    # Said on purpose, with a reason, for a registry that lags reality, it is recorded.
    mma.ok(
        "--store", demo_copy, "merge", "GM0441", "--into", "GM0363", "--on", "2022-03-24",
        "--unlisted", "--reason", "council decision of 1 March, registry not yet updated",
    )  # fmt: skip
    with Programme.open(demo_copy) as prog:
        assert prog.municipality("GM0441").stage == "merged"
        merged = prog.history("GM0441", latest=True, limit=1)[0]
        assert merged.type == "Merged"
        assert merged.data["unlisted"] is True
        assert merged.data["reason"].startswith("council decision")
