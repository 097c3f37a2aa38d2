"""How values are written into stored events, and read back exactly."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from eventsourcing.persistence import JSONTranscoder
from eventsourcing.utils import get_topic
from hypothesis import given
from hypothesis import strategies as st

from mma_core import CostLine, InvalidInput, Money, Programme, Terms
from mma_core.domain.values import CostKind, Payer
from mma_core.storage.transcodings import DateAsISO, register_transcodings


@pytest.fixture
def transcoder() -> JSONTranscoder:
    transcoder = JSONTranscoder()
    register_transcodings(transcoder)
    return transcoder


LINE = CostLine(
    kind=CostKind.COMPENSATION,
    amount=Money("2000.00"),
    payer=Payer.PROVINCE,
    payee="GM0479",
    calculator="offer-terms",
    calculator_version="1",
    tariff_id="offer:1298348/1298354",
)


@pytest.mark.parametrize(
    "value",
    [
        date(2019, 10, 18),
        date(2020, 2, 29),
        Money("12.50"),
        Money("-3.00"),
        Terms(),
        Terms(evaluation_months=24, report_fee=Money("47.50"), compensation_cap=Money("4000")),
        LINE,
        {"on": date(2019, 12, 1), "cost": LINE, "nested": [Money("1"), date(2021, 1, 1)]},
    ],
    ids=repr,
)
def test_values_round_trip_exactly(transcoder: JSONTranscoder, value: Any) -> None:
    decoded = transcoder.decode(transcoder.encode(value))
    assert decoded == value
    assert type(decoded) is type(value)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2999, 12, 31)))
def test_every_date_round_trips_as_a_date(day: date) -> None:
    transcoder = JSONTranscoder()
    register_transcodings(transcoder)
    decoded = transcoder.decode(transcoder.encode({"on": day}))["on"]
    assert decoded == day
    assert type(decoded) is date


def test_money_is_stored_as_an_exact_string(transcoder: JSONTranscoder) -> None:
    encoded = transcoder.encode(Money("0.10"))
    assert b'"0.10"' in encoded
    assert transcoder.decode(encoded).amount == Decimal("0.10")


def test_the_date_transcoding_refuses_a_datetime() -> None:
    # datetime is a subclass of date: stored as a date it would silently lose its time
    with pytest.raises(TypeError, match="datetime"):
        DateAsISO().encode(datetime(2019, 10, 18, 9, 30))
    with pytest.raises(TypeError, match="datetime"):
        DateAsISO().encode(datetime(2019, 10, 18, tzinfo=UTC))
    assert DateAsISO().encode(date(2019, 10, 18)) == "2019-10-18"


@pytest.mark.parametrize(
    "command",
    [
        lambda p: p.invite("GM0363", on=datetime(2019, 10, 21), reference="R", by="c"),
        lambda p: p.make_offer(reference="R2", sent_on=datetime(2019, 10, 18), by="c"),
        lambda p: p.municipality("GM0363", as_of=datetime(2020, 1, 1)),
        lambda p: p.overview(as_of=datetime(2020, 1, 1)),
        lambda p: p.nominate_official(
            "GM0363", name="A B", email="a@b.nl", on=datetime(2019, 10, 21), by="c"
        ),
    ],
    ids=["invite", "make_offer", "municipality", "overview", "nominate_official"],
)
def test_a_datetime_where_a_business_date_belongs_is_refused(
    memory_programme: Programme, command: Any
) -> None:
    memory_programme.register_registry("noord-holland-2019", by="c")
    memory_programme.make_offer(reference="R", sent_on=date(2019, 10, 18), by="c")
    before = memory_programme.event_count()
    with pytest.raises(InvalidInput, match="must be a date"):
        command(memory_programme)
    assert memory_programme.event_count() == before


def test_stored_events_read_back_as_dates_money_and_cost_lines(
    programme: Programme,
) -> None:
    programme.register_registry("noord-holland-2019", by="c")
    programme.make_offer(
        reference="R", sent_on=date(2019, 10, 18), terms=Terms(connection_fee=Money("99")), by="c"
    )
    programme.invite("GM0363", on=date(2019, 10, 21), reference="R", by="c")
    programme.accept("GM0363", on=date(2019, 11, 1), by="c")
    programme.connect("GM0363", on=date(2019, 12, 1), by="c")
    programme.evaluate("GM0363", on=date(2020, 12, 1), outcome="stop", recovered=Money("5"), by="c")
    # read through a fresh mapper, not an aggregate cache
    events = list(programme.events.get(programme.uow.municipality("GM0363").id))
    connected = next(e for e in events if type(e).__name__ == "Connected")
    assert type(connected.on) is date
    assert type(connected.evaluation_due) is date
    assert connected.cost == CostLine(
        kind=CostKind.CONNECTION,
        amount=Money("99.00"),
        payer=Payer.PROVINCE,
        payee="Meld Misdaad Anoniem",
        calculator="offer-terms",
        calculator_version="1",
        tariff_id="offer:R",
    )
    evaluated = next(e for e in events if type(e).__name__ == "Evaluated")
    assert evaluated.recovered == Money("5.00")
    assert all(e.timestamp.tzinfo is not None for e in events)
    assert get_topic(type(connected)).endswith("Municipality.Connected")
