"""Writers killed with SIGKILL at random points, for the crash-safety test.

Run as ``python tests/scale/crash_writer.py URL SEED KILLS NOTIFIED_FILE``. The process imports
the library once, then KILLS times forks a writer (and, every few rounds, a follower that
catches the read models up and delivers the outbox), lets it work for a random short time and
kills it with SIGKILL. Forked children are real processes with their own connections; the
parent holds no store open while it forks. Prints one JSON line: how many children were
killed while still running, and how many of them were followers.

The writer's commands cover multi-aggregate transactions (a report and its claim, a booking's
seat on the municipality and the session, a withdrawal that releases the seat, a merger),
officials' keys (a nomination stores its key in the same transaction) and, for every event,
its audit leaf.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sys
import time
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from mma_core import DomainError, Programme
from mma_core.domain.values import MMA_CATEGORIES
from mma_core.extensions.hookspecs import Notification, hookimpl

CODES = ["GM0358", "GM0361", "GM0362", "GM0363", "GM0373", "GM0398", "GM0416", "GM0457"]
MERGERS = [("GM0398", "GM1980", date(2022, 1, 1)), ("GM0416", "GM1980", date(2022, 1, 1))]
SESSIONS = [f"NH-2020-{n:02d}" for n in range(1, 5)]
CHANNELS = ("count-a", "count-b")


def prepare(url: str) -> None:
    with Programme.open(url) as prog:
        prog.register_registry("noord-holland-2019", by="setup")
        prog.make_offer(reference="R-2019", sent_on=date(2019, 10, 18), by="setup")
        for code in CODES:
            prog.invite(code, on=date(2019, 10, 18), reference="R-2019", by="setup")
            prog.accept(code, on=date(2019, 11, 1), by="setup")
            prog.connect(code, on=date(2019, 12, 1), by="setup")
        for n, session_id in enumerate(SESSIONS):
            prog.schedule_training(
                session_id,
                starts_at=datetime(2020, 3, 2 + n, 10),
                ends_at=datetime(2020, 3, 2 + n, 16),
                location="Haarlem",
                capacity=400,
                by="setup",
            )


def write_forever(url: str, seed: int, ready: int) -> None:
    """Issue commands until killed; write one byte to ``ready`` after the first one."""
    rng = random.Random(seed)
    with Programme.open(url, origin="crash-writer") as prog:
        for n in range(10**9):
            code = rng.choice(CODES)
            kind = rng.choices(
                ["report", "nominate", "book", "withdraw", "merge"], weights=[5, 2, 3, 1, 0.2]
            )[0]
            try:
                if kind == "report":
                    prog.record_report(
                        code,
                        received_on=date(2020, 1 + n % 12, 1 + n % 28),
                        category=rng.choice(MMA_CATEGORIES),
                        reference=f"C{seed}-{n}",
                        by="writer",
                    )
                elif kind == "nominate":
                    prog.nominate_official(
                        code,
                        name=f"Official {seed}-{n}",
                        email=f"o{seed}x{n}@example.nl",
                        on=date(2020, 1, 1),
                        by="writer",
                    )
                elif kind in ("book", "withdraw"):
                    active = [o for o in prog.municipality(code).officials if o.active]
                    if active and kind == "book":
                        official = rng.choice(active)
                        prog.book_training(
                            code,
                            official_id=official.id,
                            session_id=rng.choice(SESSIONS),
                            on=date(2020, 2, 1),
                            by="writer",
                        )
                    elif active:
                        official = rng.choice(active)
                        prog.withdraw_official(official.id, on=date(2020, 2, 15), by="writer")
                else:
                    absorbed, into, on = rng.choice(MERGERS)
                    prog.merge(absorbed, into=into, on=on, by="writer")
            except DomainError:
                pass
            if ready >= 0:
                os.write(ready, b"1")
                os.close(ready)
                ready = -1


class CountingNotifier:
    """Appends ``channel delivery_id`` to a file, one line per send (O_APPEND: whole lines)."""

    def __init__(self, channel: str, path: str) -> None:
        self.channel = channel
        self.path = path

    def send(self, notification: Notification) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, f"{self.channel} {notification.delivery_id}\n".encode())
        finally:
            os.close(fd)


class CountingPlugin:
    def __init__(self, path: str) -> None:
        self.notifiers = [CountingNotifier(channel, path) for channel in CHANNELS]

    @hookimpl
    def mma_register_notifiers(self, register: Callable[[object], None]) -> None:
        for notifier in self.notifiers:
            register(notifier)


def follow(url: str, notified: str, ready: int = -1) -> dict[str, int]:
    """Catch the read models up and run the outbox, with the counting notifiers registered
    through the plugin manager next to the built-ins."""
    from mma_core.extensions.plugins import load_plugins
    from mma_core.outbox.delivery import DeliveryBusy, Outbox

    plugins = load_plugins(entry_points=[])
    plugins.register(CountingPlugin(notified), "crash-counting")
    with Programme.open(url, origin="crash-follower") as prog:
        if ready >= 0:
            os.write(ready, b"1")
            os.close(ready)
        applied = prog.views.catch_up()
        try:
            report = Outbox(prog, plugins).run()
        except DeliveryBusy:
            return {"applied": applied, "delivered": 0}
        return {"applied": applied, "delivered": report.delivered}


def _fork(target: Callable[[int], Any]) -> tuple[int, int]:
    """Fork a child running ``target(ready_fd)``; returns its pid and the read end."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into the caller
        os.close(read)
        code = 0
        try:
            target(write)
        except BaseException:
            code = 1
        os._exit(code)
    os.close(write)
    return pid, read


def _kill_after(pid: int, read: int, delay: float) -> bool:
    """Wait until the child says it is working (or ended), then ``delay``, then SIGKILL.
    True if the signal found the child still running."""
    os.read(read, 1)
    os.close(read)
    time.sleep(delay)
    ended, _ = os.waitpid(pid, os.WNOHANG)
    if ended:
        return False
    os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    return os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


def main(url: str, seed: int, kills: int, notified: str) -> None:
    rng = random.Random(seed)
    killed = followers_killed = 0
    for round_ in range(kills):
        followers = []
        if round_ % 5 == 4:
            # A follower running beside the writer, killed at its own random moment.
            followers.append(_fork(lambda fd: follow(url, notified, fd)))
        pid, read = _fork(lambda fd, r=round_: write_forever(url, seed * 1000 + r, fd))
        if _kill_after(pid, read, rng.uniform(0.02, 0.35)):
            killed += 1
        for fpid, fread in followers:
            if _kill_after(fpid, fread, rng.uniform(0.0, 0.2)):
                followers_killed += 1
    print(json.dumps({"killed": killed, "followers_killed": followers_killed}))


if __name__ == "__main__":
    if sys.argv[1] == "prepare":
        prepare(sys.argv[2])
    elif sys.argv[1] == "follow":
        print(json.dumps(follow(sys.argv[2], sys.argv[3])))
    else:
        main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
