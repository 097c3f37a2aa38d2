"""Cost calculation: each cost is computed when its command runs and stored with its provenance.

The built-in calculator charges what the offer's terms say. Plugins (the cost-calculator hook)
add profiles; whichever calculator produced an amount is named in the event, so a later change of
tariff never rewrites history.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

import attrs

from mma_core.domain.values import CostKind, CostLine, Money, Terms

MMA = "Meld Misdaad Anoniem"


@attrs.frozen
class CostContext:
    """What a calculator may know when it prices one cost."""

    kind: CostKind
    code: str
    name: str
    population: int | None
    on: date
    offer_reference: str
    terms: Terms
    prior_costs: Money | None = None
    # What is left under the calculator's ``ceiling`` (if it has one), as the tariff's budget
    # stands in the transaction that records this cost.
    left: Money | None = None


class CostCalculator(Protocol):
    """Prices one cost. Two optional extensions, looked up with ``getattr``:

    - ``ceiling: Money``: the most the tariff pays over all municipalities together. The
      programme keeps the tariff's budget and passes ``context.left``; concurrent connections
      are serialised on it, so they never exceed the ceiling.
    - ``renewal(context) -> CostLine | None``: a yearly fee charged at each renewal of a
      municipality whose connection this calculator priced (``context.kind`` is ``connection``).
    """

    name: str
    version: str

    def calculate(self, context: CostContext) -> CostLine: ...


class OfferTermsCalculator:
    """Charges the amounts in the offer's terms: the connection fee, the fee per report, and
    compensation of prior connection costs (up to the offer's cap, if it has one)."""

    name = "offer-terms"
    version = "1"

    def calculate(self, context: CostContext) -> CostLine:
        terms = context.terms
        tariff = f"offer:{context.offer_reference}"
        if context.kind is CostKind.CONNECTION:
            return self._line(
                context, terms.connection_fee, terms.connection_payer.value, MMA, tariff
            )
        if context.kind is CostKind.REPORT_FEE:
            return self._line(context, terms.report_fee, terms.report_fee_payer.value, MMA, tariff)
        owed = context.prior_costs or Money.zero()
        if terms.compensation_cap is not None:
            owed = min(owed, terms.compensation_cap)
        return self._line(context, owed, terms.compensation_payer.value, context.code, tariff)

    def _line(
        self, context: CostContext, amount: Money, payer: str, payee: str, tariff: str
    ) -> CostLine:
        return CostLine(
            kind=context.kind,
            amount=amount,
            payer=payer,  # type: ignore[arg-type]  # the converter makes it a Payer
            payee=payee,
            calculator=self.name,
            calculator_version=self.version,
            tariff_id=tariff,
        )
