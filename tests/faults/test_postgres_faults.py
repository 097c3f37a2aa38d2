"""PostgreSQL faults, against a server of the test's own: restarted with ``-m immediate`` under
eight writers and a follower, and stopped for 30 seconds. Every command commits once, or fails
transiently and commits once on its retry with the same request_id; nothing is lost or doubled;
the history verifies; the follower resumes; a stopped server makes commands fail fast."""

from __future__ import annotations

import threading
import time
from datetime import date
from typing import Any

import pytest
from pg_server import PrivateServer

from mma_core import Programme, StoreError, StoreUnavailable

pytestmark = pytest.mark.slow

WRITERS = 8
COMMANDS = 30  # per writer
EVENTS_PER_COMMAND = 2  # the offer's event and the request's receipt
FIGURES: dict[str, Any] = {}  # printed for docs/operations.md


def _verify(url: str) -> Any:
    from mma_core.audit.sources import open_reader, open_recorder
    from mma_core.audit.verify import verify

    with open_recorder(url) as recorder, open_reader(recorder) as reader:
        return verify(reader)


def _command(prog: Programme, writer: int, n: int) -> None:
    prog.make_offer(
        reference=f"R-{writer}-{n}",
        sent_on=date(2024, 1, 1),
        by=f"writer-{writer}",
        request_id=f"w{writer}-{n}",
    )


def test_an_immediate_restart_under_eight_writers_and_a_follower_loses_and_doubles_nothing(
    private_postgres: PrivateServer,
) -> None:
    url = private_postgres.url
    Programme.open(url).close()  # the tables
    retried = [0] * WRITERS
    failures: list[BaseException] = []
    seen: list[int] = []
    follower_done = threading.Event()
    stop_following = threading.Event()

    def writer(i: int) -> None:
        try:
            with Programme.open(url) as prog:
                for n in range(COMMANDS):
                    deadline = time.monotonic() + 60
                    while True:
                        try:
                            _command(prog, i, n)
                            break
                        except StoreUnavailable:
                            # Transient: the same request again (its receipt answers it if
                            # the first attempt did commit).
                            retried[i] += 1
                            assert time.monotonic() < deadline, "the store did not come back"
                            time.sleep(0.2)
                    time.sleep(0.01)
        except BaseException as error:
            failures.append(error)

    def follower() -> None:
        try:
            with Programme.open(url) as prog:
                while not stop_following.is_set():
                    after = seen[-1] if seen else 0
                    for record in prog.follow(after=after, wait=2.0):
                        seen.append(record.position)
                    # Ended: caught up and nothing new for 2 s.
        except BaseException as error:
            failures.append(error)
        finally:
            follower_done.set()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    following = threading.Thread(target=follower)
    following.start()
    for thread in threads:
        thread.start()
    time.sleep(1.5)  # writers under way
    restart_seconds = private_postgres.restart("immediate")
    recovered_at = time.monotonic()
    for thread in threads:
        thread.join(timeout=180)
    writers_done = time.monotonic()
    time.sleep(2.5)
    stop_following.set()
    following.join(timeout=60)
    assert not failures, failures
    assert follower_done.is_set()

    with Programme.open(url) as prog:
        offers = prog.offers()
        count = prog.event_count()
        last = prog.last_position()
        for i in range(WRITERS):
            for n in range(COMMANDS):
                receipt = prog.receipt(f"w{i}-{n}")
                assert receipt is not None, (i, n)
    references = sorted(o.reference for o in offers)
    assert len(references) == WRITERS * COMMANDS  # nothing lost
    assert len(set(references)) == len(references)  # nothing doubled
    assert count == WRITERS * COMMANDS * EVENTS_PER_COMMAND  # no stray event
    result = _verify(url)
    assert result.ok, result.problem
    assert result.size == count
    # The follower saw every event once, in order, after the restart as before it.
    assert seen == sorted(set(seen))
    assert len(seen) == count
    assert seen[-1] == last
    FIGURES.update(
        restart_seconds=round(restart_seconds, 2),
        commands=WRITERS * COMMANDS,
        retried=sum(retried),
        writers_finished_after=round(writers_done - recovered_at, 2),
    )
    print(f"\nFIGURES immediate restart: {FIGURES}")


def test_a_server_stopped_for_30_seconds_fails_commands_fast_and_everything_resumes(
    private_postgres: PrivateServer,
) -> None:
    url = private_postgres.url
    with Programme.open(url) as prog:
        _command(prog, 0, 0)
        private_postgres.stop("fast")
        stopped_at = time.monotonic()
        timings = []
        while time.monotonic() - stopped_at < 30:
            started = time.monotonic()
            with pytest.raises(StoreError) as caught:
                _command(prog, 0, 1)
            timings.append(time.monotonic() - started)
            assert isinstance(caught.value, StoreUnavailable), caught.value  # transient
            assert caught.value.to_dict()["code"] == "store_unavailable"
            health = prog.health()
            assert not health.ok
            assert not health.reachable
            assert health.error is not None
            time.sleep(2)
        private_postgres.start()
        back_at = time.monotonic()
        while True:
            try:
                _command(prog, 0, 1)  # the same request: committed once
                break
            except StoreUnavailable:
                assert time.monotonic() - back_at < 30
                time.sleep(0.2)
        resumed = time.monotonic() - back_at
        assert prog.health().ok
        assert prog.event_count() == 2 * EVENTS_PER_COMMAND
        assert len(prog.offers()) == 2
    assert _verify(url).ok
    slowest = max(timings)
    assert slowest < 12, timings  # fails fast: never the 30 s of a default pool
    print(
        f"\nFIGURES stopped 30 s: {len(timings)} commands failed, slowest "
        f"{slowest:.2f} s, first {timings[0]:.2f} s; resumed {resumed:.2f} s after the start"
    )


def test_a_waiting_follower_survives_the_server_stopping_and_sees_what_comes_after(
    private_postgres: PrivateServer,
) -> None:
    url = private_postgres.url
    with Programme.open(url) as prog:
        _command(prog, 0, 0)
        first = prog.last_position()
    seen: list[int] = []
    failures: list[BaseException] = []
    following = threading.Event()

    def follower() -> None:
        try:
            with Programme.open(url) as prog:
                following.set()
                # Generous: under load the pool takes a while to reconnect after the restart.
                for record in prog.follow(after=first, wait=90.0, limit=1):
                    seen.append(record.position)
        except BaseException as error:
            failures.append(error)

    thread = threading.Thread(target=follower)
    thread.start()
    assert following.wait(30)
    time.sleep(1.0)  # waiting on LISTEN
    private_postgres.stop("fast")  # the follower's connection is dropped
    time.sleep(5)
    private_postgres.start()
    with Programme.open(url) as prog:
        _command(prog, 0, 1)
        expected = prog.last_position()
    thread.join(timeout=120)
    assert not thread.is_alive()
    assert not failures, failures
    assert seen
    assert seen[0] > first
    assert seen[0] <= expected
