"""Read models at national scale: 342 municipalities and one million events (SQLite).

- ``views rebuild``: a full rebuild of the read models, in events per second, against bare
  eventsourcing decoding the same notification log (``select_notifications`` +
  ``mapper.to_domain_event`` for every event, same batch size), measured in the same run.
  Target: at least half that rate.
- ``mma status``: the whole command as a subprocess (interpreter start, store open, catch-up,
  read, print) answering from the views; the budget is one second. Also the in-process query.

The store is written through the aggregates' own command methods (the rules still run) and
saved in large batches: a realistic mix of lifecycle events, and reports with their fees and
report claims, two events per report. ``--quick`` uses 50,000 events.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from mma_core import Money, Programme, Terms
from mma_core.domain.common import Stamp
from mma_core.domain.municipality import Municipality, municipality_id
from mma_core.domain.report_claim import ReportClaim
from mma_core.domain.values import (
    CostKind,
    MunicipalityCode,
    RegistryEntry,
    ReportCategory,
    ReportReference,
)
from mma_core.views.models import ReadModels
from mma_core.views.updater import BATCH_SIZE

MUNICIPALITIES = 342
CHUNK = 250  # reports per save: 500 events in one transaction


def build(url: str, events: int) -> int:
    """Write a programme of about ``events`` events; returns the number written."""
    clock = datetime(2024, 1, 2, 12, tzinfo=UTC)
    with Programme.open(url, clock=lambda: clock) as prog:
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
        prog.make_offer(
            reference="BENCH",
            sent_on=date(2019, 10, 18),
            terms=Terms(connection_fee=Money("2000.00"), report_fee=Money("22.50")),
            by="bench",
        )
        codes = [entry.code.value for entry in entries]
        for code in codes:
            prog.invite(code, on=date(2019, 10, 18), reference="BENCH", by="bench")
            prog.accept(code, on=date(2019, 11, 1), by="bench")
            prog.connect(code, on=date(2019, 12, 1), by="bench")
        written = prog.event_count()
        reports = max(0, (events - written) // 2)
        category = ReportCategory("fraude")
        n = 0
        for index, code in enumerate(codes):
            share = reports // len(codes) + (1 if index < reports % len(codes) else 0)
            m: Any = prog.repository.get(municipality_id(code))
            fee = prog._cost(CostKind.REPORT_FEE, m, date(2020, 1, 1))
            done = 0
            while done < share:
                claims = []
                for _ in range(min(CHUNK, share - done)):
                    day = date(2019, 12, 2) + timedelta(days=n % 1400)
                    reference = ReportReference(f"B-{n}")
                    m.record_report(day, category, reference, fee, stamp)
                    claims.append(ReportClaim.claim(reference, MunicipalityCode(code), day, stamp))
                    n += 1
                    done += 1
                prog.save(m, *claims)
        return prog.event_count()


def decode_rate(url: str) -> float:
    """Bare eventsourcing: read and decode every notification, in batches."""
    with Programme.open(url) as prog:
        recorder, mapper = prog.recorder, prog.mapper
        started = time.perf_counter()
        count, start = 0, 1
        while True:
            batch = recorder.select_notifications(start, BATCH_SIZE)
            for notification in batch:
                mapper.to_domain_event(notification)
            count += len(batch)
            if len(batch) < BATCH_SIZE:
                break
            start = batch[-1].id + 1
        return count / (time.perf_counter() - started)


def rebuild_rate(url: str) -> float:
    with Programme.open(url) as prog:
        models = ReadModels(prog)
        started = time.perf_counter()
        applied = models.rebuild()
        return applied / (time.perf_counter() - started)


def status_seconds(url: str, cwd: Path) -> tuple[float, float]:
    """(the ``mma status`` subprocess, the in-process overview), best of three each."""
    env = {**os.environ, "MMA_STORE": url, "COLUMNS": "120"}
    command = [sys.executable, "-m", "mma_core.cli", "status"]
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run(command, env=env, cwd=cwd, check=True, capture_output=True)
        best = min(best, time.perf_counter() - started)
    query = float("inf")
    with Programme.open(url) as prog:
        for _ in range(3):
            started = time.perf_counter()
            prog.overview(cost_lines=False)
            query = min(query, time.perf_counter() - started)
    return best, query


def run(quick: bool = False) -> list[dict[str, Any]]:
    events = 50_000 if quick else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'national.sqlite'}"
        started = time.perf_counter()
        written = build(url, events)
        build_s = time.perf_counter() - started
        decode = decode_rate(url)
        rebuild = rebuild_rate(url)
        command_s, query_s = status_seconds(url, Path(tmp))
    note = f"{MUNICIPALITIES} municipalities, {written} events (written in {build_s:.0f} s)"
    return [
        {
            "benchmark": "views rebuild",
            "store": "sqlite",
            "baseline": "bare eventsourcing decoding the same notification log",
            "ours_per_s": round(rebuild, 1),
            "baseline_per_s": round(decode, 1),
            "ratio": round(rebuild / decode, 3),
            "target": 0.5,
            "note": note,
        },
        {
            "benchmark": "mma status from the views (s)",
            "store": "sqlite",
            "ours": round(command_s, 3),
            "baseline": 1.0,
            "ratio": round(command_s / 1.0, 3),
            "target": 1.0,
            "lower_is_better": True,
            "query_s": round(query_s, 4),
            "note": note,
        },
    ]


if __name__ == "__main__":
    for row in run(quick=True):
        print(row)
