"""Option types: malformed input is a usage error (exit 2), raised before anything is opened."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import click

from mma_core.language.i18n import _

if TYPE_CHECKING:
    from mma_core.domain.values import Money

    # click 8.2+ makes ParamType generic; older releases do not, so subscript it for mypy only.
    ParamBase = click.ParamType[Any]
else:
    ParamBase = click.ParamType


class DateType(ParamBase):
    """A calendar date written YYYY-MM-DD."""

    name = "YYYY-MM-DD"
    _pattern = re.compile(r"\d{4}-\d{2}-\d{2}")

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        text = str(value).strip()
        try:
            if self._pattern.fullmatch(text):
                return date.fromisoformat(text)
        except ValueError:
            pass  # 2019-02-30 and the like: the same usage error as any other bad date
        return self.fail(
            _("{value} is not a date; write YYYY-MM-DD, e.g. 2019-10-18").format(value=repr(value)),
            param,
            ctx,
        )


class DateTimeType(ParamBase):
    """A date and time written YYYY-MM-DDTHH:MM (a space instead of T works too)."""

    name = "YYYY-MM-DDTHH:MM"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        text = str(value).strip()
        try:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}.*", text):
                return datetime.fromisoformat(text)
        except ValueError:
            pass  # an impossible day or hour: the same usage error as any other bad time
        return self.fail(
            _(
                "{value} is not a date and time; write YYYY-MM-DDTHH:MM, e.g. 2019-11-06T10:00"
            ).format(value=repr(value)),
            param,
            ctx,
        )


class MoneyType(ParamBase):
    """An amount in euros with a decimal point and at most two decimals."""

    name = "EUROS"
    _pattern = re.compile(r"-?\d+(\.\d{1,2})?")

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Money:
        from mma_core.domain.values import Money

        if isinstance(value, Money):
            return value
        text = str(value).strip()
        if not self._pattern.fullmatch(text):
            self.fail(
                _(
                    "{value} is not an amount in euros; write digits with a decimal point, "
                    "e.g. 1234.50"
                ).format(value=repr(value)),
                param,
                ctx,
            )
        return Money(Decimal(text))


DATE = DateType()
DATETIME = DateTimeType()
MONEY = MoneyType()
