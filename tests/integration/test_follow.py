"""Programme.follow: the events after a position, in order, once; waiting for new ones."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import date

import psycopg
import pytest

from mma_core import InvalidInput, Programme
from mma_core.extensions.hookspecs import EventRecord


def test_follow_yields_every_event_in_store_order_with_its_position(
    programme: Programme,
) -> None:
    prog = programme
    assert prog.last_position() == 0
    assert list(prog.follow()) == []
    prog.register_registry("noord-holland-2019", by="coordinator")
    prog.make_offer(reference="R-1", sent_on=date(2019, 10, 18), by="cdk")
    records = list(prog.follow())
    assert all(isinstance(r, EventRecord) for r in records)
    positions = [r.position for r in records]
    assert positions == sorted(set(positions))
    assert positions[-1] == prog.last_position()
    assert len(records) == prog.event_count()
    assert records[-1].type == "Made"
    assert records[-1].aggregate == "Offer"
    history = {e.position for e in prog.history("GM0363")}
    assert history <= set(positions)
    # Resuming after any position gives exactly the rest; limit stops early.
    middle = positions[20]
    assert [r.position for r in prog.follow(after=middle)] == positions[21:]
    assert [r.position for r in prog.follow(after=middle, limit=3)] == positions[21:24]
    assert list(prog.follow(after=prog.last_position(), wait=0)) == []


def test_follow_reads_past_the_ten_per_call_of_the_notification_log(
    memory_programme: Programme,
) -> None:
    prog = memory_programme
    prog.register_registry("noord-holland-2019", by="coordinator")
    assert len(list(prog.follow(limit=500))) == 49


@pytest.mark.parametrize(
    ("after", "limit", "wait"), [(-1, None, None), (0, 0, None), (0, None, -1.0), ("1", None, None)]
)
def test_bad_arguments_are_refused(
    memory_programme: Programme, after: object, limit: object, wait: object
) -> None:
    with pytest.raises(InvalidInput):
        list(memory_programme.follow(after, limit=limit, wait=wait))  # type: ignore[arg-type]


def test_a_waiting_follower_sees_a_new_event_within_a_second(programme: Programme) -> None:
    prog = programme
    prog.register_registry("noord-holland-2019", by="coordinator")
    start = prog.last_position()
    written: list[float] = []

    def write_later() -> None:
        time.sleep(0.4)
        written.append(time.monotonic())
        prog.make_offer(reference="R-1", sent_on=date(2019, 10, 18), by="cdk")

    writer = threading.Thread(target=write_later)
    writer.start()
    seen = []
    for record in prog.follow(after=start, wait=3.0, limit=1):
        seen.append((record, time.monotonic()))
    writer.join()
    assert [r.type for r, _ in seen] == ["Made"]
    assert seen[0][1] - written[0] < 1.0


def test_a_waiting_follower_gives_up_after_wait_seconds_of_silence(
    programme: Programme,
) -> None:
    prog = programme
    prog.register_registry("noord-holland-2019", by="coordinator")
    started = time.monotonic()
    assert list(prog.follow(after=prog.last_position(), wait=0.5)) == []
    took = time.monotonic() - started
    assert 0.45 <= took < 5


def test_a_follower_in_another_programme_sees_the_writes(store_url: str) -> None:
    if store_url == "memory://":
        pytest.skip("two programmes on memory:// are two stores")
    with Programme.open(store_url) as writer, Programme.open(store_url) as reader:
        writer.register_registry("noord-holland-2019", by="coordinator")
        saved = reader.last_position()
        assert saved == writer.last_position()
        threading.Timer(
            0.3,
            lambda: writer.make_offer(reference="R-1", sent_on=date(2019, 10, 18), by="c"),
        ).start()
        got = [r.type for r in reader.follow(after=saved, wait=3.0, limit=1)]
        assert got == ["Made"]


@pytest.mark.postgres
def test_a_rolled_back_transaction_leaves_a_gap_the_follower_passes_once(
    postgres_url: str,
) -> None:
    with Programme.open(postgres_url) as prog:
        prog.register_registry("noord-holland-2019", by="coordinator")
        before = prog.last_position()
        # A writer's transaction that inserted an event and rolled back: its number, drawn
        # from the sequence, is never used.
        server, schema = postgres_url.split("?schema=")
        with psycopg.connect(server) as conn:
            conn.execute(f'SET search_path TO "{schema}"')
            conn.execute(
                "INSERT INTO programme_events (originator_id, originator_version, topic, state) "
                "VALUES (%s, 1, 'x', '')",
                (uuid.uuid4(),),
            )
            conn.rollback()
        prog.make_offer(reference="R-1", sent_on=date(2019, 10, 18), by="cdk")
        after = prog.last_position()
        assert after > before + 1, "the rollback left no gap to test"
        followed = [r.position for r in prog.follow(after=before)]
        assert followed == [after]
