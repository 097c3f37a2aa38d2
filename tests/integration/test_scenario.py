"""The DESIGN section 4 scenario, end to end, on every store; and reopening an SQLite file."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from mma_core import Money, Programme, Stage, Terms

OFFER = "1298348/1298354"
HAARLEM = "Provinciehuis, Dreef 3, Haarlem"
TERMS = Terms(connection_fee=Money("1500.00"), report_fee=Money("22.50"))


def play_scenario(prog: Programme) -> str:
    """The contract's code block with dates that fit together; returns the official's id."""
    codes = prog.register_registry("noord-holland-2019", by="coordinator")
    assert len(codes) == 49
    prog.make_offer(reference=OFFER, sent_on=date(2019, 10, 18), terms=TERMS, by="cdk")
    for day, start, end in [(6, 10, 12), (7, 13, 15), (13, 13, 15)]:
        prog.schedule_training(
            f"2019-11-{day:02d}",
            starts_at=datetime(2019, 11, day, start),
            ends_at=datetime(2019, 11, day, end, 30),
            location=HAARLEM,
            capacity=60,
            by="coordinator",
        )
    for code in ("GM0363", "GM0370", "GM0479", "GM0457"):
        prog.invite(code, on=date(2019, 10, 18), reference=OFFER, by="cdk")
    prog.accept("GM0363", on=date(2019, 11, 1), by="burgemeester")
    prog.decline("GM0370", on=date(2019, 11, 4), reason="geen capaciteit", by="burgemeester")
    prog.record_prior_connection(
        "GM0479", connected_on=date(2018, 3, 1), costs=Money("2000.00"), by="coordinator"
    )
    prog.accept("GM0479", on=date(2019, 11, 5), by="burgemeester")
    oid = prog.nominate_official(
        "GM0363",
        name="Marijke Vos",
        email="m.vos@gemeente.example",
        on=date(2019, 10, 25),
        by="coordinator",
    )
    prog.book_training(
        "GM0363", official_id=oid, session_id="2019-11-06", on=date(2019, 10, 28), by="coordinator"
    )
    prog.record_attendance(
        "GM0363", official_id=oid, session_id="2019-11-06", attended=True, by="coordinator"
    )
    prog.connect("GM0363", on=date(2019, 12, 1), by="coordinator")
    prog.record_report(
        "GM0363",
        received_on=date(2020, 2, 3),
        category="sociale zekerheid",
        reference="MMA-20-0001",
        by="mma",
    )
    prog.evaluate(
        "GM0363",
        on=date(2020, 12, 1),
        outcome="continue",
        recovered=Money("12000"),
        notes="",
        by="oov",
    )
    prog.renew("GM0363", on=date(2020, 12, 15), by="burgemeester")
    prog.withdraw_official(oid, on=date(2021, 5, 1), by="coordinator")
    prog.terminate("GM0363", on=date(2021, 12, 15), reason="eigen meldpunt", by="burgemeester")
    prog.merge("GM0457", into="GM0363", on=date(2022, 3, 24), by="coordinator")
    return oid


def snapshot(prog: Programme) -> dict[str, Any]:
    """Everything the queries say, as plain comparable values."""
    days = [date(2019, 12, 31), date(2020, 12, 31), date(2021, 12, 31), date(2022, 6, 1)]
    result: dict[str, Any] = {"event_count": prog.event_count(), "sessions": prog.sessions()}
    for code in ("GM0363", "GM0370", "GM0479", "GM0457"):
        result[code] = prog.municipality(code)
        result[f"{code}/history"] = prog.history(code)
        for day in days[:3]:
            result[f"{code}/{day}"] = prog.municipality(code, as_of=day)
    for day in days:
        result[f"overview/{day}"] = prog.overview(as_of=day)
    return result


def test_scenario_gives_the_expected_views(programme: Programme) -> None:
    oid = play_scenario(programme)
    assert oid == "GM0363-1"

    amsterdam = programme.municipality("GM0363")
    assert amsterdam.stage is Stage.STOPPED
    assert amsterdam.stage == "stopped"  # a str enum
    assert amsterdam.name == "Amsterdam"
    assert amsterdam.invited_on == date(2019, 10, 18)
    assert amsterdam.answered_on == date(2019, 11, 1)
    assert amsterdam.connected_on == date(2019, 12, 1)
    assert amsterdam.renewals == (date(2020, 12, 15),)
    assert amsterdam.terminated_on == date(2021, 12, 15)
    assert amsterdam.evaluation_due is None
    assert amsterdam.reports_received == 1
    assert amsterdam.predecessors == ("GM0457",)
    assert amsterdam.successor is None
    assert amsterdam.costs_province == Money("1500.00")
    assert amsterdam.costs_municipality == Money("22.50")
    (official,) = amsterdam.officials
    assert official.id == oid
    assert official.name == "Marijke Vos"
    assert official.session_id == "2019-11-06"
    assert official.attended is True
    assert official.active is False

    # as of a business date: the state then, not now
    then = programme.municipality("GM0363", as_of=date(2020, 1, 1))
    assert then.stage is Stage.CONNECTED
    assert then.evaluation_due == date(2020, 12, 1)
    assert then.reports_received == 0
    assert then.renewals == ()
    assert then.officials[0].active is True
    renewed = programme.municipality("GM0363", as_of=date(2021, 1, 1))
    assert renewed.evaluation_due == date(2021, 12, 15)
    assert renewed.reports_received == 1

    beemster = programme.municipality("GM0370")
    assert beemster.stage is Stage.DECLINED
    assert beemster.answered_on == date(2019, 11, 4)

    zaanstad = programme.municipality("GM0479", cost_lines=True)
    assert zaanstad.stage is Stage.CONNECTED  # connected at once: it was connected before
    assert zaanstad.connected_on == date(2018, 3, 1)
    assert zaanstad.evaluation_due == date(2020, 11, 5)  # a year after accepting
    assert zaanstad.costs_province == Money("2000.00")  # compensation, no connection fee
    assert [c.line.kind.value for c in zaanstad.costs] == ["compensation"]

    weesp = programme.municipality("GM0457")
    assert weesp.stage is Stage.MERGED
    assert weesp.successor == "GM0363"
    assert weesp.merged_on == date(2022, 3, 24)

    overview = programme.overview(as_of=date(2020, 6, 30))
    assert overview.total == 47
    assert overview.by_stage["connected"] == 2
    assert overview.by_stage["declined"] == 1
    assert overview.by_stage["invited"] == 1
    assert overview.by_stage["registered"] == 43
    assert overview.connected == 2
    assert overview.coverage * 47 == 2
    assert overview.costs_by_payer["province"] == Money("3500.00")
    assert overview.costs_by_payer["municipality"] == Money("22.50")
    assert [d.code for d in overview.deadlines if d.kind == "evaluation"] == ["GM0479", "GM0363"]

    history = programme.history("GM0363")
    positions = [entry.position for entry in history]
    assert positions == sorted(positions)
    assert len(set(positions)) == len(positions)
    assert [entry.type for entry in history] == [
        "Registered",
        "Invited",
        "Accepted",
        "OfficialNominated",
        "TrainingBooked",
        "AttendanceRecorded",
        "Connected",
        "ReportReceived",
        "Evaluated",
        "Renewed",
        "OfficialWithdrawn",
        "Terminated",
        "PredecessorMerged",
    ]
    assert all(entry.by and entry.origin == "api" for entry in history)
    report = next(e for e in history if e.type == "ReportReceived")
    assert report.date == date(2020, 2, 3)
    assert report.data["fee"]["amount"] == "22.50"
    assert report.data["fee"]["calculator"] == "offer-terms"
    assert set(report.data) == {"received_on", "category", "reference", "fee"}
    assert report.data["category"] == "sociale zekerheid"


def test_scenario_is_the_same_on_every_store(
    programme: Programme, open_programme: Callable[[str], Programme]
) -> None:
    reference = open_programme("memory://")
    play_scenario(reference)
    play_scenario(programme)
    assert snapshot(programme) == snapshot(reference)


def test_reopening_the_sqlite_file_gives_the_same_state(
    tmp_path: Path, open_programme: Callable[[str], Programme]
) -> None:
    url = f"sqlite:///{tmp_path / 'mma.sqlite'}"
    first = open_programme(url)
    play_scenario(first)
    before = snapshot(first)
    first.close()

    reopened = open_programme(url)
    assert snapshot(reopened) == before
    # and it goes on from there
    reopened.record_report(
        "GM0479",
        received_on=date(2020, 1, 7),
        category="drugsdelicten",
        reference="MMA-20-0002",
        by="mma",
    )
    assert reopened.event_count() == before["event_count"] + 2  # the report and its claim
    assert reopened.municipality("GM0479").costs_municipality.amount == Decimal("22.50")


def test_registry_registration_is_idempotent_and_returns_every_code(
    programme: Programme, event_count: Callable[[Programme], int]
) -> None:
    codes = programme.register_registry("noord-holland-2019", by="coordinator")
    assert len(codes) == len(set(codes)) == 49
    assert {"GM0363", "GM1980", "GM0393", "GM0457", "GM0398", "GM0416"} <= set(codes)
    count = event_count(programme)
    assert count == 49
    assert programme.register_registry("noord-holland-2019", by="someone-else") == codes
    assert event_count(programme) == count
    # registration is dated by the row's validity, not by the day it ran
    (registered,) = programme.history("GM1980")
    assert registered.date == date(2022, 1, 1)
    assert programme.history("GM0363")[0].date is None


def test_the_overview_of_today_reads_the_same_as_a_replay_as_of_today(
    programme: Programme,
) -> None:
    play_scenario(programme)
    today = date(2023, 6, 1)  # the clock fixture's
    assert programme.overview() == programme.overview(as_of=today)
    assert programme.overview().total == 44


def test_the_store_url_alone_decides_where_events_go(
    tmp_path: Path, open_programme: Callable[[str], Programme], monkeypatch: Any
) -> None:
    """A stray PROGRAMME_SQLITE_DBNAME or PERSISTENCE_MODULE must not redirect the events."""
    stray = tmp_path / "stray.sqlite"
    monkeypatch.setenv("PROGRAMME_SQLITE_DBNAME", str(stray))
    monkeypatch.setenv("SQLITE_DBNAME", str(stray))
    monkeypatch.setenv("PERSISTENCE_MODULE", "eventsourcing.popo")
    named = tmp_path / "named.sqlite"
    prog = open_programme(f"sqlite:///{named}")
    prog.register_registry("noord-holland-2019", by="coordinator")
    prog.close()
    assert named.exists()
    assert not stray.exists()
    assert open_programme(f"sqlite:///{named}").event_count() == 49
