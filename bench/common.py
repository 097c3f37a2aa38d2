"""Timing, memory and result-recording helpers shared by the benchmarks."""

from __future__ import annotations

import json
import os
import platform
import resource
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("results.json")
PG = "postgresql://postgres@127.0.0.1:5432/test"


def rate(count: int, work: Callable[[], None], repeat: int = 3) -> float:
    """Best of ``repeat`` runs, in operations per second."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return count / best


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> dict[str, Any]:
    return {
        "date": datetime.now(UTC).date().isoformat(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
    }


def postgres_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG, connect_timeout=3):
            return True
    except Exception:
        return False


def fresh_schema(prefix: str) -> str:
    import uuid

    import psycopg

    schema = f"{prefix}_{uuid.uuid4().hex[:8]}"
    from psycopg import sql

    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    return schema


def drop_schema(schema: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


PEAK_RSS_SNIPPET = """
def peak_mb():
    # VmHWM: this process's own high-water mark. ru_maxrss would also count the parent's
    # memory at fork time, which Linux carries across exec.
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""


def record(results: list[dict[str, Any]], quick: bool = False) -> None:
    """Write the results; rows of benchmarks not run this time are kept from the last file.
    A ``--quick`` run writes ``results-quick.json``, never over the full run's results."""
    path = RESULTS.with_name("results-quick.json") if quick else RESULTS
    today = machine()["date"]
    for row in results:
        row.setdefault("date", today)
    fresh = {(row["benchmark"], row.get("store")) for row in results}
    kept: list[dict[str, Any]] = []
    if path.exists():
        try:
            old = json.loads(path.read_text())["results"]
        except (ValueError, KeyError):
            old = []
        kept = [row for row in old if (row["benchmark"], row.get("store")) not in fresh]
    document = {"machine": machine(), "results": kept + results}
    path.write_text(json.dumps(document, indent=2) + "\n")
