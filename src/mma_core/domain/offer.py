"""The Offer aggregate: the province's offer as sent, and every later change of its terms."""

from __future__ import annotations

import re
from datetime import date
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from mma_core.domain.common import Recorded, Stamp, as_date, not_before, not_in_future
from mma_core.domain.errors import InvalidInput
from mma_core.domain.text import _
from mma_core.domain.text import day as message_day
from mma_core.domain.values import Terms

_REFERENCE = re.compile(r"[A-Za-z0-9./_-]{1,60}")


def check_offer_reference(reference: object) -> str:
    if not isinstance(reference, str) or not _REFERENCE.fullmatch(reference):
        raise InvalidInput(
            _(
                "{reference} is not an offer reference: 1 to 60 letters, digits or . / _ -, "
                "e.g. 1298348/1298354"
            ).format(reference=repr(reference))
        )
    return reference


def offer_id(reference: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"/offers/{check_offer_reference(reference)}")


class Offer(Aggregate):
    class Event(Recorded):
        pass

    class Made(Event, Aggregate.Created):
        on: date
        reference: str
        terms: Terms

        def apply(self, aggregate: Any) -> None:
            aggregate.reference = self.reference
            aggregate.sent_on = self.on
            aggregate.terms_history = [(self.on, self.terms)]

    class TermsChanged(Event):
        on: date
        terms: Terms

        def apply(self, aggregate: Any) -> None:
            aggregate.terms_history.append((self.on, self.terms))

    class CovenantSigned(Event):
        """The covenant with Meld Misdaad Anoniem that the offer is part of was signed."""

        on: date
        place: str

        def apply(self, aggregate: Any) -> None:
            aggregate.covenant = (self.on, self.place)

    def __init__(self) -> None:
        self.reference = ""
        self.sent_on = date.min
        self.terms_history: list[tuple[date, Terms]] = []
        self.covenant: tuple[date, str] | None = None

    @classmethod
    def make(cls, reference: str, sent_on: date, terms: Terms, stamp: Stamp) -> Offer:
        subject = _("offer {reference}").format(reference=reference)
        sent_on = as_date(sent_on, "sent date", subject)
        not_in_future(sent_on, stamp, subject, "sent date")
        if not isinstance(terms, Terms):
            raise InvalidInput(_("{subject}: terms must be a Terms value").format(subject=subject))
        return cls._create(
            cls.Made,
            id=offer_id(reference),
            timestamp=stamp.at,
            by=stamp.by,
            origin=stamp.origin,
            on=sent_on,
            reference=reference,
            terms=terms,
        )

    def change_terms(self, on: date, terms: Terms, stamp: Stamp) -> None:
        subject = _("offer {reference}").format(reference=self.reference)
        on = as_date(on, "effective date", subject)
        not_in_future(on, stamp, subject, "effective date")
        not_before(on, self.terms_history[-1][0], subject, "effective date", "the last change on")
        if not isinstance(terms, Terms):
            # Stored as given: anything else would break every later cost calculation.
            raise InvalidInput(_("{subject}: terms must be a Terms value").format(subject=subject))
        self.trigger_event(
            self.TermsChanged,
            timestamp=stamp.at,
            by=stamp.by,
            origin=stamp.origin,
            on=on,
            terms=terms,
        )

    def sign_covenant(self, on: date, place: str, stamp: Stamp) -> None:
        subject = _("offer {reference}").format(reference=self.reference)
        on = as_date(on, "covenant date", subject)
        not_in_future(on, stamp, subject, "covenant date")
        if getattr(self, "covenant", None) is not None:
            assert self.covenant is not None
            raise InvalidInput(
                _("{subject}: the covenant was recorded as signed on {day} already").format(
                    subject=subject, day=message_day(self.covenant[0])
                )
            )
        if not isinstance(place, str) or len(place) > 200:
            raise InvalidInput(
                _("{subject}: the place of signing is at most 200 characters").format(
                    subject=subject
                )
            )
        self.trigger_event(
            self.CovenantSigned,
            timestamp=stamp.at,
            by=stamp.by,
            origin=stamp.origin,
            on=on,
            place=place.strip(),
        )

    def terms_on(self, day: date) -> Terms:
        """The terms in force on ``day`` (the offer's own terms before any change)."""
        current = self.terms_history[0][1]
        for effective, terms in self.terms_history:
            if effective <= day:
                current = terms
        return current
