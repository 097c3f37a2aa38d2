"""``session_history``: a training session's events as ``history`` shows a municipality's, on
every store. The schedule names what corrected or retracted it, each amendment names the
schedule it amends, pages are cut as ``history`` cuts them, no official's name or e-mail shows,
and a refused read writes nothing."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import pytest

from integration.test_result_schemas import valid
from mma_core import DomainError, Programme

OFFER = "1298348/1298354"
AMS = "GM0363"
KEPT, DROPPED = "2019-11-06", "2019-11-20"


@pytest.fixture
def prog(programme: Programme) -> Programme:
    """Two sessions: KEPT booked by an official and its schedule corrected twice, DROPPED
    retracted."""
    p = programme
    p.register_registry("noord-holland-2019", by="c")
    p.make_offer(reference=OFFER, sent_on=date(2019, 10, 18), by="c")
    p.invite(AMS, on=date(2019, 10, 18), reference=OFFER, by="c")
    p.accept(AMS, on=date(2019, 11, 1), by="c")
    for session, day in ((KEPT, 6), (DROPPED, 20)):
        p.schedule_training(
            session,
            starts_at=datetime(2019, 11, day, 10),
            ends_at=datetime(2019, 11, day, 12, 30),
            location="Haarlem",
            capacity=2,
            on=date(2019, 10, 1),
            by="c",
        )
    oid = p.nominate_official(
        AMS, name="Jan Jansen", email="jan@gemeente.nl", on=date(2019, 11, 1), by="c"
    )
    p.book_training(AMS, official_id=oid, session_id=KEPT, on=date(2019, 11, 2), by="c")
    scheduled = p.session_history(KEPT)[0].position
    p.correct(scheduled, location="Alkmaar", reason="the room was moved", by="c")
    p.correct(scheduled, capacity=3, reason="a bigger room", by="c")
    p.retract(p.session_history(DROPPED)[0].position, reason="never planned", by="by-2")
    return p


def test_a_sessions_events_in_order_with_its_amendments_marked(prog: Programme) -> None:
    entries = prog.session_history(KEPT)
    assert [e.type for e in entries] == [
        "Scheduled",
        "SeatBooked",
        "ScheduleCorrected",
        "ScheduleCorrected",
    ]
    positions = [e.position for e in entries]
    assert positions == sorted(positions)
    assert [e.version for e in entries] == [1, 2, 3, 4]
    scheduled, booked, first, latest = entries
    assert scheduled.data["location"] == "Haarlem"  # as recorded, not as corrected
    # The latest correction, as history marks a municipality's fact.
    assert scheduled.corrected_by is not None
    assert scheduled.corrected_by.position == latest.position
    assert scheduled.corrected_by.reason == "a bigger room"
    assert scheduled.retracted_by is None
    assert first.amends == latest.amends == scheduled.position
    assert (first.data["location"], latest.data["capacity"]) == ("Alkmaar", 3)
    assert booked.amends is None
    assert booked.corrected_by is None
    assert booked.date == date(2019, 11, 2)
    for entry in entries:
        valid("HistoryEntry", entry.to_dict())

    dropped = prog.session_history(DROPPED)
    assert [e.type for e in dropped] == ["Scheduled", "ScheduleRetracted"]
    assert dropped[0].retracted_by is not None
    assert dropped[0].retracted_by.position == dropped[1].position
    assert dropped[0].retracted_by.reason == "never planned"
    assert dropped[0].corrected_by is None
    assert dropped[1].amends == dropped[0].position
    assert dropped[1].by == "by-2"


def test_the_same_entries_as_the_follow_feed_and_no_personal_data(prog: Programme) -> None:
    entries = prog.session_history(KEPT)
    followed = {r.position: r for r in prog.follow()}
    for e in entries:
        assert followed[e.position].type == e.type
    text = json.dumps([e.to_dict() for e in entries])
    assert "Jan" not in text
    assert "jan@gemeente.nl" not in text
    assert "personal_data" not in text
    assert f"{AMS}-1" in text  # by id only
    # The municipality's own history is untouched by the shared reader.
    history = prog.history(AMS)
    booked = [e for e in history if e.type == "TrainingBooked"]
    assert booked
    assert booked[0].data["session_id"] == KEPT


def test_pages_are_cut_as_history_cuts_them(prog: Programme) -> None:
    whole = prog.session_history(KEPT)
    positions = [e.position for e in whole]
    assert [e.position for e in prog.session_history(KEPT, limit=2)] == positions[:2]
    assert [e.position for e in prog.session_history(KEPT, limit=2, latest=True)] == (
        positions[-2:]
    )
    after = prog.session_history(KEPT, after=positions[1])
    assert [e.position for e in after] == positions[2:]
    assert prog.session_history(KEPT, after=positions[-1]) == []
    assert prog.session_history(KEPT, limit=0) == []
    # Page by page, forward, the same entries; the amended fact marked on its own page.
    read: list[Any] = []
    cursor = 0
    while page := prog.session_history(KEPT, after=cursor, limit=1):
        read.extend(page)
        cursor = page[-1].position
    assert read == whole
    assert read[0].corrected_by == whole[0].corrected_by
    # A page without the schedule still names it in its amendments.
    last = prog.session_history(KEPT, latest=True, limit=1)
    assert last[0].amends == positions[0]


@pytest.mark.parametrize(
    ("session", "kw", "code"),
    [
        ("2099-01-01", {}, "unknown_session"),
        ("not a session", {}, "invalid_input"),
        (KEPT, {"limit": -1}, "invalid_input"),
        (KEPT, {"limit": "2"}, "invalid_input"),
        (KEPT, {"after": "x"}, "invalid_input"),
        (KEPT, {"limit": True}, "invalid_input"),
        (KEPT, {"after": False}, "invalid_input"),
        ("2099-01-01", {"limit": -1}, "invalid_input"),
    ],
)
def test_an_unknown_session_or_a_bad_page_is_refused_and_writes_nothing(
    prog: Programme, session: str, kw: dict[str, Any], code: str
) -> None:
    before = prog.event_count()
    with pytest.raises(DomainError) as raised:
        prog.session_history(session, **kw)
    assert raised.value.code == code
    assert prog.event_count() == before


def test_a_municipality_is_no_session(prog: Programme) -> None:
    with pytest.raises(DomainError) as raised:
        prog.session_history(AMS)
    assert raised.value.code == "unknown_session"
