"""What counts the reports of a term reads them as corrected: the evaluation's count, and the
evaluation letter's. A retracted report no longer counts; a re-dated one counts on its new day."""

from __future__ import annotations

from datetime import date

from test_corrections import AMS, connect, position
from test_corrections import prog as prog  # the fixture

from mma_core import Programme
from mma_core.paperwork.letters.composer import reports_in


def test_the_term_counts_reports_as_corrected(prog: Programme) -> None:
    connect(prog, reports=3)
    assert reports_in(prog, AMS, date(2019, 12, 1), date(2020, 1, 31)) == 3
    prog.retract(position(prog, AMS, "ReportReceived", 0), reason="wrong municipality", by="c")
    prog.correct(
        position(prog, AMS, "ReportReceived", 1),
        reason="date misread",
        by="c",
        received_on=date(2020, 3, 2),
    )
    assert reports_in(prog, AMS, date(2019, 12, 1), date(2020, 1, 31)) == 1
    assert reports_in(prog, AMS, date(2019, 12, 1), date(2020, 3, 31)) == 2
    prog.evaluate(AMS, on=date(2020, 2, 1), outcome="continue", useful=1, by="c")
    evaluated = next(e for e in prog.history(AMS) if e.type == "Evaluated")
    assert evaluated.data["reports"] == 1
