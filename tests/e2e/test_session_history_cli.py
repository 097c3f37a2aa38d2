"""``mma history --session``: a training session's history in a real ``mma`` process, in
Dutch by default and as JSON, with its schedule's amendments marked; refusals write nothing."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from e2e.conftest import Mma

SESSION = "2019-11-06"  # the session the invited store schedules


@pytest.fixture
def amended(invited: Mma) -> tuple[Mma, int, int]:
    """The seeded session booked by one official and its schedule corrected; another
    session scheduled and retracted. Returns the two schedules' positions."""
    with invited.programme() as prog:
        prog.accept("GM0363", on=date(2019, 11, 1), by="s")
        oid = prog.nominate_official(
            "GM0363", name="Jan Jansen", email="jan@x.example", on=date(2019, 11, 1), by="s"
        )
        prog.book_training(
            "GM0363", official_id=oid, session_id=SESSION, on=date(2019, 11, 2), by="s"
        )
        prog.schedule_training(
            "2019-11-20",
            starts_at=prog.sessions()[0].starts_at.replace(day=20),
            ends_at=prog.sessions()[0].ends_at.replace(day=20),
            location="Haarlem",
            capacity=2,
            by="s",
        )
        kept = prog.session_history(SESSION)[0].position
        dropped = prog.session_history("2019-11-20")[0].position
        prog.correct(kept, location="Alkmaar", reason="zaal verplaatst", by="s")
        prog.retract(dropped, reason="nooit gepland", by="s")
    return invited, kept, dropped


def _lines(result: Any) -> list[str]:
    assert result.returncode == 0, result.stderr
    lines: list[str] = result.stdout.splitlines()
    return lines


def test_a_sessions_history_in_dutch_with_its_amendments(amended: tuple[Mma, int, int]) -> None:
    mma, kept, dropped = amended
    lines = _lines(mma.real("--lang", "nl", "history", "--session", SESSION))
    assert [line.split()[3] for line in lines] == ["Scheduled", "SeatBooked", "ScheduleCorrected"]
    assert int(lines[0].split()[0]) == kept
    correction = int(lines[2].split()[0])
    assert lines[0].endswith(f"[gecorrigeerd op positie {correction}: zaal verplaatst]")
    assert lines[2].endswith(f"[wijzigt positie {kept}]")
    assert '"official_id": "GM0363-1"' in lines[1]
    assert "Jan" not in "\n".join(lines)

    retracted = _lines(mma.real("--lang", "nl", "history", "--session", "2019-11-20"))
    assert int(retracted[0].split()[0]) == dropped
    assert "[ingetrokken op positie" in retracted[0]
    assert "nooit gepland" in retracted[0]
    assert retracted[1].endswith(f"[wijzigt positie {dropped}]")

    # A page: the stderr line says how to read the earlier events, in Dutch.
    paged = mma.real("--lang", "nl", "history", "--session", SESSION, "--limit", "1")
    assert len(_lines(paged)) == 1
    assert "mma history --session 2019-11-06 --after 0 --limit 1" in paged.stderr


def test_a_sessions_history_as_json(amended: tuple[Mma, int, int]) -> None:
    mma, kept, _ = amended
    entries = json.loads(mma.real("--json", "history", "--session", SESSION).stdout)
    assert [e["type"] for e in entries] == ["Scheduled", "SeatBooked", "ScheduleCorrected"]
    assert entries[0]["corrected_by"] == {
        "position": entries[2]["position"],
        "reason": "zaal verplaatst",
    }
    assert entries[2]["amends"] == kept
    page = json.loads(
        mma.real("--json", "history", "--session", SESSION, "--limit", "2", "--after", "0").stdout
    )
    assert page["session"] == SESSION
    assert [e["type"] for e in page["events"]] == ["Scheduled", "SeatBooked"]
    assert page["next"] == entries[1]["position"]
    rest = json.loads(
        mma.real(
            *("--json", "history", "--session", SESSION),
            *("--limit", "2", "--after", str(page["next"])),
        ).stdout
    )
    assert [e["type"] for e in rest["events"]] == ["ScheduleCorrected"]
    assert rest["next"] is None


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (["history", "--session", "2099-01-01"], 1, "2099-01-01"),
        (["history", "--session", "geen sessie"], 1, "geen sessie"),
        (["history", "GM0363", "--session", SESSION], 2, "--session"),
        (["history"], 2, "--session"),
    ],
)
def test_a_refused_history_exits_with_one_dutch_line_and_writes_nothing(
    invited: Mma, args: list[str], status: int, message: str
) -> None:
    with invited.programme() as prog:
        seed_count = prog.event_count()
    result = invited.real("--lang", "nl", *args)
    assert result.returncode == status
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert message in result.stderr
    assert ("fout:" in result.stderr) if status == 1 else ("Fout:" in result.stderr)
    assert invited.count() == seed_count
