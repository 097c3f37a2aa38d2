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
    "as-of index state": (
        "UPDATE mma_views_asof SET state = "
        'replace(state, \'"stage":"connected"\', \'"stage":"declined"\') '
        "WHERE code = 'GM0358' AND axis = 'b' AND point = '2020-10-31'",
        "mma_views_asof (GM0358, b, 2020-10-31): stage is 'declined', a replay of the log "
        "gives 'connected'",
    ),
    "as-of index version": (
        "UPDATE mma_views_asof SET version = version + 1 "
        "WHERE code = 'GM0358' AND axis = 'b' AND point = '2020-11-30'",
        "mma_views_asof (GM0358, b, 2020-11-30): version is 14, a replay of the log gives 13",
    ),
    "as-of index bucket": (
        "UPDATE mma_views_asof SET bucket = '[]' "
        "WHERE code = 'GM0358' AND axis = 'b' AND point = '2020-11-30'",
        "mma_views_asof (GM0358, b, 2020-11-30): bucket[0] is absent, a replay of the log "
        "gives [14, 737766]",
    ),
    "as-of index row deleted": (
        "DELETE FROM mma_views_asof WHERE code = 'GM0358' AND axis = 'b' AND point = '2020-11-30'",
        "mma_views_asof (GM0358, b, 2020-11-30): row is absent, a replay of the log gives 'a row'",
    ),
    "offer position": (
        "UPDATE mma_views_offers SET position = position + 1 WHERE reference = '1298348/1298354'",
        "mma_views_offers 1298348/1298354: position is ",
    ),
    "offer deleted": (
        "DELETE FROM mma_views_offers WHERE reference = '1298348/1298354'",
        "mma_views_offers 1298348/1298354: row is absent",
    ),
}
# The command, end to end; the library check runs for all.
QUICK = {"municipality stage", "as-of index state", "offer position"}


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
        index_rows = conn.execute("SELECT COUNT(*) FROM mma_views_asof").fetchone()[0]
        offer_rows = conn.execute("SELECT COUNT(*) FROM mma_views_offers").fetchone()[0]
    finally:
        conn.close()
    # The as-of index and the offers were compared row by row, every stored row of them.
    compared: dict[str, int] = {}
    with Programme.open(demo_copy) as prog:
        assert verify_derived(prog, compared=compared) is None
    assert compared == {"mma_views_asof": index_rows, "mma_views_offers": offer_rows}
    assert index_rows > 100
    assert offer_rows >= 1
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


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def sql_store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'programme.sqlite'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


def late_fact_history(url: str) -> None:
    """Events recorded over five months (states on the recorded-time axis) and a report
    entered late about an earlier day (the business states derived again)."""
    from datetime import UTC, date, datetime

    clock = [datetime(2020, 11, 2, 12, tzinfo=UTC)]
    with Programme.open(url, clock=lambda: clock[0]) as prog:
        prog.register_registry("noord-holland-2019", by="t")
        prog.make_offer(reference="R", sent_on=date(2020, 1, 6), by="t")
        prog.invite("GM0363", on=date(2020, 1, 6), reference="R", by="t")
        prog.accept("GM0363", on=date(2020, 2, 3), by="t")
        prog.connect("GM0363", on=date(2020, 3, 2), by="t")
        prog.record_report(
            "GM0363", received_on=date(2020, 11, 2), category="fraude", reference="A", by="t"
        )
        clock[0] = datetime(2021, 3, 1, 12, tzinfo=UTC)
        prog.record_report(
            "GM0363", received_on=date(2021, 3, 1), category="fraude", reference="B", by="t"
        )
        clock[0] = datetime(2021, 3, 20, 12, tzinfo=UTC)
        prog.record_report(
            "GM0363", received_on=date(2020, 12, 10), category="fraude", reference="LATE", by="t"
        )
        prog.views.catch_up()


def edit_index(url: str, point: str, axis: str, old: str, new: str) -> None:
    from mma_core.views.store import SqlViewStore, store_for

    with Programme.open(url) as prog:
        store = store_for(prog)
        assert isinstance(store, SqlViewStore)
        where = "WHERE code = ? AND axis = ? AND point = ? AND state LIKE ?"
        key = ("GM0363", axis, point)
        with store.datastore.transaction(commit=True) as c:
            count = f"SELECT COUNT(*) AS n FROM {store.index_table} {where}"
            c.execute(count.replace("?", store.mark), (*key, f"%{old}%"))
            assert c.fetchone()["n"] == 1  # exactly one row changes
            update = f"UPDATE {store.index_table} SET state = replace(state, ?, ?) {where}"
            c.execute(
                update.replace("?", store.mark),
                (old, new, *key, f"%{old}%"),
            )


@pytest.mark.parametrize(
    ("axis", "point", "old", "new", "named"),
    [
        pytest.param(
            "r",
            "2020-12-31T23:59:59.999999+00:00",
            '"reports_received":1,',
            '"reports_received":7,',
            "mma_views_asof (GM0363, r, 2020-12-31T23:59:59.999999+00:00): reports_received "
            "is 7, a replay of the log gives 1",
            id="recorded-time state",
        ),
        pytest.param(
            "b",
            "2020-12-31",
            '"reports_received":2,',
            '"reports_received":9,',
            "mma_views_asof (GM0363, b, 2020-12-31): reports_received is 9, a replay of the "
            "log gives 2",
            id="business state derived again after a late fact",
        ),
    ],
)
def test_an_edited_index_state_on_either_axis_is_named_on_each_sql_store(
    sql_store: str, axis: str, point: str, old: str, new: str, named: str
) -> None:
    late_fact_history(sql_store)
    compared: dict[str, int] = {}
    with Programme.open(sql_store) as prog:
        assert verify_derived(prog, compared=compared) is None
    assert compared["mma_views_asof"] >= 14 + 4  # month ends Dec 2019..Feb 2021, four recorded
    assert compared["mma_views_offers"] == 1
    edit_index(sql_store, point, axis, old, new)
    with Programme.open(sql_store) as prog:
        problem = verify_derived(prog)
        assert problem is not None
        assert problem.kind == "derived"
        assert named in problem.detail
        prog.views.rebuild()
        assert verify_derived(prog) is None
