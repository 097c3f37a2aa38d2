"""A tariff's budget: charged by connections, given back by their retraction or re-pricing."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from mma_core import InvalidInput, Money
from mma_core.domain.budget import Budget, budget_id
from mma_core.domain.common import Stamp
from mma_core.domain.errors import InvalidTransition

STAMP = Stamp(by="coordinator", origin="test", at=datetime(2023, 6, 1, 12, tzinfo=UTC))
DAY = date(2022, 3, 1)


def opened() -> Budget:
    budget = Budget.open("fryslan-2022", Money("10000.00"), Money("1000.00"), STAMP)
    budget.charge(DAY, "GM0363", Money("4000.00"), STAMP)
    return budget


def test_a_refund_gives_the_amount_back() -> None:
    budget = opened()
    assert budget.left == Money("5000.00")
    budget.refund(DAY, "GM0363", Money("4000.00"), 17, STAMP)
    assert budget.charged == Money("1000.00")
    assert budget.left == Money("9000.00")
    assert budget.id == budget_id("fryslan-2022")
    *_, refunded = budget.collect_events()
    assert isinstance(refunded, Budget.Refunded)
    assert (refunded.on, refunded.code, refunded.amount, refunded.reverses) == (
        DAY,
        "GM0363",
        Money("4000.00"),
        17,
    )
    assert refunded.business_date == DAY


@pytest.mark.parametrize("amount", ["0.00", "-5.00"])
def test_a_refund_of_nothing_is_refused(amount: str) -> None:
    budget = opened()
    with pytest.raises(InvalidInput, match="more than nothing"):
        budget.refund(DAY, "GM0363", Money(amount), 17, STAMP)
    assert budget.charged == Money("5000.00")


def test_more_than_was_charged_is_not_given_back() -> None:
    budget = opened()
    budget.refund(DAY, "GM0363", Money("5000.00"), 17, STAMP)  # all of it: allowed
    with pytest.raises(InvalidTransition, match="charged only"):
        budget.refund(DAY, "GM0363", Money("0.01"), 18, STAMP)
    assert budget.charged == Money.zero()
    assert [type(e).__name__ for e in budget.collect_events()] == [
        "Opened",
        "Charged",
        "Refunded",
    ]
