"""As-of folds that start from an in-memory state snapshot give exactly the state a replay from
the first event gives, for any business date and recorded time, also when reports are backdated
and the clock runs backwards; and the pickled copies the repository hands out are independent."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from mma_core import Programme
from mma_core.application import asof
from mma_core.domain.municipality import municipality_id
from mma_core.views.replay import charged, fold, municipality_view


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2021, 6, 1, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_snapshot_folds_equal_full_replays(
    store: str, tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(asof, "SNAPSHOT_EVERY", 7)
    url = "memory://" if store == "memory" else f"sqlite:///{tmp_path}/s.sqlite"
    rng = random.Random(5)
    clock = Clock()
    times = []
    with Programme.open(url, clock=clock) as prog:
        prog.register_registry("noord-holland-2019", by="t")
        prog.make_offer(reference="R", sent_on=date(2019, 10, 18), by="t")
        prog.invite("GM0363", on=date(2019, 10, 18), reference="R", by="t")
        prog.accept("GM0363", on=date(2019, 11, 1), by="t")
        prog.connect("GM0363", on=date(2019, 12, 1), by="t")
        for n in range(60):
            # Recorded times mostly forward, sometimes back; business dates backdated at times.
            clock.now += timedelta(hours=rng.choice([5, 20, -3]) if n else 48)
            times.append(clock.now)
            day = date(2020, 1, 1) + timedelta(days=rng.randrange(0, 400))
            prog.record_report(
                "GM0363", received_on=day, category="fraude", reference=f"S{n}", by="t"
            )
            if n in (3, 30):
                prog.nominate_official("GM0363", name="A B", email="a@example.nl", on=day, by="t")
        ident = municipality_id("GM0363")
        events = list(prog.events.get(ident))
        days = [None, *(date(2019, 12, 1) + timedelta(days=d) for d in range(0, 460, 23))]
        knowns = [None, *times[::5], times[-1] + timedelta(days=1)]
        for as_of in days:
            for known_at in knowns:
                expected = fold(events, as_of, known_at)
                got = prog._asof.fold(ident, as_of, known_at)
                assert municipality_view(got, prog.reveal, as_of, known_at) == municipality_view(
                    expected, prog.reveal, as_of, known_at
                ), (as_of, known_at)
                # The cost lines an as-of view shows: streamed, in the order a replay charges them.
                assert prog._asof.costs(ident, as_of, known_at) == tuple(
                    charged(events, as_of, known_at)
                ), (as_of, known_at)
        assert prog.snapshots is not None
        snapshots = list(prog.snapshots.get(ident))
        assert [s.originator_version for s in snapshots] == [
            7 * k for k in range(1, len(events) // 7 + 1)
        ]
        # The grid holds queries that start from a snapshot and queries that cannot.
        usable = {
            any(s.covers(as_of, known_at) for s in snapshots)
            for as_of in days
            for known_at in knowns
        }
        assert usable == {True, False}


def test_repository_copies_are_independent() -> None:
    with Programme.open("memory://") as prog:
        prog.register_registry("noord-holland-2019", by="t")
        first = prog.repository.get(municipality_id("GM0363"))
        first.officials["x"] = "changed"
        first.population = -1
        again = prog.repository.get(municipality_id("GM0363"))
        assert "x" not in again.officials
        assert again.population > 0
