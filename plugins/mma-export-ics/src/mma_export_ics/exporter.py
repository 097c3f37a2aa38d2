"""The ``ics`` format: every training session as a VEVENT in Europe/Amsterdam time.

Each session lists its booked officials as attendees (name and address; an erased official is
left out) and says in its description how many seats are booked. The calendar carries the
Europe/Amsterdam VTIMEZONE, so any calendar program shows the sessions at the right hour.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import IO
from zoneinfo import ZoneInfo

from mma_core.plugin_api import ExportSource

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
MMA = "Meld Misdaad Anoniem"


class IcsExporter:
    format = "ics"
    suffix = ".ics"
    views: tuple[str, ...] = ("roster",)

    def export(self, source: ExportSource, view: str | None, out: IO[bytes]) -> None:
        from icalendar import Calendar, Event, vCalAddress, vText

        attendees: dict[str, list[tuple[str, str, str]]] = {}
        for row in source.roster().dicts():
            if row["session_id"] and row["active"] and row["email"] and "@" in row["email"]:
                attendees.setdefault(row["session_id"], []).append(
                    (row["name"], row["email"], row["municipality"])
                )
        calendar = Calendar()
        calendar.add("prodid", "-//mma_core//mma-export-ics//NL")
        calendar.add("version", "2.0")
        calendar.add("x-wr-calname", f"Trainingen {MMA}")
        calendar.add("x-wr-timezone", "Europe/Amsterdam")
        stamp = datetime.now(UTC)
        for session in source.sessions():
            event = Event()
            event.add("uid", f"{session.session_id}@mma-core")
            event.add("dtstamp", stamp)
            event.add("dtstart", session.starts_at.astimezone(AMSTERDAM))
            event.add("dtend", session.ends_at.astimezone(AMSTERDAM))
            event.add("summary", f"Training {MMA}")
            event.add("location", session.location)
            event.add(
                "description",
                f"{len(session.booked)} of {session.capacity} seats booked "
                f"(session {session.session_id}).",
            )
            for name, email, municipality in attendees.get(session.session_id, []):
                attendee = vCalAddress(f"mailto:{email}")
                attendee.params["cn"] = vText(name)
                attendee.params["role"] = vText("REQ-PARTICIPANT")
                attendee.params["x-municipality"] = vText(municipality)
                event.add("attendee", attendee, encode=False)
            calendar.add_component(event)
        calendar.add_missing_timezones()
        out.write(calendar.to_ical())
