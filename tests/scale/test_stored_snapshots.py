"""Stored snapshots are derived data: answers with them equal answers without them, on both
time axes, in a fresh process; and ``mma audit verify`` checks them against a replay of the log
(``--log-only`` leaves them out)."""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mma_core import Programme
from mma_core.application import asof
from mma_core.domain.municipality import municipality_id


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2021, 6, 1, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def build(url: str, clock: Clock) -> list[datetime]:
    rng = random.Random(11)
    times = []
    with Programme.open(url, clock=clock) as prog:
        prog.register_registry("noord-holland-2019", by="t")
        prog.make_offer(reference="R", sent_on=date(2019, 10, 18), by="t")
        for code in ("GM0363", "GM0358"):
            prog.invite(code, on=date(2019, 10, 18), reference="R", by="t")
            prog.accept(code, on=date(2019, 11, 1), by="t")
            prog.connect(code, on=date(2019, 12, 1), by="t")
        for n in range(45):
            clock.now += timedelta(hours=rng.choice([5, 20, -3]) if n else 48)
            times.append(clock.now)
            day = date(2020, 1, 1) + timedelta(days=rng.randrange(0, 300))
            code = "GM0363" if n % 3 else "GM0358"
            prog.record_report(code, received_on=day, category="fraude", reference=f"D{n}", by="t")
            if n == 20:
                prog.nominate_official("GM0363", name="A B", email="a@example.nl", on=day, by="t")
            if n == 30:  # a bulk save that passes several snapshot versions at once
                rows = [("GM0363", day, "fraude", f"B{k}") for k in range(12)]
                prog.record_reports(rows, by="t")
        prog.evaluate("GM0363", on=date(2020, 12, 1), outcome="continue", by="t")
        prog.renew("GM0363", on=date(2020, 12, 2), by="t")
    return times


def answers(url: str, clock: Clock, times: list[datetime]) -> list[Any]:
    days = [None, *(date(2019, 12, 1) + timedelta(days=d) for d in range(0, 420, 60))]
    knowns = [None, *times[::9], times[-1] + timedelta(days=1)]
    found: list[Any] = []
    with Programme.open(url, clock=clock) as prog:
        for as_of in days:
            for known_at in knowns:
                for code in ("GM0363", "GM0358"):
                    found.append(prog.municipality(code, as_of=as_of, known_at=known_at))
                if as_of is not None:
                    found.append(prog.overview(as_of=as_of, known_at=known_at))
        found.append(prog.overview())
        found.append(prog.history("GM0363"))
        found.append(prog.history("GM0363", limit=7, latest=True))
    return found


def snapshot_rows(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT COUNT(*) FROM stored_snapshots").fetchone()[0])


def test_deleting_every_snapshot_changes_no_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(asof, "SNAPSHOT_EVERY", 5)
    path = tmp_path / "s.sqlite"
    url = f"sqlite:///{path}"
    clock = Clock()
    times = build(url, clock)
    assert snapshot_rows(path) >= 6
    with_snapshots = answers(url, clock, times)
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM stored_snapshots")
    assert snapshot_rows(path) == 0
    # A fresh process without snapshots: every answer the same (and the folds store new ones).
    assert answers(url, clock, times) == with_snapshots
    assert snapshot_rows(path) > 0
    monkeypatch.setattr(asof, "SNAPSHOT_EVERY", 10**9)  # and none at all, ever
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM stored_snapshots")
    assert answers(url, clock, times) == with_snapshots


def test_a_fresh_process_loads_from_the_latest_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(asof, "SNAPSHOT_EVERY", 5)
    url = f"sqlite:///{tmp_path / 'f.sqlite'}"
    clock = Clock()
    build(url, clock)
    with Programme.open(url, clock=clock) as prog:
        read: list[int] = []
        select = prog.recorder.select_events

        def counting(*args: Any, **kwargs: Any) -> Any:
            rows = select(*args, **kwargs)
            read.append(len(rows))
            return rows

        monkeypatch.setattr(prog.recorder, "select_events", counting)
        m = prog.repository.get(municipality_id("GM0363"))
        assert m.reports_received == 42
        assert sum(read) < 5  # the events after the latest snapshot, not the 36 of its history


def test_each_stored_snapshot_equals_a_replay_to_its_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Snapshots stored after a save replay from the events that save held in memory (a bulk
    import does not read its own events back): the state equals a replay from the store."""
    from mma_core.application.snapshots import MunicipalitySnapshot

    monkeypatch.setattr(asof, "SNAPSHOT_EVERY", 5)
    url = f"sqlite:///{tmp_path / 'r.sqlite'}"
    clock = Clock()
    build(url, clock)
    with Programme.open(url, clock=clock) as prog:
        assert prog.snapshots is not None
        for code in ("GM0363", "GM0358"):
            ident = municipality_id(code)
            events = list(prog.events.get(ident))
            stored = list(prog.snapshots.get(ident))
            assert [s.originator_version for s in stored] == list(range(5, len(events) + 1, 5))
            for snapshot in stored:
                assert isinstance(snapshot, MunicipalitySnapshot)
                replayed: Any = None
                for event in events[: snapshot.originator_version]:
                    replayed = event.mutate(replayed)
                again = MunicipalitySnapshot.of(
                    replayed,
                    max(e.timestamp for e in events[: snapshot.originator_version]),
                    snapshot.business_until,
                )
                assert snapshot.state == again.state, (code, snapshot.originator_version)


def test_audit_verify_checks_snapshots_and_views_rebuild_repairs_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from mma_core.cli import cli

    monkeypatch.setattr(asof, "SNAPSHOT_EVERY", 5)
    path = tmp_path / "a.sqlite"
    url = f"sqlite:///{path}"
    build(url, Clock())
    runner = CliRunner()
    ok = runner.invoke(cli, ["--store", url, "audit", "verify"])
    assert ok.exit_code == 0, ok.output
    with sqlite3.connect(path) as db:
        leaves = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        db.execute("UPDATE stored_snapshots SET state = X'00'")
    assert "stored_snapshots" in leaves
    # Snapshots are derived data, and derived data is evidence: a damaged one is named ...
    damaged = runner.invoke(cli, ["--store", url, "audit", "verify"])
    assert damaged.exit_code == 1, damaged.output
    assert "FAILED: derived: stored_snapshots" in damaged.output
    # ... the log itself still verifies ...
    log_only = runner.invoke(cli, ["--store", url, "audit", "verify", "--log-only"])
    assert log_only.exit_code == 0, log_only.output
    # ... and rebuilding the views drops the snapshots, which reads store again.
    assert runner.invoke(cli, ["--store", url, "views", "rebuild"]).exit_code == 0
    repaired = runner.invoke(cli, ["--store", url, "audit", "verify"])
    assert repaired.exit_code == 0, repaired.output
