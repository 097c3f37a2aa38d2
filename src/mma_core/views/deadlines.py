"""Deadlines: what needs doing, sorted by urgency (``mma due``; the outbox's reminders).

Kinds:

- ``answer``: invited and no answer yet; due ``ANSWER_DAYS`` after the invitation.
- ``evaluation``: connected and this term's evaluation not recorded; due on the evaluation date.
- ``renewal``: evaluated with outcome "continue" and the next term not yet recorded (``renew``);
  due on the evaluation date, when the term ends.
- ``termination``: evaluated with outcome "stop" and still connected: the termination is to be
  recorded (``terminate``); due on the evaluation date.
- ``training``: accepted or connected with fewer than ``TRAINED_OFFICIALS`` active officials who
  attended a training (the offer asks for two OOV officials); due ``TRAINING_DAYS`` after the
  acceptance (or the connection, for a successor or prior connection).
- ``capacity``: a session still to come that holds more officials than seats, or fewer than
  ``UNDERFILLED`` of its seats; due on the session's day.

An item is listed when it falls due within ``within`` days of ``today`` or is overdue.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import attrs

from mma_core.domain.common import AMSTERDAM
from mma_core.domain.jsonable import JSONObject, JSONReady
from mma_core.domain.values import Stage
from mma_core.views.records import MunicipalityRecord, SessionRecord
from mma_core.views.state import Deadline

ANSWER_DAYS = 21
TRAINING_DAYS = 60
UNDERFILLED = 0.5
DUE_WITHIN = 30
TRAINED_OFFICIALS = 2
KINDS = ("evaluation", "termination", "renewal", "answer", "training", "capacity")
OVERVIEW_KINDS = ("answer", "evaluation")  # the overview's deadlines (the status's list)


def _stopped(r: MunicipalityRecord) -> bool:
    """Evaluated with outcome "stop" this term: what remains is to record the termination."""
    return r.evaluation_open and r.last_outcome == "stop"


def _to_renew(r: MunicipalityRecord) -> bool:
    """Evaluated with outcome "continue" this term and the next term not yet recorded."""
    return (
        r.stage is Stage.CONNECTED
        and r.evaluation_due is not None
        and not r.evaluation_open
        and r.last_outcome == "continue"
    )


def trained(r: MunicipalityRecord) -> int:
    return sum(1 for o in r.officials if o.active and o.attended)


@attrs.frozen
class Due(JSONReady):
    """One deadline. ``code`` and ``name`` are the municipality's, or for a ``capacity`` item
    ``code`` is ``None`` and ``name`` names the session."""

    kind: str
    code: str | None
    name: str
    due_on: date
    days_left: int  # negative: overdue by that many days
    detail: str
    session_id: str | None = None

    @property
    def overdue(self) -> bool:
        return self.days_left < 0

    def to_dict(self) -> JSONObject:
        return {**super().to_dict(), "overdue": self.overdue}


def deadlines(records: Sequence[MunicipalityRecord], day: date) -> list[Deadline]:
    """The overview's open deadlines: the answers and evaluations among :func:`due_items`,
    however far off, in the overview's shape (:class:`~mma_core.views.state.Deadline`)."""
    found = [
        Deadline(item.code, item.name, item.kind, item.due_on, item.overdue)
        for item in due_items(records, (), day, within=None)
        if item.code is not None and item.kind in OVERVIEW_KINDS
    ]
    return sorted(found, key=lambda d: (d.due_on, d.code, d.kind))


def due_items(
    records: Sequence[MunicipalityRecord],
    sessions: Sequence[SessionRecord],
    today: date,
    within: int | None = DUE_WITHIN,
) -> list[Due]:
    """Every deadline due by ``today + within`` days (overdue ones included; every one with
    ``within=None``), most urgent first."""
    horizon = date.max if within is None else today + timedelta(days=within)
    items: list[Due] = []

    def add(kind: str, r: MunicipalityRecord, due: date, detail: str) -> None:
        if due <= horizon:
            items.append(Due(kind, r.code, r.name, due, (due - today).days, detail))

    for r in records:
        if not r.exists_on(today):
            continue
        if r.stage is Stage.INVITED and r.invited_on is not None:
            add(
                "answer",
                r,
                r.invited_on + timedelta(days=ANSWER_DAYS),
                f"invited on {r.invited_on.isoformat()}, no answer yet",
            )
        if r.evaluation_open and r.evaluation_due is not None:
            if _stopped(r):
                add(
                    "termination",
                    r,
                    r.evaluation_due,
                    "evaluated with outcome stop; record the termination (mma terminate)",
                )
            else:
                add("evaluation", r, r.evaluation_due, f"term started {_iso(r.term_start)}")
        if _to_renew(r) and r.evaluation_due is not None:
            add(
                "renewal",
                r,
                r.evaluation_due,
                "evaluated with outcome continue; record the next term (mma renew)",
            )
        count = trained(r)
        if r.stage in (Stage.ACCEPTED, Stage.CONNECTED) and count < TRAINED_OFFICIALS:
            since = r.accepted_on or r.connected_on
            if since is not None:
                add(
                    "training",
                    r,
                    since + timedelta(days=TRAINING_DAYS),
                    f"{count} of {TRAINED_OFFICIALS} officials trained since {since.isoformat()}",
                )
    for s in sessions:
        day = s.starts_at.astimezone(AMSTERDAM).date()
        if day < today or day > horizon:
            continue
        booked = len(s.booked)
        if booked > s.capacity:
            detail = f"{booked} booked for {s.capacity} seats"
        elif booked < s.capacity * UNDERFILLED:
            detail = f"only {booked} of {s.capacity} seats booked"
        else:
            continue
        items.append(
            Due(
                "capacity",
                None,
                f"session {s.session_id}",
                day,
                (day - today).days,
                detail,
                s.session_id,
            )
        )
    order = {kind: i for i, kind in enumerate(KINDS)}
    items.sort(key=lambda d: (d.due_on, order[d.kind], d.code or "", d.session_id or ""))
    return items


def _iso(day: date | None) -> str:
    return "-" if day is None else day.isoformat()
