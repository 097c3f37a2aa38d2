"""Reads at breadth: 342 municipalities, a store written through ``record_reports`` (SQLite).

- ``mma status --as-of 2020-12-31`` against ``mma status``, both as subprocesses (interpreter
  start, store open, catch-up, read, print): the median of paired runs. Target: at most 1.5x.
  The as-of read starts from the as-of index's state of each municipality at the month end and
  folds only the events after it (none, at a month end).
- ``Programme.overview()`` with its defaults against ``overview(cost_lines=False)``, warm, in
  one process. Target: at most 3x.
- ``overview(as_of=...)`` warm, and its peak memory in a process of its own.

``--quick`` writes 100,000 events; the full run 1,000,000 (about one report in two events: the
report and its report claim). Reports are dated across 2019-12 to 2025-10, in order per
municipality, written in calls of 5,000 rows.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import PEAK_RSS_SNIPPET

MUNICIPALITIES = 342
ROWS_PER_CALL = 5_000
SPAN_DAYS = 2_150  # 2019-12-02 to 2025-10
AS_OF = "2020-12-31"


def build(url: str, events: int) -> int:
    from mma_core import Money, Programme, Terms

    clock = datetime(2026, 1, 2, 12, tzinfo=UTC)
    with Programme.open(url, clock=lambda: clock) as prog:
        codes = _register(prog, clock)
        prog.make_offer(
            reference="BENCH",
            sent_on=date(2019, 10, 18),
            terms=Terms(connection_fee=Money("2000.00"), report_fee=Money("22.50")),
            by="bench",
        )
        for code in codes:
            prog.invite(code, on=date(2019, 10, 18), reference="BENCH", by="bench")
            prog.accept(code, on=date(2019, 11, 1), by="bench")
            prog.connect(code, on=date(2019, 12, 1), by="bench")
        reports = max(0, (events - prog.event_count()) // 2)
        per = reports // len(codes) + 1
        rows: list[tuple[str, date, str, str]] = []
        n = 0
        for step in range(per):
            day = date(2019, 12, 2) + timedelta(days=step * SPAN_DAYS // per)
            for code in codes:
                if n >= reports:
                    break
                rows.append((code, day, "fraude", f"B-{n}"))
                n += 1
                if len(rows) == ROWS_PER_CALL:
                    prog.record_reports(rows, by="bench")
                    rows = []
        if rows:
            prog.record_reports(rows, by="bench")
        return prog.event_count()


def _register(prog: Any, clock: datetime) -> list[str]:
    """342 municipalities of a registry of the bench's own."""
    from mma_core.domain.common import Stamp
    from mma_core.domain.municipality import Municipality
    from mma_core.domain.values import MunicipalityCode, RegistryEntry

    stamp = Stamp(by="bench", origin="bench", at=clock)
    entries = [
        RegistryEntry(
            code=MunicipalityCode(f"GM{5000 + n:04d}"),
            name=f"Gemeente {n}",
            province="PV99",
            valid_from=None,
            valid_until=None,
            successor=None,
            population=20_000 + 137 * n,
        )
        for n in range(MUNICIPALITIES)
    ]
    prog.save(*[Municipality.register(entry, "bench", stamp) for entry in entries])
    return [entry.code.value for entry in entries]


def paired(url: str, cwd: Path, runs: int) -> tuple[float, float]:
    """Median seconds of ``mma status`` and of ``mma status --as-of``, run in pairs."""
    env = {**os.environ, "MMA_STORE": url, "COLUMNS": "120"}
    base = [sys.executable, "-m", "mma_core.cli", "status"]
    now, as_of = [], []
    subprocess.run(base, env=env, cwd=cwd, check=True, capture_output=True)  # views caught up
    for _ in range(runs):
        for argv, into in ((base, now), ([*base, "--as-of", AS_OF], as_of)):
            started = time.perf_counter()
            subprocess.run(argv, env=env, cwd=cwd, check=True, capture_output=True)
            into.append(time.perf_counter() - started)
    return statistics.median(now), statistics.median(as_of)


def in_process(url: str) -> dict[str, float]:
    from mma_core import Programme

    def best(work: Any, repeat: int = 5) -> float:
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            work()
            times.append(time.perf_counter() - started)
        return min(times)

    with Programme.open(url) as prog:
        prog.overview()
        slim = best(lambda: prog.overview(cost_lines=False))
        default = best(lambda: prog.overview())
        as_of = best(lambda: prog.overview(as_of=date(2020, 12, 31)))
        mid = best(lambda: prog.overview(as_of=date(2022, 6, 15)))
    return {"slim": slim, "default": default, "as_of": as_of, "as_of_mid": mid}


PEAK_CHILD = """
import json, sys, time
from datetime import date
from mma_core import Programme
with Programme.open(sys.argv[1]) as prog:
    started = time.perf_counter()
    prog.overview(as_of=date(2020, 12, 31))
    seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "peak_mb": peak_mb()}), file=sys.stderr)
"""


def peak(url: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", PEAK_RSS_SNIPPET + PEAK_CHILD, url],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(done.stderr.strip().splitlines()[-1])
    return result


def run(quick: bool = False) -> list[dict[str, Any]]:
    events = 100_000 if quick else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        # BENCH_BREADTH_STORE names a file to keep (and to reuse when it exists).
        kept = os.environ.get("BENCH_BREADTH_STORE")
        path = Path(kept) if kept else Path(tmp) / "breadth.sqlite"
        url = f"sqlite:///{path}"
        started = time.perf_counter()
        if path.exists():
            from mma_core import Programme

            with Programme.open(url) as prog:
                written = prog.event_count()
        else:
            written = build(url, events)
        build_s = time.perf_counter() - started
        status_s, as_of_s = paired(url, Path(tmp), 5)
        reads = in_process(url)
        memory = peak(url)
    note = f"{MUNICIPALITIES} municipalities, {written} events (record_reports, {build_s:.0f} s)"
    return [
        {
            "benchmark": f"mma status --as-of {AS_OF} / mma status",
            "store": "sqlite",
            "ours": round(as_of_s, 3),
            "baseline": round(status_s, 3),
            "ratio": round(as_of_s / status_s, 3),
            "target": 1.5,
            "lower_is_better": True,
            "note": note,
        },
        {
            "benchmark": "overview() / overview(cost_lines=False), warm",
            "store": "sqlite",
            "ours": round(reads["default"], 4),
            "baseline": round(reads["slim"], 4),
            "ratio": round(reads["default"] / reads["slim"], 3),
            "target": 3.0,
            "lower_is_better": True,
            "note": note,
        },
        {
            "benchmark": "overview(as_of=2020-12-31) warm (s); 2022-06-15 beside",
            "store": "sqlite",
            "ours": round(reads["as_of"], 4),
            "baseline": round(reads["as_of_mid"], 4),
            "note": note,
        },
        {
            "benchmark": "overview(as_of=...) fresh process: seconds, peak MB",
            "store": "sqlite",
            "ours": round(memory["seconds"], 3),
            "baseline": round(memory["peak_mb"], 1),
            "note": note,
        },
    ]


if __name__ == "__main__":
    for row in run(quick="--full" not in sys.argv):
        print(row)
