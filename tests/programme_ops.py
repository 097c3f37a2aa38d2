"""One small step of a random programme, for the property tests that build one from a list of
``(op, which)`` pairs (the audit and read-model tests)."""

from __future__ import annotations

from datetime import date

from mma_core import DomainError, Programme

REFERENCE = "1298348/1298354"


def run_op(
    prog: Programme, op: str, code: str, official: str, n: int, which: int, category: str
) -> None:
    """Run ``op`` on ``code`` (and ``official``); an op the rules refuse is skipped.
    ``views`` catches the read models up in the middle of a run."""
    try:
        if op == "invite":
            prog.invite(code, on=date(2019, 10, 18), reference=REFERENCE, by="test")
        elif op == "accept":
            prog.accept(code, on=date(2019, 10, 25), by="test")
        elif op == "decline":
            prog.decline(code, on=date(2019, 10, 24), by="test", reason="no")
        elif op == "nominate":
            prog.nominate_official(code, name=f"Official {n}", email=f"o{n}@example.nl", by="test")
        elif op == "book":
            prog.book_training(code, official_id=official, session_id="2019-11-06", by="t")
        elif op == "attend":
            prog.record_attendance(
                code, official_id=official, session_id="2019-11-06", attended=n % 3 > 0, by="t"
            )
        elif op == "withdraw":
            prog.withdraw_official(official, by="test")
        elif op == "erase":
            prog.erase_official(official, by="test")
        elif op == "connect":
            prog.connect(code, on=date(2019, 11, 1), by="test")
        elif op == "report":
            prog.record_report(
                code,
                received_on=date(2019, 12, 1),
                category=category,
                reference=f"R{n}-{which}",
                by="test",
            )
        elif op == "evaluate":
            outcome = "continue" if which % 3 else "stop"
            prog.evaluate(code, on=date(2020, 11, 2), outcome=outcome, by="test")
        elif op == "renew":
            prog.renew(code, on=date(2020, 11, 15), by="test")
        elif op == "terminate":
            prog.terminate(code, on=date(2021, 1, 10), by="test")
        elif op == "views":
            prog.views.catch_up()
        else:
            raise ValueError(f"unknown op {op!r}")
    except DomainError:
        pass
