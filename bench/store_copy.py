"""``mma store copy`` of a large SQLite store: to PostgreSQL (when the server is there) and to
another SQLite file, each in a child process, with its time and peak memory (limit 200 MB).

    python -m bench.store_copy [--quick] [--events N]

The store is the synthetic one of ``bench.audit_verify`` (every event with its leaf), opened
once so that it records its schema version. The copy streams in pages and verifies the copy
against the source's root before it ends, so the time includes the verification.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.audit_verify import write_store
from bench.common import PEAK_RSS_SNIPPET, PG, drop_schema, fresh_schema, postgres_available
from mma_core import Programme

RSS_LIMIT_MB = 200.0

COPY = (
    PEAK_RSS_SNIPPET
    + """
import sys
from mma_core.application.store_copy import copy_store
result = copy_store(sys.argv[1], sys.argv[2])
print(result.events, result.size)
print(f"peak_mb {peak_mb()}", file=sys.stderr)
"""
)


def copy_child(source: str, destination: str) -> tuple[int, float, float]:
    """Copy in a child process; the events copied, the seconds and the peak RSS."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", COPY, source, destination],
        capture_output=True,
        text=True,
        check=False,
        env=dict(os.environ),
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"the copy failed: {done.stdout}{done.stderr}")
    peak_mb = float(done.stderr.strip().splitlines()[-1].split()[1])
    return int(done.stdout.split()[0]), seconds, peak_mb


def _rows(events: int, store: str, seconds: float, peak_mb: float) -> list[dict[str, Any]]:
    return [
        {
            "benchmark": f"store copy (events/s, verified), {events:,} events",
            "store": store,
            "baseline": "none",
            "ours_per_s": round(events / seconds),
            "seconds": round(seconds, 1),
            "target": None,
        },
        {
            "benchmark": f"store copy peak RSS (MB), {events:,} events",
            "store": store,
            "baseline": f"limit {RSS_LIMIT_MB:.0f} MB",
            "ours": round(peak_mb, 1),
            "baseline_per_s": RSS_LIMIT_MB,
            "ratio": round(peak_mb / RSS_LIMIT_MB, 3),
            "target": 1.0,
            "lower_is_better": True,
        },
    ]


def run(quick: bool = False, events: int | None = None) -> list[dict[str, Any]]:
    events = events or (100_000 if quick else 1_000_000)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.sqlite"
        source = f"sqlite:///{path}"
        started = time.perf_counter()
        write_store(path, events)
        Programme.open(source).close()  # records the schema version
        print(f"wrote {events} events in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        copied, seconds, peak_mb = copy_child(source, f"sqlite:///{Path(tmp) / 'copy.sqlite'}")
        assert copied == events, (copied, events)
        results += _rows(events, "sqlite -> sqlite", seconds, peak_mb)
        if postgres_available():
            schema = fresh_schema("bench_copy")
            try:
                copied, seconds, peak_mb = copy_child(source, f"{PG}?schema={schema}")
                assert copied == events, (copied, events)
                results += _rows(events, "sqlite -> postgresql", seconds, peak_mb)
            finally:
                drop_schema(schema)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.store_copy", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100,000 events instead of 1,000,000")
    parser.add_argument("--events", type=int, default=None, help="how many events to write")
    args = parser.parse_args()
    for row in run(args.quick, args.events):
        print(json.dumps(row))


if __name__ == "__main__":
    main()
