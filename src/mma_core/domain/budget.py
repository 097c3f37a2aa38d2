"""A tariff's budget under its ceiling, charged in the same transaction as each connection.

The Fryslân 2022 scheme pays connections up to a ceiling. Two coordinators connecting at the
same moment must not both see the same remainder: each connection saves this aggregate with
the municipality, so the second save conflicts, is retried, and prices against what the first
left. One aggregate per tariff (its id derives from the tariff's name).

A connection retracted, or corrected so that it is priced anew, gives its amount back
(``Refunded``) in the same transaction as the correction: what it was charged is free again for
the connections after it.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from mma_core.domain.common import Recorded, Stamp
from mma_core.domain.errors import InvalidInput, InvalidTransition
from mma_core.domain.text import _
from mma_core.domain.text import amount as written
from mma_core.domain.values import Money


def budget_id(tariff: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"/budgets/{tariff}")


class Budget(Aggregate):
    """The budget of one tariff with a ceiling (such as Fryslân 2022): what its connections
    were charged, saved in the same transaction as each connection it pays and as each
    correction that gives a connection's charge back, so no two of them spend the same
    remainder."""

    class Event(Recorded):
        pass

    class Opened(Event, Aggregate.Created):
        """The budget of a tariff with a ceiling; ``charged_before`` is what its connections
        were charged before the budget was kept (stores older than it)."""

        tariff: str
        ceiling: Money
        charged_before: Money

        def apply(self, aggregate: Any) -> None:
            aggregate.tariff = self.tariff
            aggregate.ceiling = self.ceiling
            aggregate.charged = self.charged_before

    class Charged(Event):
        """A connection charged to the budget: recorded, or priced again on a corrected date."""

        on: date
        code: str
        amount: Money

        def apply(self, aggregate: Any) -> None:
            aggregate.charged = aggregate.charged + self.amount

    class Refunded(Event):
        """A connection's charge given back: the connection fact at ``reverses`` (its log
        position) was retracted, or corrected and priced anew. Dated on the connection's day."""

        on: date
        code: str
        amount: Money
        reverses: int

        def apply(self, aggregate: Any) -> None:
            aggregate.charged = aggregate.charged - self.amount

    def __init__(self) -> None:
        self.tariff = ""
        self.ceiling = Money.zero()
        self.charged = Money.zero()

    @classmethod
    def open(cls, tariff: str, ceiling: Money, charged_before: Money, stamp: Stamp) -> Budget:
        return cls._create(
            cls.Opened,
            id=budget_id(tariff),
            timestamp=stamp.at,
            by=stamp.by,
            origin=stamp.origin,
            tariff=tariff,
            ceiling=ceiling,
            charged_before=charged_before,
        )

    @property
    def left(self) -> Money:
        return max(self.ceiling - self.charged, Money.zero())

    def charge(self, on: date, code: str, amount: Money, stamp: Stamp) -> None:
        self.trigger_event(
            self.Charged,
            timestamp=stamp.at,
            by=stamp.by,
            origin=stamp.origin,
            on=on,
            code=code,
            amount=amount,
        )

    def refund(self, on: date, code: str, amount: Money, reverses: int, stamp: Stamp) -> None:
        """Give back ``amount`` charged for the connection fact at position ``reverses``:
        more than nothing, and never more than the budget has charged."""
        if amount.amount <= 0:
            raise InvalidInput(
                _("{tariff}: a refund to the budget must be more than nothing").format(
                    tariff=self.tariff
                )
            )
        if amount > self.charged:
            raise InvalidTransition(
                _(
                    "{tariff}: the budget cannot give back {amount}, it has charged only {charged}"
                ).format(tariff=self.tariff, amount=written(amount), charged=written(self.charged))
            )
        self.trigger_event(
            self.Refunded,
            timestamp=stamp.at,
            by=stamp.by,
            origin=stamp.origin,
            on=on,
            code=code,
            amount=amount,
            reverses=reverses,
        )
