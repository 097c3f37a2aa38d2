"""The ics export parses with icalendar and has the three 2019 sessions in Amsterdam time."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import icalendar
import pytest
from mma_export_ics import IcsExporter

from mma_core import Programme
from mma_core.plugin_api import ExportSource, load_plugins

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
OFFER = "1298348/1298354"
SESSIONS = {
    "2019-11-06": (datetime(2019, 11, 6, 10, 0), datetime(2019, 11, 6, 12, 30)),
    "2019-11-07": (datetime(2019, 11, 7, 13, 0), datetime(2019, 11, 7, 15, 30)),
    "2019-11-13": (datetime(2019, 11, 13, 13, 0), datetime(2019, 11, 13, 15, 30)),
}


@pytest.fixture
def programme() -> Programme:
    prog = Programme.open("memory://", clock=lambda: datetime(2023, 6, 1, 12, tzinfo=UTC))
    prog.register_registry("noord-holland-2019", by="c")
    prog.make_offer(reference=OFFER, sent_on=date(2019, 10, 18), by="cdk")
    for session_id, (starts, ends) in SESSIONS.items():
        prog.schedule_training(
            session_id,
            starts_at=starts,
            ends_at=ends,
            location="Provinciehuis, Dreef 3, Haarlem",
            capacity=60,
            by="c",
        )
    people = [("GM0363", "Ann de Vries", "ann@a.example"), ("GM0358", "Bo Smit", "bo@b.example")]
    for code, name, email in people:
        official = prog.nominate_official(
            code, name=name, email=email, by="c", on=date(2019, 11, 1)
        )
        prog.book_training(
            code, official_id=official, session_id="2019-11-07", by="c", on=date(2019, 11, 2)
        )
    erased = prog.nominate_official(
        "GM0363", name="Erik Weg", email="erik@a.example", by="c", on=date(2019, 11, 1)
    )
    prog.book_training(
        "GM0363", official_id=erased, session_id="2019-11-13", by="c", on=date(2019, 11, 2)
    )
    prog.erase_official(erased, by="privacy-officer")
    return prog


def test_three_sessions_in_amsterdam_time_with_attendees(programme: Programme) -> None:
    out = io.BytesIO()
    IcsExporter().export(ExportSource(programme), None, out)
    calendar = icalendar.Calendar.from_ical(out.getvalue())
    events = {str(e["uid"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {f"{s}@mma-core" for s in SESSIONS}
    for session_id, (starts, ends) in SESSIONS.items():
        event = events[f"{session_id}@mma-core"]
        start, end = event.decoded("dtstart"), event.decoded("dtend")
        assert str(start.tzinfo) == "Europe/Amsterdam"
        assert start.replace(tzinfo=None) == starts  # 10:00 and 13:00 local, as in the letter
        assert end.replace(tzinfo=None) == ends
        assert start.utcoffset().total_seconds() == 3600  # CET in November
        assert "Dreef 3" in str(event["location"])
    (timezone,) = calendar.walk("VTIMEZONE")
    assert str(timezone["tzid"]) == "Europe/Amsterdam"
    attendees = events["2019-11-07@mma-core"]["attendee"]
    assert sorted(str(a) for a in attendees) == ["mailto:ann@a.example", "mailto:bo@b.example"]
    assert sorted(str(a.params["cn"]) for a in attendees) == ["Ann de Vries", "Bo Smit"]
    assert "attendee" not in events["2019-11-13@mma-core"]  # the erased official is left out
    assert "attendee" not in events["2019-11-06@mma-core"]


def test_registered_as_a_plugin() -> None:
    plugins = load_plugins(env={"MMA_LOAD_PLUGINS": "mma-export-ics"})
    assert plugins.records["mma-export-ics"].status == "loaded"
    assert isinstance(plugins.hook.exporters()["ics"], IcsExporter)
