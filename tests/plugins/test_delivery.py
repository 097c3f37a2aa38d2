"""The notification outbox: default rules, isolation of failing notifiers, retries with backoff,
dead letters, deduplication across restarts, and no personal data in logs or the outbox."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import icalendar
import pytest
from hypothesis import given
from hypothesis import strategies as st
from plugin_helpers import (
    OFFICIAL_EMAIL,
    OFFICIAL_NAME,
    AlwaysFails,
    Collect,
    NotifierPlugin,
    builtins_only,
    campaign,
)

from mma_core import Programme
from mma_core.extensions.hookspecs import EventRecord, Notification, Recipient, hookimpl
from mma_core.extensions.plugins import Config, Plugins
from mma_core.outbox.delivery import (
    DEAD,
    DELIVERED,
    DROPPED,
    DeliveryBusy,
    DeliverySettings,
    Outbox,
    redact,
)
from mma_core.views.state import MunicipalityView

EXPECTED = {
    ("GM0358", "default-rules:invitation"),
    ("GM0363", "default-rules:invitation"),
    ("GM0363", "default-rules:training-booked"),
    ("GM0363", "default-rules:connected"),
    ("GM0358", "default-rules:answer-reminder"),  # invited 2019-10-18, no answer since
    ("GM0363", "default-rules:evaluation-due"),  # due 2020-12-01
}


class Now:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def plugins_with(*notifiers: object, channels: list[str] | None = None) -> Plugins:
    data = {} if channels is None else {"delivery": {"channels": channels}}
    plugins = builtins_only(Config(data=data))
    plugins.register(NotifierPlugin(*notifiers), "test-notifiers")
    return plugins


def delivered(outbox: Outbox, channel: str) -> set[tuple[str | None, str]]:
    return {(r.code, r.key) for r in outbox.delivered() if r.channel == channel}


def test_default_rules_on_every_store(
    store_url: str, open_programme: Callable[[str], Programme]
) -> None:
    prog = open_programme(store_url)
    campaign(prog)
    collect = Collect()
    outbox = Outbox(prog, plugins_with(collect))
    report = outbox.run()
    assert report.delivered == 2 * len(EXPECTED)  # the collect and the log channel
    assert delivered(outbox, "collect") == EXPECTED
    assert delivered(outbox, "log") == EXPECTED
    by_key = {n.key: n for n in collect.sent}
    assert by_key["invitation"].recipient.role == "mayor"
    assert by_key["connected"].recipient.role == "coordinator"
    assert by_key["evaluation-due"].recipient.role == "contact"
    assert by_key["answer-reminder"].recipient == Recipient("mayor", "GM0358")
    training = by_key["training-booked"]
    assert training.recipient.role == "official"
    assert training.recipient.address == OFFICIAL_EMAIL
    (attachment,) = training.attachments
    calendar = icalendar.Calendar.from_ical(attachment.data)
    (event,) = calendar.walk("VEVENT")
    assert event.decoded("dtstart") == datetime(2019, 11, 6, 9, 0, tzinfo=UTC)  # 10:00 CET
    assert "Dreef 3" in str(event.get("location"))
    # A second run finds nothing new.
    again = outbox.run()
    assert (again.planned, again.delivered) == (0, 0)


def test_deduplicated_across_restarts(
    tmp_path: object, open_programme: Callable[[str], Programme]
) -> None:
    url = f"sqlite:///{tmp_path}/programme.sqlite"
    prog = open_programme(url)
    campaign(prog)
    first = Collect()
    assert Outbox(prog, plugins_with(first)).run().delivered == 2 * len(EXPECTED)
    prog.close()

    reopened = open_programme(url)
    second = Collect()
    outbox = Outbox(reopened, plugins_with(second))
    assert outbox.run().delivered == 0
    assert second.sent == []
    reopened.accept("GM0358", on=date(2019, 11, 5), by="burgemeester")
    reopened.connect("GM0358", on=date(2019, 12, 2), by="coordinator")
    report = Outbox(reopened, plugins_with(second)).run()
    # connected, and the evaluation now due; the answer reminder was sent already
    assert sorted(n.key for n in second.sent) == ["connected", "evaluation-due"]
    assert report.delivered == 4
    assert {n.delivery_id for n in first.sent}.isdisjoint({n.delivery_id for n in second.sent})


def test_a_notifier_that_always_raises_loses_nothing(
    recorded: Programme, caplog: pytest.LogCaptureFixture
) -> None:
    now = Now(datetime(2023, 6, 1, 12, tzinfo=UTC))
    failing, collect = AlwaysFails(), Collect()
    plugins = plugins_with(failing, collect)
    settings = DeliverySettings(max_attempts=3, backoff_seconds=60)
    outbox = Outbox(recorded, plugins, settings=settings, clock=now)
    caplog.set_level(logging.DEBUG)

    # Commands go on while the notifier fails: delivery runs apart from them.
    first = outbox.run()
    recorded.record_report(
        "GM0363",
        received_on=date(2020, 2, 3),
        category="sociale zekerheid",
        reference="MMA-20-0001",
        by="mma",
    )
    assert recorded.municipality("GM0363").reports_received == 1
    assert first.failed == len(EXPECTED)
    assert delivered(outbox, "collect") == EXPECTED  # the other channels deliver

    # Backoff: nothing is tried again before it is due, then 60 s, then 120 s.
    assert outbox.run().failed == 0
    assert failing.attempts == len(EXPECTED)
    now.at += timedelta(seconds=61)
    assert outbox.run().failed == len(EXPECTED)
    now.at += timedelta(seconds=61)
    assert outbox.run().dead == 0
    now.at += timedelta(seconds=60)
    last = outbox.run()
    assert last.dead == len(EXPECTED)
    dead = outbox.dead_letters()
    assert {(r.code, r.key) for r in dead} == EXPECTED
    assert all(r.channel == "broken" and r.attempts == 3 for r in dead)
    # Nothing personal in the dead letters or the log, though the error carried both.
    for row in dead:
        assert row.last_error is not None
        assert row.last_error.startswith("ConnectionError: refused")
        assert OFFICIAL_EMAIL not in row.last_error
        assert OFFICIAL_NAME not in row.last_error
    assert OFFICIAL_EMAIL not in caplog.text
    assert OFFICIAL_NAME not in caplog.text
    assert "jan.jansen" not in caplog.text

    # Retry puts them back; they are tried once more and die again after three attempts.
    assert outbox.retry() == len(EXPECTED)
    assert outbox.run().failed == len(EXPECTED)
    assert failing.attempts == 4 * len(EXPECTED)


def test_erased_official_is_not_contacted(recorded: Programme) -> None:
    collect = Collect()
    plugins = plugins_with(collect, channels=["collect"])
    outbox = Outbox(recorded, plugins)
    assert outbox.plan() == len(EXPECTED)  # planned while the official was there
    official = recorded.municipality("GM0363").officials[0].id
    recorded.erase_official(official, by="privacy-officer")
    outbox.send_due()
    assert "training-booked" not in {n.key for n in collect.sent}
    assert [r.key for r in outbox.store.rows(DROPPED)] == ["default-rules:training-booked"]
    assert len(collect.sent) == len(EXPECTED) - 1


class FlakyRules:
    def __init__(self) -> None:
        self.fail = True

    @hookimpl
    def mma_notifications_for_event(
        self, event: EventRecord, municipality: MunicipalityView | None
    ) -> list[Notification]:
        if event.type != "Connected":
            return []
        if self.fail:
            raise RuntimeError(f"rules broken for {OFFICIAL_EMAIL}")
        return [Notification("flaky", "s", "b", Recipient("coordinator", event.code))]


def test_failing_rules_keep_the_event_for_later(recorded: Programme) -> None:
    now = Now(datetime(2023, 6, 1, 12, tzinfo=UTC))
    collect = Collect()
    plugins = plugins_with(collect, channels=["collect"])
    flaky = FlakyRules()
    plugins.register(flaky, "flaky")
    outbox = Outbox(recorded, plugins, clock=now, settings=DeliverySettings(max_attempts=2))
    outbox.run()
    assert delivered(outbox, "collect") == EXPECTED  # other plugins' notifications go
    (pending,) = [r for r in outbox.pending() if r.plugin == "flaky"]
    assert pending.channel == ""
    assert pending.last_error is not None
    assert OFFICIAL_EMAIL not in pending.last_error
    now.at += timedelta(minutes=2)
    outbox.run()
    (dead,) = outbox.dead_letters()
    assert dead.key == "flaky:*"
    flaky.fail = False
    outbox.retry()
    outbox.run()
    assert ("GM0363", "flaky:flaky") in delivered(outbox, "collect")
    assert [r.status for r in outbox.store.rows() if r.key == "flaky:*"] == [DELIVERED]


def test_a_channel_without_notifier_ends_in_dead_letters(recorded: Programme) -> None:
    plugins = plugins_with(channels=["pigeon"])
    outbox = Outbox(recorded, plugins, settings=DeliverySettings(max_attempts=1))
    outbox.run()
    dead = outbox.dead_letters()
    assert len(dead) == len(EXPECTED)
    assert all(r.status == DEAD for r in dead)
    assert "no notifier is registered for channel 'pigeon'" in (dead[0].last_error or "")


def test_redact() -> None:
    text = "550 <jan.jansen@gemeente.example>: no such user Jan Jansen\n more"
    assert redact(text, ["Jan Jansen"]) == "550 <<address>>: no such user <personal data> more"


_OLD_EMAIL = re.compile(r"[^@\s<>\"']+@[^@\s<>\"']+")


HOSTILE: dict[str, Callable[[int], str]] = {
    "letters": lambda n: "a" * n,
    "letters-then-at": lambda n: "a" * (n - 1) + "@",
    "pairs": lambda n: "a@" * (n // 2),
    "ats": lambda n: "@" * n,
    "blocks": lambda n: ("x" * 999 + "@ ") * (n // 1001),
}


def _cpu_seconds(text: str) -> float:
    """The least CPU time of a few calls of ``redact(text)``: the other work on a busy machine
    only ever adds to a measurement, so the least of them is the call's own cost."""
    best = float("inf")
    for _ in range(5):
        started = time.process_time()
        redact(text)
        best = min(best, time.process_time() - started)
    return best


@pytest.mark.parametrize("shape", sorted(HOSTILE))
def test_redact_is_linear_on_hostile_replies(shape: str) -> None:
    """One SMTP reply of 40,000 characters cost 9 s of CPU with the old pattern, whose time grew
    with the square of the reply's length. Four times the reply must cost about four times as
    much (a quadratic pass costs sixteen times): a ratio, so a slow or busy machine passes too."""
    make = HOSTILE[shape]
    small, large = make(2_500), make(10_000)
    # A floor of 1 ms each: a linear pass over 10,000 characters is below the clock's grain.
    ratio = max(_cpu_seconds(large), 1e-3) / max(_cpu_seconds(small), 1e-3)
    assert ratio < 8, f"4x the reply cost {ratio:.1f}x the time"


@given(st.text(alphabet="ab@ <'\"\t.", max_size=40))
def test_redact_hides_what_the_old_pattern_hid(text: str) -> None:
    assert redact(text) == " ".join(_OLD_EMAIL.sub("<address>", text).split())[:200]


def test_backoff_is_exponential_and_capped() -> None:
    settings = DeliverySettings(backoff_seconds=10, backoff_max_seconds=50)
    assert [settings.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [10, 20, 40, 50]


def test_one_delivery_run_at_a_time(
    store_url: str, open_programme: Callable[[str], Programme]
) -> None:
    prog = open_programme(store_url)
    campaign(prog)
    first = Outbox(prog, plugins_with(Collect()))
    second = Outbox(
        open_programme(store_url) if "memory" not in store_url else prog, plugins_with(Collect())
    )
    with first.lease(), pytest.raises(DeliveryBusy, match="another delivery run"):
        second.run()
    assert second.run().delivered == 2 * len(EXPECTED)
    assert first.run().delivered == 0  # nothing left, and the lock is free again
