"""``mma audit verify`` checks what people read, not only the log: every read-model table and
every stored snapshot of a copy of the demo store is compared with a replay of the log. An edit
of any of them fails verification naming table, key and field; ``mma views rebuild`` repairs it."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from mma_core import Programme
from mma_core.audit.derived import drop_snapshots, verify_derived

# (table, edit, what the report names). Each edit changes exactly one row.
EDITS = {
    "municipality stage": (
        "UPDATE mma_views_municipalities SET doc = "
        'replace(doc, \'"stage":"connected"\', \'"stage":"declined"\') WHERE code = \'GM0358\'',
        "mma_views_municipalities GM0358: stage is 'declined', a replay of the log gives "
        "'connected'",
    ),
    "ledger amount": (
        "UPDATE mma_views_ledger SET amount = '999.00' "
        "WHERE (position, idx) = (SELECT position, idx FROM mma_views_ledger "
        "WHERE code = 'GM0479' AND kind = 'report_fee' ORDER BY position LIMIT 1)",
        "amount is '999.00'",
    ),
    "ledger row deleted": (
        "DELETE FROM mma_views_ledger WHERE (position, idx) = "
        "(SELECT position, idx FROM mma_views_ledger ORDER BY position DESC LIMIT 1)",
        "mma_views_ledger (position",
    ),
    "session booking": (
        'UPDATE mma_views_sessions SET doc = replace(doc, \'"booked":["\', \'"booked":["X\') '
        "WHERE session_id = '2019-11-06'",
        "mma_views_sessions 2019-11-06: booked[0] is 'X",
    ),
    "cost chunk": (
        "UPDATE mma_views_cost_chunks SET lines = lines + 1 WHERE code = 'GM0479' AND chunk = 0",
        "mma_views_cost_chunks (GM0479, chunk 0): lines is",
    ),
    "tracking date": (
        "UPDATE mma_views_tracking SET latest = '2030-01-01'",
        "mma_views_tracking views: latest is '2030-01-01'",
    ),
    "snapshot stage": (
        "UPDATE stored_snapshots SET state = "
        'CAST(replace(state, \'"stage":"connected"\', \'"stage":"declined"\') AS BLOB)',
        "stored_snapshots (GM0363, version 100): stage is 'declined', a replay of the log "
        "gives 'connected'",
    ),
    "snapshot count": (
        "UPDATE stored_snapshots SET state = CAST(replace(state, '\"reports_received\":', "
        "'\"reports_received\":1') AS BLOB)",
        "stored_snapshots (GM0363, version 100): reports_received is 1",
    ),
}
QUICK = {"municipality stage"}  # the command, end to end; the library check runs for all


def mma(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mma_core.cli", "--store", url, *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, "MMA_LANG": "en"},
    )


def path_of(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def edit(url: str, statement: str) -> None:
    with Programme.open(url) as prog:
        prog.views.catch_up()  # the tables hold every event before they are edited
    conn = sqlite3.connect(path_of(url))
    try:
        changed = conn.execute(statement).rowcount
        conn.commit()
    finally:
        conn.close()
    assert changed == 1, statement


def test_the_untouched_demo_store_verifies_with_its_derived_data(demo_copy: str) -> None:
    with Programme.open(demo_copy) as prog:
        prog.views.catch_up()
    done = mma(demo_copy, "audit", "verify")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.rstrip().endswith("; read models and snapshots match the log")
    conn = sqlite3.connect(path_of(demo_copy))
    try:  # there is something to compare: a snapshot and every table
        assert conn.execute("SELECT COUNT(*) FROM stored_snapshots").fetchone()[0] >= 1
        assert conn.execute("SELECT COUNT(*) FROM mma_views_ledger").fetchone()[0] > 100
    finally:
        conn.close()
    done = mma(demo_copy, "--json", "audit", "verify", "--log-only")
    report = json.loads(done.stdout)
    assert report["ok"] is True
    assert report["derived"] == {
        "checked": False,
        "note": "log only: read models and snapshots not checked (--log-only)",
    }


@pytest.mark.parametrize(
    "name",
    [n if n in QUICK else pytest.param(n, marks=pytest.mark.slow) for n in EDITS],
)
def test_an_edited_derived_row_fails_verify_and_views_rebuild_repairs_it(
    demo_copy: str, name: str
) -> None:
    statement, named = EDITS[name]
    edit(demo_copy, statement)
    done = mma(demo_copy, "audit", "verify")
    assert done.returncode == 1, done.stdout
    assert done.stdout.startswith("FAILED: derived: "), done.stdout
    assert named in done.stdout
    assert "repair with 'mma views rebuild'" in done.stdout
    # The log itself is untouched: --log-only passes, and says what it left out.
    log_only = mma(demo_copy, "audit", "verify", "--log-only")
    assert log_only.returncode == 0
    assert "log only" in log_only.stdout
    # The library's check is the one the command runs.
    with Programme.open(demo_copy) as prog:
        problem = verify_derived(prog)
    assert problem is not None
    assert problem.kind == "derived"
    assert named in problem.detail

    repaired = mma(demo_copy, "views", "rebuild")
    assert repaired.returncode == 0, repaired.stderr
    again = mma(demo_copy, "audit", "verify")
    assert again.returncode == 0, again.stdout
    assert "read models and snapshots match the log" in again.stdout


def test_verify_on_a_missing_store_creates_nothing_for_the_derived_check(tmp_path: Path) -> None:
    missing = tmp_path / "none.sqlite"
    done = mma(f"sqlite:///{missing}", "audit", "verify")
    assert done.returncode == 1
    assert "no store" in done.stderr
    assert list(tmp_path.iterdir()) == []  # the programme was never opened on it


@pytest.mark.parametrize("name", list(EDITS))
def test_the_library_check_names_every_edit_and_a_rebuild_repairs_it(
    demo_copy: str, name: str
) -> None:
    statement, named = EDITS[name]
    edit(demo_copy, statement)
    with Programme.open(demo_copy) as prog:
        problem = verify_derived(prog)
        assert problem is not None
        assert problem.kind == "derived"
        assert named in problem.detail
        prog.views.rebuild()  # what 'mma views rebuild' does, and then:
        drop_snapshots(prog)
        assert verify_derived(prog) is None


def test_views_caught_up_by_another_writer_during_the_check_are_no_mismatch(
    demo_copy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stored views are read as one snapshot: a process that records an event and brings
    the views up to date while the check replays must not look like a ledger line (or a
    tracking date) that the log does not produce."""
    from datetime import date

    from mma_core.audit import derived

    writer = Programme.open(demo_copy)
    try:
        writer.views.catch_up()
        passing = derived._Snapshots.passing
        moved: list[int] = []

        def meanwhile(self: derived._Snapshots, aggregate: object, event: object) -> None:
            if not moved:
                writer.record_report(
                    "GM0363",
                    received_on=date(2022, 6, 1),
                    category="sociale zekerheid",
                    reference="MMA-MEANWHILE-1",
                    by="mma",
                )
                moved.append(writer.views.catch_up())
            passing(self, aggregate, event)

        monkeypatch.setattr(derived._Snapshots, "passing", meanwhile)
        with Programme.open(demo_copy) as checker:
            assert verify_derived(checker) is None
        assert moved == [2]  # the report and its claim were applied to the views meanwhile
        monkeypatch.undo()
        with Programme.open(demo_copy) as checker:  # and the views as they are now hold too
            assert verify_derived(checker) is None
    finally:
        writer.close()


def test_the_library_verifies_log_and_derived_data_in_one_call(demo_copy: str) -> None:
    from mma_core.audit.derived import verify_programme

    with Programme.open(demo_copy) as prog:
        prog.views.catch_up()
        clean = verify_programme(prog)
        assert clean.ok, clean.problem
        assert clean.size == prog.event_count()
    edit(demo_copy, EDITS["ledger amount"][0])
    with Programme.open(demo_copy) as prog:
        found = verify_programme(prog)
        assert found.problem is not None
        assert found.problem.kind == "derived"
        assert found.size == clean.size  # the log itself verified in full
        assert verify_programme(prog, log_only=True).ok


def test_a_memory_programme_verifies_with_nothing_derived_to_check(
    memory_programme: Programme,
) -> None:
    from audit_helpers import base

    from mma_core.audit.derived import verify_programme

    base(memory_programme)
    result = verify_programme(memory_programme)
    assert result.ok, result.problem
    assert result.size == memory_programme.event_count()
