"""A store written before ``TrainingSession.Scheduled`` gained ``online`` (class version 1)
replays with today's code, through the upcaster, and still verifies: upcasting happens on
reading, the stored bytes and so their leaves stay as written."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from audit_helpers import export_url, rows, sqlite_url, standalone, verify_url

from mma_core import Programme
from mma_core.application import asof
from mma_core.audit import checkpoint as notes
from mma_core.domain.training import TrainingSession, session_id_to_uuid

FIXTURE = Path(__file__).parent / "fixtures" / "v1-store.sqlite"
KEY = notes.generate_key("test-auditor")


def test_the_fixture_holds_version_1_events() -> None:
    states = rows(
        FIXTURE, "SELECT state FROM stored_events WHERE topic LIKE '%TrainingSession.Scheduled'"
    )
    assert len(states) == 3
    assert all(b"class_version" not in s and b"online" not in s for (s,) in states)


def test_an_old_store_replays_and_verifies(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    shutil.copyfile(FIXTURE, path)
    before = verify_url(sqlite_url(path))
    assert before.ok, before.problem
    with Programme.open(sqlite_url(path)) as prog:
        sessions = prog.sessions()
        assert [s.session_id for s in sessions] == ["2019-11-06", "2019-11-07", "2019-11-13"]
        assert sessions[0].booked == ("GM0363-1",)
        old: TrainingSession = prog.repository.get(session_id_to_uuid("2019-11-06"))
        assert old.online is False
        assert prog.municipality("GM0363").officials[0].name == "A. de Vries"
        # New events are written as version 2, beside the old ones.
        prog.schedule_training(
            "2019-11-20",
            starts_at=datetime(2019, 11, 20, 13, 0),
            ends_at=datetime(2019, 11, 20, 15, 30),
            location="Provinciehuis, Dreef 3, Haarlem",
            capacity=40,
            by="test",
        )
        new: TrainingSession = prog.repository.get(session_id_to_uuid("2019-11-20"))
        assert new.online is False
    [(state,)] = rows(
        path,
        "SELECT state FROM stored_events WHERE topic LIKE '%TrainingSession.Scheduled' "
        "ORDER BY rowid DESC LIMIT 1",
    )
    assert b'"class_version":2' in state
    after = verify_url(sqlite_url(path))
    assert after.ok, after.problem
    assert after.size == before.size + 1
    export_url(sqlite_url(path), tmp_path / "export", KEY)
    assert standalone(tmp_path / "export", "--public-key", str(KEY.verifier()))[0] == 0


def test_an_old_store_gains_snapshots_and_costs_from_its_events_and_still_verifies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Written when the aggregate kept every cost line: its costs now come from the ledger and
    the events, its Renewed events (without ``fee``) charge nothing, and the snapshots stored on
    reading it get no leaves."""
    monkeypatch.setattr(asof, "SNAPSHOT_EVERY", 2)
    path = tmp_path / "old.sqlite"
    shutil.copyfile(FIXTURE, path)
    before = verify_url(sqlite_url(path))
    with Programme.open(sqlite_url(path)) as prog:
        for code in prog.codes():
            view = prog.municipality(code, cost_lines=True)
            lines = [e.line for e in view.costs]
            assert sum((x.amount.amount for x in lines if x.payer.value == "province"), 0) == (
                view.costs_province.amount
            )
            assert (
                prog.municipality(
                    code, known_at=datetime(2100, 1, 1, tzinfo=UTC), cost_lines=True
                ).costs
                == view.costs
            )
            assert all(e.type != "Renewed" or "fee" not in e.data for e in prog.history(code))
    assert rows(path, "SELECT COUNT(*) FROM stored_snapshots")[0][0] > 0
    after = verify_url(sqlite_url(path))
    assert after.ok, after.problem
    assert after.size == before.size
