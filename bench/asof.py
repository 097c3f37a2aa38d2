"""As-of query of one municipality with 10,000 events, with and without state snapshots.

``Programme.municipality(code, as_of=..., known_at=...)`` folds the municipality's events on both
time axes. Without snapshots (the baseline) every query reads and folds all of them; with the
in-memory snapshots (every ``SNAPSHOT_EVERY`` events, see ``mma_core.application.asof``) a query
starts from the latest snapshot whose events are all visible to it and reads only the events after.
The store is written through the aggregate's own command methods, in large saves.

Three queries are timed, each best of several: a business date near the end (the snapshots
apply), a recorded time near the end, and a business date early in the history (no snapshot
applies: a fold from the first event, the same cost as without).
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import PG, drop_schema, fresh_schema, postgres_available
from mma_core import Programme
from mma_core.domain.common import Stamp
from mma_core.domain.municipality import municipality_id
from mma_core.domain.report_claim import ReportClaim
from mma_core.domain.values import CostKind, MunicipalityCode, ReportCategory, ReportReference
from mma_core.views.replay import fold, municipality_view

CODE = "GM0363"
CHUNK = 500


def build(url: str, events: int) -> datetime:
    """A municipality with ``events`` events; returns the recorded time of the last."""
    start = datetime(2024, 1, 2, 12, tzinfo=UTC)
    with Programme.open(url, clock=lambda: start) as prog:
        prog.register_registry("noord-holland-2019", by="bench")
        prog.make_offer(reference="BENCH", sent_on=date(2019, 10, 18), by="bench")
        prog.invite(CODE, on=date(2019, 10, 18), reference="BENCH", by="bench")
        prog.accept(CODE, on=date(2019, 11, 1), by="bench")
        prog.connect(CODE, on=date(2019, 12, 1), by="bench")
        m: Any = prog.repository.get(municipality_id(CODE))
        fee = prog._cost(CostKind.REPORT_FEE, m, date(2020, 1, 1))
        category = ReportCategory("fraude")
        n = 0
        at = start
        while m.version < events:
            claims = []
            at += timedelta(minutes=10)
            stamp = Stamp(by="bench", origin="bench", at=at)
            for _ in range(min(CHUNK, events - m.version)):
                day = date(2019, 12, 2) + timedelta(days=n * 1400 // events)
                reference = ReportReference(f"A-{n}")
                m.record_report(day, category, reference, fee, stamp)
                claims.append(ReportClaim.claim(reference, MunicipalityCode(CODE), day, stamp))
                n += 1
            prog.save(m, *claims)
        return at


def _best(work: Any, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def measure(url: str, last: datetime, repeat: int) -> list[tuple[str, float, float]]:
    queries = [
        ("as_of near the end", {"as_of": date(2023, 9, 1), "known_at": None}),
        ("known_at near the end", {"as_of": None, "known_at": last - timedelta(minutes=5)}),
        ("as_of early (no snapshot applies)", {"as_of": date(2020, 1, 15), "known_at": None}),
    ]
    rows = []
    with Programme.open(url) as prog:
        ident = municipality_id(CODE)
        for name, query in queries:

            def without(query: dict[str, Any] = query) -> None:
                m = fold(prog.events.get(ident), query["as_of"], query["known_at"])
                municipality_view(m, prog.reveal, query["as_of"], query["known_at"])

            def with_snapshots(query: dict[str, Any] = query) -> None:
                prog.municipality(CODE, **query)

            with_snapshots()  # the first query takes the snapshots
            rows.append((name, _best(without, repeat), _best(with_snapshots, repeat)))
    return rows


def run(quick: bool = False) -> list[dict[str, Any]]:
    events = 10_000
    repeat = 3 if quick else 7
    results = []
    stores = ["sqlite"] + (["postgresql"] if postgres_available() else [])
    for store in stores:
        with tempfile.TemporaryDirectory() as tmp:
            schema = None
            if store == "sqlite":
                url = f"sqlite:///{Path(tmp) / 'asof.sqlite'}"
            else:
                schema = fresh_schema("bench_asof")
                url = f"{PG}?schema={schema}"
            try:
                last = build(url, events)
                rows = measure(url, last, repeat)
            finally:
                if schema is not None:
                    drop_schema(schema)
        for name, without, with_snapshots in rows:
            results.append(
                {
                    "benchmark": f"as-of query, {events:,} events: {name} (queries/s)",
                    "store": store,
                    "baseline": "the same fold over every event (no snapshots)",
                    "ours_per_s": round(1 / with_snapshots, 1),
                    "baseline_per_s": round(1 / without, 1),
                    "ratio": round(without / with_snapshots, 2),
                    "target": None,
                }
            )
    return results


if __name__ == "__main__":
    for row in run(quick=True):
        print(row)
