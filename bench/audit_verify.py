"""``mma audit verify`` on a large SQLite store: its rate and peak memory, against a raw
``SELECT`` + SHA-256 pass over the same rows in the same run; then ``mma audit export`` of the
store and ``tools/verify_export.py`` on the export: its rate and peak memory (limit 100 MB).

    python -m bench.audit_verify [--quick] [--events N]

The store is written through the library's own SQLite recorder (so every event has its leaf),
with synthetic events: half are one-event aggregates (like report claims), half belong to
long-lived aggregates. Verify runs as a child process so its peak resident memory is its own.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteDatastore

from bench.common import PEAK_RSS_SNIPPET
from mma_core.storage import SQLiteRecorder

BATCH = 1000
LONG_LIVED = 2000
TOPIC = "mma_core.domain.municipality:Municipality.ReportRecorded"
RSS_LIMIT_MB = 200.0
STANDALONE_LIMIT_MB = 100.0
STANDALONE = Path(__file__).resolve().parents[1] / "tools" / "verify_export.py"


def write_store(path: Path, events: int) -> None:
    recorder = SQLiteRecorder(SQLiteDatastore(str(path)))
    recorder.create_table()
    long_lived = [uuid.uuid4() for _ in range(LONG_LIVED)]
    versions = dict.fromkeys(long_lived, 0)
    written = 0
    while written < events:
        batch = []
        for i in range(min(BATCH, events - written)):
            n = written + i
            if n % 2:
                originator, version = uuid.uuid4(), 1
            else:
                originator = long_lived[(n // 2) % LONG_LIVED]
                versions[originator] += 1
                version = versions[originator]
            state = json.dumps(
                {
                    "timestamp": {"_type_": "datetime_iso", "_data_": "2020-01-01T12:00:00+00:00"},
                    "by": "bench",
                    "origin": "bench",
                    "on": {"_type_": "date_iso", "_data_": "2020-01-01"},
                    "category": "drugs",
                    "reference": f"R{n:09d}",
                    "fee": {"amount": "12.50", "currency": "EUR"},
                    "padding": os.urandom(64).hex(),
                }
            ).encode()
            batch.append(StoredEvent(originator, version, TOPIC, state))
        recorder.insert_events(batch)
        written += len(batch)
    recorder.datastore.close()


def raw_pass(path: Path) -> tuple[int, float]:
    """The floor: read every event row in store order and hash its state."""
    started = time.perf_counter()
    conn = sqlite3.connect(path)
    count = 0
    cursor = conn.execute(
        "SELECT rowid, originator_id, originator_version, topic, state FROM stored_events "
        "ORDER BY rowid"
    )
    while rows := cursor.fetchmany(2000):
        for row in rows:
            hashlib.sha256(row[4]).digest()
            count += 1
    conn.close()
    return count, time.perf_counter() - started


VERIFY = (
    PEAK_RSS_SNIPPET
    + """
import sys
from mma_core.cli.audit import audit
try:
    audit(["verify", "--log-only"], prog_name="mma audit")
except SystemExit as done:
    print(f"peak_mb {peak_mb()}", file=sys.stderr)
    raise
"""
)


def verify_child(path: Path) -> tuple[int, float, float, str]:
    """Run ``mma audit verify`` in a child; its event count, seconds, peak RSS and output."""
    env = {**os.environ, "MMA_STORE": f"sqlite:///{path}"}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", VERIFY], capture_output=True, text=True, env=env, check=False
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"verify failed: {done.stdout}{done.stderr}")
    peak_mb = float(done.stderr.strip().splitlines()[-1].split()[1])
    size = int(done.stdout.split()[1])
    return size, seconds, peak_mb, done.stdout.strip()


STANDALONE_CHILD = (
    PEAK_RSS_SNIPPET
    + """
import runpy, sys
tool, directory, key = sys.argv[1:4]
sys.argv = [tool, directory, "--public-key", key]
try:
    runpy.run_path(tool, run_name="__main__")
except SystemExit as done:
    print(f"peak_mb {peak_mb()}", file=sys.stderr)
    raise
"""
)


def standalone_child(path: Path, directory: Path) -> tuple[float, float, str]:
    """Export the store (the library, in this process), then run the standalone verifier on
    it in a child: its seconds, peak RSS and output."""
    from mma_core.audit import checkpoint as notes
    from mma_core.audit.export import export
    from mma_core.audit.sources import open_reader, open_recorder

    key = notes.generate_key("bench")
    with open_recorder(f"sqlite:///{path}") as recorder, open_reader(recorder) as reader:
        export(reader, directory, key, "bench/programme")
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            STANDALONE_CHILD,
            str(STANDALONE),
            str(directory),
            str(key.verifier()),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"the standalone verifier failed: {done.stdout}{done.stderr}")
    peak_mb = float(done.stderr.strip().splitlines()[-1].split()[1])
    return seconds, peak_mb, done.stdout.strip()


def run(quick: bool = False, events: int | None = None) -> list[dict[str, Any]]:
    events = events or (100_000 if quick else 1_000_000)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.sqlite"
        started = time.perf_counter()
        write_store(path, events)
        written_in = time.perf_counter() - started
        count, raw_seconds = raw_pass(path)
        size, seconds, peak_mb, output = verify_child(path)
        tool_seconds, tool_mb, tool_output = standalone_child(path, Path(tmp) / "export")
    assert count == size == events, (count, size, events)
    assert tool_output.startswith(f"OK: {events} events verified"), tool_output
    print(f"wrote {events} events with leaves in {written_in:.1f} s", file=sys.stderr)
    print(output, file=sys.stderr)
    return [
        {
            "benchmark": f"audit verify, {events:,} events",
            "store": "sqlite",
            "baseline": "raw SELECT + SHA-256 of every state",
            "ours_per_s": round(size / seconds),
            "baseline_per_s": round(count / raw_seconds),
            "ratio": round((size / seconds) / (count / raw_seconds), 3),
            "target": 0.5,
        },
        {
            "benchmark": f"audit verify peak RSS (MB), {events:,} events",
            "store": "sqlite",
            "baseline": f"limit {RSS_LIMIT_MB:.0f} MB",
            "ours": round(peak_mb, 1),
            "baseline_per_s": RSS_LIMIT_MB,
            "ratio": round(peak_mb / RSS_LIMIT_MB, 3),
            "target": 1.0,
            "lower_is_better": True,
        },
        {
            "benchmark": f"tools/verify_export.py (events/s) vs raw SELECT + SHA-256, {events:,}",
            "store": "export",
            "baseline": "raw SELECT + SHA-256 of every state",
            "ours_per_s": round(events / tool_seconds),
            "baseline_per_s": round(count / raw_seconds),
            "ratio": round((events / tool_seconds) / (count / raw_seconds), 3),
            "target": None,
        },
        {
            "benchmark": f"tools/verify_export.py peak RSS (MB), {events:,} events",
            "store": "export",
            "baseline": f"limit {STANDALONE_LIMIT_MB:.0f} MB",
            "ours": round(tool_mb, 1),
            "baseline_per_s": STANDALONE_LIMIT_MB,
            "ratio": round(tool_mb / STANDALONE_LIMIT_MB, 3),
            "target": 1.0,
            "lower_is_better": True,
        },
    ]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.audit_verify", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100,000 events instead of 1,000,000")
    parser.add_argument("--events", type=int, default=None, help="how many events to write")
    args = parser.parse_args()
    for row in run(args.quick, args.events):
        print(json.dumps(row))


if __name__ == "__main__":
    main()
