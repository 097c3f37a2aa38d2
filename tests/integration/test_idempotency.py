"""Idempotent commands: a request_id answers a retry with the first result and writes nothing."""

from __future__ import annotations

import inspect
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import date

import pytest

from mma_core import InvalidInput, InvalidTransition, Programme, RequestIdReused
from mma_core.application.commanding import command

OFFER = "1298348/1298354"


def connected(prog: Programme, code: str = "GM0363") -> None:
    prog.register_registry("noord-holland-2019", by="coordinator")
    prog.make_offer(reference=OFFER, sent_on=date(2019, 10, 18), by="cdk")
    prog.invite(code, on=date(2019, 10, 18), reference=OFFER, by="cdk")
    prog.accept(code, on=date(2019, 11, 1), by="burgemeester")
    prog.connect(code, on=date(2019, 12, 1), by="coordinator")


def test_every_command_takes_a_request_id() -> None:
    commands = [
        value
        for value in (getattr(Programme, name) for name in dir(Programme))
        if callable(value)
        and getattr(value, "__wrapped__", None) is not None
        and "command.<locals>" in getattr(value, "__code__", command.__code__).co_qualname
    ]
    assert len(commands) >= 19
    for method in commands:
        parameter = inspect.signature(method).parameters.get("request_id")
        assert parameter is not None, method.__name__
        assert parameter.kind is inspect.Parameter.KEYWORD_ONLY
        assert parameter.default is None


def test_a_retried_accept_returns_its_first_result_and_writes_nothing(
    programme: Programme, event_count: Callable[[Programme], int]
) -> None:
    prog = programme
    prog.register_registry("noord-holland-2019", by="coordinator")
    prog.make_offer(reference=OFFER, sent_on=date(2019, 10, 18), by="cdk")
    prog.invite("GM0363", on=date(2019, 10, 18), reference=OFFER, by="cdk")
    first = prog.accept("GM0363", on=date(2019, 11, 1), by="burgemeester", request_id="acc-1")
    after_first = event_count(prog)
    again = prog.accept("GM0363", on=date(2019, 11, 1), by="burgemeester", request_id="acc-1")
    assert again == first == "GM0363"
    assert event_count(prog) == after_first
    # Without the request id the same retry is a broken rule, as before.
    with pytest.raises(InvalidTransition):
        prog.accept("GM0363", on=date(2019, 11, 1), by="burgemeester")
    receipt = prog.receipt("acc-1")
    assert receipt is not None
    assert (receipt.command, receipt.result) == ("accept", "GM0363")
    assert receipt.last_position == prog.last_position()
    written = list(
        prog.follow(
            after=receipt.first_position - 1,
            limit=receipt.last_position - receipt.first_position + 1,
        )
    )
    assert [r.type for r in written] == ["Accepted", "Issued"]
    assert written[0].code == "GM0363"
    assert receipt.to_dict() == {
        "command": "accept",
        "result": "GM0363",
        "first_position": receipt.first_position,
        "last_position": receipt.last_position,
    }


def test_the_same_request_id_with_other_arguments_is_refused_and_writes_nothing(
    programme: Programme, event_count: Callable[[Programme], int]
) -> None:
    prog = programme
    connected(prog)
    report = {"received_on": date(2020, 2, 3), "category": "sociale zekerheid", "by": "mma"}
    prog.record_report("GM0363", reference="MMA-1", request_id="rep-1", **report)  # type: ignore[arg-type]
    before = event_count(prog)
    with pytest.raises(RequestIdReused) as caught:
        prog.record_report("GM0363", reference="MMA-2", request_id="rep-1", **report)  # type: ignore[arg-type]
    assert caught.value.code == "request_id_reused"
    assert caught.value.to_dict()["details"] == {"request_id": "rep-1", "command": "record_report"}
    with pytest.raises(RequestIdReused):  # another command under the same id
        prog.terminate("GM0363", on=date(2021, 1, 1), by="b", request_id="rep-1")
    assert event_count(prog) == before
    assert prog.receipt("unknown") is None


def test_a_command_that_breaks_a_rule_leaves_no_receipt(
    memory_programme: Programme, event_count: Callable[[Programme], int]
) -> None:
    prog = memory_programme
    prog.register_registry("noord-holland-2019", by="coordinator")
    before = event_count(prog)
    with pytest.raises(InvalidTransition):
        prog.accept("GM0363", on=date(2019, 11, 1), by="b", request_id="early")
    assert event_count(prog) == before
    assert prog.receipt("early") is None
    with pytest.raises(InvalidInput):
        prog.accept("GM0363", on=date(2019, 11, 1), by="b", request_id="")


def test_a_retried_nomination_returns_the_same_official(
    programme: Programme, event_count: Callable[[Programme], int]
) -> None:
    prog = programme
    connected(prog)
    first = prog.nominate_official(
        "GM0363", name="Jan Jansen", email="jan@example.nl", by="c", request_id="nom-1"
    )
    before = event_count(prog)
    again = prog.nominate_official(
        "GM0363", name="Jan Jansen", email="jan@example.nl", by="c", request_id="nom-1"
    )
    assert again == first == "GM0363-1"
    assert event_count(prog) == before
    assert len(prog.municipality("GM0363").officials) == 1
    # The receipt's stored event holds no personal data.
    stored = b"".join(n.state for n in prog.recorder.select_notifications(1, 10_000))
    assert b"jan@example.nl" not in stored.split(b"Issued")[-1]


@pytest.mark.slow
def test_the_same_request_id_from_eight_threads_at_once_writes_once(
    programme: Programme, event_count: Callable[[Programme], int]
) -> None:
    prog = programme
    connected(prog)
    before = event_count(prog)
    barrier = threading.Barrier(8)
    results: list[object] = []
    lock = threading.Lock()

    def retry() -> None:
        barrier.wait()
        try:
            result: object = prog.record_report(
                "GM0363",
                received_on=date(2020, 2, 3),
                category="sociale zekerheid",
                reference="MMA-20-0001",
                by="mma",
                request_id="report-0001",
            )
        except Exception as error:  # any failure is a finding
            result = error
        with lock:
            results.append(result)

    threads = [threading.Thread(target=retry) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["MMA-20-0001"] * 8
    assert event_count(prog) == before + 3  # the report, its claim, the receipt
    assert prog.municipality("GM0363").reports_received == 1


RETRY = """
import sys
from datetime import date
from mma_core import Programme
with Programme.open(sys.argv[1]) as prog:
    print(prog.nominate_official("GM0363", name="Piet", email="piet@example.nl", by="c",
                                 request_id="restart-1"))
"""


def test_a_retry_after_a_process_restart_returns_the_same_result(
    store_url: str, event_count: Callable[[Programme], int]
) -> None:
    if store_url == "memory://":
        pytest.skip("a memory store does not outlive its process")
    with Programme.open(store_url) as prog:
        connected(prog)
    first = subprocess.run(
        [sys.executable, "-c", RETRY, store_url], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert first == "GM0363-1"
    with Programme.open(store_url) as prog:
        before = event_count(prog)
        again = prog.nominate_official(
            "GM0363", name="Piet", email="piet@example.nl", by="c", request_id="restart-1"
        )
        assert again == first
        assert event_count(prog) == before
        receipt = prog.receipt("restart-1")
        assert receipt is not None
        assert receipt.result == "GM0363-1"


def test_a_receipt_inside_atomic_is_written_with_the_block_or_not_at_all() -> None:
    with Programme.open("memory://") as prog:
        prog.register_registry("noord-holland-2019", by="coordinator")
        prog.make_offer(reference=OFFER, sent_on=date(2019, 10, 18), by="cdk")
        before = prog.event_count()
        on = date(2019, 10, 18)
        seen: list[object] = []

        def block() -> None:
            with prog.atomic():
                prog.invite("GM0363", on=on, reference=OFFER, by="c", request_id="a")
                seen.append(prog.receipt("a"))  # held with the block, not written ahead of it
                prog.accept("GM0392", on=date(2019, 11, 1), by="c")  # never invited: a rule

        with pytest.raises(InvalidTransition):
            block()
        assert seen == [None]
        assert prog.event_count() == before
        assert prog.receipt("a") is None
        with prog.atomic():
            prog.invite("GM0363", on=date(2019, 10, 18), reference=OFFER, by="c", request_id="a")
            prog.invite("GM0392", on=date(2019, 10, 18), reference=OFFER, by="c")
        receipt = prog.receipt("a")
        assert receipt is not None
        assert receipt.result == "GM0363"
        assert prog.event_count() == before + 3  # two invitations and the receipt


def test_a_retried_bulk_import_returns_its_first_answer_and_writes_nothing() -> None:
    from mma_core.application.report_rows import ReportRow

    with Programme.open("memory://") as prog:
        connected(prog)
        rows = [
            ReportRow("GM0363", date(2020, 2, n), "fraude", f"MMA-20-{n:04d}") for n in (3, 4, 5)
        ]
        first = prog.record_reports(rows, by="mma", request_id="import-2020-02")
        before = prog.event_count()
        # Rows given again (even as a generator) are the same request: the first answer.
        again = prog.record_reports(iter(rows), by="mma", request_id="import-2020-02")
        assert again == first == ["MMA-20-0003", "MMA-20-0004", "MMA-20-0005"]
        assert prog.event_count() == before
        receipt = prog.receipt("import-2020-02")
        assert receipt is not None
        assert receipt.command == "record_reports"
        # Other rows under the same id are refused, and write nothing.
        with pytest.raises(RequestIdReused):
            prog.record_reports(rows[:2], by="mma", request_id="import-2020-02")
        # An id needs one transaction: refused with batches or a dry run, nothing written.
        for options in ({"atomic": False}, {"dry_run": True}):
            with pytest.raises(InvalidInput, match="is one transaction"):
                prog.record_reports(rows, by="mma", request_id="other", **options)
        assert prog.event_count() == before
        assert prog.receipt("other") is None
