"""One Programme shared by 8 threads writing and reading; the same API as coroutines."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from datetime import date

import pytest

from mma_core import InvalidTransition, Programme
from mma_core.application.aio import AsyncProgramme

OFFER = "1298348/1298354"
CODES = ["GM0358", "GM0361", "GM0362", "GM0363", "GM0373", "GM0375", "GM0376", "GM0377"]
REPORTS = 15


def prepare(prog: Programme) -> None:
    prog.register_registry("noord-holland-2019", by="coordinator")
    prog.make_offer(reference=OFFER, sent_on=date(2019, 10, 18), by="cdk")
    for code in CODES:
        prog.invite(code, on=date(2019, 10, 18), reference=OFFER, by="cdk")
        prog.accept(code, on=date(2019, 11, 1), by="burgemeester")


@pytest.mark.slow
def test_eight_threads_write_and_read_one_shared_programme(
    programme: Programme, event_count: Callable[[Programme], int]
) -> None:
    prog = programme
    prepare(prog)
    before = event_count(prog)
    barrier = threading.Barrier(len(CODES))
    failures: list[BaseException] = []

    def work(n: int, code: str) -> None:
        try:
            barrier.wait()
            prog.connect(code, on=date(2019, 12, 1), by="coordinator", request_id=f"c-{code}")
            for i in range(REPORTS):
                # Every thread also reports on its neighbour's municipality: writers collide.
                target = code if i % 2 else CODES[(n + 1) % len(CODES)]
                if prog.municipality(target).stage.value != "connected":
                    target = code
                prog.record_report(
                    target,
                    received_on=date(2020, 2, 3),
                    category="sociale zekerheid",
                    reference=f"T-{code}-{i}",
                    by="mma",
                    request_id=f"r-{code}-{i}",
                )
                assert prog.overview().connected >= 1
                assert prog.history(code)
                assert list(prog.follow(after=max(0, prog.last_position() - 5)))
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=work, args=(n, c)) for n, c in enumerate(CODES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    # Each connection and each report: its events and its receipt, nothing lost or doubled.
    reports = len(CODES) * REPORTS
    assert event_count(prog) == before + len(CODES) * 2 + reports * 3
    assert sum(prog.municipality(c).reports_received for c in CODES) == reports
    positions = [r.position for r in prog.follow()]
    assert len(positions) == len(set(positions)) == event_count(prog)
    prog.wait_for(prog.last_position(), timeout=10)
    assert prog.overview().connected == len(CODES)


def test_async_programme_offers_the_same_api_as_coroutines() -> None:
    async def scenario() -> None:
        async with await AsyncProgramme.open("memory://") as prog:
            codes = await prog.register_registry("noord-holland-2019", by="coordinator")
            assert "GM0363" in codes
            await prog.make_offer(reference=OFFER, sent_on=date(2019, 10, 18), by="cdk")
            await prog.invite("GM0363", on=date(2019, 10, 18), reference=OFFER, by="cdk")
            results = await asyncio.gather(
                *(
                    prog.accept("GM0363", on=date(2019, 11, 1), by="b", request_id="a-1")
                    for _ in range(4)
                )
            )
            assert results == ["GM0363"] * 4
            with pytest.raises(InvalidTransition):
                await prog.accept("GM0363", on=date(2019, 11, 1), by="b")
            view = await prog.municipality("GM0363")
            assert view.stage.value == "accepted"
            receipt = await prog.receipt("a-1")
            assert receipt is not None
            await prog.wait_for(receipt.last_position, timeout=5)
            types = [r.type async for r in prog.follow(after=receipt.first_position - 1)]
            assert types == ["Accepted", "Issued"]
            assert (await prog.health()).ok
            assert await prog.last_position() == receipt.last_position

    asyncio.run(scenario())
