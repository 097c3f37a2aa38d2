"""JSON Schemas of the results' ``to_dict()``, derived from their attrs fields.

``python -m mma_core.application.schemas DIR`` writes one ``NAME.json`` per result type (the docs
keep them in ``docs/schemas/results/``); a test checks that the written files are current and that
real results validate against them.
"""

from __future__ import annotations

import json
import sys
import types
import typing
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from fractions import Fraction
from pathlib import Path
from typing import Any, Union
from uuid import UUID

import attrs

from mma_core.application.events import EventRecord
from mma_core.application.health import Health
from mma_core.application.receipts import Receipt
from mma_core.domain.values import (
    CostLine,
    Money,
    MunicipalityCode,
    OfficialId,
    ReportCategory,
    ReportReference,
    Terms,
)
from mma_core.views.deadlines import Due
from mma_core.views.state import (
    Amendment,
    CostEntry,
    CostLinesPage,
    Deadline,
    HistoryEntry,
    MunicipalityView,
    OfficialView,
    Overview,
    SessionView,
)
from mma_core.views.waterbed import WaterbedEntry

DRAFT = "https://json-schema.org/draft/2020-12/schema"
DECIMAL = {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"}
# The result types a service gets back, each with to_dict(); the others appear inside them.
RESULTS: tuple[type[Any], ...] = (
    MunicipalityView,
    Overview,
    HistoryEntry,
    EventRecord,
    SessionView,
    Receipt,
    Health,
    Due,
    CostLinesPage,
)
_NAMES: dict[str, Any] = {
    cls.__name__: cls
    for cls in (
        *RESULTS,
        Amendment,
        CostEntry,
        Deadline,
        OfficialView,
        WaterbedEntry,
        CostLine,
        Terms,
        Money,
    )
}
# Values whose to_dict() adds fields to the attrs ones.
EXTRA: dict[type[Any], dict[str, Any]] = {
    SessionView: {"seats_left": {"type": "integer"}},
    Due: {"overdue": {"type": "boolean"}},
}
ERROR = {
    "type": "object",
    "properties": {
        "code": {"type": "string", "pattern": "^[a-z]+(_[a-z]+)*$"},
        "type": {"type": "string"},
        "message": {"type": "string"},
        "municipality": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        "details": {"type": "object"},
    },
    "required": ["code", "type", "message", "municipality", "details"],
    "additionalProperties": False,
}


def schema_of(cls: type[Any]) -> dict[str, Any]:
    """The JSON Schema of ``cls().to_dict()``, with the value types it holds under ``$defs``."""
    defs: dict[str, Any] = {}
    body = _object(cls, defs)
    schema: dict[str, Any] = {"$schema": DRAFT, "title": cls.__name__}
    doc = (cls.__doc__ or "").strip().split("\n\n")[0]
    if doc:
        schema["description"] = " ".join(doc.split())
    schema.update(body)
    defs.pop(cls.__name__, None)
    if defs:
        schema["$defs"] = dict(sorted(defs.items()))
    return schema


def error_schema() -> dict[str, Any]:
    return {"$schema": DRAFT, "title": "Error", **ERROR}


def _object(cls: type[Any], defs: dict[str, Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(cls, localns=_NAMES)
    properties: dict[str, Any] = {}
    for field in attrs.fields(cls):
        properties[field.name] = _type(hints[field.name], defs)
    properties.update(EXTRA.get(cls, {}))
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def _type(hint: Any, defs: dict[str, Any]) -> dict[str, Any]:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is Any:
        return {}
    if origin in (Union, types.UnionType):
        options = [_type(a, defs) for a in args]
        return {"anyOf": options}
    if hint is type(None):
        return {"type": "null"}
    if hint is bool:
        return {"type": "boolean"}
    if hint is int:
        return {"type": "integer"}
    if hint is float:
        return {"type": "number"}
    if hint is str or hint in (MunicipalityCode, OfficialId, ReportCategory, ReportReference):
        return {"type": "string"}
    if hint is datetime:
        return {"type": "string", "format": "date-time"}
    if hint is date:
        return {"type": "string", "format": "date"}
    if hint in (Money, Decimal, Fraction):
        return dict(DECIMAL)
    if hint is UUID:
        return {"type": "string", "format": "uuid"}
    if isinstance(hint, type) and issubclass(hint, Enum):
        return {"type": "string", "enum": [m.value for m in hint]}
    if origin in (tuple, list):
        item = args[0] if args else Any
        return {"type": "array", "items": _type(item, defs)}
    if origin in (dict, Mapping) or hint in (dict, Mapping):
        value = args[1] if len(args) == 2 else Any
        return {"type": "object", "additionalProperties": _type(value, defs)}
    if isinstance(hint, type) and attrs.has(hint):
        name = hint.__name__
        if name not in defs:
            defs[name] = {}  # a placeholder, so a recursive type stops here
            defs[name] = _object(hint, defs)
        return {"$ref": f"#/$defs/{name}"}
    raise TypeError(f"no JSON Schema for {hint!r}")


def write(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in all_schemas().items():
        path = directory / f"{name}.json"
        path.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    return written


def all_schemas() -> dict[str, dict[str, Any]]:
    schemas = {cls.__name__: schema_of(cls) for cls in RESULTS}
    schemas["Error"] = error_schema()
    return schemas


if __name__ == "__main__":  # pragma: no cover - a maintainer's tool
    for path in write(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/schemas/results")):
        print(path)
