"""Bulk import of reports from a CSV file vs one ``record_report`` at a time, same run.

Both record the same kind of rows on eight connected municipalities of a fresh SQLite store:
``Programme.record_reports`` on the rows ``mma_core.paperwork.tables`` reads from the CSV (what
``mma report import`` does, in one transaction), against ``record_report`` per row. Target
(issue 14): 5x the one-at-a-time rate or more, for 50,000 rows.
"""

from __future__ import annotations

import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from mma_core import Programme
from mma_core.application.report_rows import ReportRow
from mma_core.cli import REPORT_COLUMNS
from mma_core.paperwork.tables import read_table

CODES = ["GM0358", "GM0361", "GM0362", "GM0363", "GM0373", "GM0375", "GM0376", "GM0377"]


def _programme(url: str) -> Programme:
    prog = Programme.open(url)
    prog.register_registry("noord-holland-2019", by="bench")
    prog.make_offer(reference="B", sent_on=date(2019, 10, 18), by="bench")
    for code in CODES:
        prog.invite(code, on=date(2019, 10, 18), reference="B", by="bench")
        prog.accept(code, on=date(2019, 11, 1), by="bench")
        prog.connect(code, on=date(2019, 12, 1), by="bench")
    return prog


def run(quick: bool = False) -> list[dict[str, Any]]:
    rows = 5_000 if quick else 50_000
    single = 200 if quick else 500
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "meldingen.csv"
        with csv.open("w", encoding="utf-8") as out:
            out.write("gemeente;ontvangen op;categorie;kenmerk\n")
            for n in range(rows):
                day = date(2020, 1, 1) + timedelta(days=n % 1000)
                out.write(f"{CODES[n % len(CODES)]};{day.isoformat()};fraude;MMA-I-{n}\n")
        with _programme(f"sqlite:///{Path(tmp) / 'bulk.sqlite'}") as prog:
            started = time.perf_counter()
            parsed = [
                ReportRow(
                    r["municipality"],
                    date.fromisoformat(r["received_on"]),
                    r["category"],
                    r["reference"],
                    r.line,
                )
                for r in read_table(csv, REPORT_COLUMNS)
            ]
            prog.record_reports(parsed, by="bench")
            bulk = rows / (time.perf_counter() - started)
        with _programme(f"sqlite:///{Path(tmp) / 'one.sqlite'}") as prog:
            started = time.perf_counter()
            for n in range(single):
                prog.record_report(
                    CODES[n % len(CODES)],
                    received_on=date(2020, 1, 1) + timedelta(days=n % 1000),
                    category="fraude",
                    reference=f"MMA-S-{n}",
                    by="bench",
                )
            one = single / (time.perf_counter() - started)
    return [
        {
            "benchmark": f"bulk import of {rows:,} reports from CSV (reports/s)",
            "store": "sqlite",
            "baseline": "record_report one at a time, same run",
            "ours_per_s": round(bulk, 1),
            "baseline_per_s": round(one, 1),
            "ratio": round(bulk / one, 2),
            "target": 5.0,
        }
    ]


if __name__ == "__main__":
    for row in run(quick=True):
        print(row)
