"""Values: an invalid value cannot be constructed, and the error is an ``InvalidInput``."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mma_core import (
    CostLine,
    DomainError,
    InvalidInput,
    Money,
    MunicipalityCode,
    Official,
    ReportCategory,
    Terms,
    TrainingSlot,
)
from mma_core.domain.values import (
    MMA_CATEGORIES,
    CostKind,
    OfficialId,
    Payer,
    ReportReference,
    add_months,
)

# -- InvalidInput ---------------------------------------------------------------------------


def test_invalid_input_is_both_a_domain_error_and_a_value_error() -> None:
    assert issubclass(InvalidInput, DomainError)
    assert issubclass(InvalidInput, ValueError)


@pytest.mark.parametrize("bad", [1.5, 0.1, True, "12,50", "abc", None, [1], "NaN", "Infinity"])
def test_money_construction_raises_invalid_input_catchable_as_both(bad: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        Money(bad)
    assert isinstance(caught.value, DomainError)
    assert isinstance(caught.value, ValueError)


# -- Money ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [1.0, 12.5, 0.0, float("nan"), False])
def test_money_refuses_floats_and_bools(value: object) -> None:
    with pytest.raises(InvalidInput, match="float"):
        Money(value)


@pytest.mark.parametrize("value", ["0.001", "12.505", Decimal("1.999"), "-0.125"])
def test_money_refuses_more_than_two_decimals(value: object) -> None:
    with pytest.raises(InvalidInput, match="two decimals"):
        Money(value)


@pytest.mark.parametrize("value", ["1e30", "-1e30", Decimal("1E+26"), 10**20])
def test_money_refuses_amounts_too_large_for_cents_as_invalid_input(value: object) -> None:
    with pytest.raises(InvalidInput, match="too large"):
        Money(value)


@pytest.mark.parametrize(
    ("value", "amount"),
    [
        ("12.50", Decimal("12.50")),
        (12, Decimal("12.00")),
        (Decimal("2000"), Decimal("2000.00")),
        ("1.500", Decimal("1.50")),
        ("0", Decimal("0.00")),
    ],
)
def test_money_holds_euros_exact_to_the_cent(value: object, amount: Decimal) -> None:
    money = Money(value)
    assert money.amount == amount
    assert money.amount.as_tuple().exponent == -2
    assert str(money) == f"EUR {amount}"


def test_money_arithmetic_stays_exact() -> None:
    assert Money("0.10") + Money("0.20") == Money("0.30")
    assert Money("1.00") - Money("0.01") == Money("0.99")
    assert Money("47.50") * 3 == Money("142.50")
    assert Money("1") < Money("2")
    assert Money.zero() == Money("0.00")


def test_money_multiplication_refuses_floats_and_bools() -> None:
    with pytest.raises(TypeError):
        Money("1") * 1.5  # type: ignore[operator]
    with pytest.raises(TypeError):
        Money("1") * True


def test_money_may_be_negative_but_non_negative_refuses_it_naming_what() -> None:
    assert Money("-5").amount == Decimal("-5.00")  # a difference may be negative
    with pytest.raises(InvalidInput, match=r"GM0363 Amsterdam: recovered amount EUR -5.00"):
        Money.non_negative(Money("-5"), "GM0363 Amsterdam: recovered amount")
    with pytest.raises(InvalidInput, match=r"^GM0363: costs: amount 1.5 is a float"):
        Money.non_negative(1.5, "GM0363: costs")
    assert Money.non_negative("0", "x") == Money.zero()


@given(st.decimals(min_value=-(10**12), max_value=10**12, places=2))
def test_money_round_trips_through_its_string(amount: Decimal) -> None:
    money = Money(amount)
    assert Money(str(money.amount)) == money
    assert money.amount == amount


# -- MunicipalityCode -----------------------------------------------------------------------


@pytest.mark.parametrize("good", ["GM0363", "GM1980", "GM0000"])
def test_municipality_code_accepts_gm_and_four_digits(good: str) -> None:
    assert MunicipalityCode(good).value == good
    assert str(MunicipalityCode(good)) == good


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "GM363",
        "GM03630",
        "gm0363",
        "PV27",
        "GM 363",
        "GM036a",
        "GM٠٣٦٣",
        "GM０３６３",
        363,
        None,
    ],
)
def test_municipality_code_refuses_anything_else(bad: object) -> None:
    with pytest.raises(InvalidInput, match="not a CBS municipality code"):
        MunicipalityCode(bad)  # type: ignore[arg-type]


def test_municipality_code_parse_normalises_case_and_spaces() -> None:
    assert MunicipalityCode.parse(" gm0363 ") == MunicipalityCode("GM0363")
    code = MunicipalityCode("GM0363")
    assert MunicipalityCode.parse(code) is code
    with pytest.raises(InvalidInput):
        MunicipalityCode.parse("Amsterdam")


# -- ReportReference and ReportCategory -----------------------------------------------------


@pytest.mark.parametrize("good", ["MMA-20-0001", "A", "A" * 40, "2020-1-X"])
def test_report_reference_accepts_opaque_references(good: str) -> None:
    assert ReportReference(good).value == good


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [("mma-20-00001", "MMA-20-00001"), ("  Mma-20-00001 ", "MMA-20-00001"), ("a", "A")],
)
def test_report_reference_is_stored_in_its_canonical_form(typed: str, canonical: str) -> None:
    assert ReportReference(typed) == ReportReference(canonical)
    assert ReportReference(typed).value == canonical


@pytest.mark.parametrize(
    "bad",
    ["", "A" * 41, "MMA 20", "buurman Jansen dealt", "MMA_20", "é", "MMA-1\n", None, 12],
)
def test_report_reference_refuses_free_text_without_echoing_it(bad: object) -> None:
    with pytest.raises(InvalidInput, match="opaque reference") as caught:
        ReportReference(bad)  # type: ignore[arg-type]
    if isinstance(bad, str) and bad:
        assert bad not in str(caught.value)


@pytest.mark.parametrize("category", MMA_CATEGORIES)
def test_every_mma_category_is_accepted(category: str) -> None:
    assert ReportCategory(category).value == category


def test_there_are_exactly_the_17_mma_categories() -> None:
    assert len(MMA_CATEGORIES) == len(set(MMA_CATEGORIES)) == 17
    assert "sociale zekerheid" in MMA_CATEGORIES


@pytest.mark.parametrize("bad", ["uitkeringsfraude", "", "other", "fraude x", "fr aude"])
def test_report_category_refuses_anything_not_on_the_list(bad: str) -> None:
    with pytest.raises(InvalidInput, match="not an MMA category"):
        ReportCategory(bad)


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("Fraude", "fraude"),
        ("fraude ", "fraude"),
        ("SOCIALE  ZEKERHEID", "sociale zekerheid"),
        ("Diefstal/Verduistering", "diefstal/verduistering"),
    ],
)
def test_report_category_is_read_case_insensitively_into_its_canonical_form(
    given: str, canonical: str
) -> None:
    assert ReportCategory(given).value == canonical


# -- OfficialId and Official ----------------------------------------------------------------


def test_official_id_names_its_municipality() -> None:
    oid = OfficialId.of(MunicipalityCode("GM0363"), 2)
    assert oid.value == "GM0363-2"
    assert oid.code == MunicipalityCode("GM0363")
    assert OfficialId("GM0479-1").code.value == "GM0479"


@pytest.mark.parametrize(
    "bad", ["GM0363", "GM0363-", "GM0363-12345", "0363-1", "GM0363-x", "GM0363-١"]
)
def test_official_id_refuses_malformed_ids(bad: str) -> None:
    with pytest.raises(InvalidInput, match="not an official id"):
        OfficialId(bad)


def test_official_repr_and_errors_never_show_personal_data() -> None:
    person = Official(name="Marijke Vos", email="m.vos@gemeente.example")
    assert "Marijke" not in repr(person)
    assert "m.vos" not in repr(person)
    with pytest.raises(InvalidInput) as caught:
        Official(name="Marijke Vos", email="not-an-address")
    assert "Marijke" not in str(caught.value)
    assert "not-an-address" not in str(caught.value)
    with pytest.raises(InvalidInput) as caught:
        Official(name=" ", email="m.vos@gemeente.example")
    assert "m.vos" not in str(caught.value)


@pytest.mark.parametrize(("name", "email"), [("", "a@b.nl"), ("x" * 201, "a@b.nl"), ("A", "a@b")])
def test_official_refuses_missing_name_or_bad_address(name: str, email: str) -> None:
    with pytest.raises(InvalidInput):
        Official(name=name, email=email)


# -- Terms ----------------------------------------------------------------------------------


def test_terms_default_to_the_letter() -> None:
    terms = Terms()
    assert terms.evaluation_months == 12
    assert terms.officials_per_municipality == 2
    assert terms.connection_fee == Money.zero()
    assert terms.report_fee == Money.zero()
    assert terms.connection_payer is Payer.PROVINCE
    assert terms.report_fee_payer is Payer.MUNICIPALITY
    assert terms.compensation_payer is Payer.PROVINCE


@pytest.mark.parametrize(
    "kwargs",
    [
        {"evaluation_months": 0},
        {"evaluation_months": 121},
        {"evaluation_months": True},
        {"evaluation_months": 12.0},
        {"officials_per_municipality": 3},
        {"officials_per_municipality": 0},
        {"officials_per_municipality": True},
        {"connection_fee": Money("-1")},
        {"report_fee": "5.00"},
        {"compensation_cap": Money("-0.01")},
        {"connection_payer": "mma"},
        {"report_fee_payer": "nobody"},
    ],
)
def test_terms_refuse_invalid_terms_as_invalid_input(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        Terms(**kwargs)  # type: ignore[arg-type]


def test_terms_round_trip_through_their_dict() -> None:
    terms = Terms(
        evaluation_months=24,
        officials_per_municipality=1,
        connection_fee=Money("4000"),
        report_fee=Money("47.50"),
        compensation_cap=Money("2500"),
        connection_payer=Payer.MUNICIPALITY,
    )
    assert Terms.from_dict(terms.to_dict()) == terms
    assert Terms.from_dict(Terms().to_dict()) == Terms()


# -- CostLine -------------------------------------------------------------------------------


def test_cost_line_round_trips_and_refuses_bad_parts() -> None:
    line = CostLine(
        kind=CostKind.REPORT_FEE,
        amount=Money("22.50"),
        payer=Payer.MUNICIPALITY,
        payee="Meld Misdaad Anoniem",
        calculator="offer-terms",
        calculator_version="1",
        tariff_id="offer:1",
    )
    assert CostLine.from_dict(line.to_dict()) == line
    with pytest.raises(InvalidInput):
        CostLine(CostKind.CONNECTION, Money("-1"), Payer.PROVINCE, "MMA", "c", "1", "t")
    with pytest.raises(InvalidInput):
        CostLine("postage", Money("1"), Payer.PROVINCE, "MMA", "c", "1", "t")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        CostLine(CostKind.CONNECTION, Money("1"), "mma", "MMA", "c", "1", "t")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        CostLine(CostKind.CONNECTION, Money("1"), Payer.PROVINCE, "", "c", "1", "t")


# -- TrainingSlot ---------------------------------------------------------------------------

START = datetime(2019, 11, 6, 9, tzinfo=UTC)


def test_training_slot_accepts_a_proper_slot() -> None:
    slot = TrainingSlot(START, START + timedelta(hours=2.5), "Provinciehuis, Dreef 3, Haarlem", 60)
    assert slot.capacity == 60


@pytest.mark.parametrize(
    ("starts_at", "ends_at", "location", "capacity"),
    [
        (START, START, "Haarlem", 10),  # ends when it starts
        (START, START - timedelta(minutes=1), "Haarlem", 10),
        (START.replace(tzinfo=None), START + timedelta(hours=1), "Haarlem", 10),  # naive
        (date(2019, 11, 6), START + timedelta(hours=1), "Haarlem", 10),  # a date, no time
        (START, START + timedelta(hours=1), " ", 10),
        (START, START + timedelta(hours=1), "Haarlem", 0),
        (START, START + timedelta(hours=1), "Haarlem", True),
        (START, START + timedelta(hours=1), "Haarlem", 2.0),
    ],
)
def test_training_slot_refuses_bad_slots(
    starts_at: datetime, ends_at: datetime, location: str, capacity: int
) -> None:
    with pytest.raises(InvalidInput):
        TrainingSlot(starts_at, ends_at, location, capacity)


# -- add_months -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2019, 12, 1), 12, date(2020, 12, 1)),
        (date(2020, 2, 29), 12, date(2021, 2, 28)),
        (date(2019, 1, 31), 1, date(2019, 2, 28)),
        (date(2019, 11, 30), 3, date(2020, 2, 29)),
        (date(2019, 12, 15), 1, date(2020, 1, 15)),
    ],
)
def test_add_months_clamps_to_the_end_of_the_month(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


def test_the_contracts_errors_are_importable_and_domain_errors() -> None:
    import mma_core

    for name in (
        "UnknownMunicipality",
        "InvalidTransition",
        "InvalidInput",
        "DuplicateReport",
        "CapacityExceeded",
        "ConcurrencyConflict",
    ):
        error = getattr(mma_core, name)
        assert issubclass(error, mma_core.DomainError), name
    assert issubclass(mma_core.InvalidDate, InvalidInput)
    assert issubclass(mma_core.UnknownMunicipality, LookupError)
