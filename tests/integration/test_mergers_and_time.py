"""Coverage across the 2022 mergers, succession of a connection, and both time axes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from fractions import Fraction
from typing import Any

import pytest

from mma_core import Programme, Stage, UnknownMunicipality

OFFER = "1298348/1298354"


def connect(prog: Programme, code: str, accepted: date, connected: date) -> None:
    prog.invite(code, on=date(2019, 10, 18), reference=OFFER, by="cdk")
    prog.accept(code, on=accepted, by="burgemeester")
    prog.connect(code, on=connected, by="coordinator")


@pytest.fixture
def merged(programme: Programme) -> Programme:
    """Heerhugowaard and Langedijk connected, into Dijk en Waard; Weesp connected, into an
    Amsterdam that never joined."""
    programme.register_registry("noord-holland-2019", by="coordinator")
    programme.make_offer(reference=OFFER, sent_on=date(2019, 10, 18), by="cdk")
    connect(programme, "GM0398", date(2019, 11, 1), date(2019, 12, 1))  # due 2020-12-01
    connect(programme, "GM0416", date(2019, 11, 1), date(2019, 11, 15))  # due 2020-11-15
    connect(programme, "GM0457", date(2019, 11, 2), date(2020, 2, 1))  # due 2021-02-01
    programme.merge("GM0398", into="GM1980", on=date(2022, 1, 1), by="coordinator")
    programme.merge("GM0416", into="GM1980", on=date(2022, 1, 1), by="coordinator")
    programme.merge("GM0457", into="GM0363", on=date(2022, 3, 24), by="coordinator")
    return programme


@pytest.mark.parametrize(
    ("day", "total", "connected"),
    [
        (date(2019, 10, 18), 47, 0),
        (date(2020, 6, 30), 47, 3),
        (date(2021, 12, 31), 47, 3),
        (date(2022, 1, 1), 45, 2),  # Dijk en Waard (by succession) and Weesp
        (date(2022, 3, 23), 45, 2),
        (date(2022, 3, 24), 44, 2),  # Dijk en Waard and Amsterdam (by succession)
        (date(2023, 1, 1), 44, 2),
    ],
)
def test_overview_totals_across_the_2022_mergers(
    merged: Programme, day: date, total: int, connected: int
) -> None:
    overview = merged.overview(as_of=day)
    assert overview.total == total
    assert sum(overview.by_stage.values()) == total
    assert overview.connected == connected
    assert overview.by_stage["connected"] == connected
    assert overview.coverage == Fraction(connected, total)
    assert overview.by_stage["merged"] == 0  # merged municipalities no longer exist
    assert {m.code for m in overview.municipalities} >= {"GM0358", "GM0361"}


def test_totals_follow_the_registry_even_without_recorded_mergers(programme: Programme) -> None:
    programme.register_registry("noord-holland-2019", by="coordinator")
    assert programme.overview(as_of=date(2021, 12, 31)).total == 47
    assert programme.overview(as_of=date(2022, 1, 1)).total == 45
    assert programme.overview(as_of=date(2022, 6, 1)).total == 44
    # the day before Haarlemmerliede en Spaarnwoude joined Haarlemmermeer: one more
    assert programme.overview(as_of=date(2018, 12, 31)).total == 48


def test_a_successor_of_connected_municipalities_is_connected_by_succession(
    merged: Programme,
) -> None:
    dijk_en_waard = merged.municipality("GM1980")
    assert dijk_en_waard.stage is Stage.CONNECTED
    assert dijk_en_waard.connection_kind == "succession"
    assert dijk_en_waard.connected_on == date(2022, 1, 1)
    assert dijk_en_waard.predecessors == ("GM0398", "GM0416")
    # the earliest evaluation due among its connected predecessors (Langedijk's)
    assert dijk_en_waard.evaluation_due == date(2020, 11, 15)
    assert dijk_en_waard.costs_province.amount == 0  # no new connection fee

    amsterdam = merged.municipality("GM0363")
    assert amsterdam.stage is Stage.CONNECTED
    assert amsterdam.connected_on == date(2022, 3, 24)
    assert amsterdam.evaluation_due == date(2021, 2, 1)  # Weesp's
    assert merged.municipality("GM0363", as_of=date(2022, 3, 23)).stage is Stage.REGISTERED

    for code, successor in [("GM0398", "GM1980"), ("GM0416", "GM1980"), ("GM0457", "GM0363")]:
        view = merged.municipality(code)
        assert view.stage is Stage.MERGED
        assert view.successor == successor


def test_a_successor_connected_by_succession_can_receive_reports_and_renew(
    merged: Programme,
) -> None:
    merged.record_report(
        "GM1980",
        received_on=date(2022, 2, 1),
        category="woonfraude",
        reference="MMA-22-0001",
        by="mma",
    )
    merged.evaluate("GM1980", on=date(2022, 3, 1), outcome="continue", by="oov")
    merged.renew("GM1980", on=date(2022, 3, 2), by="burgemeester")
    view = merged.municipality("GM1980")
    assert view.reports_received == 1
    assert view.evaluation_due == date(2023, 3, 2)
    assert view.offer_reference == OFFER


def test_as_of_a_date_a_code_did_not_exist_raises_unknown_municipality(merged: Programme) -> None:
    with pytest.raises(UnknownMunicipality, match=r"GM1980.*did not exist on 2021-06-01"):
        merged.municipality("GM1980", as_of=date(2021, 6, 1))
    with pytest.raises(UnknownMunicipality, match="GM0457"):
        merged.municipality("GM0457", as_of=date(2022, 3, 24))
    with pytest.raises(UnknownMunicipality, match="GM0393"):
        merged.municipality("GM0393", as_of=date(2019, 1, 1))
    with pytest.raises(UnknownMunicipality, match="GM0999"):
        merged.municipality("GM0999", as_of=date(2020, 1, 1))
    assert merged.municipality("GM1980", as_of=date(2022, 1, 1)).code == "GM1980"
    assert merged.municipality("GM0457", as_of=date(2022, 3, 23)).stage is Stage.CONNECTED


def test_known_at_shows_what_the_store_knew_then(programme: Programme, clock: Any) -> None:
    """Attendance on 6 Nov, recorded on 20 Nov: as of 7 Nov it shows only once known."""
    clock.set(date(2019, 10, 18))
    programme.register_registry("noord-holland-2019", by="coordinator")
    programme.make_offer(reference=OFFER, sent_on=date(2019, 10, 18), by="cdk")
    programme.schedule_training(
        "2019-11-06",
        starts_at=datetime(2019, 11, 6, 10),
        ends_at=datetime(2019, 11, 6, 12, 30),
        location="Provinciehuis, Dreef 3, Haarlem",
        capacity=60,
        by="coordinator",
    )
    oid = programme.nominate_official("GM0363", name="A. Ambtenaar", email="a@b.nl", by="c")
    programme.book_training("GM0363", official_id=oid, session_id="2019-11-06", by="c")
    clock.set(date(2019, 11, 20))
    programme.record_attendance(
        "GM0363", official_id=oid, session_id="2019-11-06", attended=True, by="coordinator"
    )

    def attended(as_of: date, known_at: datetime | None) -> bool | None:
        view = programme.municipality("GM0363", as_of=as_of, known_at=known_at)
        return view.officials[0].attended

    on_19th = datetime(2019, 11, 19, 12, tzinfo=UTC)
    on_21st = datetime(2019, 11, 21, 12, tzinfo=UTC)
    assert attended(date(2019, 11, 7), on_19th) is None
    assert attended(date(2019, 11, 7), on_21st) is True
    assert attended(date(2019, 11, 7), None) is True
    assert attended(date(2019, 11, 5), on_21st) is None  # not yet happened on 5 Nov
    assert programme.municipality("GM0363", known_at=on_19th).officials[0].attended is None
    assert programme.municipality("GM0363", known_at=on_19th).officials[0].session_id == (
        "2019-11-06"
    )
    assert programme.municipality("GM0363", known_at=on_19th).known_at == on_19th
    # a naive known_at is read as UTC
    assert attended(date(2019, 11, 7), datetime(2019, 11, 21)) is True
    # before the registry was registered the store knew nothing of the municipality
    with pytest.raises(UnknownMunicipality, match="GM0363"):
        programme.municipality("GM0363", known_at=datetime(2019, 10, 17, tzinfo=UTC))
    assert programme.overview(as_of=date(2019, 11, 7), known_at=on_19th).total == 47


def test_known_at_cuts_at_the_first_event_recorded_later_when_the_clock_was_set_back(
    programme: Programme, clock: Any
) -> None:
    """A clock set back stamps a later event earlier than the registration. What the store knew
    at a moment between the two stamps is nothing: the later event came after the registration,
    whatever its stamp says (before, the fold tried to build the aggregate from that event)."""
    clock.set(date(2019, 10, 20))
    programme.register_registry("noord-holland-2019", by="coordinator")
    programme.make_offer(reference=OFFER, sent_on=date(2019, 10, 18), by="cdk")
    clock.set(date(2019, 10, 18))  # set back by two days
    programme.invite("GM0363", on=date(2019, 10, 18), reference=OFFER, by="cdk")

    between = datetime(2019, 10, 19, 12, tzinfo=UTC)
    with pytest.raises(UnknownMunicipality, match="GM0363"):
        programme.municipality("GM0363", known_at=between)
    assert programme.overview(as_of=date(2019, 10, 19), known_at=between).total == 0
    later = datetime(2019, 10, 21, 12, tzinfo=UTC)
    assert programme.municipality("GM0363", known_at=later).stage is Stage.INVITED
