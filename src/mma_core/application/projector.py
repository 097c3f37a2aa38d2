"""``Projector``: keep a projection of the log in a database of your own, exactly once.

A service that builds its own tables from the programme's events needs three things the
recipe "follow, write, save the position" leaves to it, and this helper does:

- **rows and position in one transaction.** Each event's rows (written by your ``handle``)
  and the projection's position are committed together, in the projection's own database, so
  a crash loses both or neither: no event is applied twice or skipped.
- **resuming after a crash.** The position is read back from that database on start; the
  projector follows the log from there (``Programme.follow(after=position)``).
- **a dropped store or database.** When following fails because the store is unreachable
  (``StoreUnavailable``, a lost PostgreSQL connection while waiting in ``follow(wait=...)``)
  or the projection's own database drops its connection, the projector waits (exponential
  backoff, ``backoff`` seconds at first, doubling up to ``max_backoff``), connects again and
  resumes from the committed position. Any other error (a bug in ``handle``) is raised.

The projection's database is any DB-API 2 connection (``sqlite3``, ``psycopg``) that
``connect()`` returns; the projector keeps its position in the table
``mma_projector_positions`` there (one row per projection ``name``).

    def handle(cursor, record):
        cursor.execute("INSERT INTO reports (position, code) VALUES (?, ?)",
                       (record.position, record.code))

    projector = Projector(programme, lambda: sqlite3.connect("projection.sqlite"),
                          name="reports", handle=handle)
    projector.run(wait=5.0, stop=stop_event)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from eventsourcing.persistence import PersistenceError

from mma_core.application.events import EventRecord
from mma_core.domain.errors import InvalidInput
from mma_core.language.i18n import _
from mma_core.storage.errors import StoreUnavailable

logger = logging.getLogger(__name__)
Handle = Callable[[Any, EventRecord], None]
TABLE = "mma_projector_positions"


def _transient(error: BaseException) -> bool:
    """A failure to wait out: the store or the projection's database is unreachable."""
    if isinstance(error, StoreUnavailable | PersistenceError | ConnectionError):
        return True
    # A DB-API driver's OperationalError (sqlite3, psycopg): a lost connection, a locked file.
    return type(error).__name__ == "OperationalError"


class Projector:
    """Projects the events of ``programme`` into the database ``connect()`` opens, calling
    ``handle(cursor, record)`` for each, and commits each event's rows with the position."""

    def __init__(
        self,
        programme: Any,
        connect: Callable[[], Any],
        *,
        name: str,
        handle: Handle,
        include_receipts: bool = False,
        backoff: float = 0.1,
        max_backoff: float = 5.0,
    ) -> None:
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput(_("a projection needs a name"))
        self.programme = programme
        self.connect = connect
        self.name = name
        self.handle = handle
        self.include_receipts = include_receipts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._connection: Any = None

    # -- the projection's database ---------------------------------------------------------

    def _db(self) -> Any:
        if self._connection is None:
            connection = self.connect()
            mark = "%s" if type(connection).__module__.startswith("psycopg") else "?"
            cursor = connection.cursor()
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {TABLE} "
                "(name TEXT PRIMARY KEY, position BIGINT NOT NULL)"
            )
            cursor.execute(
                f"INSERT INTO {TABLE} (name, position) VALUES ({mark}, 0) "  # noqa: S608
                "ON CONFLICT (name) DO NOTHING",
                (self.name,),
            )
            connection.commit()
            self._connection, self._mark = connection, mark
        return self._connection

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except Exception:  # already gone
                logger.debug("projection %s: closing a dropped connection failed", self.name)

    def position(self) -> int:
        """The position of the last event the projection committed (0: none yet)."""
        cursor = self._db().cursor()
        cursor.execute(
            f"SELECT position FROM {TABLE} WHERE name={self._mark}",  # noqa: S608
            (self.name,),
        )
        row = cursor.fetchone()
        self._connection.commit()
        return int(row[0])

    def _apply(self, record: EventRecord, after: int) -> None:
        """``record``'s rows and the new position, in one transaction; the position must
        still be ``after`` (another projector of the same name makes this one start again)."""
        connection = self._db()
        cursor = connection.cursor()
        try:
            self.handle(cursor, record)
            cursor.execute(
                f"UPDATE {TABLE} SET position={self._mark} "  # noqa: S608
                f"WHERE name={self._mark} AND position={self._mark}",
                (record.position, self.name, after),
            )
            if cursor.rowcount != 1:
                raise _Moved
            connection.commit()
        except BaseException:
            try:
                connection.rollback()
            except Exception:
                self._drop()
            raise

    # -- running ---------------------------------------------------------------------------

    def run(
        self,
        *,
        wait: float | None = 1.0,
        stop: threading.Event | None = None,
        limit: int | None = None,
    ) -> int:
        """Project the events after the committed position until ``stop`` is set (with
        ``wait``; without, until caught up) or ``limit`` events were projected; returns how
        many were. Waits out an unreachable store or database (see the module)."""
        done = 0
        pause = self.backoff
        while (stop is None or not stop.is_set()) and (limit is None or done < limit):
            try:
                after = self.position()
                left = None if limit is None else limit - done
                records = self.programme.follow(
                    after, limit=left, wait=wait, include_receipts=self.include_receipts
                )
                try:
                    for record in records:
                        self._apply(record, after)
                        after = record.position
                        done += 1
                        pause = self.backoff
                        if stop is not None and stop.is_set():
                            break
                finally:
                    close = getattr(records, "close", None)
                    if close is not None:
                        close()
                if wait is None or (limit is not None and done >= limit):
                    return done
            except _Moved:
                continue  # another projector committed meanwhile: resume from its position
            except Exception as error:
                if not _transient(error):
                    raise
                logger.warning(
                    "projection %s: %s; again in %.1f s", self.name, type(error).__name__, pause
                )
                self._drop()
                if stop is not None:
                    if stop.wait(pause):
                        break
                else:
                    time.sleep(pause)
                pause = min(pause * 2, self.max_backoff)
        return done

    def close(self) -> None:
        self._drop()


class _Moved(Exception):
    """The stored position moved under this projector: another one of the same name ran."""


__all__ = ["Projector"]
