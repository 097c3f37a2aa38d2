"""Command throughput through Programme vs the same get + event + save on bare eventsourcing.

Both sides run the same shape of work: load an aggregate that already holds some events, trigger
one event, save. Programme adds its rules, cost calculation, validators, audit leaves and the
personal-data key table; the baseline is a minimal eventsourcing Application on the same store.
Measured on aggregates of 40 events and of 5,000 (the bare side then with eventsourcing's own
snapshotting every 100 events, as Programme stores its municipalities' snapshots).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import JSONTranscoder

from bench.common import PG, drop_schema, fresh_schema, postgres_available, rate
from mma_core import Programme
from mma_core.storage.transcodings import DateAsISO

CODES = ["GM0358", "GM0361", "GM0362", "GM0363", "GM0373", "GM0375", "GM0376", "GM0377"]
HISTORY = 40  # events each aggregate holds before the measured commands (the shallow run)
DEEP = 5_000  # ... and in the deep run


class Counter(Aggregate):
    @event("Created")
    def __init__(self) -> None:
        self.count = 0

    @event("Incremented")
    def increment(self, on: date, by: str) -> None:
        self.count += 1


class Bare(Application[UUID]):
    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())


def _bare_env(url: str) -> dict[str, str]:
    from mma_core.storage import store_env

    env = store_env(url)
    env.pop("SQLITE_LOCK_TIMEOUT", None)
    return env


class SnapshottingBare(Bare):
    snapshotting_intervals = {Counter: 100}  # noqa: RUF012 - eventsourcing's own class setting


def bare_setup(url: str, commands: int, history: int = HISTORY) -> tuple[Any, Callable[[], None]]:
    app = (SnapshottingBare if history > 100 else Bare)(env=_bare_env(url))
    ids = []
    for _ in CODES:
        counter = Counter()
        for n in range(history):
            counter.increment(on=date(2020, 1, 1), by="bench")
            if n % 500 == 499:
                app.save(counter)
        app.save(counter)
        ids.append(counter.id)

    def work() -> None:
        for n in range(commands):
            counter: Any = app.repository.get(ids[n % len(ids)])
            counter.increment(on=date(2020, 1, 1), by="bench")
            app.save(counter)

    return app, work


def programme_setup(
    url: str, commands: int, history: int = HISTORY
) -> tuple[Any, Callable[[], None]]:
    prog = Programme.open(url)
    prog.register_registry("noord-holland-2019", by="bench")
    prog.make_offer(reference="B", sent_on=date(2019, 10, 18), by="bench")
    for code in CODES:
        prog.invite(code, on=date(2019, 10, 18), reference="B", by="bench")
        prog.accept(code, on=date(2019, 11, 1), by="bench")
        prog.connect(code, on=date(2019, 12, 1), by="bench")
        rows = [(code, date(2020, 1, 2), "fraude", f"H-{code}-{n}") for n in range(history - 4)]
        prog.record_reports(rows, by="bench", atomic=False)
    active: dict[str, str] = {}

    def work() -> None:
        # Commands that each write one event and can repeat: nominate, then withdraw, in turns.
        for n in range(commands):
            code = CODES[n % len(CODES)]
            if code not in active:
                active[code] = prog.nominate_official(
                    code,
                    name="Bench Official",
                    email="bench@example.nl",
                    on=date(2020, 1, 1),
                    by="bench",
                )
            else:
                prog.withdraw_official(active.pop(code), on=date(2020, 1, 1), by="bench")

    return prog, work


def rates(
    urls: tuple[str, str], commands: int, repeat: int = 3, history: int = HISTORY
) -> tuple[float, float]:
    """(bare, ours) in commands per second: best of ``repeat`` runs each, taken in turns, so
    that a busy moment of the machine falls on both sides alike."""
    bare_app, bare_work = bare_setup(urls[0], commands, history)
    prog, work = programme_setup(urls[1], commands, history)
    try:
        bare = ours = 0.0
        for _ in range(repeat):
            bare = max(bare, rate(commands, bare_work, repeat=1))
            ours = max(ours, rate(commands, work, repeat=1))
        return bare, ours
    finally:
        bare_app.close()
        prog.close()


def run(quick: bool = False) -> list[dict[str, Any]]:
    commands = 160 if quick else 800
    results = []
    stores: list[tuple[str, Any]] = [("sqlite", None)]
    if postgres_available():
        stores.append(("postgresql", None))
    for store, history in [(s, h) for s, _ in stores for h in (HISTORY, DEEP)]:
        with tempfile.TemporaryDirectory() as tmp:
            if store == "sqlite":
                urls = (
                    f"sqlite:///{Path(tmp) / 'bare.sqlite'}",
                    f"sqlite:///{Path(tmp) / 'p.sqlite'}",
                )
                schemas: list[str] = []
            else:
                schemas = [fresh_schema("bench_bare"), fresh_schema("bench_prog")]
                urls = tuple(f"{PG}?schema={schema}" for schema in schemas)
            try:
                bare, ours = rates(urls, commands, repeat=3 if quick else 5, history=history)
            finally:
                for schema in schemas:
                    drop_schema(schema)
        results.append(
            {
                "benchmark": f"command throughput, aggregates of {history:,} events",
                "store": store,
                "baseline": "bare eventsourcing get + event + save"
                + (" (its snapshotting every 100)" if history > 100 else ""),
                "ours_per_s": round(ours, 1),
                "baseline_per_s": round(bare, 1),
                "ratio": round(ours / bare, 3),
                "target": 0.85,
            }
        )
    return results


if __name__ == "__main__":
    for row in run(quick=True):
        print(row)
