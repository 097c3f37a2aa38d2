"""``python -m bench [--quick] [NAME ...]``: run benchmarks, print a table, write results.json."""

from __future__ import annotations

import argparse
import importlib
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.common import machine, record

BENCHMARKS = [
    "command_throughput",
    "startup",
    "asof",
    "depth",
    "bulk_import",
    "views",
    "breadth",
    "audit_verify",
    "audit_derived",
    "national",
    "store_copy",
    "web_throughput",
]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"which to run (default all: {BENCHMARKS})")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = parser.parse_args()
    results: list[dict[str, Any]] = []
    console = Console()
    for name in args.names or BENCHMARKS:
        console.print(f"[bold]{name}[/bold] ...")
        module = importlib.import_module(f"bench.{name}")
        results.extend(module.run(quick=args.quick))
    table = Table(title=f"mma_core benchmarks — {machine()}")
    for column in ("benchmark", "store", "ours", "baseline", "ratio", "target", "met"):
        table.add_column(column)
    for row in results:
        ratio, target = row.get("ratio"), row.get("target")
        met = "" if ratio is None or target is None else ("yes" if ratio >= target else "NO")
        if row.get("lower_is_better") and ratio is not None and target is not None:
            met = "yes" if ratio <= target else "NO"
        table.add_row(
            row["benchmark"],
            row.get("store", ""),
            str(row.get("ours_per_s", row.get("ours", ""))),
            str(row.get("baseline_per_s", row.get("baseline", ""))),
            str(ratio),
            str(target),
            met,
        )
    console.print(table)
    record(results, quick=args.quick)


if __name__ == "__main__":
    main()
