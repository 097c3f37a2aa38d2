"""A projector: the programme's reports, one row each, in a database of the service's own.

Run: ``python projector.py STORE_URL PROJECTION`` where PROJECTION is an SQLite file or a
``postgresql://`` URL. It follows the log for ever (``wait``), writes each report's row and the
position in one transaction, resumes where it stopped after a crash, and waits out a store or
database that goes away (see ``mma_core.Projector``).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from typing import Any

from mma_core import EventRecord, Programme, Projector


def connect(target: str) -> Any:
    if target.startswith("postgresql://"):
        import psycopg

        return psycopg.connect(target, connect_timeout=3)
    import sqlite3

    return sqlite3.connect(target, timeout=10)


def handle(cursor: Any, record: EventRecord) -> None:
    mark = "%s" if type(cursor).__module__.startswith("psycopg") else "?"
    cursor.execute(
        "CREATE TABLE IF NOT EXISTS seen (position BIGINT PRIMARY KEY, type TEXT NOT NULL)"
    )
    # Every event once, with its position: a second insert of one would fail on the key.
    cursor.execute(
        f"INSERT INTO seen (position, type) VALUES ({mark}, {mark})",  # noqa: S608
        (record.position, record.type),
    )


def main(store: str, target: str) -> None:
    logging.basicConfig(level=logging.WARNING)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with Programme.open(store, origin="projector") as programme:
        projector = Projector(
            programme, lambda: connect(target), name="seen", handle=handle, max_backoff=1.0
        )
        try:
            projector.run(wait=0.5, stop=stop)
        finally:
            projector.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
