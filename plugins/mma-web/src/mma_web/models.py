"""The API's request and response shapes, as pydantic models, so the OpenAPI document carries
a schema for every body and every response.

Response models are derived from the public result types (attrs classes) field by field: a
field added to ``MunicipalityView`` shows up in the API and its schema without a change here.
Request models are derived from the signatures of ``Programme``'s commands the same way.
"""

from __future__ import annotations

import functools
import inspect
import sys
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from enum import Enum
from fractions import Fraction
from typing import Annotated, Any, Literal, Union

import attrs
import pydantic
from pydantic import BaseModel, ConfigDict, Field

from mma_core import Money, Programme, Terms
from mma_core.plugin_api import HistoryEntry, MunicipalityView, Overview, SessionView

MONEY_PATTERN = r"^-?[0-9]{1,15}(\.[0-9]{1,2})?$"
MoneyText = Annotated[
    str, Field(pattern=MONEY_PATTERN, examples=["12.50"], description="euros, decimal string")
]
DecimalText = Annotated[str, Field(pattern=r"^-?[0-9]+(\.[0-9]+)?$")]
# Identifiers the store accepts, so generated and hand-written requests fail early and clearly.
PATTERNS = {
    "code": r"^GM[0-9]{4}$",
    "into": r"^GM[0-9]{4}$",
    "official_id": r"^GM[0-9]{4}-[0-9]{1,6}$",
    "session_id": r"^[A-Za-z0-9._-]{1,60}$",
}
# Arguments that the server fills in: who, from where, and the idempotency key (a header).
SERVER_ARGUMENTS = frozenset({"self", "by", "origin", "request_id"})
_MODELS: dict[type, type[BaseModel]] = {}


class Problem(BaseModel):
    """RFC 9457 problem details, with the error's stable ``code``."""

    model_config = ConfigDict(extra="allow")
    type: str = "about:blank"
    title: str
    status: int
    detail: str
    code: str
    municipality: str | None = None


class CommandResult(BaseModel):
    command: str
    result: str | list[str]
    request_id: str | None = None
    position: int = Field(description="the log position once the command had been recorded")


class EventCount(BaseModel):
    events: int
    last_position: int


class LinkRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    days: int = Field(30, ge=1, le=366, description="how long the link can be used")


class LinkModel(BaseModel):
    """An answer link; ``token`` and ``path`` only in the answer that made it."""

    link_id: str
    code: str
    created_by: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None
    token: str | None = None
    path: str | None = None


class Revoked(BaseModel):
    link_id: str
    revoked: bool


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    detail: str | None = None


class TermsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    evaluation_months: int = Field(12, ge=1, le=120)
    officials_per_municipality: int = Field(2, ge=1, le=2)
    connection_fee: MoneyText = "0.00"
    report_fee: MoneyText = "0.00"
    compensation_cap: MoneyText | None = None
    connection_payer: Literal["province", "municipality"] = "province"
    report_fee_payer: Literal["province", "municipality"] = "municipality"
    compensation_payer: Literal["province", "municipality"] = "province"

    def to_terms(self) -> Terms:
        return Terms.from_dict(self.model_dump())


def _response_type(annotation: Any) -> Any:
    """The JSON shape of a field of a result type."""
    origin = typing.get_origin(annotation)
    if annotation is Any:
        return Any
    if annotation is type(None):
        return type(None)
    if origin in (Union, types.UnionType):
        return Union[tuple(_response_type(a) for a in typing.get_args(annotation))]  # noqa: UP007
    if origin in (tuple, list):
        args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
        return list[_response_type(args[0]) if args else Any]  # type: ignore[misc]
    if origin in (dict, Mapping) or annotation in (dict, Mapping):
        args = typing.get_args(annotation)
        return dict[str, _response_type(args[1]) if args else Any]  # type: ignore[misc]
    if annotation is Money:
        return MoneyText
    if annotation is Fraction:
        return DecimalText
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return Literal[tuple(m.value for m in annotation)]
    if annotation in (str, int, bool, float, date, datetime):
        return annotation
    if isinstance(annotation, type) and attrs.has(annotation):
        return response_model(annotation)
    return Any


def _hints(cls: type) -> dict[str, Any]:
    """``cls``'s resolved annotations, also names its module imports for type checking only
    (found in the ``mma_core`` modules already loaded)."""
    names: dict[str, Any] = {}
    while True:
        try:
            return typing.get_type_hints(cls, localns=names)
        except NameError as error:
            found = [
                getattr(module, error.name)
                for key, module in list(sys.modules.items())
                if key.startswith("mma_core") and error.name and hasattr(module, error.name)
            ]
            if not found or error.name in names:
                raise
            names[error.name] = found[0]


def response_model(cls: type) -> type[BaseModel]:
    """A pydantic model with the fields of the attrs class ``cls``, as ``to_dict()`` writes
    them."""
    if cls in _MODELS:
        return _MODELS[cls]
    hints = _hints(cls)
    fields: dict[str, Any] = {}
    for field in attrs.fields(cls):
        fields[field.name] = (_response_type(hints[field.name]), ...)
    model = pydantic.create_model(cls.__name__, __config__=ConfigDict(extra="forbid"), **fields)
    _MODELS[cls] = model
    return model


class SessionModel(response_model(SessionView)):  # type: ignore[misc]
    seats_left: int


MunicipalityModel = response_model(MunicipalityView)
OverviewModel = response_model(Overview)
HistoryModel = response_model(HistoryEntry)
TermsModel = response_model(Terms)


class EventModel(BaseModel):
    """An event as followers see it (``EventRecord``): never personal data."""

    id: str
    position: int
    aggregate: str
    type: str
    code: str | None
    business_date: date | None
    recorded_at: datetime | None
    by: str
    data: dict[str, Any]
    session: SessionModel | None = None
    due_on: date | None = None


# -- commands -----------------------------------------------------------------------------


MAX_ROWS = 10_000  # rows of one bulk command in one request


def _request_type(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (Iterable, list, tuple) and attrs.has(typing.get_args(annotation)[0]):
        row = _row_model(typing.get_args(annotation)[0])
        return Annotated[list[row], Field(min_length=1, max_length=MAX_ROWS)]  # type: ignore[valid-type]
    if origin in (Union, types.UnionType):
        return Union[tuple(_request_type(a) for a in typing.get_args(annotation))]  # noqa: UP007
    if annotation is Money:
        return MoneyText
    if annotation is Terms:
        return TermsBody
    if annotation is str:
        return Annotated[str, Field(max_length=500)]
    return annotation


def _row_model(cls: type) -> type[BaseModel]:
    """A row of a bulk command (``ReportRow``): its fields, as a request body would hold them."""
    hints = _hints(cls)
    fields: dict[str, Any] = {}
    for field in attrs.fields(cls):
        kind = _request_type(hints[field.name])
        if field.name in PATTERNS:
            kind = Annotated[str, Field(pattern=PATTERNS[field.name])]
        default = ... if field.default is attrs.NOTHING else field.default
        fields[field.name] = (kind, default)
    return pydantic.create_model(cls.__name__, __config__=ConfigDict(extra="forbid"), **fields)


def _passable(annotation: Any) -> bool:
    """Whether a client can give this argument: a callback (a progress bar) it cannot."""
    kinds = typing.get_args(annotation) or (annotation,)
    return not any(typing.get_origin(k) is Callable or k is Callable for k in kinds)


@attrs.frozen
class CommandSpec:
    """One command of ``Programme`` as the API offers it."""

    name: str
    summary: str
    body: type[BaseModel]
    method: Callable[..., Any]
    idempotent: bool  # takes a request_id (the Idempotency-Key header)

    def arguments(self, body: BaseModel) -> dict[str, Any]:
        """The body as the command's keyword arguments (money and terms as values)."""
        values: dict[str, Any] = {}
        for key in type(body).model_fields:
            value = getattr(body, key)
            if isinstance(value, TermsBody):
                value = value.to_terms()
            elif value is not None and _is_money(self.method, key):
                value = Money(value)
            elif isinstance(value, list) and value and isinstance(value[0], BaseModel):
                value = [row.model_dump() for row in value]
            values[key] = value
        return values


def _is_money(method: Callable[..., Any], key: str) -> bool:
    return key in _money_arguments(method)


@functools.cache
def _money_arguments(method: Callable[..., Any]) -> frozenset[str]:
    """The arguments of a command that are money, read from its hints once: resolving them
    (``typing.get_type_hints``) cost a request about a millisecond for every argument."""
    return frozenset(
        key
        for key, hint in typing.get_type_hints(method).items()
        if hint is Money
        or (typing.get_origin(hint) in (Union, types.UnionType) and Money in typing.get_args(hint))
    )


def commands() -> list[CommandSpec]:
    """Every command of ``Programme``: its public methods that record ``by`` someone."""
    specs = []
    for name, method in inspect.getmembers(Programme, inspect.isfunction):
        if name.startswith("_"):
            continue
        signature = inspect.signature(method)
        if "by" not in signature.parameters:
            continue
        hints = typing.get_type_hints(method)
        fields: dict[str, Any] = {}
        for parameter in signature.parameters.values():
            if parameter.name in SERVER_ARGUMENTS or not _passable(hints[parameter.name]):
                continue
            kind = _request_type(hints[parameter.name])
            if parameter.name in PATTERNS:
                kind = Annotated[str, Field(pattern=PATTERNS[parameter.name])]
            default = ... if parameter.default is inspect.Parameter.empty else parameter.default
            fields[parameter.name] = (kind, default)
        body = pydantic.create_model(
            "".join(part.title() for part in name.split("_")) + "Body",
            __config__=ConfigDict(extra="forbid"),
            **fields,
        )
        doc = inspect.getdoc(method) or name.replace("_", " ")
        idempotent = "request_id" in signature.parameters
        specs.append(CommandSpec(name, doc.splitlines()[0], body, method, idempotent))
    return specs
