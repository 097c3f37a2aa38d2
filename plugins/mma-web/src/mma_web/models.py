"""The API's request and response shapes, as pydantic models, so the OpenAPI document carries
a schema for every body and every response.

Response models are derived from the public result types (attrs classes) field by field: a
field added to ``MunicipalityView`` shows up in the API and its schema without a change here.
Request models are derived from the signatures of ``Programme``'s commands the same way.
"""

from __future__ import annotations

import functools
import inspect
import re
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
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from mma_core import Money, Programme, Terms
from mma_core.plugin_api import (
    MMA_CATEGORIES,
    HistoryEntry,
    MunicipalityView,
    Overview,
    SessionView,
    translator,
)

_ = translator("mma_web")

MONEY_PATTERN = r"^-?[0-9]{1,15}(\.[0-9]{1,2})?$"
MoneyText = Annotated[
    str, Field(pattern=MONEY_PATTERN, examples=["12.50"], description="euros, decimal string")
]
# Every amount a request gives is zero or more euros, less than 10^15, to the cent.
AMOUNT_PATTERN = r"^[0-9]{1,15}(\.[0-9]{1,2})?$"
AmountText = Annotated[
    str,
    Field(
        pattern=AMOUNT_PATTERN, examples=["12.50"], description="euros, decimal string, 0 or more"
    ),
]
DecimalText = Annotated[str, Field(pattern=r"^-?[0-9]+(\.[0-9]+)?$")]

# Dates and times as ISO 8601 text only: a bare number ("0.5", "1700000000") is no date, though
# pydantic would read it as seconds since 1970. A date-time carries its offset (RFC 3339).
_YEAR = r"([1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])"  # 0001 to 9999
DATE_PATTERN = rf"^{_YEAR}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
DATE_TIME_PATTERN = (
    rf"^{_YEAR}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?"
    r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)
_DATE = re.compile(DATE_PATTERN)
_DATE_TIME = re.compile(DATE_TIME_PATTERN)


def _iso_date(value: object) -> object:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _DATE.fullmatch(value):
        return value
    raise ValueError(_("a date is written YYYY-MM-DD (ISO 8601), e.g. 2019-10-18"))


def _iso_date_time(value: object) -> object:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value
    if isinstance(value, str) and _DATE_TIME.fullmatch(value):
        return value
    raise ValueError(
        _(
            "a date and time is written as ISO 8601 with its offset from UTC, "
            "e.g. 2019-10-18T10:00:00+02:00 or 2019-10-18T08:00:00Z"
        )
    )


IsoDate = Annotated[
    date,
    BeforeValidator(_iso_date),
    WithJsonSchema({"type": "string", "format": "date", "pattern": DATE_PATTERN}),
]
IsoDateTime = Annotated[
    datetime,
    BeforeValidator(_iso_date_time),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": DATE_TIME_PATTERN}),
]

CODE_PATTERN = r"^GM[0-9]{4}$"
# Identifiers the store accepts, so generated and hand-written requests fail early and clearly.
PATTERNS = {
    "code": CODE_PATTERN,
    "into": CODE_PATTERN,
    "official_id": r"^GM[0-9]{4}-[0-9]{1,4}$",
    "session_id": r"^[A-Za-z0-9._-]{1,60}$",
}
OFFER_REFERENCE_PATTERN = r"^[A-Za-z0-9./_-]{1,60}$"
REPORT_REFERENCE_PATTERN = r"^[A-Za-z0-9-]{1,40}$"
# What no stored text may hold: control characters (C0, DEL, C1), line and paragraph
# separators and bidirectional controls; as the domain's has_control says.
_NOT_IN_TEXT = r"\x00-\x1F\x7F-\x9F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069\u2028\u2029"
_FILLED = rf"[^{_NOT_IN_TEXT}]*[^\s{_NOT_IN_TEXT}][^{_NOT_IN_TEXT}]*"
# Exactly one address name@domain.tld: no white space, list separators or display names.
EMAIL_PATTERN = rf'^[^\s@,;:<>()\[\]\\"{_NOT_IN_TEXT}]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$'


def _text(most: int, *, required: bool = False, or_empty: bool = False) -> Any:
    """One line of text of at most ``most`` characters: ``required`` not blank, ``or_empty``
    either empty or not blank."""
    if required:
        pattern = f"^{_FILLED}$"
    elif or_empty:
        pattern = f"^({_FILLED})?$"
    else:
        pattern = f"^[^{_NOT_IN_TEXT}]*$"
    return Annotated[
        str, Field(pattern=pattern, max_length=most, min_length=1 if required else None)
    ]


# The rules the domain checks each argument by, as far as a schema can say them: by the
# command's name and the argument's, or by the argument's alone. What is left (a date in the
# future, an official of another municipality, a registry that is not shipped) the domain
# refuses with 422; docs/web.md lists those refusals.
ARGUMENT_TYPES: dict[tuple[str, str] | str, Any] = {
    ("nominate_official", "name"): _text(200, required=True),
    # Why a fact is retracted or corrected: required, unlike a decline's or a merger's reason.
    ("retract", "reason"): _text(500, required=True),
    ("correct", "reason"): _text(500, required=True),
    # A fact by its log position: 1 up to the largest a store holds (a signed 64-bit integer).
    ("retract", "position"): Annotated[int, Field(ge=1, le=2**63 - 1)],
    ("correct", "position"): Annotated[int, Field(ge=1, le=2**63 - 1)],
    # A municipality's postal address, as domain.addresses checks it.
    ("record_address", "street"): _text(100, required=True),
    ("record_address", "place"): _text(80, required=True),
    ("record_address", "body"): _text(200),
    ("record_address", "postcode"): Annotated[
        str, Field(pattern=r"^[1-9][0-9]{3} ?[A-Za-z]{2}$", examples=["1011 PN"])
    ],
    ("register_registry", "name"): Annotated[
        str, Field(pattern=r"^[a-z0-9-]{1,60}$", examples=["noord-holland-2019"])
    ],
    ("record_report", "reference"): Annotated[
        str, Field(pattern=REPORT_REFERENCE_PATTERN, examples=["MMA-20-0001"])
    ],
    "reference": Annotated[
        str, Field(pattern=OFFER_REFERENCE_PATTERN, examples=["1298348/1298354"])
    ],
    "category": Literal[MMA_CATEGORIES],
    "outcome": Literal["continue", "stop"],
    "email": Annotated[str, Field(pattern=EMAIL_PATTERN, max_length=254)],
    "salutation": _text(120, or_empty=True),
    "location": _text(300, required=True),
    "reason": _text(500),
    "notes": _text(500),
    "reasons": _text(500),
    "place": Annotated[str, Field(max_length=200)],
    "capacity": Annotated[int, Field(ge=1)],
    "useful": Annotated[int, Field(ge=0)],
    "followed_up": Annotated[int, Field(ge=0)],
    "satisfaction": Annotated[int, Field(ge=1, le=5)],
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
    connection_fee: AmountText = "0.00"
    report_fee: AmountText = "0.00"
    compensation_cap: AmountText | None = None
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
        kinds = typing.get_args(annotation)
        return dict[str, _response_type(kinds[1]) if kinds else Any]  # type: ignore[misc]
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
            name = error.name
            if not name or name in names:
                raise
            found = [
                getattr(module, name)
                for key, module in list(sys.modules.items())
                if key.startswith("mma_core") and hasattr(module, name)
            ]
            if not found:
                raise
            names[name] = found[0]


def response_model(cls: type) -> type[BaseModel]:
    """A pydantic model with the fields of the attrs class ``cls``, as ``to_dict()`` writes
    them."""
    if cls in _MODELS:
        return _MODELS[cls]
    hints = _hints(cls)
    fields: dict[str, Any] = {}
    for field in attrs.fields(cls):
        fields[field.name] = (_response_type(hints[field.name]), ...)
    model: type[BaseModel] = pydantic.create_model(
        cls.__name__, __config__=ConfigDict(extra="forbid"), **fields
    )
    _MODELS[cls] = model
    return model


class SessionModel(response_model(SessionView)):  # type: ignore[misc]
    seats_left: int


MunicipalityModel = response_model(MunicipalityView)
OverviewModel = response_model(Overview)
HistoryModel = response_model(HistoryEntry)
TermsModel = response_model(Terms)
# A page of a municipality's cost lines: the result type of ``Programme.cost_lines``.
CostLinesPageModel = response_model(typing.get_type_hints(Programme.cost_lines)["return"])

PAGE_LIMIT = 100  # entries of a page when a request names no limit
MAX_PAGE_LIMIT = 1000  # and at most


class HistoryPage(BaseModel):
    """A page of a municipality's events, in the order the store recorded them."""

    model_config = ConfigDict(extra="forbid")
    code: str
    after: int = Field(description="the log position this page starts after (0: the start)")
    limit: int = Field(description="the most events a page holds")
    events: list[HistoryModel]  # type: ignore[valid-type]
    next: int | None = Field(
        description="the position to pass as `after` for the next page; null on the last page"
    )


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
        return AmountText
    if annotation is Terms:
        return TermsBody
    if annotation is datetime:
        return IsoDateTime
    if annotation is date:
        return IsoDate
    if annotation is str:
        return Annotated[str, Field(max_length=500)]
    return annotation


def _argument_type(command: str, name: str, annotation: Any) -> Any:
    """The request type of argument ``name`` of ``command``: its rule from
    :data:`ARGUMENT_TYPES` or :data:`PATTERNS` (``None`` still allowed where the command
    allows it), else its annotation's."""
    rule = ARGUMENT_TYPES.get((command, name), ARGUMENT_TYPES.get(name))
    if rule is None and name in PATTERNS:
        rule = Annotated[str, Field(pattern=PATTERNS[name])]
    if rule is None:
        return _request_type(annotation)
    if type(None) in typing.get_args(annotation):
        return Union[rule, None]  # noqa: UP007
    return rule


def _row_model(cls: type) -> type[BaseModel]:
    """A row of a bulk command (``ReportRow``): its fields, as a request body would hold them,
    checked as ``record_report`` checks its arguments."""
    hints = _hints(cls)
    fields: dict[str, Any] = {}
    for field in attrs.fields(cls):
        kind = _argument_type("record_report", field.name, hints[field.name])
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
        for name in _var_keyword(self.method):
            values.update(values.pop(name) or {})
        return values


def _is_money(method: Callable[..., Any], key: str) -> bool:
    return key in _money_arguments(method)


@functools.cache
def _var_keyword(method: Callable[..., Any]) -> tuple[str, ...]:
    """The ``**changes`` argument of a command, if it has one, read from its signature once
    (``inspect.signature`` cost every request about 20 µs)."""
    return tuple(
        parameter.name
        for parameter in inspect.signature(method).parameters.values()
        if parameter.kind is inspect.Parameter.VAR_KEYWORD
    )


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
            if parameter.kind is inspect.Parameter.VAR_KEYWORD:
                # correct(position, reason=, **changes): the fields to change, as an object
                # of field names and values (text, numbers, true/false).
                fields[parameter.name] = (dict[str, str | int | bool | None], ...)
                continue
            kind = _argument_type(name, parameter.name, hints[parameter.name])
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
