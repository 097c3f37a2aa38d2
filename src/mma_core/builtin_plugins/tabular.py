"""Plain-text forms of typed cells, shared by the CSV and JSON Lines exporters."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from mma_core.jsonable import jsonable


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


__all__ = ["jsonable", "text"]
