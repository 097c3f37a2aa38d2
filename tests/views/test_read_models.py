"""The read models: kept incrementally with their position, equal to a rebuild and to a replay,
on every store; exactly once across a SIGKILL and across two updaters."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from views_helpers import OPS, apply, base, dump, rebuilt

from mma_core import Programme
from mma_core.views import store as view_store
from mma_core.views.models import ReadModels

SCRIPT = [
    ("invite", 0), ("invite", 1), ("invite", 2), ("invite", 3),
    ("accept", 0), ("accept", 1), ("decline", 2), ("views", 0),
    ("nominate", 0), ("nominate", 1), ("nominate", 2), ("book", 0), ("book", 1),
    ("book", 2), ("attend", 0), ("attend", 1), ("connect", 0), ("connect", 1),
    ("report", 0), ("report", 1), ("views", 0), ("report", 0), ("erase", 2), ("withdraw", 0),
    ("evaluate", 1), ("renew", 1), ("terminate", 0),
]  # fmt: skip


def test_views_equal_a_rebuild_and_a_replay_on_every_store(
    store_url: str, open_programme: Callable[[str], Programme]
) -> None:
    prog = open_programme(store_url)
    base(prog)
    apply(prog, SCRIPT)
    now = prog.overview(cost_lines=True)  # catches the views up, then reads them
    assert prog.views.tracking().position > 0
    assert now == prog.overview(as_of=now.as_of, cost_lines=True)  # the replay
    assert dump(prog.views) == rebuilt(prog)
    assert now.costs_by_payer["province"].amount == 4000
    amsterdam = next(m for m in now.municipalities if m.code == prog.codes()[0])
    assert [e.line.kind.value for e in amsterdam.costs] == [
        "connection",
        "report_fee",
        "report_fee",
    ]
    lines = prog.views.ledger()
    assert [line.kind.value for line in lines].count("report_fee") == 3
    assert all(line.position > 0 for line in lines)


def test_a_second_programme_on_the_same_file_sees_the_views_and_adds_to_them(
    tmp_path: Path, open_programme: Callable[[str], Programme]
) -> None:
    url = f"sqlite:///{tmp_path / 'p.sqlite'}"
    first = open_programme(url)
    base(first)
    apply(first, SCRIPT[:8])
    first.overview()
    second = open_programme(url)
    assert second.views.tracking() == first.views.tracking()
    apply(second, SCRIPT[8:])
    assert second.overview() == first.overview()
    assert dump(first.views) == rebuilt(first)


def test_two_updaters_racing_apply_every_event_exactly_once(
    store_url: str, open_programme: Callable[[str], Programme]
) -> None:
    if store_url.startswith("memory"):
        pytest.skip("the views of memory:// belong to one ReadModels: nothing to race for")
    prog = open_programme(store_url)
    base(prog)
    apply(prog, SCRIPT)
    a, b = ReadModels(prog, batch_size=7), ReadModels(prog, batch_size=5)
    a.updater.catch_up(max_batches=2)
    b.updater.catch_up(max_batches=3)  # moves past a: a's next batch conflicts and restarts
    a.catch_up()
    b.catch_up()
    assert dump(a) == dump(b) == rebuilt(prog)


def test_two_updaters_taking_turns_keep_every_cost_line_in_the_chunks(
    store_url: str, open_programme: Callable[[str], Programme], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each updater remembers the last chunk it wrote; once the other one has written after
    it, that memory is stale and must not be written back over the other's lines."""
    if store_url.startswith("memory"):
        pytest.skip("the views of memory:// belong to one ReadModels: nothing to race for")
    monkeypatch.setattr(view_store, "CHUNK_LINES", 4)
    prog = open_programme(store_url)
    base(prog)
    apply(prog, SCRIPT[:20])  # the first two municipalities connected
    code = prog.codes()[0]
    a, b = ReadModels(prog, batch_size=3), ReadModels(prog, batch_size=2)
    a.catch_up()
    for turn in range(6):
        for n in range(3):
            prog.record_report(
                code, received_on=date(2020, 3, 1 + turn), category="fraude",
                reference=f"T{turn}-{n}", by="test",
            )  # fmt: skip
        (a if turn % 2 else b).catch_up()
    a.catch_up()
    assert dump(a) == dump(b) == rebuilt(prog)
    assert len(dump(a)["chunks"][code]) == len(prog.municipality(code, cost_lines=True).costs) > 18


@given(
    st.lists(
        st.tuples(st.sampled_from(OPS), st.integers(min_value=0, max_value=3)),
        max_size=40,
    ),
    st.integers(min_value=1, max_value=60),
)
def test_incremental_views_equal_a_rebuild_property(
    ops: list[tuple[str, int]], batch_size: int
) -> None:
    with Programme.open("memory://") as prog:
        prog.views.updater.batch_size = batch_size  # batch boundaries anywhere
        base(prog)
        apply(prog, ops)
        prog.views.catch_up()
        assert dump(prog.views) == rebuilt(prog)
        today = prog.overview()
        assert today == prog.overview(as_of=today.as_of)


def test_a_killed_updater_resumes_and_equals_a_rebuild(demo_store: str, tmp_path: Path) -> None:
    path = tmp_path / "copy.sqlite"
    with (
        sqlite3.connect(demo_store.removeprefix("sqlite:///")) as source,
        sqlite3.connect(path) as target,
    ):
        source.backup(target)
        for table in ("tracking", "municipalities", "sessions", "ledger"):
            target.execute(f"DROP TABLE IF EXISTS mma_views_{table}")  # other tests' views
    url = f"sqlite:///{path}"
    with Programme.open(url) as prog:
        total = prog.recorder.max_notification_id()
    updater = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mma_core.cli",
            "--store",
            url,
            "views",
            "rebuild",
            "--batch-size",
            "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    position = 0
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            position = _position(path)
            if position >= total // 4:
                break
            time.sleep(0.005)
        updater.send_signal(signal.SIGKILL)
    finally:
        updater.wait(timeout=30)
    assert updater.returncode == -signal.SIGKILL
    with closing(sqlite3.connect(path)) as db:
        (killed_at,) = db.execute("SELECT position FROM mma_views_tracking").fetchone()
        (lines,) = db.execute("SELECT COUNT(*) FROM mma_views_ledger").fetchone()
        (last_line,) = db.execute(
            "SELECT COALESCE(MAX(position), 0) FROM mma_views_ledger"
        ).fetchone()
    assert 0 < killed_at < total, "the updater was not killed mid-way"
    assert last_line <= killed_at  # nothing beyond the committed position
    resumed = subprocess.run(
        [sys.executable, "-m", "mma_core.cli", "--store", url, "--json", "views", "update"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert resumed.returncode == 0, resumed.stderr
    with Programme.open(url) as prog:
        models = ReadModels(prog)
        assert models.tracking().position == total
        assert dump(models) == rebuilt(prog)
    with closing(sqlite3.connect(path)) as db:
        (kept,) = db.execute(
            "SELECT COUNT(*) FROM mma_views_ledger WHERE position <= ?", (killed_at,)
        ).fetchone()
        (after,) = db.execute("SELECT COUNT(*) FROM mma_views_ledger").fetchone()
    # The lines committed before the kill are exactly those of the resumed ledger up to that
    # position: the resume neither lost nor repeated them, and went on to write the rest.
    assert kept == lines
    assert after > lines


def _position(path: Path) -> int:
    with closing(sqlite3.connect(path, timeout=30)) as db:
        try:
            row = db.execute(
                "SELECT position FROM mma_views_tracking WHERE name='views'"
            ).fetchone()
        except sqlite3.OperationalError:  # the updater has not created its tables yet
            return 0
    return 0 if row is None else int(row[0])
