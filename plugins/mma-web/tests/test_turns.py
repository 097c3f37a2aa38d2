"""The API's commands on one municipality: in turns, and those queued meanwhile in one
transaction, each with its own answer (mma_web.turns), on a real SQLite file."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from mma_web.turns import Done, Turns

from mma_core import ConcurrencyConflict, DuplicateReport, Programme

OFFER = "1298348/1298354"
CODE = "GM0363"
TODAY = date(2026, 3, 2)


@pytest.fixture
def store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'turns.sqlite'}"
    with Programme.open(url, origin="test") as prog:
        prog.register_registry("noord-holland-2019", by="setup")
        prog.make_offer(reference=OFFER, sent_on=TODAY, by="setup")
        for code in (CODE, "GM0392"):
            prog.invite(code, on=TODAY, reference=OFFER, by="setup")
            prog.accept(code, on=TODAY, by="setup")
            prog.connect(code, on=TODAY, by="setup")
    return url


def report(prog: Programme, reference: str, code: str = CODE) -> Callable[[], Any]:
    return lambda: prog.record_report(
        code, received_on=TODAY, category="fraude", reference=reference, by="t"
    )


class Outcome:
    """A request's answer as the route reads it: the result, or the error raised."""

    def __init__(self, future: Future[Done]) -> None:
        self.future = future

    def outcome(self) -> Any:
        return self.future.result(10).result

    @property
    def position(self) -> int | None:
        return None if self.future.exception(10) else self.future.result().position


def holding_the_turn(
    call: Callable[[], Any],
) -> tuple[Callable[[], Any], threading.Event, threading.Event]:
    """``call`` made to wait, once it runs, until ``release`` is set: the first event says it
    runs (and holds its municipality's turn)."""
    holding, release = threading.Event(), threading.Event()

    def held() -> Any:
        holding.set()
        assert release.wait(10)
        return call()

    return held, holding, release


def queued_behind_a_running_command(
    turns: Turns, prog: Programme, calls: list[Callable[[], Any]], first: Callable[[], Any]
) -> tuple[Outcome, list[Outcome]]:
    """``first`` runs and holds the municipality's turn while ``calls`` queue up behind it;
    then it is let go. Returns every request's outcome."""
    held, holding, release = holding_the_turn(first)

    running = Outcome(turns.submit(CODE, held, together=True))
    assert holding.wait(10)
    queued = [Outcome(turns.submit(CODE, call, together=True)) for call in calls]
    assert turns.queued(CODE) == len(calls)  # every one waits for the turn
    release.set()
    return running, queued


def test_commands_queued_behind_one_are_written_in_one_transaction(store: str) -> None:
    with Programme.open(store, origin="test") as prog:
        turns = Turns(prog)
        before = prog.event_count()
        first, queued = queued_behind_a_running_command(
            turns, prog, [report(prog, f"Q-{n}") for n in range(6)], report(prog, "F-1")
        )
        assert first.outcome() == "F-1"  # record_report answers with the reference
        assert [p.outcome() for p in queued] == [f"Q-{n}" for n in range(6)]
        # One transaction: one last position for the six, after the first's.
        positions = {p.position for p in queued}
        assert len(positions) == 1
        (together,) = positions
        assert first.position is not None
        assert together is not None
        assert together > first.position
        assert together == prog.last_position()
        reports = _references(prog)
        assert reports >= {"F-1"} | {f"Q-{n}" for n in range(6)}
        assert prog.event_count() > before


def test_a_refused_command_costs_the_others_in_its_transaction_nothing(store: str) -> None:
    with Programme.open(store, origin="test") as prog:
        before = prog.event_count()
        prog.record_report(CODE, received_on=TODAY, category="fraude", reference="DUP", by="t")
        per_report = prog.event_count() - before
        turns = Turns(prog)
        calls = [report(prog, "A-1"), report(prog, "DUP"), report(prog, "A-2")]
        counted = prog.event_count()
        _, (one, duplicate, two) = queued_behind_a_running_command(
            turns, prog, calls, report(prog, "A-0")
        )
        assert (one.outcome(), two.outcome()) == ("A-1", "A-2")
        with pytest.raises(DuplicateReport):
            duplicate.outcome()
        assert duplicate.position is None
        # Three reports written (A-0 alone, A-1 and A-2 together), the refused one nothing.
        assert prog.event_count() == counted + 3 * per_report


def test_a_transaction_that_cannot_be_written_runs_each_command_again_alone(store: str) -> None:
    with (
        Programme.open(store, origin="test") as prog,
        Programme.open(store, origin="other") as other,
    ):
        turns = Turns(prog)
        wrote = threading.Event()

        def another_process_writes_first() -> Any:
            # Inside the block: the municipality changes in the store behind its back, so the
            # block's save conflicts, and each command runs again on its own.
            if not wrote.is_set():
                wrote.set()
                other.record_report(
                    CODE, received_on=TODAY, category="fraude", reference="O-1", by="o"
                )
            return prog.record_report(
                CODE, received_on=TODAY, category="fraude", reference="B-2", by="t"
            )

        def fails() -> Any:
            raise OSError("not a refusal")

        calls = [report(prog, "B-1"), another_process_writes_first, fails, report(prog, "B-3")]
        _, (one, two, failing, three) = queued_behind_a_running_command(
            turns, prog, calls, report(prog, "B-0")
        )
        assert [one.outcome(), two.outcome(), three.outcome()] == ["B-1", "B-2", "B-3"]
        with pytest.raises(OSError, match="not a refusal"):
            failing.outcome()
        # Run alone: each its own transaction, so its own position.
        assert len({one.position, two.position, three.position}) == 3
        references = _references(prog)
        assert {"B-0", "B-1", "B-2", "B-3", "O-1"} <= references


def test_other_municipalities_and_requests_with_an_id_do_not_wait_in_the_queue(
    store: str,
) -> None:
    with Programme.open(store, origin="test") as prog:
        turns = Turns(prog)
        # Another municipality's command runs while GM0363's turn is held.
        held, holding, release = holding_the_turn(report(prog, "H-1"))

        running = Outcome(turns.submit(CODE, held, together=True))
        assert holding.wait(10)
        elsewhere = Outcome(turns.submit("GM0392", report(prog, "E-1", "GM0392"), together=True))
        assert elsewhere.outcome() == "E-1"  # while GM0363's command still runs
        # Behind a running command, one with a request id and two without: it runs alone.
        keyed = Outcome(turns.submit(CODE, report(prog, "K-1"), together=False))
        after = [Outcome(turns.submit(CODE, report(prog, f"L-{n}"), together=True)) for n in (1, 2)]
        release.set()
        assert running.outcome() == "H-1"
        assert keyed.outcome() == "K-1"
        assert [o.outcome() for o in after] == ["L-1", "L-2"]
        assert keyed.position is not None
        assert keyed.position not in {o.position for o in after}
        assert after[0].position == after[1].position
        assert turns.queued(CODE) == 0


def test_a_conflict_the_command_itself_gives_up_on_reaches_its_request(store: str) -> None:
    with Programme.open(store, origin="test") as prog:
        turns = Turns(prog)

        def gives_up() -> Any:
            raise ConcurrencyConflict("gave up")

        done = Outcome(turns.submit(CODE, gives_up, together=True))
        with pytest.raises(ConcurrencyConflict):
            done.outcome()
        assert done.position is None


def _references(prog: Programme) -> set[str]:
    return {str(h.data["reference"]) for h in prog.history(CODE) if h.type == "ReportReceived"}


def test_an_answer_nobody_waits_for_does_not_stop_the_municipality_s_thread(
    store: str,
) -> None:
    with Programme.open(store, origin="test") as prog:
        turns = Turns(prog)
        held, holding, release = holding_the_turn(report(prog, "X-0"))

        running = Outcome(turns.submit(CODE, held, together=True))
        assert holding.wait(10)
        given_up = turns.submit(CODE, report(prog, "X-1"), together=True)
        assert given_up.cancel()  # the caller went away before its turn
        release.set()
        assert running.outcome() == "X-0"
        after = Outcome(turns.submit(CODE, report(prog, "X-2"), together=True))
        assert after.outcome() == "X-2"
