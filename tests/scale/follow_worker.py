"""Processes for the follower test: a writer and a follower, each killable at any point.

``python tests/scale/follow_worker.py prepare URL``
    registers the registry and connects the municipalities the writer reports on.
``python tests/scale/follow_worker.py write URL COUNT``
    records COUNT reports from two threads that write to the same municipalities, so that
    writers conflict and transactions roll back (on PostgreSQL that leaves gaps in the
    positions). A reference recorded before (a restarted writer) is skipped.
``python tests/scale/follow_worker.py follow URL FILE DONE``
    appends the position of every event it follows to FILE (one ``os.write`` per line: a
    SIGKILL never leaves half a line), resuming after the last position in FILE; exits once
    DONE exists and a ``follow(wait=1.0)`` found nothing new.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from datetime import date
from pathlib import Path

from mma_core import DuplicateReport, Programme

CODES = ["GM0358", "GM0361", "GM0362", "GM0363"]


def prepare(url: str) -> None:
    with Programme.open(url, origin="follow-test") as prog:
        prog.register_registry("noord-holland-2019", by="setup")
        prog.make_offer(reference="R-2019", sent_on=date(2019, 10, 18), by="setup")
        for code in CODES:
            prog.invite(code, on=date(2019, 10, 18), reference="R-2019", by="setup")
            prog.accept(code, on=date(2019, 11, 1), by="setup")
            prog.connect(code, on=date(2019, 12, 1), by="setup")


def write(url: str, count: int) -> None:
    with Programme.open(url, origin="follow-test") as prog:

        def worker(offset: int) -> None:
            for n in range(offset, count, 2):
                with contextlib.suppress(DuplicateReport):  # recorded before a restart
                    prog.record_report(
                        CODES[(n // 2) % len(CODES)],  # both threads on one
                        received_on=date(2020, 2, 3),
                        category="sociale zekerheid",
                        reference=f"F-{n:05d}",
                        by="writer",
                    )

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


def saved_position(path: Path) -> int:
    if not path.exists():
        return 0
    lines = path.read_text().split()
    return int(lines[-1]) if lines else 0


def follow(url: str, path: Path, done: Path) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    with Programme.open(url, origin="follow-test") as prog:
        while True:
            seen = 0
            for record in prog.follow(after=saved_position(path), wait=1.0):
                os.write(fd, f"{record.position}\n".encode())
                seen += 1
            if seen == 0 and done.exists():
                return


if __name__ == "__main__":
    mode, url = sys.argv[1], sys.argv[2]
    if mode == "prepare":
        prepare(url)
    elif mode == "write":
        write(url, int(sys.argv[3]))
    else:
        follow(url, Path(sys.argv[3]), Path(sys.argv[4]))
