"""What follows an evaluation: "stop" asks for the termination, "continue" for the renewal;
neither leaves "evaluation due" standing. Fewer than two trained officials is a deadline."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from views_helpers import REFERENCE, base, mma

from mma_core import Programme


def _connected(url: str) -> None:
    with Programme.open(url) as prog:
        base(prog)
        for code in ("GM0358", "GM0361"):
            prog.invite(code, on=date(2019, 10, 18), reference=REFERENCE, by="t")
            prog.accept(code, on=date(2019, 10, 25), by="t")
            prog.connect(code, on=date(2019, 12, 1), by="t")


def _due(url: str, today: str, cwd: Path) -> dict[str, list[tuple[str, str]]]:
    done = mma(url, "--json", "due", "--today", today, "--within", "0", cwd=cwd)
    assert done.returncode == 0, done.stderr
    found: dict[str, list[tuple[str, str]]] = {}
    for d in json.loads(done.stdout)["due"]:
        if d["code"]:
            found.setdefault(d["code"], []).append((d["kind"], d["due_on"]))
    return found


def test_stop_asks_for_the_termination_and_continue_for_the_renewal(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'p.sqlite'}"
    _connected(url)
    before = _due(url, "2020-12-15", tmp_path)
    assert ("evaluation", "2020-12-01") in before["GM0358"]
    with Programme.open(url) as prog:
        prog.evaluate("GM0358", on=date(2020, 11, 20), outcome="stop", by="t")
        prog.evaluate("GM0361", on=date(2020, 11, 20), outcome="continue", by="t")
    after = _due(url, "2020-12-15", tmp_path)
    kinds = {code: {kind for kind, _ in items} for code, items in after.items()}
    assert "evaluation" not in kinds["GM0358"]
    assert "termination" in kinds["GM0358"]
    assert "evaluation" not in kinds["GM0361"]
    assert "renewal" in kinds["GM0361"]
    table = mma(url, "due", "--today", "2020-12-15", "--within", "0", cwd=tmp_path).stdout
    assert "mma terminate" in table
    assert "mma renew" in table
    with Programme.open(url) as prog:
        prog.terminate("GM0358", on=date(2020, 12, 1), by="t")
        prog.renew("GM0361", on=date(2020, 12, 1), by="t")
    done = _due(url, "2020-12-15", tmp_path)
    assert {k for k, _ in done.get("GM0358", [])} <= {"training"}
    assert {k for k, _ in done["GM0361"]} == {"training"}  # next term's evaluation not yet due


def test_fewer_than_two_trained_officials_is_a_deadline(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'p.sqlite'}"
    _connected(url)
    with Programme.open(url) as prog:
        for n in (1, 2):
            oid = prog.nominate_official(
                "GM0358", name=f"A{n}", email=f"a{n}@x.example", on=date(2019, 10, 26), by="t"
            )
            prog.book_training(
                "GM0358", official_id=oid, session_id="2019-11-06", on=date(2019, 10, 26), by="t"
            )
            prog.record_attendance(
                "GM0358", official_id=oid, session_id="2019-11-06", attended=n == 1, by="t"
            )
    due = _due(url, "2020-01-15", tmp_path)
    training = [d for d in due["GM0358"] if d[0] == "training"]
    assert training == [("training", "2019-12-24")]
    done = mma(url, "--json", "due", "--today", "2020-01-15", "--within", "0", cwd=tmp_path)
    detail = next(d["detail"] for d in json.loads(done.stdout)["due"] if d["code"] == "GM0358")
    assert detail.startswith("1 of 2 officials trained")
