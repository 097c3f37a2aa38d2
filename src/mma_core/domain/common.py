"""What every command carries (who, through what, when recorded) and the date rules all share."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import attrs
from eventsourcing.domain import Aggregate

from mma_core.domain.errors import InvalidDate, InvalidInput
from mma_core.domain.text import N_, _
from mma_core.domain.text import day as message_day

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

_ORIGIN = re.compile(r"[A-Za-z0-9._:/-]{1,60}")
# Line and paragraph separators (U+2028, U+2029) break a line as a newline does; the other
# separators a reader takes for a line break (NEL, VT, FF) are control characters already.
_SEPARATORS = frozenset("\u2028\u2029")


@attrs.frozen
class Stamp:
    """Who did it (``by``), through what (``origin``: cli, api, a service), when recorded."""

    by: str
    origin: str
    at: datetime

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.by, str) or not self.by.strip():
            raise InvalidInput(_("every command needs 'by': who is doing this (e.g. coordinator)"))
        if len(self.by) > 120:
            raise InvalidInput(_("'by' is at most 120 characters"))
        if any(unicodedata.category(c)[0] == "C" or c in _SEPARATORS for c in self.by):
            # 'by' goes into every audit line: no line breaks or control characters in it.
            raise InvalidInput(_("'by' may not contain line breaks or control characters"))
        object.__setattr__(self, "by", self.by.strip())
        if not isinstance(self.origin, str) or not _ORIGIN.fullmatch(self.origin):
            raise InvalidInput(
                _(
                    "'origin' names the channel the command came through (cli, api, a service "
                    "name): 1 to 60 letters, digits or . _ : / -"
                )
            )
        if not isinstance(self.at, datetime) or self.at.tzinfo is None:
            raise InvalidInput(_("the recorded time must be a timezone-aware datetime"))
        # The recorded time is UTC (DESIGN section 3), whatever zone the clock reports in.
        object.__setattr__(self, "at", self.at.astimezone(UTC))

    @property
    def today(self) -> date:
        """The recorded day in Europe/Amsterdam: the yardstick for 'not in the future'."""
        return self.at.astimezone(AMSTERDAM).date()


# The names of dates and steps that rules put in their messages, for the catalog: a message
# shows them in the current language with ``_(what)``.
PHRASES = (
    N_("invitation date"),
    N_("prior connection date"),
    N_("record date"),
    N_("acceptance date"),
    N_("refusal date"),
    N_("connection date"),
    N_("report date"),
    N_("evaluation date"),
    N_("renewal date"),
    N_("termination date"),
    N_("merger date"),
    N_("nomination date"),
    N_("booking date"),
    N_("withdrawal date"),
    N_("session date"),
    N_("sent date"),
    N_("effective date"),
    N_("covenant date"),
    N_("its previous lifecycle step on"),
    N_("the offer was sent on"),
    N_("the connection on"),
    N_("the last report on"),
    N_("the nomination on"),
    N_("the last change on"),
    N_("invite"),
    N_("record a prior connection for"),
    N_("accept the offer for"),
    N_("record a refusal for"),
    N_("connect"),
    N_("evaluate"),
    N_("renew"),
    N_("terminate"),
)


def as_date(value: object, what: str, subject: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise InvalidInput(
            _("{subject}: {what} must be a date (YYYY-MM-DD), not {type}").format(
                subject=subject, what=_(what), type=type(value).__name__
            )
        )
    return value


def not_in_future(day: date, stamp: Stamp, subject: str, what: str) -> None:
    if day > stamp.today:
        raise InvalidDate(
            _(
                "{subject}: {what} {day} lies in the future (today is {today} in "
                "Europe/Amsterdam); record facts once they happened"
            ).format(
                subject=subject,
                what=_(what),
                day=message_day(day),
                today=message_day(stamp.today),
            )
        )


def not_before(day: date, earliest: date | None, subject: str, what: str, because: str) -> None:
    if earliest is not None and day < earliest:
        raise InvalidDate(
            _(
                "{subject}: {what} {day} lies before {because} {earliest}; lifecycle dates never "
                "run backwards, use {earliest} or later"
            ).format(
                subject=subject,
                what=_(what),
                day=message_day(day),
                because=_(because),
                earliest=message_day(earliest),
            )
        )


class Recorded(Aggregate.Event):
    """Base of every event: who recorded it and through what. The recorded time is ``timestamp``."""

    by: str
    origin: str

    @property
    def business_date(self) -> date | None:
        """The day the fact took effect (``on`` for most events); ``None`` = before any record."""
        value: Any = getattr(self, "on", None)
        return value if isinstance(value, date) else None
