"""A report reference, claimed once across the whole programme.

MMA's references are global, so uniqueness cannot live in one Municipality. A claim is a
one-event aggregate whose id derives from the reference: two writers claiming the same reference
collide on the store's primary key, in the same transaction as the report itself, even across
processes.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from mma_core.domain.common import Recorded, Stamp
from mma_core.domain.values import MunicipalityCode, ReportReference


def claim_id(reference: ReportReference | str) -> UUID:
    """The claim's id, from the reference's canonical form. A store written before references
    were made canonical holds claims under the reference as typed: see :func:`claim_ids`."""
    value = reference.value if isinstance(reference, ReportReference) else reference
    return uuid5(NAMESPACE_URL, f"/reports/{value}")


def claim_ids(reference: ReportReference, typed: str) -> tuple[UUID, ...]:
    """Every id a claim of this reference may have: the canonical one first, then those an
    earlier version stored it under (the reference as typed, and in lower case)."""
    # Distinct forms have distinct ids (uuid5): each id is computed once (a bulk import asks
    # for every row's).
    forms = dict.fromkeys((reference.value, typed.strip(" "), reference.value.lower()))
    return tuple(claim_id(form) for form in forms)


class ReportClaim(Aggregate):
    class Event(Recorded):
        pass

    class Claimed(Event, Aggregate.Created):
        received_on: date
        reference: str
        code: str

        @property
        def business_date(self) -> date | None:
            return self.received_on

        def apply(self, aggregate: Any) -> None:
            aggregate.reference = self.reference
            aggregate.code = self.code
            aggregate.received_on = self.received_on

    class Released(Event):
        """The report that held the reference was retracted, or its reference corrected: the
        reference is free to be recorded again."""

        on: date

        def apply(self, aggregate: Any) -> None:
            aggregate.released = True

    class Reclaimed(Event):
        """A released reference recorded again, for a report of ``code``."""

        received_on: date
        code: str

        @property
        def business_date(self) -> date | None:
            return self.received_on

        def apply(self, aggregate: Any) -> None:
            aggregate.code = self.code
            aggregate.received_on = self.received_on
            aggregate.released = False

    def __init__(self) -> None:
        self.reference = ""
        self.code = ""
        self.received_on = date.min
        self.released = False

    def release(self, stamp: Stamp) -> None:
        self.trigger_event(
            self.Released, timestamp=stamp.at, by=stamp.by, origin=stamp.origin, on=stamp.today
        )

    def reclaim(self, code: MunicipalityCode, received_on: date, stamp: Stamp) -> None:
        self.trigger_event(
            self.Reclaimed,
            timestamp=stamp.at,
            by=stamp.by,
            origin=stamp.origin,
            received_on=received_on,
            code=code.value,
        )

    @classmethod
    def claim(
        cls, reference: ReportReference, code: MunicipalityCode, received_on: date, stamp: Stamp
    ) -> ReportClaim:
        return cls._create(
            cls.Claimed,
            id=claim_id(reference),
            timestamp=stamp.at,
            by=stamp.by,
            origin=stamp.origin,
            received_on=received_on,
            reference=reference.value,
            code=code.value,
        )
