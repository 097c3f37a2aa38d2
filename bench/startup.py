"""Start-up time of ``mma --help`` (target under 0.3 s), against a bare ``python -c pass``."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any


def _best(argv: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        best = min(best, time.perf_counter() - started)
    return best


def run(quick: bool = False) -> list[dict[str, Any]]:
    repeat = 3 if quick else 10
    python = _best([sys.executable, "-c", "pass"], repeat)
    mma = _best([sys.executable, "-m", "mma_core.cli", "--help"], repeat)
    return [
        {
            "benchmark": "mma --help start-up (s)",
            "store": "-",
            "ours": round(mma, 3),
            "baseline": round(python, 3),
            "ratio": round(mma, 3),
            "target": 0.3,
            "lower_is_better": True,
        }
    ]
