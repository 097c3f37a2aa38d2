"""Start-up time of ``mma --help`` against importing what any command line on this stack needs
(``python -c "import click, rich.console, eventsourcing.application"``): the median of paired
runs, one of each in turn so that a busy machine slows both alike. Target: at most 1.5x."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from typing import Any

BASELINE = "import click, rich.console, eventsourcing.application"


def _once(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True)
    return time.perf_counter() - started


def paired(runs: int) -> tuple[float, float]:
    """Median seconds of ``mma --help`` and of the baseline import, run in pairs."""
    mma_argv = [sys.executable, "-m", "mma_core.cli", "--help"]
    base_argv = [sys.executable, "-c", BASELINE]
    _once(mma_argv)  # the byte-code caches written, not timed
    ours, base = [], []
    for _ in range(runs):
        ours.append(_once(mma_argv))
        base.append(_once(base_argv))
    return statistics.median(ours), statistics.median(base)


def run(quick: bool = False) -> list[dict[str, Any]]:
    ours, base = paired(5 if quick else 21)
    return [
        {
            "benchmark": "mma --help start-up (s), median of paired runs",
            "store": "-",
            "ours": round(ours, 3),
            "baseline": round(base, 3),
            "ratio": round(ours / base, 3),
            "target": 1.5,
            "lower_is_better": True,
            "note": f"baseline: python -c {BASELINE!r}",
        }
    ]


if __name__ == "__main__":
    for row in run(quick="--full" not in sys.argv):
        print(row)
