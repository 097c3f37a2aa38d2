"""``mma due`` and ``mma waterbed`` through the CLI, checked against lists derived by hand."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

from views_helpers import NEIGHBOURS_OF_AMSTERDAM, REFERENCE, base, mma

from mma_core import Programme
from mma_core.storage import registries
from mma_core.views.waterbed import borders_on

TODAY = date(2020, 11, 15)
CLEARS = {"Terminated", "Merged"}


def evaluations_due_by_hand(url: str, today: date, within: int) -> dict[str, str]:
    """From each municipality's history: the evaluation date of the term running on ``today``
    (set by a connection, a prior connection's acceptance, a succession or a renewal), unless an
    evaluation (either outcome), a termination or a merger came after it by then."""
    due: dict[str, str] = {}
    with Programme.open(url) as prog:
        for code in prog.codes():
            current: str | None = None
            for entry in prog.history(code):
                if entry.date is None or entry.date > today:
                    continue
                if entry.data.get("evaluation_due"):
                    current = entry.data["evaluation_due"]
                elif entry.type in CLEARS or entry.type == "Evaluated":
                    current = None
            if current is not None and date.fromisoformat(current) <= today + timedelta(within):
                due[code] = current
    return due


def test_due_on_the_demo_store_lists_exactly_the_evaluations_due_within_30_days(
    demo_store: str, tmp_path: Path
) -> None:
    expected = evaluations_due_by_hand(demo_store, TODAY, 30)
    assert len(expected) >= 3  # the demo connected most municipalities in late 2019
    done = mma(demo_store, "--json", "due", "--today", TODAY.isoformat(), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["today"] == TODAY.isoformat()
    assert data["within"] == 30
    evaluations = {d["code"]: d["due_on"] for d in data["due"] if d["kind"] == "evaluation"}
    assert evaluations == expected
    days = [d["days_left"] for d in data["due"]]
    assert days == sorted(days)  # most urgent first
    table = mma(demo_store, "due", "--today", TODAY.isoformat(), cwd=tmp_path)
    assert table.returncode == 0, table.stderr
    for code in expected:
        assert code in table.stdout


def test_due_today_reads_the_views_and_lists_overdue_evaluations(
    demo_store: str, tmp_path: Path
) -> None:
    data = json.loads(mma(demo_store, "--json", "due", "--within", "0", cwd=tmp_path).stdout)
    assert data["due"], "the demo ends in 2022 with evaluations open"
    assert all(d["overdue"] for d in data["due"] if d["kind"] == "evaluation")


def test_waterbed_ranks_amsterdam_first_when_only_its_neighbours_are_connected(
    tmp_path: Path, open_programme: Callable[[str], Programme]
) -> None:
    url = f"sqlite:///{tmp_path / 'waterbed.sqlite'}"
    prog = open_programme(url)
    base(prog)
    letter = date(2019, 10, 18)
    for entry in registries.load("noord-holland-2019"):
        if entry.valid_from is None and (entry.valid_until is None or entry.valid_until >= letter):
            prog.invite(entry.code.value, on=letter, reference=REFERENCE, by="test")
    for code in NEIGHBOURS_OF_AMSTERDAM:
        prog.accept(code, on=date(2019, 11, 1), by="test")
        prog.connect(code, on=date(2019, 12, 1), by="test")
    done = mma(url, "--json", "waterbed", "--as-of", "2019-12-31", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    ranked = json.loads(done.stdout)["waterbed"]
    first = ranked[0]
    assert (first["code"], first["neighbours"], first["connected_neighbours"]) == (
        "GM0363",
        10,
        10,
    )
    assert first["surrounded"] is True
    assert sorted(first["connected"]) == sorted(NEIGHBOURS_OF_AMSTERDAM)
    assert all(e["connected_neighbours"] < 10 for e in ranked[1:])
    assert "GM0363" not in {e["code"] for e in ranked if e["stage"] == "connected"}
    table = mma(url, "waterbed", "--as-of", "2019-12-31", cwd=tmp_path)
    rows = [line for line in table.stdout.splitlines() if "GM0" in line]
    assert "GM0363 Amsterdam" in rows[0]
    assert "10 of 10 surrounded" in rows[0]
    overview = prog.overview()
    assert overview.waterbed[0].code == "GM0363"


def _csv_neighbours() -> dict[str, set[str]]:
    text = resources.files("mma_core.data").joinpath("noord-holland-2019-adjacency.csv")
    rows = csv.DictReader(text.read_text(encoding="utf-8").splitlines())
    return {row["cbs_code"]: set(row["neighbours"].split()) for row in rows}


def test_borders_are_carried_to_successors_after_the_mergers(demo_store: str) -> None:
    shipped = _csv_neighbours()
    assert sum(len(n) for n in shipped.values()) == 2 * 101  # symmetric, 101 borders
    absorbed = {"GM0398": "GM1980", "GM0416": "GM1980", "GM0370": "GM0439", "GM0457": "GM0363"}

    def now(code: str) -> str:
        return absorbed.get(code, code)

    with Programme.open(demo_store) as prog:
        records = prog.views.state_on(date(2022, 6, 1))[0]
    before = borders_on(records, date(2021, 12, 31))
    after = borders_on(records, date(2022, 6, 1))
    assert before["GM0398"] == shipped["GM0398"]
    assert "GM1980" not in before
    expected = {now(c) for c in shipped["GM0398"] | shipped["GM0416"]} - {"GM1980"}
    assert after["GM1980"] == expected
    assert "GM0398" not in after
    assert "GM0416" not in after
    assert after["GM0363"] == {now(c) for c in shipped["GM0363"] | shipped["GM0457"]} - {"GM0363"}
    for code, neighbours in after.items():
        for n in neighbours:
            assert code in after[n]
