"""The cost calculators of the tariff profiles.

Each calculator prices one or more cost kinds and names itself, its version and the tariff in
every cost line, so a recorded amount always says where it came from; a later change of tariff
or configuration never changes an amount already recorded.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Mapping
from decimal import Decimal
from importlib import resources
from typing import Any

from mma_core import CostLine, InvalidInput, Money
from mma_core.plugin_api import CostContext, CostKind, Payer

MMA = "Meld Misdaad Anoniem"


def load_profiles() -> dict[str, dict[str, Any]]:
    """The shipped tariff profiles (``tariffs.toml``)."""
    text = resources.files("mma_costs").joinpath("tariffs.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def _line(
    calculator: Any, context: CostContext, amount: Money, payer: Payer, payee: str, tariff: str
) -> CostLine:
    return CostLine(
        kind=context.kind,
        amount=amount,
        payer=payer,
        payee=payee,
        calculator=calculator.name,
        calculator_version=calculator.version,
        tariff_id=tariff,
    )


def _unsupported(name: str, context: CostContext, supported: str) -> InvalidInput:
    return InvalidInput(
        f"{context.code} {context.name}: the {name} tariff prices {supported} only, not "
        f"{context.kind.value}; select another calculator for {context.kind.value} in [costs]"
    )


class PopulationBands:
    """Fryslân 2022: a one-off connection contribution by population band, paid by the
    province, up to the ceiling of the scheme (the last municipality under it receives what is
    left, those after it nothing)."""

    name = "fryslan-2022"
    version = "1"

    def __init__(self, profile: Mapping[str, Any]) -> None:
        self.bands = sorted(
            ((int(b["from"]), Money(b["amount"])) for b in profile["bands"]), reverse=True
        )
        self.ceiling = Money(profile["ceiling"])
        self.minimum_months = int(profile["minimum_months"])
        self._programme: Any = None

    def bind(self, programme: Any) -> None:
        """Called by ``mma_core.plugin_api.open_programme``: the ceiling needs what was charged."""
        self._programme = programme

    def band(self, population: int) -> tuple[int, Money]:
        for lower, amount in self.bands:
            if population >= lower:
                return lower, amount
        raise InvalidInput(f"population {population} falls in no band")

    def charged(self) -> Money:
        """What this tariff charged so far, over every municipality."""
        total = Money.zero()
        for code in self._programme.codes():
            for entry in self._programme.municipality(code, cost_lines=True).costs:
                if entry.line.calculator == self.name:
                    total += entry.line.amount
        return total

    def calculate(self, context: CostContext) -> CostLine:
        if context.kind is not CostKind.CONNECTION:
            raise _unsupported(self.name, context, "the connection")
        if context.population is None:
            raise InvalidInput(
                f"{context.code} {context.name}: the registry holds no population, so the "
                "Fryslân band cannot be chosen"
            )
        if self._programme is None:
            raise InvalidInput(
                f"{context.code} {context.name}: the {self.name} tariff needs the programme to "
                "apply its ceiling; open it with mma_core.plugin_api.open_programme"
            )
        lower, amount = self.band(context.population)
        # The programme passes what its budget of this tariff leaves, read in the transaction
        # that records the connection; summing the ledger is for programmes that do not.
        left = context.left if context.left is not None else self.ceiling - self.charged()
        if left.amount < amount.amount:
            amount = max(left, Money.zero())
        return _line(self, context, amount, Payer.PROVINCE, MMA, f"{self.name}/from-{lower}")


class AmsterdamSubscription:
    """Amsterdam 2017: EUR 2,000 a year (charged on connection for the first year and at each
    renewal for the next) plus EUR 47.50 per report, both paid by the municipality."""

    name = "amsterdam-2017"
    version = "1"

    def __init__(self, profile: Mapping[str, Any]) -> None:
        self.annual_fee = Money(profile["annual_fee"])
        self.report_fee = Money(profile["report_fee"])

    def calculate(self, context: CostContext) -> CostLine:
        if context.kind is CostKind.CONNECTION:
            amount, tariff = self.annual_fee, f"{self.name}/annual"
        elif context.kind is CostKind.REPORT_FEE:
            amount, tariff = self.report_fee, f"{self.name}/report"
        else:
            raise _unsupported(self.name, context, "the connection and reports")
        return _line(self, context, amount, Payer.MUNICIPALITY, MMA, tariff)

    def renewal(self, context: CostContext) -> CostLine:
        """The yearly fee again at each renewal: the contract runs by the year."""
        return _line(self, context, self.annual_fee, Payer.MUNICIPALITY, MMA, f"{self.name}/annual")


class NoordHollandOffer:
    """Noord-Holland 2019: the province pays the connection and compensates a prior connection
    (up to an optional cap), the municipality pays a fee per report. The amounts were never
    published: they come from ``[plugins.mma-costs]``; the tariff id carries a digest of them,
    so lines priced under different amounts never share a tariff id."""

    name = "noord-holland-2019"
    version = "1"

    def __init__(
        self,
        connection_fee: Decimal | None,
        report_fee: Decimal | None,
        compensation_cap: Decimal | None,
    ) -> None:
        self.connection_fee = None if connection_fee is None else Money(connection_fee)
        self.report_fee = None if report_fee is None else Money(report_fee)
        self.compensation_cap = None if compensation_cap is None else Money(compensation_cap)
        digest = hashlib.sha256(
            f"{self.connection_fee}|{self.report_fee}|{self.compensation_cap}".encode()
        ).hexdigest()[:10]
        self.tariff = f"{self.name}#{digest}"

    def _configured(self, amount: Money | None, key: str, context: CostContext) -> Money:
        if amount is None:
            raise InvalidInput(
                f"{context.code} {context.name}: the {self.name} tariff has no {key}; set it "
                f'in mma.toml, [plugins.mma-costs] {key} = "..."'
            )
        return amount

    def calculate(self, context: CostContext) -> CostLine:
        if context.kind is CostKind.CONNECTION:
            fee = self._configured(self.connection_fee, "noord_holland_connection_fee", context)
            return _line(self, context, fee, Payer.PROVINCE, MMA, self.tariff)
        if context.kind is CostKind.REPORT_FEE:
            fee = self._configured(self.report_fee, "noord_holland_report_fee", context)
            return _line(self, context, fee, Payer.MUNICIPALITY, MMA, self.tariff)
        owed = context.prior_costs or Money.zero()
        if self.compensation_cap is not None:
            owed = min(owed, self.compensation_cap)
        return _line(self, context, owed, Payer.PROVINCE, context.code, self.tariff)
