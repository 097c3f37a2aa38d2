"""Writers and followers killed with SIGKILL at random points, 50 writer kills per store, then the
store reopened: it opens, holds no partial command, verifies (``mma audit verify`` as a
subprocess), its read models catch up to what a rebuild gives, and the outbox delivers every
notification once per channel.

The outbox is at least once across a kill between a notifier's send and the record of it (see
``mma_core.outbox.delivery``): the follower killed at that moment sends that one notification again
on the next run. So the receiver's count is taken per ``delivery_id`` (which the notification
carries for exactly this), and the raw copies are at most one per killed follower.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from test_concurrent_writers import _postgres_schema

from mma_core import Programme
from mma_core.domain.municipality import Municipality
from mma_core.domain.report_claim import ReportClaim
from mma_core.domain.training import TrainingSession, session_id_to_uuid
from mma_core.extensions.plugins import load_plugins
from mma_core.outbox.delivery import DEAD, DELIVERED, DROPPED, PENDING, Outbox
from mma_core.views.models import ReadModels

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("crash_writer.py")
KILLS = int(os.environ.get("MMA_CRASH_KILLS", "50"))
CHANNELS = ("count-a", "count-b")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'crash.sqlite'}"
    else:
        yield from _postgres_schema()


def _script(*args: str, timeout: float = 300) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MMA_")}
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _log(prog: Programme) -> list[Any]:
    events, start = [], 1
    while True:
        batch = prog.recorder.select_notifications(start, 1000)
        events.extend((n.id, prog.mapper.to_domain_event(n)) for n in batch)
        if len(batch) < 1000:
            return events
        start = batch[-1].id + 1


def _dump(models: ReadModels) -> dict[str, Any]:
    return {
        "tracking": models.tracking(),
        "municipalities": models.records(),
        "sessions": models.sessions(),
        "ledger": models.ledger(),
    }


def _keys_in_table(url: str, prog: Programme) -> int:
    recorder: Any = prog.recorder
    if url.startswith("sqlite"):
        with recorder.datastore.transaction(commit=False) as c:
            c.execute("SELECT COUNT(*) FROM mma_official_keys")
            return int(c.fetchone()[0])
    with recorder.datastore.get_connection() as conn, conn.cursor() as curs:
        schema = url.rsplit("schema=", 1)[1]
        curs.execute(f"SELECT COUNT(*) AS n FROM {schema}.{recorder.keys_table}")
        return int(curs.fetchone()["n"])


def _no_partial_command(url: str, prog: Programme) -> None:
    log = _log(prog)
    assert log, "the store lost its events"
    events = [event for _, event in log]
    reports: Counter[tuple[str, str]] = Counter()
    claims: Counter[tuple[str, str]] = Counter()
    booked_m: Counter[tuple[str, Any]] = Counter()
    booked_s: Counter[tuple[str, Any]] = Counter()
    released: Counter[str] = Counter()
    withdrawn_or_erased: set[str] = set()
    merged: Counter[tuple[str, str]] = Counter()
    succeeded: Counter[tuple[str, str]] = Counter()
    nominated: list[str] = []
    code_of: dict[Any, str] = {}
    for event in events:
        if isinstance(event, Municipality.Registered):
            code_of[event.originator_id] = event.code
        if isinstance(event, Municipality.ReportReceived):
            reports[(code_of[event.originator_id], str(event.reference))] += 1
        elif isinstance(event, ReportClaim.Claimed):
            claims[(str(event.code), str(event.reference))] += 1
        elif isinstance(event, Municipality.TrainingBooked):
            booked_m[(event.official_id, session_id_to_uuid(event.session_id))] += 1
        elif isinstance(event, TrainingSession.SeatBooked):
            booked_s[(event.official_id, event.originator_id)] += 1
        elif isinstance(event, TrainingSession.SeatReleased):
            released[event.official_id] += 1
        elif isinstance(event, Municipality.OfficialWithdrawn | Municipality.OfficialErased):
            withdrawn_or_erased.add(event.official_id)
        elif isinstance(event, Municipality.Merged):
            merged[(code_of[event.originator_id], event.successor)] += 1
        elif isinstance(event, Municipality.PredecessorMerged):
            succeeded[(event.predecessor, code_of[event.originator_id])] += 1
        elif isinstance(event, Municipality.OfficialNominated):
            nominated.append(event.official_id)
    # A report and its claim, a booking's seat on both sides, a merger on both sides.
    assert reports == claims
    assert sum(reports.values()) > 0
    assert booked_m == booked_s
    assert merged == succeeded
    # A released seat belongs to an official who was withdrawn in the same command.
    assert set(released) <= withdrawn_or_erased
    assert max(released.values(), default=0) <= 1
    # Every nominated official has a key (none is erased here), and no key is left over.
    assert nominated
    for official_id in nominated:
        assert prog.keys.select_official_key(official_id) is not None, official_id
    assert _keys_in_table(url, prog) == len(nominated)
    # The sessions' seats are the officials holding them, seen from the municipalities.
    holding: dict[str, set[str]] = {}
    for code in prog.codes():
        for official in prog.municipality(code).officials:
            if official.active and official.session_id is not None:
                holding.setdefault(official.session_id, set()).add(official.id)
    for session in prog.sessions():
        assert set(session.booked) == holding.get(session.session_id, set())
    # One leaf per event.
    assert prog.event_count() == len(events)


@pytest.mark.slow
@pytest.mark.xdist_group("scale")
def test_random_sigkills_leave_a_store_that_opens_verifies_and_catches_up(
    store: str, tmp_path: Path
) -> None:
    notified = tmp_path / "notified.txt"
    _script("prepare", store)
    summary = json.loads(_script(store, "7", str(KILLS), str(notified)).strip().splitlines()[-1])
    # Nearly every kill finds the writer still writing (it never stops on its own).
    assert summary["killed"] >= KILLS - 2, summary

    with Programme.open(store) as prog:
        _no_partial_command(store, prog)
        events = prog.event_count()
        last = prog.recorder.max_notification_id()

    env = {k: v for k, v in os.environ.items() if not k.startswith("MMA_")}
    verify = subprocess.run(
        [sys.executable, "-m", "mma_core.cli", "--store", store, "--json", "audit", "verify"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert json.loads(verify.stdout)["size"] == events

    # The follower, killed mid-catch-up and mid-delivery before, now runs to the end; a second
    # run finds nothing more to do.
    json.loads(_script("follow", store, str(notified)))
    again = json.loads(_script("follow", store, str(notified)))
    assert again == {"applied": 0, "delivered": 0}

    with Programme.open(store) as prog:
        models = ReadModels(prog)
        assert models.catch_up() == 0
        caught_up = _dump(models)
        fresh = ReadModels(prog)
        fresh.rebuild()
        assert caught_up == _dump(fresh)

        outbox = Outbox(prog, load_plugins(entry_points=[]))
        assert outbox.store.position() == last
        rows = outbox.store.rows()
        assert rows
        assert {r.status for r in rows} <= {DELIVERED, DROPPED}
        assert not [r for r in rows if r.status in (PENDING, DEAD)]
        lines = [line.split() for line in notified.read_text().splitlines()]
        per_channel: dict[str, set[tuple[str, str]]] = {}
        for channel in CHANNELS:
            delivered = {
                r.delivery_id for r in rows if r.channel == channel and r.status == DELIVERED
            }
            received = [delivery for c, delivery in lines if c == channel]
            # Exactly once per delivery id: every delivered row arrived, nothing else did.
            assert set(received) == delivered
            per_channel[channel] = {(r.event_id, r.key) for r in rows if r.channel == channel}
        # Both channels were asked for the same notifications.
        assert per_channel[CHANNELS[0]] == per_channel[CHANNELS[1]]
        assert any(key.endswith("training-booked") for _, key in per_channel[CHANNELS[0]])
        # Raw copies only from a follower killed between a send and its record.
        copies = len(lines) - len(set(map(tuple, lines)))
        assert copies <= summary["followers_killed"]
