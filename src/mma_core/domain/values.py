"""Immutable values of the domain. An invalid value cannot be constructed."""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, TypeVar

import attrs

from mma_core.domain.errors import InvalidInput
from mma_core.domain.text import N_, _
from mma_core.domain.text import amount as message_amount

__all__ = [
    "MMA_CATEGORIES",
    "CostKind",
    "CostLine",
    "Money",
    "MunicipalityCode",
    "Official",
    "OfficialId",
    "Outcome",
    "Payer",
    "RegistryEntry",
    "ReportCategories",
    "ReportCategory",
    "ReportReference",
    "Stage",
    "Terms",
    "TrainingSlot",
    "add_months",
    "check_text",
]

_CENT = Decimal("0.01")
_MAX_EUROS = Decimal(10) ** 15


class Stage(StrEnum):
    REGISTERED = "registered"
    INVITED = "invited"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CONNECTED = "connected"
    STOPPED = "stopped"
    MERGED = "merged"


class Outcome(StrEnum):
    CONTINUE = "continue"
    STOP = "stop"


class Payer(StrEnum):
    PROVINCE = "province"
    MUNICIPALITY = "municipality"


class CostKind(StrEnum):
    CONNECTION = "connection"
    REPORT_FEE = "report_fee"
    COMPENSATION = "compensation"


# The 17 categories of a municipal MMA contract, exactly as written there.
MMA_CATEGORIES: tuple[str, ...] = (
    "diefstal/verduistering",
    "drugsdelicten",
    "illegaal vuurwerk",
    "fraude",
    "financieel-economische delicten",
    "geweldsdelicten",
    "illegale geneesmiddelen",
    "illegale prostitutie",
    "illegalen",
    "mensenhandel",
    "milieudelicten",
    "onbekende identiteit",
    "ondermijnende activiteiten",
    "sociale zekerheid",
    "radicalisering",
    "vervalsingen",
    "woonfraude",
)


def _member(category: str) -> str:
    return re.sub(r"[^A-Z]+", "_", category.upper()).strip("_")


# The same categories as an enum (``ReportCategories.FRAUDE.value == "fraude"``), for a
# service's own models and forms; ``ReportCategory`` checks a value against them.
ReportCategories = StrEnum(  # type: ignore[misc]
    "ReportCategories", [(_member(category), category) for category in MMA_CATEGORIES]
)


def _to_decimal(value: object) -> Decimal:
    if isinstance(value, (bool, float)):
        # Floats carry binary rounding errors into money; refuse them outright.
        raise InvalidInput(
            _(
                "amount {value} is a float or bool; give euros as a string or Decimal, e.g. '12.50'"
            ).format(value=repr(value))
        )
    try:
        amount = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        raise InvalidInput(
            _("amount {value} is not a number of euros, e.g. '1234.50'").format(value=repr(value))
        ) from None
    if not amount.is_finite():
        raise InvalidInput(
            _("amount {value} is not a finite number of euros").format(value=repr(value))
        )
    return amount


@attrs.frozen(order=True)
class Money:
    """An amount in euros, exact to the cent. ``Money("12.50")``, ``Money(12)``."""

    amount: Decimal = attrs.field(converter=_to_decimal)

    def __attrs_post_init__(self) -> None:
        if abs(self.amount) >= _MAX_EUROS:
            # Beyond this, quantizing to cents overflows Decimal's precision (an ArithmeticError,
            # not a DomainError); no programme amount comes near it.
            raise InvalidInput(
                _("amount {value} is too large; give less than EUR 10^15").format(value=self.amount)
            )
        if self.amount != self.amount.quantize(_CENT, rounding=ROUND_HALF_EVEN):
            raise InvalidInput(
                _("amount {value} has more than two decimals (cents)").format(value=self.amount)
            )
        object.__setattr__(self, "amount", self.amount.quantize(_CENT))

    @classmethod
    def zero(cls) -> Money:
        return cls(Decimal("0.00"))

    @classmethod
    def non_negative(cls, value: object, what: str = "amount") -> Money:
        try:
            money = value if isinstance(value, Money) else cls(value)
        except InvalidInput as error:
            # Say which amount was wrong (the caller's ``what`` names the municipality).
            # Both parts are translated already: ``what`` by the caller, ``error`` where raised.
            raise InvalidInput(_("{what}: {error}").format(what=what, error=error)) from None
        if money.amount < 0:
            raise InvalidInput(
                _("{what} {amount} is negative; give zero or more").format(
                    what=what, amount=message_amount(money)
                )
            )
        return money

    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        total = self.amount + other.amount
        if abs(total) >= _MAX_EUROS:
            return Money(total)  # raises, as any amount that large does
        # Two amounts in whole cents add up to whole cents: the checks and the rounding of
        # the constructor cannot change the sum (aggregates add one per cost line applied).
        money = object.__new__(Money)
        object.__setattr__(money, "amount", total)
        return money

    def __sub__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        return Money(self.amount - other.amount)

    def __mul__(self, factor: int) -> Money:
        if not isinstance(factor, int) or isinstance(factor, bool):
            return NotImplemented
        return Money(self.amount * factor)

    def __str__(self) -> str:
        return f"EUR {self.amount}"


# [0-9], not \d: \d also matches other scripts' digits (Arabic-Indic, ...).
_CODE = re.compile(r"GM[0-9]{4}")


@attrs.frozen(order=True)
class MunicipalityCode:
    """A CBS municipality code: ``GM`` followed by four digits."""

    value: str

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.value, str) or not _CODE.fullmatch(self.value):
            raise InvalidInput(
                _(
                    "{value} is not a CBS municipality code; expected GM and four digits, "
                    "e.g. GM0363"
                ).format(value=repr(self.value))
            )

    @classmethod
    def parse(cls, value: str | MunicipalityCode) -> MunicipalityCode:
        if isinstance(value, MunicipalityCode):
            return value
        if isinstance(value, str):
            value = value.strip().upper()
        return cls(value)

    def __str__(self) -> str:
        return self.value


_CATEGORY_FORMS = {c.casefold(): c for c in MMA_CATEGORIES}


def _canonical_category(value: object) -> object:
    """A category in any case, with surrounding or doubled spaces ("Fraude", " Illegaal
    Vuurwerk"), read as its canonical form ("fraude"); anything else is left for the check."""
    if not isinstance(value, str):
        return value
    return _CATEGORY_FORMS.get(" ".join(value.split()).casefold(), value)


@attrs.frozen
class ReportCategory:
    """One of the MMA categories (``data/README.md``), read case-insensitively into its
    canonical form; nothing else can be stored."""

    value: str = attrs.field(converter=_canonical_category)

    def __attrs_post_init__(self) -> None:
        if self.value not in MMA_CATEGORIES:
            raise InvalidInput(
                _("report category {value} is not an MMA category; use one of: {choices}").format(
                    value=repr(self.value), choices=", ".join(MMA_CATEGORIES)
                )
            )

    def __str__(self) -> str:
        return self.value


_REFERENCE = re.compile(r"[A-Za-z0-9-]{1,40}")


def canonical_reference(value: object) -> object:
    """A reference as stored: without surrounding spaces, letters in upper case, so that
    ``" mma-20-00001"`` and ``"MMA-20-00001"`` are the same report. Only spaces are taken off:
    a line break is not part of a reference typed by hand (pasted text; refused). Not text:
    left for the validation to refuse."""
    return value.strip(" ").upper() if isinstance(value, str) else value


@attrs.frozen
class ReportReference:
    """MMA's opaque reference for a report: letters, digits and dashes, at most 40, in its
    canonical form (:func:`canonical_reference`)."""

    value: str = attrs.field(converter=canonical_reference)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.value, str) or not _REFERENCE.fullmatch(self.value):
            # Do not echo the value: a malformed reference may be someone pasting report text.
            raise InvalidInput(
                _(
                    "a report reference is MMA's opaque reference: 1 to 40 letters, digits or "
                    "dashes (e.g. MMA-20-0001); free text is never stored"
                )
            )

    def __str__(self) -> str:
        return self.value


_OFFICIAL_ID = re.compile(r"(GM[0-9]{4})-([0-9]{1,4})")


@attrs.frozen(order=True)
class OfficialId:
    """An official's id: the municipality's code and a nomination number, ``GM0363-1``.

    It says which municipality the official belongs to and nothing about the person.
    """

    value: str

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.value, str) or not _OFFICIAL_ID.fullmatch(self.value):
            raise InvalidInput(
                _("{value} is not an official id; expected CODE-NUMBER, e.g. GM0363-1").format(
                    value=repr(self.value)
                )
            )

    @classmethod
    def of(cls, code: MunicipalityCode, number: int) -> OfficialId:
        return cls(f"{code.value}-{number}")

    @property
    def code(self) -> MunicipalityCode:
        return MunicipalityCode(self.value.split("-")[0])

    def __str__(self) -> str:
        return self.value


MAX_EMAIL = 254  # RFC 5321's limit on a forward path, less the angle brackets
# Bidirectional controls (Trojan Source): they make a name print as other text than it holds.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})


def has_control(text: str) -> bool:
    """Whether ``text`` holds a control character (C0, DEL, C1: escape sequences, CR, LF, tab),
    a lone surrogate, a line or paragraph separator or a bidirectional control."""
    return any(c in _BIDI or unicodedata.category(c) in _REFUSED_CATEGORIES for c in text)


def check_text(value: object, what: str, *, limit: int, required: bool = True) -> str:
    """``value`` if it is one line of printable text of at most ``limit`` characters.

    Text people type ends up on terminals, in CSV files, calendars and e-mail headers; a
    control character there is a terminal escape or a forged line, so none is stored."""
    if not isinstance(value, str) or len(value) > limit or (required and not value.strip()):
        raise InvalidInput(
            (
                _("{what} must be 1 to {limit} characters")
                if required
                else _("{what} must be at most {limit} characters")
            ).format(what=_(what), limit=limit)
        )
    if has_control(value):
        raise InvalidInput(
            _(
                "{what} may not contain control characters (line breaks, tabs, escape sequences) "
                "or bidirectional overrides"
            ).format(what=_(what))
        )
    return value


# What makes one address a list, a display name or a group (RFC 5322): ``a@x.nl,b`` would
# mail both, so none of it is part of a single address.
_NOT_IN_ADDRESS = frozenset(',;:<>()[]\\"')


def valid_email(value: object) -> bool:
    """Exactly one address ``name@domain.tld``: one ``@``, no white space, control character
    or list separator (``,`` ``;``, display-name or group syntax), a domain of letters, digits,
    hyphens and dots with a dot inside, at most 254 characters. Linear in the length (a
    backtracking pattern took seconds on long input)."""
    if not isinstance(value, str) or len(value) > MAX_EMAIL or has_control(value):
        return False
    local, _, domain = value.partition("@")
    if not local or not domain or "@" in domain or any(c.isspace() for c in value):
        return False
    if any(c in _NOT_IN_ADDRESS for c in value):
        return False
    if not all(c.isalnum() or c in "-." for c in domain):
        return False
    return "." in domain[1:-1]


ERASED = "[erased]"  # what an official's name and e-mail read once their key is deleted


@attrs.frozen(repr=False)
class Official:
    """An official's personal data. Never stored in plaintext, never printed by ``repr``."""

    name: str
    email: str
    # How a letter greets the official ("Geachte heer De Vries,"); empty: the neutral form.
    salutation: str = ""

    def __attrs_post_init__(self) -> None:
        # The messages never quote the value: it is personal data.
        check_text(self.name, N_("an official's name"), limit=200)
        if self.salutation:
            check_text(self.salutation, N_("an official's salutation"), limit=120)
        if not valid_email(self.email):
            raise InvalidInput(
                _(
                    "an official's e-mail address is not valid (expected name@domain, at most "
                    "{most} characters)"
                ).format(most=MAX_EMAIL)
            )

    def __repr__(self) -> str:
        return "Official(<personal data>)"

    @classmethod
    def restored(cls, name: str, email: str, salutation: str = "") -> Official:
        """The data as it was sealed, unchecked: stored before a rule was tightened, it must
        still read (a printer escapes what it shows)."""
        official = object.__new__(cls)
        object.__setattr__(official, "name", name)
        object.__setattr__(official, "email", email)
        object.__setattr__(official, "salutation", salutation)
        return official


@attrs.frozen
class TrainingSlot:
    """When and where a training takes place, and how many seats it has."""

    starts_at: datetime
    ends_at: datetime
    location: str
    capacity: int

    def __attrs_post_init__(self) -> None:
        for name in ("starts_at", "ends_at"):
            value = getattr(self, name)
            if not isinstance(value, datetime) or value.tzinfo is None:
                raise InvalidInput(
                    _("training {name} must be a date and time with a time zone").format(name=name)
                )
        if self.ends_at <= self.starts_at:
            raise InvalidInput(_("a training must end after it starts"))
        if not isinstance(self.location, str) or not self.location.strip():
            raise InvalidInput(_("a training needs a location"))
        if not isinstance(self.capacity, int) or isinstance(self.capacity, bool):
            raise InvalidInput(_("training capacity must be a whole number of seats"))
        if self.capacity < 1:
            raise InvalidInput(_("training capacity must be at least one seat"))


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_E = TypeVar("_E", bound=StrEnum)


def _enum(kind: type[_E], value: object, what: str | Callable[[], str]) -> _E:
    """``kind(value)``, but an unknown value is ``InvalidInput`` (a ``DomainError``).
    ``what`` names the value, translated by the caller; a callable is asked only on error."""
    try:
        return kind(value)  # type: ignore[arg-type]  # anything else raises ValueError
    except ValueError:
        raise InvalidInput(
            _("{what} {value} is not one of: {choices}").format(
                what=what() if callable(what) else what,
                value=repr(value),
                choices=", ".join(member.value for member in kind),
            )
        ) from None


@attrs.frozen
class Terms:
    """The terms of an offer as sent. History, not configuration: a change is a new event."""

    evaluation_months: int = 12
    officials_per_municipality: int = 2
    connection_fee: Money = attrs.field(factory=Money.zero)
    report_fee: Money = attrs.field(factory=Money.zero)
    compensation_cap: Money | None = None
    connection_payer: Payer = Payer.PROVINCE
    report_fee_payer: Payer = Payer.MUNICIPALITY
    compensation_payer: Payer = Payer.PROVINCE

    def __attrs_post_init__(self) -> None:
        if not _whole(self.evaluation_months) or not 1 <= self.evaluation_months <= 120:
            raise InvalidInput(_("the evaluation period must be 1 to 120 months"))
        if (
            not _whole(self.officials_per_municipality)
            or not 1 <= self.officials_per_municipality <= 2
        ):
            # MMA grants access to at most two officials per municipality.
            raise InvalidInput(
                _("officials per municipality must be 1 or 2 (MMA grants at most two)")
            )
        for name in ("connection_fee", "report_fee", "compensation_cap"):
            value = getattr(self, name)
            if value is None and name == "compensation_cap":
                continue
            if not isinstance(value, Money) or value.amount < 0:
                raise InvalidInput(
                    _("offer term {name} must be an amount of zero or more euros").format(name=name)
                )
        for name in ("connection_payer", "report_fee_payer", "compensation_payer"):
            what = _("offer term {name}").format(name=name)
            object.__setattr__(self, name, _enum(Payer, getattr(self, name), what))

    def to_dict(self) -> dict[str, Any]:
        return {
            "evaluation_months": self.evaluation_months,
            "officials_per_municipality": self.officials_per_municipality,
            "connection_fee": str(self.connection_fee.amount),
            "report_fee": str(self.report_fee.amount),
            "compensation_cap": None
            if self.compensation_cap is None
            else str(self.compensation_cap.amount),
            "connection_payer": self.connection_payer.value,
            "report_fee_payer": self.report_fee_payer.value,
            "compensation_payer": self.compensation_payer.value,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Terms:
        cap = data.get("compensation_cap")
        return cls(
            evaluation_months=int(data["evaluation_months"]),
            officials_per_municipality=int(data["officials_per_municipality"]),
            connection_fee=Money(data["connection_fee"]),
            report_fee=Money(data["report_fee"]),
            compensation_cap=None if cap is None else Money(cap),
            connection_payer=Payer(data["connection_payer"]),
            report_fee_payer=Payer(data["report_fee_payer"]),
            compensation_payer=Payer(data["compensation_payer"]),
        )


REVERSAL_CALCULATOR = "correction"  # the calculator named on a reversal line
REVERSES_PREFIX = "reverses:"  # its tariff id: reverses:<position of the retracted fact>


@attrs.frozen
class CostLine:
    """One cost, as computed when the command ran, with where the amount came from."""

    kind: CostKind
    amount: Money
    payer: Payer
    payee: str
    calculator: str
    calculator_version: str
    tariff_id: str

    def __attrs_post_init__(self) -> None:
        # Every stored event's cost line is built again when it is read: the labels of the
        # errors are translated only when there is an error to say.
        if not isinstance(self.kind, CostKind):
            object.__setattr__(self, "kind", _enum(CostKind, self.kind, lambda: _("cost kind")))
        if not isinstance(self.payer, Payer):
            object.__setattr__(self, "payer", _enum(Payer, self.payer, lambda: _("cost payer")))
        # A reversal (a correction took the cost back) is the one line with a negative amount.
        if not isinstance(self.amount, Money) or (
            self.amount.amount > 0 if self.is_reversal else self.amount.amount < 0
        ):
            raise InvalidInput(_("a cost must be zero or more euros"))
        for name in ("payee", "calculator", "calculator_version", "tariff_id"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise InvalidInput(_("a cost line needs a {name}").format(name=name))

    @property
    def is_reversal(self) -> bool:
        return self.calculator == REVERSAL_CALCULATOR

    @property
    def reverses(self) -> int | None:
        """The log position of the fact whose cost this line takes back, for a reversal."""
        if not self.is_reversal:
            return None
        return int(self.tariff_id.removeprefix(REVERSES_PREFIX))

    def reversal(self, position: int) -> CostLine:
        """This cost taken back: the same kind, payer and payee, the amount negated, and the
        provenance naming the retracted fact's position."""
        return CostLine(
            kind=self.kind,
            amount=Money(-self.amount.amount),
            payer=self.payer,
            payee=self.payee,
            calculator=REVERSAL_CALCULATOR,
            calculator_version="1",
            tariff_id=f"{REVERSES_PREFIX}{position}",
        )

    def to_dict(self) -> dict[str, str]:
        return {
            "kind": self.kind.value,
            "amount": str(self.amount.amount),
            "payer": self.payer.value,
            "payee": self.payee,
            "calculator": self.calculator,
            "calculator_version": self.calculator_version,
            "tariff_id": self.tariff_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> CostLine:
        return cls(
            kind=CostKind(data["kind"]),
            amount=Money(data["amount"]),
            payer=Payer(data["payer"]),
            payee=data["payee"],
            calculator=data["calculator"],
            calculator_version=data["calculator_version"],
            tariff_id=data["tariff_id"],
        )


@attrs.frozen
class RegistryEntry:
    """One row of a municipality registry, with its validity."""

    code: MunicipalityCode
    name: str
    province: str
    valid_from: date | None
    valid_until: date | None
    successor: MunicipalityCode | None
    population: int | None

    def __attrs_post_init__(self) -> None:
        if not self.name.strip():
            raise InvalidInput(_("{code}: a registry row needs a name").format(code=self.code))
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise InvalidInput(
                _("{code}: valid_until lies before valid_from").format(code=self.code)
            )
        if self.successor is not None and self.valid_until is None:
            raise InvalidInput(
                _("{code}: a successor needs a valid_until date").format(code=self.code)
            )

    def exists_on(self, day: date) -> bool:
        if self.valid_from is not None and day < self.valid_from:
            return False
        return self.valid_until is None or day <= self.valid_until


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))
