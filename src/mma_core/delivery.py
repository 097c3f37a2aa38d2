"""The notification outbox: delivers what the plugins want sent about recorded events.

Delivery runs after and apart from commands: a command only records its event. The outbox
follower (:class:`Outbox`, ``mma notify``) then

1. reads the event log from its **own tracking position** (kept in the same store, in its own
   tables: ``mma_delivery_tracking`` and ``mma_delivery_outbox``; in memory for ``memory://``),
2. asks ``mma_notifications_for_event`` what to send about each event, and about the deadlines
   that have come up (``EvaluationDue`` within 30 days, ``AnswerOverdue`` 21 days after an
   invitation without answer),
3. plans one delivery per (event, channel, rule) and moves its position, in one transaction,
4. hands each due delivery to the notifier of its channel.

Delivery is at least once: a delivery is marked done only after its notifier returned, so a
process killed in between sends it again on restart. A planned delivery is never planned twice
(the key is the event id, the channel and the rule), so restarts and re-reads send no copies
beyond that one window, and every notification carries a stable ``delivery_id`` that a receiver
can use to drop such a copy. A failed delivery is retried with exponential backoff; after
``max_attempts`` it is kept in the dead-letter list (``mma notify --failed``;
``--retry`` tries again).

Nothing personal is stored or logged: the outbox keeps ids, channels, rules and error *types*
with a redacted message. Notifications are rebuilt from the event at each attempt, so an
official erased in the meantime is simply no longer contacted.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, uuid5

import attrs

from mma_core.domain.common import AMSTERDAM
from mma_core.domain.errors import UnknownMunicipality
from mma_core.exporting import EventReader
from mma_core.plugin_values import EventRecord, Notification
from mma_core.storage import schema_prefix

if TYPE_CHECKING:  # pragma: no cover
    from mma_core.application import Programme
    from mma_core.plugins import Plugins
    from mma_core.views.state import MunicipalityView

__all__ = ["DeliveryBusy", "DeliveryReport", "DeliverySettings", "Outbox", "OutboxRow"]

logger = logging.getLogger("mma_core.delivery")

PENDING, DELIVERED, DEAD, DROPPED = "pending", "delivered", "dead", "dropped"
PLAN = ""  # the channel of a row that stands for a rules plugin that failed on an event
EVALUATION_DUE, ANSWER_OVERDUE = "EvaluationDue", "AnswerOverdue"
# What ends an address in a server's reply: white space, angle brackets and quotes.
_SEPARATORS = re.compile(r"([\s<>\"']+)")


class DeliveryBusy(RuntimeError):
    """Another delivery run holds the outbox's lease."""


def utc_now() -> datetime:
    return datetime.now(UTC)


@attrs.frozen
class DeliverySettings:
    """``[delivery]`` of ``mma.toml``."""

    max_attempts: int = 5
    backoff_seconds: float = 60.0
    backoff_max_seconds: float = 6 * 3600.0
    batch: int = 200
    evaluation_notice_days: int = 30

    @classmethod
    def from_config(cls, table: dict[str, Any]) -> DeliverySettings:
        known = {f.name for f in attrs.fields(cls)}
        return cls(**{k: v for k, v in table.items() if k in known})

    def backoff(self, attempts: int) -> timedelta:
        seconds = self.backoff_seconds * (2 ** max(attempts - 1, 0))
        return timedelta(seconds=min(seconds, self.backoff_max_seconds))


@attrs.frozen
class OutboxRow:
    """One planned delivery: an event (or deadline), a channel and the rule that asked for it."""

    event_id: str
    channel: str
    key: str  # "PLUGIN:RULE"
    position: int  # the event's notification position; 0 for a deadline
    event_type: str
    code: str | None
    due_on: date | None
    status: str = PENDING
    attempts: int = 0
    next_at: datetime | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None

    @property
    def plugin(self) -> str:
        return self.key.split(":", 1)[0]

    @property
    def rule(self) -> str:
        return self.key.split(":", 1)[1]

    @property
    def delivery_id(self) -> str:
        return str(uuid5(NAMESPACE_URL, f"/deliveries/{self.event_id}/{self.channel}/{self.key}"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "position": self.position,
            "event_type": self.event_type,
            "code": self.code,
            "channel": self.channel or None,
            "rule": self.key,
            "status": self.status,
            "attempts": self.attempts,
            "next_attempt_at": None if self.next_at is None else self.next_at.isoformat(),
            "last_error": self.last_error,
            "delivery_id": self.delivery_id,
        }


@attrs.define
class DeliveryReport:
    planned: int = 0
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    dropped: int = 0
    position: int = 0

    def to_dict(self) -> dict[str, int]:
        return attrs.asdict(self)


# -- stores ---------------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def _dt(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _day(value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


class OutboxStore:
    """Where the outbox keeps its position and its rows."""

    def position(self) -> int:
        raise NotImplementedError

    def plan(self, rows: Sequence[OutboxRow], position: int | None) -> int:
        """Add the rows not planned yet and (if given) move the position, atomically.
        Returns how many rows were new."""
        raise NotImplementedError

    def rows(self, status: str | None = None) -> list[OutboxRow]:
        raise NotImplementedError

    def update(self, row: OutboxRow) -> None:
        raise NotImplementedError

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the store's delivery lock for a run; :class:`DeliveryBusy` if another has it.
        The lock dies with its process, so a killed run never blocks the next."""
        raise NotImplementedError
        yield


class MemoryOutboxStore(OutboxStore):
    def __init__(self) -> None:
        self._position = 0
        self._rows: dict[tuple[str, str, str], OutboxRow] = {}
        self._lock = threading.Lock()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with _memory_lock(self):
            yield

    def position(self) -> int:
        return self._position

    def plan(self, rows: Sequence[OutboxRow], position: int | None) -> int:
        with self._lock:
            new = 0
            for row in rows:
                key = (row.event_id, row.channel, row.key)
                if key not in self._rows:
                    self._rows[key] = row
                    new += 1
            if position is not None:
                self._position = max(self._position, position)
            return new

    def rows(self, status: str | None = None) -> list[OutboxRow]:
        with self._lock:
            found = [r for r in self._rows.values() if status is None or r.status == status]
        return sorted(found, key=lambda r: (r.position, r.event_id, r.key, r.channel))

    def update(self, row: OutboxRow) -> None:
        with self._lock:
            self._rows[(row.event_id, row.channel, row.key)] = row


_MEMORY_STORES: weakref.WeakKeyDictionary[Any, MemoryOutboxStore] = weakref.WeakKeyDictionary()

_COLUMNS = (
    "event_id, channel, rule, position, event_type, code, due_on, status, attempts, next_at, "
    "last_error, delivered_at"
)


class SQLOutboxStore(OutboxStore):
    """The outbox tables in the programme's own SQLite or PostgreSQL database."""

    def __init__(self, datastore: Any, *, postgres: bool, create: bool = True) -> None:
        self.datastore = datastore
        self.postgres = postgres
        prefix = schema_prefix(datastore) if postgres else ""
        self.tracking = f"{prefix}mma_delivery_tracking"
        self.outbox = f"{prefix}mma_delivery_outbox"
        if not create:  # a role that may not run DDL: the tables exist (mma store upgrade)
            return
        with self._transaction() as c:
            c.execute(
                f"CREATE TABLE IF NOT EXISTS {self.tracking} ("
                "name TEXT PRIMARY KEY, position BIGINT NOT NULL)"
            )
            c.execute(
                f"CREATE TABLE IF NOT EXISTS {self.outbox} ("
                "event_id TEXT NOT NULL, channel TEXT NOT NULL, rule TEXT NOT NULL, "
                "position BIGINT NOT NULL, event_type TEXT NOT NULL, code TEXT, due_on TEXT, "
                "status TEXT NOT NULL, attempts INTEGER NOT NULL, next_at TEXT, "
                "last_error TEXT, delivered_at TEXT, PRIMARY KEY (event_id, channel, rule))"
            )

    def _sql(self, statement: str) -> str:
        return statement.replace("?", "%s") if self.postgres else statement

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        with self.datastore.transaction(commit=True) as cursor:
            yield cursor

    def position(self) -> int:
        with self._transaction() as c:
            c.execute(self._sql(f"SELECT position FROM {self.tracking} WHERE name=?"), ("outbox",))  # noqa: S608
            row = c.fetchone()
        return 0 if row is None else int(row["position"])

    def plan(self, rows: Sequence[OutboxRow], position: int | None) -> int:
        new = 0
        with self._transaction() as c:
            for row in rows:
                c.execute(
                    self._sql(
                        f"SELECT 1 FROM {self.outbox} WHERE event_id=? AND channel=? AND rule=?"  # noqa: S608
                    ),
                    (row.event_id, row.channel, row.key),
                )
                if c.fetchone() is not None:
                    continue
                c.execute(
                    self._sql(
                        f"INSERT INTO {self.outbox} ({_COLUMNS}) "  # noqa: S608
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    ),
                    self._values(row),
                )
                new += 1
            if position is not None:
                c.execute(
                    self._sql(
                        f"INSERT INTO {self.tracking} (name, position) VALUES (?, ?) "  # noqa: S608
                        "ON CONFLICT (name) DO UPDATE SET position = excluded.position "
                        f"WHERE excluded.position > {self.tracking}.position"
                    ),
                    ("outbox", position),
                )
        return new

    @staticmethod
    def _values(row: OutboxRow) -> tuple[Any, ...]:
        return (
            row.event_id,
            row.channel,
            row.key,
            row.position,
            row.event_type,
            row.code,
            None if row.due_on is None else row.due_on.isoformat(),
            row.status,
            row.attempts,
            _iso(row.next_at),
            row.last_error,
            _iso(row.delivered_at),
        )

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        if self.postgres:
            with self._advisory_lock():
                yield
            return
        pool = self.datastore.pool
        if pool.is_sqlite_memory_mode:
            with _memory_lock(self):
                yield
            return
        with _file_lock(Path(str(pool.db_name) + ".notify-lock")):
            yield

    @contextmanager
    def _advisory_lock(self) -> Iterator[None]:
        key = int.from_bytes(hashlib.sha256(self.outbox.encode()).digest()[:8], "big", signed=True)
        with self.datastore.get_connection() as conn:
            row = conn.execute("SELECT pg_try_advisory_lock(%s) AS locked", (key,)).fetchone()
            if not row["locked"]:
                raise DeliveryBusy("another delivery run holds the outbox; try again later")
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (key,))

    def rows(self, status: str | None = None) -> list[OutboxRow]:
        where = "" if status is None else "WHERE status=?"
        with self._transaction() as c:
            c.execute(
                self._sql(
                    f"SELECT {_COLUMNS} FROM {self.outbox} {where} "  # noqa: S608
                    "ORDER BY position, event_id, rule, channel"
                ),
                () if status is None else (status,),
            )
            found = c.fetchall()
        return [
            OutboxRow(
                event_id=r["event_id"],
                channel=r["channel"],
                key=r["rule"],
                position=int(r["position"]),
                event_type=r["event_type"],
                code=r["code"],
                due_on=_day(r["due_on"]),
                status=r["status"],
                attempts=int(r["attempts"]),
                next_at=_dt(r["next_at"]),
                last_error=r["last_error"],
                delivered_at=_dt(r["delivered_at"]),
            )
            for r in found
        ]

    def update(self, row: OutboxRow) -> None:
        with self._transaction() as c:
            c.execute(
                self._sql(
                    f"UPDATE {self.outbox} SET status=?, attempts=?, next_at=?, "  # noqa: S608
                    "last_error=?, delivered_at=? WHERE event_id=? AND channel=? AND rule=?"
                ),
                (
                    row.status,
                    row.attempts,
                    _iso(row.next_at),
                    row.last_error,
                    _iso(row.delivered_at),
                    row.event_id,
                    row.channel,
                    row.key,
                ),
            )


_PROCESS_LOCKS: weakref.WeakKeyDictionary[Any, threading.Lock] = weakref.WeakKeyDictionary()


@contextmanager
def _memory_lock(owner: Any) -> Iterator[None]:
    lock = _PROCESS_LOCKS.setdefault(owner, threading.Lock())
    if not lock.acquire(blocking=False):
        raise DeliveryBusy("another delivery run is going on in this process")
    try:
        yield
    finally:
        lock.release()


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock on a file beside the SQLite store, released when the process ends."""
    import fcntl

    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DeliveryBusy("another delivery run holds the outbox; try again later") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def store_for(programme: Programme) -> OutboxStore:
    """The outbox store of a programme: its own tables in the same database."""
    module = programme.env.get("PERSISTENCE_MODULE", "")
    recorder: Any = programme.recorder
    create = bool(getattr(programme, "create_tables", True))
    if module == "eventsourcing.sqlite":
        return SQLOutboxStore(recorder.datastore, postgres=False, create=create)
    if module == "eventsourcing.postgres":
        return SQLOutboxStore(recorder.datastore, postgres=True, create=create)
    store = _MEMORY_STORES.get(recorder)
    if store is None:
        store = _MEMORY_STORES[recorder] = MemoryOutboxStore()
    return store


# -- redaction ------------------------------------------------------------------------------


def redact(message: str, personal: Sequence[str | None] = ()) -> str:
    """The message without e-mail addresses or the given personal strings, one short line."""
    for value in personal:
        if value:
            message = message.replace(value, "<personal data>")
    message = "".join(_addresses_hidden(chunk) for chunk in _SEPARATORS.split(message))
    message = " ".join(message.split())
    return message[:200]


def _addresses_hidden(chunk: str) -> str:
    """``chunk`` (no separator in it) with each ``name@domain`` as ``<address>``, read left to
    right as the pattern ``[^@\\s<>"']+@[^@\\s<>"']+`` would, in linear time: that pattern
    tried every start of a long run without ``@`` again (9 s on 40,000 characters)."""
    if "@" not in chunk:
        return chunk
    parts = chunk.split("@")
    out: list[str] = []
    i = 0
    while i < len(parts):
        if i + 1 < len(parts) and parts[i] and parts[i + 1]:
            out.append("<address>")
            i += 2
        else:
            out.append(parts[i])
            i += 1
        if i < len(parts):
            out.append("@")
    return "".join(out)


def _error_text(error: BaseException, personal: Sequence[str | None]) -> str:
    return f"{type(error).__name__}: {redact(str(error), personal)}".rstrip(": ")


# -- the follower ---------------------------------------------------------------------------


class Outbox:
    """Follows one programme's event log and delivers its notifications."""

    def __init__(
        self,
        programme: Programme,
        plugins: Plugins,
        *,
        settings: DeliverySettings | None = None,
        clock: Callable[[], datetime] = utc_now,
        store: OutboxStore | None = None,
    ) -> None:
        self.programme = programme
        self.plugins = plugins
        self.settings = settings or DeliverySettings.from_config(plugins.config.delivery)
        self.clock = clock
        self.store = store or store_for(programme)
        self.reader = EventReader(programme)
        self._cache: dict[tuple[str, str], list[Notification]] = {}

    # -- planning --------------------------------------------------------------------------

    def _municipality(self, code: str | None) -> MunicipalityView | None:
        if code is None:
            return None
        try:
            return self.programme.municipality(code)
        except (UnknownMunicipality, ValueError):
            return None

    def _ask(self, event: EventRecord, only: str | None = None) -> tuple[list[OutboxRow], int]:
        """The rows ``event`` asks for, and how many plugins failed (kept as plan rows)."""
        channels = self.plugins.enabled_channels()
        found, failures = self.plugins.hook.notifications_for_event(
            event, self._municipality(event.code), only
        )
        template = OutboxRow(
            event_id=str(event.id),
            channel=PLAN,
            key="",
            position=event.position,
            event_type=event.type,
            code=event.code,
            due_on=event.due_on,
            next_at=self.clock(),
        )
        rows: list[OutboxRow] = []
        for plugin, note in found:
            targets = channels if note.channel is None else [note.channel]
            rows.extend(
                attrs.evolve(template, channel=c, key=f"{plugin}:{note.key}") for c in targets
            )
        for failure in failures:
            logger.warning(
                "rules of plugin %s failed on event %s (%s); will ask again",
                failure.plugin,
                event.position or event.type,
                failure.error,
            )
            rows.append(
                attrs.evolve(
                    template,
                    key=f"{failure.plugin}:*",
                    attempts=1,
                    next_at=self.clock() + self.settings.backoff(1),
                    last_error=f"{failure.error} in mma_notifications_for_event",
                )
            )
        return rows, len(failures)

    def plan(self) -> int:
        """Read the log from the tracking position; plan each event's deliveries."""
        planned = 0
        position = self.store.position()
        while True:
            batch = self.programme.recorder.select_notifications(position + 1, self.settings.batch)
            if not batch:
                break
            rows: list[OutboxRow] = []
            for notification in batch:
                event = self.reader.record(notification)
                rows.extend(self._ask(event)[0])
            position = int(batch[-1].id)
            planned += self.store.plan(rows, position)
        return planned + self.plan_deadlines()

    def deadline_events(self, today: date | None = None) -> list[EventRecord]:
        """The deadlines that call for a notification today."""
        today = today or self.clock().astimezone(AMSTERDAM).date()
        events = []
        for deadline in self.programme.overview(as_of=today).deadlines:
            if deadline.kind == "evaluation":
                if (deadline.due_on - today).days > self.settings.evaluation_notice_days:
                    continue
                kind = EVALUATION_DUE
            elif deadline.kind == "answer" and deadline.due_on < today:
                kind = ANSWER_OVERDUE
            else:
                continue
            events.append(self._deadline(kind, deadline.code, deadline.due_on))
        return events

    @staticmethod
    def _deadline(kind: str, code: str | None, due_on: date | None) -> EventRecord:
        return EventRecord(
            id=uuid5(NAMESPACE_URL, f"/deadlines/{kind}/{code}/{due_on}"),
            position=0,
            aggregate="Deadline",
            type=kind,
            code=code,
            business_date=due_on,
            recorded_at=None,
            by="mma_core.delivery",
            data={"due_on": None if due_on is None else due_on.isoformat()},
            due_on=due_on,
        )

    def plan_deadlines(self) -> int:
        rows: list[OutboxRow] = []
        for event in self.deadline_events():
            rows.extend(self._ask(event)[0])
        return self.store.plan(rows, None)

    # -- sending ---------------------------------------------------------------------------

    def _event(self, row: OutboxRow) -> EventRecord | None:
        if row.position == 0:
            return self._deadline(row.event_type, row.code, row.due_on)
        found = self.programme.recorder.select_notifications(row.position, 1)
        if not found or int(found[0].id) != row.position:
            return None
        return self.reader.record(found[0])

    def _notifications(self, row: OutboxRow) -> list[Notification]:
        cache_key = (row.event_id, row.plugin)
        if cache_key not in self._cache:
            event = self._event(row)
            if event is None:
                self._cache[cache_key] = []
            else:
                found, failures = self.plugins.hook.notifications_for_event(
                    event, self._municipality(event.code), row.plugin
                )
                if failures:
                    raise RuntimeError(f"{failures[0].error} in mma_notifications_for_event")
                self._cache[cache_key] = [n for _, n in found]
        return self._cache[cache_key]

    def due(self) -> list[OutboxRow]:
        now = self.clock()
        return [r for r in self.store.rows(PENDING) if r.next_at is None or r.next_at <= now]

    def send_due(self, report: DeliveryReport | None = None) -> DeliveryReport:
        report = report or DeliveryReport()
        notifiers = self.plugins.hook.notifiers()
        self._cache.clear()
        tried: set[tuple[str, str, str]] = set()
        while True:  # again, for rows that a rules plugin asked for on a second try
            rows = [r for r in self.due() if (r.event_id, r.channel, r.key) not in tried]
            if not rows:
                return report
            for row in rows:
                tried.add((row.event_id, row.channel, row.key))
                self._send(row, notifiers, report)

    def _send(self, row: OutboxRow, notifiers: dict[str, Any], report: DeliveryReport) -> None:
        notification: Notification | None = None
        try:
            if row.channel == PLAN:
                self._replan(row)
                self.store.update(attrs.evolve(row, status=DELIVERED, delivered_at=self.clock()))
                return
            wanted = [n for n in self._notifications(row) if n.key == row.rule]
            if not wanted:
                # The rule no longer asks for it (an official withdrawn or erased since).
                self.store.update(attrs.evolve(row, status=DROPPED, next_at=None))
                report.dropped += 1
                return
            notification = attrs.evolve(wanted[0], channel=row.channel)
            notification = attrs.evolve(notification, delivery_id=row.delivery_id)
            notifier = notifiers.get(row.channel)
            if notifier is None:
                raise LookupError(f"no notifier is registered for channel {row.channel!r}")
            notifier.send(notification)
        except Exception as error:
            self._failed(row, error, notification, report)
            return
        self.store.update(
            attrs.evolve(
                row, status=DELIVERED, attempts=row.attempts + 1, delivered_at=self.clock()
            )
        )
        report.delivered += 1

    def _personal(self, row: OutboxRow, notification: Notification | None) -> list[str | None]:
        """Every personal string the error could hold: the recipient's, and the names and
        addresses of the municipality's officials."""
        personal: list[str | None] = []
        if notification is not None:
            personal += [notification.recipient.address, notification.recipient.name]
        m = self._municipality(row.code)
        if m is not None:
            for official in m.officials:
                if not official.erased:
                    personal += [official.email, official.name]
        return personal

    def _replan(self, row: OutboxRow) -> None:
        event = self._event(row)
        if event is None:
            return
        rows, failed = self._ask(event, only=row.plugin)
        if failed:
            raise RuntimeError("mma_notifications_for_event failed again")
        self.store.plan([r for r in rows if r.channel != PLAN], None)

    def _failed(
        self,
        row: OutboxRow,
        error: BaseException,
        notification: Notification | None,
        report: DeliveryReport,
    ) -> None:
        attempts = row.attempts + 1
        text = _error_text(error, self._personal(row, notification))
        if attempts >= self.settings.max_attempts:
            updated = attrs.evolve(
                row, status=DEAD, attempts=attempts, next_at=None, last_error=text
            )
            report.dead += 1
        else:
            updated = attrs.evolve(
                row,
                attempts=attempts,
                next_at=self.clock() + self.settings.backoff(attempts),
                last_error=text,
            )
            report.failed += 1
        self.store.update(updated)
        logger.warning(
            "delivery %s (event %s, channel %s, rule %s) failed, attempt %d of %d: %s",
            row.delivery_id,
            row.position or row.event_type,
            row.channel or "-",
            row.key,
            attempts,
            self.settings.max_attempts,
            text,
        )

    # -- the whole run ---------------------------------------------------------------------

    def lease(self) -> AbstractContextManager[None]:
        """One delivery run at a time per store, across processes (a file lock beside a SQLite
        store, an advisory lock on PostgreSQL): :class:`DeliveryBusy` if another run has it."""
        return self.store.exclusive()

    def run(self) -> DeliveryReport:
        """Plan what is new, then send everything that is due, under the lease. Safe to run at
        any time; a second run at the same moment raises :class:`DeliveryBusy`."""
        with self.lease():
            report = DeliveryReport(planned=self.plan())
            self.send_due(report)
            report.position = self.store.position()
            return report

    def dead_letters(self) -> list[OutboxRow]:
        return self.store.rows(DEAD)

    def pending(self) -> list[OutboxRow]:
        return self.store.rows(PENDING)

    def delivered(self) -> list[OutboxRow]:
        return self.store.rows(DELIVERED)

    def retry(self, rows: Sequence[OutboxRow] | None = None) -> int:
        """Put dead letters back in line (attempts from zero, due now)."""
        rows = self.dead_letters() if rows is None else rows
        for row in rows:
            self.store.update(attrs.evolve(row, status=PENDING, attempts=0, next_at=self.clock()))
        return len(rows)
