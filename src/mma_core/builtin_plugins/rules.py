"""The default notification rules.

- invitation -> the mayor;
- training booked -> the official, with the session as an ``.ics`` attachment;
- connected (by the programme, a prior connection or succession) -> the coordinator;
- evaluation due within 30 days -> the municipality's contact;
- no answer 21 days after the invitation -> a reminder to the mayor.

The deadline rules answer the outbox's ``EvaluationDue`` and ``AnswerOverdue`` events.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from mma_core.plugin_api import (
    HOOK_API_VERSION,
    MMA,
    Attachment,
    EventRecord,
    MunicipalityView,
    Notification,
    PluginInfo,
    Recipient,
    SessionView,
    hookimpl,
)


def _label(event: EventRecord, municipality: MunicipalityView | None) -> str:
    if municipality is not None:
        return f"{municipality.name} ({municipality.code})"
    return event.code or "the programme"


def _ics_text(value: str) -> str:
    """RFC 5545 TEXT: a line break of any kind (CRLF, CR, LF) is ``\\n``, so no value can end
    its content line and start a property of its own; other control characters are dropped."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    return "".join(c for c in value if c >= " " and c != "\x7f")


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def session_ics(session: SessionView, uid: str, stamp: datetime) -> bytes:
    """An RFC 5545 calendar with the one session, times in UTC."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//mma_core//training//NL",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{_utc(stamp)}",
        f"DTSTART:{_utc(session.starts_at)}",
        f"DTEND:{_utc(session.ends_at)}",
        f"SUMMARY:{_ics_text('Training ' + MMA)}",
        f"LOCATION:{_ics_text(session.location)}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _training(event: EventRecord, m: MunicipalityView | None) -> list[Notification]:
    official_id = str(event.data.get("official_id", ""))
    if m is None or event.session is None:
        return []
    official = next((o for o in m.officials if o.id == official_id), None)
    if official is None or official.erased or not official.active:
        return []  # withdrawn or erased since: nobody to tell
    if official.session_id != event.session.session_id:
        return []  # booked again since; the later booking sends its own
    session = event.session
    local = session.starts_at.strftime("%d-%m-%Y %H:%M")
    ics = session_ics(
        session,
        f"{session.session_id}.{official_id}@mma-core",
        event.recorded_at or session.starts_at,
    )
    return [
        Notification(
            key="training-booked",
            subject=f"Training {MMA} op {local}",
            body=(
                f"U bent aangemeld voor de training {MMA} op {local} in {session.location}. "
                "De afspraak staat in de bijlage."
            ),
            recipient=Recipient("official", m.code, official.email, official.name),
            attachments=(Attachment("training.ics", "text/calendar", ics),),
        )
    ]


@hookimpl
def mma_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="default-rules",
        api_version=HOOK_API_VERSION,
        description="invitation, training, connection, evaluation and answer reminders",
    )


@hookimpl
def mma_notifications_for_event(
    event: EventRecord, municipality: MunicipalityView | None
) -> Sequence[Notification]:
    label = _label(event, municipality)
    code = event.code
    if event.type == "Invited":
        return [
            Notification(
                key="invitation",
                subject=f"Uitnodiging: aansluiting op {MMA}",
                body=(
                    f"De provincie nodigt {label} uit om aan te sluiten op {MMA} "
                    f"(kenmerk {event.data.get('offer_reference', '')}). Wij horen graag uw "
                    "antwoord."
                ),
                recipient=Recipient("mayor", code),
            )
        ]
    if event.type == "TrainingBooked":
        return _training(event, municipality)
    connected = event.type in ("Connected", "PriorConnectionCompensated") or (
        event.type == "PredecessorMerged" and bool(event.data.get("connected_by_succession"))
    )
    if connected:
        return [
            Notification(
                key="connected",
                subject=f"{label} is aangesloten op {MMA}",
                body=f"{label} is sinds {event.business_date} aangesloten op {MMA}.",
                recipient=Recipient("coordinator", code),
            )
        ]
    if event.type == "EvaluationDue":
        return [
            Notification(
                key="evaluation-due",
                subject=f"Evaluatie {MMA} uiterlijk {event.due_on}",
                body=(
                    f"De evaluatie van de aansluiting van {label} op {MMA} is uiterlijk "
                    f"{event.due_on} nodig. Besluit daarna zelf of u doorgaat."
                ),
                recipient=Recipient("contact", code),
            )
        ]
    if event.type == "AnswerOverdue":
        return [
            Notification(
                key="answer-reminder",
                subject=f"Herinnering: aansluiting op {MMA}",
                body=(
                    f"Wij ontvingen nog geen antwoord van {label} op de uitnodiging om aan te "
                    f"sluiten op {MMA}; het antwoord werd verwacht op {event.due_on}."
                ),
                recipient=Recipient("mayor", code),
            )
        ]
    return []
