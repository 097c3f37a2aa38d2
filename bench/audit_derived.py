"""``mma audit verify`` with its derived-data check against ``--log-only``, on a national store
(342 municipalities, SQLite): the seconds of each, their ratio (target: the full check takes at
most twice the log-only time) and the full check's peak memory, the larger of the walking
process and the child process that checks the derived data (target: under 200 MB each).

    python -m bench.audit_derived [--quick] [--events N] [--store FILE]

The store is written as ``bench/views.py`` writes it (lifecycle events, then reports with their
fees and report claims, two events per report), its views brought up to date, and stored
snapshots every 100 events of a municipality, as the library stores them. ``--store FILE``
reuses a store written before (building a million events takes a while). Each verify runs as a
child process, so its peak resident memory is its own.
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

from bench.common import PEAK_RSS_SNIPPET

RSS_LIMIT_MB = 200.0
VERIFY = (
    PEAK_RSS_SNIPPET
    + """
import sys
from mma_core.cli import cli
try:
    cli(["--store", sys.argv[1], "audit", "verify", *sys.argv[2:]], prog_name="mma")
except SystemExit as done:
    import resource
    # The derived check runs in a child process of its own: its peak too.
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak_mb {peak_mb()} {child}", file=sys.stderr)
    raise
"""
)


def prepare(url: str, events: int) -> int:
    """Write the store, bring its views up to date and store its snapshots."""
    from bench.views import build
    from mma_core import Programme

    written = build(url, events)
    with Programme.open(url) as prog:
        prog.views.catch_up()
        for code in prog.codes():
            prog.municipality(code)  # stores the snapshots the municipality lacks
    return written


def verify_child(url: str, *args: str) -> tuple[float, float, str]:
    """Seconds, peak RSS (MB) and output of ``mma audit verify ARGS`` in a child process."""
    env = {**os.environ, "MMA_LANG": "en"}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", VERIFY, url, *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"verify failed: {done.stdout}{done.stderr}")
    _, parent, child = done.stderr.strip().splitlines()[-1].split()
    return seconds, max(float(parent), float(child)), done.stdout.strip()


def measure(url: str) -> list[dict[str, Any]]:
    log_seconds, log_mb, log_out = verify_child(url, "--log-only")
    full_seconds, full_mb, full_out = verify_child(url)
    events = int(log_out.split()[1])
    assert "log only" in log_out, log_out
    assert "read models and snapshots match the log" in full_out, full_out
    print(log_out, full_out, sep="\n", file=sys.stderr)
    return [
        {
            "benchmark": f"audit verify, full (s) vs --log-only (s), {events:,} events",
            "store": "sqlite",
            "baseline": "mma audit verify --log-only",
            "ours": round(full_seconds, 1),
            "baseline_per_s": round(log_seconds, 1),
            "ratio": round(full_seconds / log_seconds, 3),
            "target": 2.0,
            "lower_is_better": True,
        },
        {
            "benchmark": f"audit verify (full) peak RSS (MB), {events:,} events",
            "store": "sqlite",
            "baseline": f"limit {RSS_LIMIT_MB:.0f} MB; --log-only {log_mb:.1f} MB",
            "ours": round(full_mb, 1),
            "baseline_per_s": RSS_LIMIT_MB,
            "ratio": round(full_mb / RSS_LIMIT_MB, 3),
            "target": 1.0,
            "lower_is_better": True,
        },
    ]


def run(
    quick: bool = False, events: int | None = None, store: str | None = None
) -> list[dict[str, Any]]:
    events = events or (50_000 if quick else 1_000_000)
    if store is not None:
        path = Path(store)
        if not path.exists():
            started = time.perf_counter()
            written = prepare(f"sqlite:///{path}", events)
            print(
                f"wrote {written} events in {time.perf_counter() - started:.0f} s", file=sys.stderr
            )
        return measure(f"sqlite:///{path}")
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'national.sqlite'}"
        started = time.perf_counter()
        written = prepare(url, events)
        print(f"wrote {written} events in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        return measure(url)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.audit_derived", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="50,000 events instead of 1,000,000")
    parser.add_argument("--events", type=int, default=None, help="how many events to write")
    parser.add_argument("--store", default=None, help="an SQLite file to reuse (written if absent)")
    args = parser.parse_args()
    for row in run(args.quick, args.events, args.store):
        print(json.dumps(row))


if __name__ == "__main__":
    main()
