"""A national store (342 municipalities, one million events) on SQLite and PostgreSQL: audit
verify against a raw SELECT + SHA-256 pass, and the peak memory of verify and of a read-model
rebuild, each in a child process of its own (its own ``ru_maxrss``). On PostgreSQL also the
rebuild against bare notification-log decoding (``bench.views`` measures it on SQLite).

The store is written by ``bench.views.build`` (the aggregates' own command methods, large saves).
``--quick`` uses 100,000 events.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import PEAK_RSS_SNIPPET, PG, drop_schema, fresh_schema, postgres_available
from bench.views import build, decode_rate, rebuild_rate

RSS_LIMIT_MB = 200.0

VERIFY_CHILD = """
import json, sys, time
from mma_core.cli.audit import audit
started = time.perf_counter()
try:
    audit(["verify", "--log-only"], prog_name="mma audit")
except SystemExit as done:
    code = done.code
seconds = time.perf_counter() - started
peak = peak_mb()
print(json.dumps({"code": code, "seconds": seconds, "peak_mb": peak}), file=sys.stderr)
"""

REBUILD_CHILD = """
import json, sys, time
from mma_core import Programme
from mma_core.views.models import ReadModels
with Programme.open(sys.argv[1]) as prog:
    started = time.perf_counter()
    applied = ReadModels(prog).rebuild()
    seconds = time.perf_counter() - started
peak = peak_mb()
print(json.dumps({"applied": applied, "seconds": seconds, "peak_mb": peak}), file=sys.stderr)
"""

OPEN_CHILD = """
import json, sys
from mma_core import Programme
with Programme.open(sys.argv[1]) as prog:
    prog.event_count()
peak = peak_mb()
print(json.dumps({"peak_mb": peak}), file=sys.stderr)
"""


def _child(script: str, url: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MMA_")}
    env["MMA_STORE"] = url
    done = subprocess.run(
        [sys.executable, "-c", PEAK_RSS_SNIPPET + script, url],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "{}"
    try:
        report: dict[str, Any] = json.loads(last)
    except json.JSONDecodeError:
        raise SystemExit(f"child failed: {done.stdout}{done.stderr}") from None
    if report.get("code", 0) not in (0, None):
        raise SystemExit(f"verify failed: {done.stdout}{done.stderr}")
    report["stdout"] = done.stdout
    return report


def raw_pass(url: str) -> tuple[int, float]:
    """The floor: every event row in store order, its state hashed."""
    started = time.perf_counter()
    count = 0
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        cursor = conn.execute(
            "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events "
            "ORDER BY rowid"
        )
        while rows := cursor.fetchmany(2000):
            for row in rows:
                hashlib.sha256(row[4]).digest()
                count += 1
        conn.close()
    else:
        import psycopg

        schema = url.rsplit("schema=", 1)[1]
        with psycopg.connect(PG) as conn, conn.cursor(name="raw") as cursor:
            cursor.itersize = 2000
            cursor.execute(
                "SELECT notification_id, originator_id, originator_version, topic, state "
                f"FROM {schema}.programme_events ORDER BY notification_id"
            )
            for row in cursor:
                hashlib.sha256(row[4]).digest()
                count += 1
    return count, time.perf_counter() - started


def one_store(store: str, url: str, events: int) -> list[dict[str, Any]]:
    started = time.perf_counter()
    written = build(url, events)
    built = time.perf_counter() - started
    count, raw_seconds = raw_pass(url)
    verify = _child(VERIFY_CHILD, url)
    size = int(verify["stdout"].split()[1])
    assert count == size == written, (count, size, written)
    rebuild = _child(REBUILD_CHILD, url)
    opened = _child(OPEN_CHILD, url)
    note = f"{written:,} events, written in {built:.0f} s; opening the store alone peaks at "
    note += f"{opened['peak_mb']:.0f} MB"
    rows: list[dict[str, Any]] = [
        {
            "benchmark": f"audit verify, {written:,} events",
            "store": store,
            "baseline": "raw SELECT + SHA-256 of every state",
            "ours_per_s": round(size / verify["seconds"]),
            "baseline_per_s": round(count / raw_seconds),
            "ratio": round((size / verify["seconds"]) / (count / raw_seconds), 3),
            "target": 0.5,
            "note": note,
        },
        {
            "benchmark": f"audit verify peak RSS (MB), {written:,} events",
            "store": store,
            "baseline": f"limit {RSS_LIMIT_MB:.0f} MB",
            "ours": round(verify["peak_mb"], 1),
            "ratio": round(verify["peak_mb"] / RSS_LIMIT_MB, 3),
            "target": 1.0,
            "lower_is_better": True,
            "note": note,
        },
        {
            "benchmark": f"views rebuild peak RSS (MB), {written:,} events",
            "store": store,
            "baseline": f"limit {RSS_LIMIT_MB:.0f} MB",
            "ours": round(rebuild["peak_mb"], 1),
            "ratio": round(rebuild["peak_mb"] / RSS_LIMIT_MB, 3),
            "target": 1.0,
            "lower_is_better": True,
            "rebuild_events_per_s": round(rebuild["applied"] / rebuild["seconds"]),
            "note": note,
        },
    ]
    if store == "postgresql":
        decode = decode_rate(url)
        rebuilt = rebuild_rate(url)
        rows.append(
            {
                "benchmark": "views rebuild",
                "store": store,
                "baseline": "bare eventsourcing decoding the same notification log",
                "ours_per_s": round(rebuilt, 1),
                "baseline_per_s": round(decode, 1),
                "ratio": round(rebuilt / decode, 3),
                "target": 0.5,
                "note": note,
            }
        )
    return rows


def run(quick: bool = False) -> list[dict[str, Any]]:
    events = 100_000 if quick else 1_000_000
    results: list[dict[str, Any]] = []
    stores = ["sqlite"] + (["postgresql"] if postgres_available() else [])
    for store in stores:
        with tempfile.TemporaryDirectory() as tmp:
            schema = None
            if store == "sqlite":
                url = f"sqlite:///{Path(tmp) / 'national.sqlite'}"
            else:
                schema = fresh_schema("bench_national")
                url = f"{PG}?schema={schema}"
            try:
                results.extend(one_store(store, url, events))
            finally:
                if schema is not None:
                    drop_schema(schema)
    return results


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(json.dumps(row))
