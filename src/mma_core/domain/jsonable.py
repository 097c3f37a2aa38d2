"""The one conversion of results to JSON types, used by ``to_dict()``, the CLI's ``--json``, the
exporters and the read models.

Money and other decimals become decimal strings (exact: never through a float), fractions
decimal strings with four places, dates and times ISO 8601, enums their value, UUIDs their
text, tuples lists; an attrs value becomes an object of its fields (or its own ``to_dict()``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from fractions import Fraction
from typing import Any
from uuid import UUID

import attrs

from mma_core.domain.jsontypes import JSONObject, JSONValue
from mma_core.domain.values import (
    Money,
    MunicipalityCode,
    OfficialId,
    ReportCategory,
    ReportReference,
)

FRACTION_PLACES = Decimal("0.0001")


def ratio(value: Fraction) -> str:
    """A fraction as a decimal string with four places (``Fraction(1, 3)`` -> ``"0.3333"``)."""
    return str((Decimal(value.numerator) / Decimal(value.denominator)).quantize(FRACTION_PLACES))


def jsonable(value: object) -> JSONValue:
    """``value`` with every part made a JSON type (see the module's docstring)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, Money):
        return str(value.amount)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, MunicipalityCode | OfficialId | ReportCategory | ReportReference):
        return str(value)
    if isinstance(value, Fraction):
        return ratio(value)
    if isinstance(value, date | datetime | time):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return jsonable(to_dict())
    if attrs.has(type(value)):
        return fields_of(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, bytes):
        raise TypeError("bytes have no JSON form here; encode them first")
    raise TypeError(f"{type(value).__name__} has no JSON form")


def fields_of(value: Any) -> JSONObject:
    """An attrs value's fields, each made JSON."""
    return {a.name: jsonable(getattr(value, a.name)) for a in attrs.fields(type(value))}


class JSONReady:
    """Mixin for result values: ``to_dict()`` gives their fields as JSON types."""

    __slots__ = ()

    def to_dict(self) -> JSONObject:
        return fields_of(self)


__all__ = ["JSONObject", "JSONReady", "JSONValue", "fields_of", "jsonable", "ratio"]
