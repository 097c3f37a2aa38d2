"""The JSON types of `to_dict()` results: in the domain because its errors have `to_dict()`, and
any module may import them (two aliases, nothing else)."""

from __future__ import annotations

from typing import TypeAlias

JSONValue: TypeAlias = "bool | int | float | str | list[JSONValue] | dict[str, JSONValue] | None"
JSONObject: TypeAlias = "dict[str, JSONValue]"

__all__ = ["JSONObject", "JSONValue"]
