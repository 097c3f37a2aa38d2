"""Plain-text forms of typed cells, shared by the CSV and JSON Lines exporters."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # exact: money never passes through a float
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value
