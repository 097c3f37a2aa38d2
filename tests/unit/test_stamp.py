"""Who, through what and when: the audit line every event carries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from mma_core import InvalidInput, Programme

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def test_every_event_carries_by_origin_and_a_utc_recorded_time() -> None:
    # a clock in Amsterdam time: 00:30 on 2 Jan is still 1 Jan in UTC
    recorded = datetime(2020, 1, 2, 0, 30, tzinfo=AMSTERDAM)
    with Programme.open("memory://", clock=lambda: recorded, origin="case-system") as prog:
        prog.register_registry("noord-holland-2019", by="  coordinator ")
        prog.make_offer(reference="R", sent_on=date(2019, 10, 18), by="cdk")
        prog.invite("GM0363", on=date(2020, 1, 2), reference="R", by="cdk", origin="cli")
        registered, invited = prog.history("GM0363")
    assert registered.by == "coordinator"
    assert registered.origin == "case-system"
    assert invited.origin == "cli"
    assert invited.recorded_at == recorded
    assert invited.recorded_at.utcoffset() == timedelta(0)
    assert invited.recorded_at.date() == date(2020, 1, 1)
    # "not in the future" is judged by the day in Europe/Amsterdam: 2 Jan was allowed


@pytest.mark.parametrize(
    "by",
    [
        "",
        "   ",
        "x" * 121,
        "coordinator\nGM0363 erased",
        "co\x00ordinator",
        "a\tb",
        "coordinator\u2028GM0363 erased",
        "coordinator\u2029GM0363 erased",
        "coordinator\x85GM0363 erased",
        "coordinator\x0bGM0363",
    ],
    ids=["empty", "blank", "too-long", "line-break", "nul", "tab", "u2028", "u2029", "nel", "vt"],
)
def test_by_is_required_and_fits_on_one_audit_line(
    memory_programme: Programme, event_count: Callable[[Programme], int], by: str
) -> None:
    memory_programme.register_registry("noord-holland-2019", by="coordinator")
    memory_programme.make_offer(reference="R", sent_on=date(2019, 10, 18), by="cdk")
    before = event_count(memory_programme)
    with pytest.raises(InvalidInput, match=r"^GM0363: .*'by'"):
        memory_programme.invite("GM0363", on=date(2019, 10, 21), reference="R", by=by)
    assert event_count(memory_programme) == before


@pytest.mark.parametrize(
    "clock",
    [lambda: datetime(2020, 1, 1), lambda: "2020-01-01", lambda: date(2020, 1, 1)],
    ids=["naive", "text", "date"],
)
def test_a_clock_must_give_aware_datetimes(clock: Callable[[], object]) -> None:
    with pytest.raises(InvalidInput, match="timezone-aware"):
        Programme.open("memory://", clock=clock)  # type: ignore[arg-type]


def test_an_origin_names_a_channel(memory_programme: Programme) -> None:
    with pytest.raises(InvalidInput, match="'origin'"):
        Programme.open("memory://", origin="a channel with spaces")
    memory_programme.register_registry("noord-holland-2019", by="c", origin="")  # the default
    with pytest.raises(InvalidInput, match="'origin'"):
        memory_programme.make_offer(reference="R", sent_on=date(2019, 10, 18), by="c", origin="x y")
    assert memory_programme.history("GM0363")[0].origin == "api"


def test_not_in_the_future_is_judged_in_europe_amsterdam() -> None:
    # 23:30 UTC on 31 Dec 2019 is already 1 Jan 2020 in Amsterdam
    late = datetime(2019, 12, 31, 23, 30, tzinfo=UTC)
    with Programme.open("memory://", clock=lambda: late) as prog:
        prog.register_registry("noord-holland-2019", by="c")
        prog.make_offer(reference="R", sent_on=date(2020, 1, 1), by="cdk")
        assert prog.history("GM0363")[0].recorded_at == late
