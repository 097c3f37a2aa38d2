"""What a command charges: the offer's terms on a date, the cost line each cost kind's
calculator prices, and the budget of a calculator with a ceiling."""

from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.application import AggregateNotFoundError

from mma_core.application.commanding import Commanding
from mma_core.application.costs import CostContext
from mma_core.domain.budget import Budget, budget_id
from mma_core.domain.common import Stamp
from mma_core.domain.errors import (
    InvalidInput,
    InvalidTransition,
)
from mma_core.domain.municipality import Municipality
from mma_core.domain.offer import Offer
from mma_core.domain.values import (
    REVERSAL_CALCULATOR,
    CostKind,
    CostLine,
    Money,
    Terms,
)
from mma_core.language.i18n import _ as _t


class Pricing(Commanding):
    """The costs of the lifecycle's and the reports' commands, priced when they run."""

    def _terms_for(
        self, m: Municipality, on: date, offers: dict[str, Offer] | None = None
    ) -> tuple[str, Terms]:
        """The offer's terms on ``on``; ``offers`` keeps the offers read (one bulk command)."""
        if m.offer_reference is None:
            raise InvalidTransition(
                _t("{label}: was never invited, so no offer's terms apply").format(label=m.label)
            )
        if offers is None:
            offer = self.uow.offer(m.offer_reference, read_only=True)
            return m.offer_reference, offer.terms_on(on)
        if m.offer_reference not in offers:
            offers[m.offer_reference] = self.uow.offer(m.offer_reference, read_only=True)
        return m.offer_reference, offers[m.offer_reference].terms_on(on)

    def _cost(
        self,
        kind: CostKind,
        m: Municipality,
        on: date,
        prior: Money | None = None,
        offers: dict[str, Offer] | None = None,
        budget: Budget | None = None,
        renewal: bool = False,
    ) -> CostLine | None:
        """The cost line the kind's calculator prices (at a renewal: the yearly fee, if its
        calculator has one; else None)."""
        reference, terms = self._terms_for(m, on, offers)
        context = CostContext(
            kind=kind,
            code=m.code,
            name=m.name,
            population=m.population,
            on=on,
            offer_reference=reference,
            terms=terms,
            prior_costs=prior,
            left=None if budget is None else budget.left,
        )
        calculator = self.cost_calculators[kind]
        if renewal:
            renew = getattr(calculator, "renewal", None)
            if renew is None:
                return None
            line = renew(context)
            if line is None:
                return None
        else:
            line = calculator.calculate(context)
        if not isinstance(line, CostLine) or line.kind is not kind:
            raise InvalidInput(
                _t("{label}: the {kind} calculator returned no valid cost line").format(
                    label=m.label, kind=kind.value
                )
            )
        return line

    def _priced(self, kind: CostKind, m: Municipality, on: date, **kwargs: Any) -> CostLine:
        line = self._cost(kind, m, on, **kwargs)
        assert line is not None  # only a renewal may price nothing
        return line

    def _budget(self, kind: CostKind, stamp: Stamp) -> Budget | None:
        """The budget of the kind's calculator, if it has a ceiling (opened on first use with
        what the ledger shows it charged before: its lines, less the reversal lines that took
        one of them back)."""
        calculator = self.cost_calculators[kind]
        ceiling = getattr(calculator, "ceiling", None)
        if not isinstance(ceiling, Money):
            return None
        try:
            budget: Budget = self.uow.get(budget_id(calculator.name))
            return budget
        except AggregateNotFoundError:
            self.views.catch_up()
            lines = self.views.ledger()
            # A reversal names the position of the fact whose cost it takes back (a corrected
            # fact's, its original position): taken off when that fact's line was this tariff's.
            priced = {line.position for line in lines if line.calculator == calculator.name}
            before = Money.zero()
            for line in lines:
                if line.calculator == calculator.name or (
                    line.calculator == REVERSAL_CALCULATOR and line.line.reverses in priced
                ):
                    before += line.amount
            return Budget.open(calculator.name, ceiling, before, stamp)
