"""``Projector`` in one process: each event's rows and the position in one transaction; a
failing ``handle`` commits neither and is raised; a new projector resumes at the position."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from mma_core import EventRecord, InvalidInput, Programme, Projector


def test_rows_and_position_commit_together_and_resume(tmp_path: Path) -> None:
    target = tmp_path / "projection.sqlite"
    with Programme.open("memory://") as prog:
        prog.register_registry("noord-holland-2019", by="t", request_id="r")
        prog.make_offer(reference="R", sent_on=date(2019, 10, 18), by="t")
        fail_at = {"position": 10}

        def handle(cursor: Any, record: EventRecord) -> None:
            cursor.execute("CREATE TABLE IF NOT EXISTS seen (position INTEGER PRIMARY KEY)")
            cursor.execute("INSERT INTO seen VALUES (?)", (record.position,))
            if record.position == fail_at["position"]:
                raise RuntimeError("a bug in the projection")

        projector = Projector(prog, lambda: sqlite3.connect(target), name="p", handle=handle)
        with pytest.raises(RuntimeError):
            projector.run(wait=None)
        assert projector.position() == 9
        with sqlite3.connect(target) as conn:
            assert [r[0] for r in conn.execute("SELECT position FROM seen")] == list(range(1, 10))
        projector.close()
        fail_at["position"] = -1
        again = Projector(prog, lambda: sqlite3.connect(target), name="p", handle=handle)
        again.run(wait=None)
        facts = [r.position for r in prog.follow(include_receipts=False)]
        with sqlite3.connect(target) as conn:
            assert [r[0] for r in conn.execute("SELECT position FROM seen")] == facts
        assert again.position() == facts[-1]
        assert len(facts) < prog.last_position()  # the receipt was left out
        again.close()
    with pytest.raises(InvalidInput):
        Projector(prog, lambda: sqlite3.connect(target), name=" ", handle=handle)
