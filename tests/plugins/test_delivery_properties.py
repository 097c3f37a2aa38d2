"""Whatever a notifier's failures and however often the outbox runs or restarts: each planned
delivery is handed over successfully at most once, and every one ends delivered or, after its
last attempt, dead; none is lost."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from plugin_helpers import NotifierPlugin, builtins_only, campaign

from mma_core import Programme
from mma_core.extensions.hookspecs import Notification
from mma_core.extensions.plugins import Config
from mma_core.outbox.delivery import DEAD, DELIVERED, DeliverySettings, MemoryOutboxStore, Outbox

NOW = datetime(2023, 6, 1, 12, tzinfo=UTC)


class Flaky:
    channel = "flaky"

    def __init__(self, failures: list[bool]) -> None:
        self.failures = failures
        self.calls = 0
        self.received: Counter[str] = Counter()

    def send(self, notification: Notification) -> None:
        fail = self.failures[self.calls % len(self.failures)]
        self.calls += 1
        if fail:
            raise OSError("temporarily unavailable")
        self.received[notification.delivery_id] += 1


@settings(max_examples=25)
@given(
    failures=st.lists(st.booleans(), min_size=1, max_size=12),
    restarts=st.lists(st.booleans(), min_size=1, max_size=12),
    max_attempts=st.integers(min_value=1, max_value=4),
)
def test_nothing_lost_nothing_twice(
    failures: list[bool], restarts: list[bool], max_attempts: int
) -> None:
    with Programme.open("memory://", clock=lambda: NOW) as prog:
        campaign(prog)
        flaky = Flaky(failures)
        config = Config(data={"delivery": {"channels": ["flaky"]}})
        now = {"at": NOW}
        store = MemoryOutboxStore()  # survives a "restart": a new Outbox on the same store

        def outbox() -> Outbox:
            plugins = builtins_only(config)
            plugins.register(NotifierPlugin(flaky), "flaky")
            return Outbox(
                prog,
                plugins,
                settings=DeliverySettings(max_attempts=max_attempts, backoff_seconds=1),
                clock=lambda: now["at"],
                store=store,
            )

        current = outbox()
        for restart in [*restarts, *[False] * (max_attempts + 2)]:
            if restart:
                current = outbox()
            current.run()
            now["at"] += timedelta(hours=1)

        rows = store.rows()
        assert rows, "the campaign asks for notifications"
        assert {r.status for r in rows} <= {DELIVERED, DEAD}
        delivered = {r.delivery_id for r in rows if r.status == DELIVERED}
        assert set(flaky.received) == delivered
        assert all(count == 1 for count in flaky.received.values())
        assert all(r.attempts == max_attempts for r in rows if r.status == DEAD)
        if not any(failures):
            assert {r.status for r in rows} == {DELIVERED}
