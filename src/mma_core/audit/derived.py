"""Derived data is evidence too: check what people read against a replay of the log.

The event log is covered by the leaves and the Merkle tree (``mma_core.audit.verify``). What a
coordinator, an invoice or a council report is built from is not read from the log but from the
read models beside it (``mma_views_*``) and, for as-of queries, from stored snapshots. This
module replays the log and compares:

- every read-model table with a rebuild from the log up to the tracked position: the
  municipalities, the training sessions, the ledger, the cost chunks, the as-of index
  (``mma_views_asof``: each municipality's states at month ends on both time axes), the
  offers made (``mma_views_offers``) and the tracking row itself (position and latest
  business date);
- every stored snapshot of a municipality with a replay of its events up to the snapshot's
  version, the markers it keeps (latest recorded time, latest business date) included.

The first difference is reported as a problem of kind ``derived`` naming the table, the key and
the field. It streams: the ledger is compared page by page, each municipality's cost chunks as
they fill, the as-of index page by page against one fingerprint (version, digest of the
state, bucket) per rebuilt row, so memory follows the number of aggregates and index rows, not
the length of the log. The repair is
``mma views rebuild`` (which also drops the stored snapshots; they are stored again as they are
needed).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import date, datetime
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.utils import get_topic

from mma_core.audit import checkpoint as notes
from mma_core.audit.sources import open_reader
from mma_core.audit.verify import DERIVED_KIND, Problem, Result, verify
from mma_core.domain.common import Recorded
from mma_core.domain.municipality import Municipality
from mma_core.views.asof_index import BUSINESS, IndexState
from mma_core.views.records import LEDGER_COLUMNS
from mma_core.views.source import ViewSource
from mma_core.views.store import (
    CHUNK_LINES,
    TRACKING_NAME,
    ChunkDoc,
    MemoryViewStore,
    SqlViewStore,
    Tracking,
    line_key,
    store_for,
)
from mma_core.views.updater import ViewUpdater

DERIVED = DERIVED_KIND
BATCH = 2000
_MISSING = object()


class DerivedSource(ViewSource, Protocol):
    """What the check reads of a programme: the views' source, and its snapshot store."""

    @property
    def snapshots(self) -> Any:
        """eventsourcing's snapshot store (``get(aggregate_id)``), or None."""


class Mismatch(Exception):
    def __init__(self, table: str, key: str, field: str, stored: Any, rebuilt: Any) -> None:
        super().__init__(table)
        self.problem = Problem(
            DERIVED,
            None,
            f"{table} {key}: {field} is {_show(stored)}, a replay of the log gives "
            f"{_show(rebuilt)}; repair with 'mma views rebuild'",
        )


def _show(value: Any) -> str:
    if value is _MISSING:
        return "absent"
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _difference(have: Any, want: Any, path: str) -> tuple[str, Any, Any] | None:
    """The first place where two decoded values differ: its path (``booked[0]``,
    ``cost_totals.province``) and both values there."""
    if have == want:
        return None
    if isinstance(have, dict) and isinstance(want, dict):
        for name in [*want, *(n for n in have if n not in want)]:
            found = _difference(
                have.get(name, _MISSING),
                want.get(name, _MISSING),
                f"{path}.{name}" if path else str(name),
            )
            if found is not None:
                return found
    if isinstance(have, list) and isinstance(want, list):
        for n in range(max(len(have), len(want))):
            found = _difference(
                have[n] if n < len(have) else _MISSING,
                want[n] if n < len(want) else _MISSING,
                f"{path}[{n}]",
            )
            if found is not None:
                return found
    return path or "doc", have, want


def _compare(table: str, key: str, have: Any, want: Any) -> None:
    found = _difference(have, want, "")
    if found is not None:
        raise Mismatch(table, key, *found)


def _fields(table: str, key: str, stored: Any, rebuilt: Any) -> None:
    """Compare two JSON documents (as stored and as rebuilt) field by field."""
    try:
        data = json.loads(stored)
    except (TypeError, ValueError, RecursionError):
        raise Mismatch(table, key, "doc", stored, rebuilt) from None
    _compare(table, key, data, json.loads(rebuilt))


class _Pinned:
    """The stored views, every read in one read transaction: the tables and the tracking row
    as one snapshot, however the views move on meanwhile (another process catching up)."""

    def __init__(self, store: SqlViewStore, cursor: Any) -> None:
        self.store, self.c = store, cursor

    def raw_tracking(self) -> tuple[Any, Any] | None:
        return self.store.raw_tracking(self.c)

    def raw_municipalities(self) -> dict[str, tuple[Any, Any]]:
        return self.store.raw_municipalities(self.c)

    def raw_sessions(self) -> dict[str, tuple[Any, Any]]:
        return self.store.raw_sessions(self.c)

    def raw_ledger_page(self, after: tuple[int, int], limit: int) -> list[tuple[Any, ...]]:
        return self.store.raw_ledger_page(after, limit, self.c)

    def raw_chunk(self, code: str, chunk: int) -> tuple[Any, Any] | None:
        return self.store.raw_chunk(code, chunk, self.c)

    def raw_chunk_counts(self) -> dict[str, int]:
        return self.store.raw_chunk_counts(self.c)

    def raw_index_page(
        self, after: tuple[str, str, str] | None, limit: int
    ) -> list[tuple[Any, ...]]:
        return self.store.raw_index_page(after, limit, self.c)

    def raw_offers(self) -> dict[str, Any]:
        return self.store.raw_offers(self.c)


class _Ledger:
    """The stored ledger, read page by page in ledger order."""

    def __init__(self, store: _Pinned) -> None:
        self.store = store
        self.page: list[tuple[Any, ...]] = []
        self.at = 0
        self.after = (0, -1)
        self.done = False

    def next(self) -> tuple[Any, ...] | None:
        if self.at >= len(self.page) and not self.done:
            self.page = self.store.raw_ledger_page(self.after, BATCH)
            self.at = 0
            self.done = len(self.page) < BATCH
        if self.at >= len(self.page):
            return None
        row = self.page[self.at]
        self.at += 1
        try:
            self.after = (int(row[0]), int(row[1]))
        except (TypeError, ValueError):
            raise Mismatch(
                "mma_views_ledger", f"({row[0]!r}, {row[1]!r})", "position", row[0], "a number"
            ) from None
        return row


def _compare_line(stored: tuple[Any, ...] | None, rebuilt: tuple[Any, ...]) -> None:
    key = f"(position {rebuilt[0]}, idx {rebuilt[1]}, {rebuilt[3]})"
    if stored is None:
        raise Mismatch("mma_views_ledger", key, "row", _MISSING, "a ledger line")
    if (stored[0], stored[1]) != (rebuilt[0], rebuilt[1]):
        where = f"(position {stored[0]}, idx {stored[1]})"
        if (stored[0], stored[1]) < (rebuilt[0], rebuilt[1]):
            raise Mismatch("mma_views_ledger", where, "row", "a ledger line", _MISSING)
        raise Mismatch("mma_views_ledger", key, "row", _MISSING, "a ledger line")
    for name, have, want in zip(LEDGER_COLUMNS, stored, rebuilt, strict=True):
        if have != want:
            raise Mismatch("mma_views_ledger", key, name, have, want)


def _compare_chunk(store: _Pinned, code: str, chunk: int, doc: ChunkDoc) -> None:
    key = f"({code}, chunk {chunk})"
    found = store.raw_chunk(code, chunk)
    if found is None:
        raise Mismatch("mma_views_cost_chunks", key, "row", _MISSING, f"{len(doc.lines)} lines")
    lines, text = found
    if lines != len(doc.lines):
        raise Mismatch("mma_views_cost_chunks", key, "lines", lines, len(doc.lines))
    _fields("mma_views_cost_chunks", key, text, doc.to_json())


INDEX = "mma_views_asof"
OFFERS = "mma_views_offers"
Fingerprint = tuple[int, bytes, str]  # (version, digest of the state, bucket)


def _digest(text: Any) -> bytes:
    return hashlib.sha256(str(text).encode()).digest()


def _fingerprint(state: IndexState) -> Fingerprint:
    row = state.row()
    return (state.version, _digest(state.state), row[5])


class _Index:
    """The as-of index as the replay rebuilds it, held as one fingerprint per row (version,
    a digest of the state, the bucket): memory follows the number of rows, not the size of
    the municipalities' states. Batches apply as the store applies them: a municipality's
    business states reset and replaced, a recorded-time state kept as first written."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[tuple[str, str], Fingerprint]] = {}

    def apply(self, reset: frozenset[str], states: Sequence[IndexState]) -> None:
        for code in reset:
            rows = self.rows.get(code, {})
            for at in [at for at in rows if at[0] == BUSINESS]:
                del rows[at]
        for state in states:
            rows = self.rows.setdefault(state.code, {})
            at = (state.axis, state.point)
            if state.axis == BUSINESS or at not in rows:
                rows[at] = _fingerprint(state)

    def check(self, source: DerivedSource, store: _Pinned, replay: _Replay) -> int:
        """Every stored row against its rebuilt fingerprint, page by page; returns how many
        rows were compared."""
        compared = 0
        after: tuple[str, str, str] | None = None
        while True:
            page = store.raw_index_page(after, BATCH)
            for code, axis, point, version, state, bucket in page:
                key = f"({code}, {axis}, {point})"
                want = self.rows.get(code, {}).pop((axis, point), None)
                if want is None:
                    raise Mismatch(INDEX, key, "row", "a row", _MISSING)
                if version != want[0]:
                    raise Mismatch(INDEX, key, "version", version, want[0])
                if bucket != want[2]:
                    _bucket(key, bucket, want[2])
                if _digest(state) != want[1]:
                    _state(source, replay, key, (code, axis, point), state)
                compared += 1
            if len(page) < BATCH:
                break
            last = page[-1]
            after = (str(last[0]), str(last[1]), str(last[2]))
        left = sorted((code, *at) for code, rows in self.rows.items() for at in rows)
        if left:
            raise Mismatch(INDEX, "({}, {}, {})".format(*left[0]), "row", _MISSING, "a row")
        return compared


def _bucket(key: str, stored: Any, rebuilt: str) -> None:
    try:
        data = json.loads(stored)
    except (TypeError, ValueError, RecursionError):
        raise Mismatch(INDEX, key, "bucket", stored, rebuilt) from None
    found = _difference(data, json.loads(rebuilt), "bucket")
    raise Mismatch(INDEX, key, *(found or ("bucket", stored, rebuilt)))


def _state(
    source: DerivedSource, replay: _Replay, key: str, at: tuple[str, str, str], stored: Any
) -> None:
    """A stored state that differs from the rebuilt one: the field that differs, from the
    municipality's rows rebuilt again (its events alone, by the updater's own code)."""
    rebuilt = _index_of(source, replay, at[0]).get(at)
    if rebuilt is None:  # cannot happen unless the rebuild is not deterministic
        raise Mismatch(INDEX, key, "state", stored, "another state")
    transcoder = source.mapper.transcoder
    try:
        have = transcoder.decode(str(stored).encode())
    except Exception:  # a damaged row: whatever the decoder raised
        raise Mismatch(INDEX, key, "state", stored, rebuilt.state) from None
    found = _difference(have, transcoder.decode(rebuilt.state.encode()), "")
    raise Mismatch(INDEX, key, *(found or ("state", stored, rebuilt.state)))


def _index_of(
    source: DerivedSource, replay: _Replay, code: str
) -> dict[tuple[str, str, str], IndexState]:
    """One municipality's index rows, rebuilt from its events up to the version the replay
    reached."""
    found = [a for a in replay._aggregates.values() if getattr(a, "code", None) == code]
    if not found or not isinstance(found[0], Municipality):
        return {}
    aggregate_id, version = found[0].id, found[0].version
    updater = ViewUpdater(source, MemoryViewStore())
    states: dict[tuple[str, str, str], IndexState] = {}
    stale: set[UUID] = set()
    m: Any = None
    for event in source.aggregate_events(aggregate_id):
        if event.originator_version > version:
            break
        updater._index(event, m, states, stale)
        m = event.mutate(m)
    updater._aggregates[aggregate_id] = m
    if stale:
        for at in [at for at in states if at[1] == BUSINESS]:
            del states[at]
        for state in updater._recompute(aggregate_id):
            states[(code, BUSINESS, state.point)] = state
    return states


def _check_offers(store: _Pinned, rebuilt: dict[str, int]) -> int:
    stored = store.raw_offers()
    for reference in sorted(set(stored) | set(rebuilt)):
        if reference not in rebuilt:
            raise Mismatch(OFFERS, reference, "row", "a row", _MISSING)
        if reference not in stored:
            raise Mismatch(OFFERS, reference, "row", _MISSING, "a row")
        if stored[reference] != rebuilt[reference]:
            raise Mismatch(OFFERS, reference, "position", stored[reference], rebuilt[reference])
    return len(stored)


class _Snapshots:
    """The stored snapshots, checked as the replay passes their versions: the aggregate a
    snapshot must equal is the one the views' replay holds just before the next event, so the
    log is decoded once for both. Snapshots at versions the replay does not reach (beyond the
    views' tracked position) are checked afterwards from the aggregate's own events."""

    def __init__(self, source: DerivedSource) -> None:
        self.store = getattr(source, "snapshots", None)
        self.table = "snapshots"
        self.wanted: dict[UUID, set[int]] = {}
        self.markers: dict[UUID, tuple[datetime | None, date | None]] = {}
        transcoder = source.mapper.transcoder
        self.normal: Callable[[Any], Any] = lambda state: transcoder.decode(
            transcoder.encode(state)
        )
        if self.store is None:
            return
        self.table = getattr(self.store.recorder, "events_table_name", "snapshots")
        for aggregate_id in _municipality_ids(source):
            versions = {
                stored.originator_version
                for stored in self.store.recorder.select_events(aggregate_id)
            }
            if versions:
                self.wanted[aggregate_id] = versions

    def passing(self, aggregate: Any, event: Any) -> None:
        """``aggregate`` is the state just before ``event``: check a snapshot of it, then let
        the markers take in ``event``."""
        aggregate_id = event.originator_id
        versions = self.wanted.get(aggregate_id)
        if versions is None:
            return
        if aggregate is not None and aggregate.version in versions:
            self.check(aggregate_id, aggregate)
        recorded, business = self.markers.get(aggregate_id, (None, None))
        recorded = _later(recorded, event.timestamp)
        if isinstance(event, Recorded) and not isinstance(event, Municipality.Registered):
            business = _later(business, event.business_date)
        self.markers[aggregate_id] = (recorded, business)

    def check(self, aggregate_id: UUID, m: Any) -> None:
        version = m.version
        self.wanted[aggregate_id].discard(version)
        key = f"({getattr(m, 'code', aggregate_id)}, version {version})"
        assert self.store is not None
        try:
            found = list(self.store.get(aggregate_id, gt=version - 1, lte=version))
        except Exception as error:  # a damaged row: whatever the decoder raised
            raise Mismatch(
                self.table, key, "state", f"unreadable ({type(error).__name__})", "a snapshot"
            ) from None
        for snapshot in found:
            if not getattr(snapshot, "usable", True):
                continue  # another shape: reads pass it over as if absent
            recorded, business = self.markers.get(aggregate_id, (None, None))
            expected = self.normal(type(snapshot).of(m, recorded, business).state)
            _compare(self.table, key, self.normal(snapshot.state), expected)

    def finish(self, source: DerivedSource, aggregates: dict[UUID, Any]) -> None:
        """The snapshots of the aggregates' last versions replayed, then the rest."""
        for aggregate_id, versions in sorted(self.wanted.items()):
            m = aggregates.get(aggregate_id)
            if m is not None and m.version in versions:
                self.check(aggregate_id, m)
        later = {aggregate_id for aggregate_id, versions in self.wanted.items() if versions}
        if later:
            _check_snapshots(source, later)


class _Replay(ViewUpdater):
    """The views' updater, rebuilding in memory only, that shows each municipality as it
    stood before each of its events to the snapshot check."""

    def __init__(self, source: DerivedSource, snapshots: _Snapshots) -> None:
        super().__init__(source, MemoryViewStore())
        self.snapshots = snapshots

    def _aggregate(self, event: Any) -> Any | None:
        aggregate = super()._aggregate(event)
        self.snapshots.passing(aggregate, event)
        return aggregate


def _check_views(
    source: DerivedSource,
    store: _Pinned,
    progress: Callable[[int], None] | None,
    snapshots: _Snapshots,
    compared: dict[str, int],
) -> _Replay:
    """Raise :class:`Mismatch` at the first difference; returns the replay, at the tracked
    position."""
    raw = store.raw_tracking()
    position, latest_text = (0, None) if raw is None else raw
    top = source.recorder.max_notification_id() or 0
    if not isinstance(position, int) or not 0 <= position <= top:
        raise Mismatch("mma_views_tracking", TRACKING_NAME, "position", position, f"at most {top}")
    updater = _Replay(source, snapshots)
    start = Tracking(0, None)
    municipalities: dict[str, tuple[Any, str]] = {}
    sessions: dict[str, tuple[str, str]] = {}
    ledger = _Ledger(store)
    tails: dict[str, tuple[int, ChunkDoc]] = {}
    index = _Index()
    offers: dict[str, int] = {}
    while start.position < position:
        notifications = source.recorder.select_notifications(
            start.position + 1, BATCH, stop=position
        )
        if not notifications:
            break
        batch = updater._batch(start, notifications)
        for code, (registered, doc) in batch.municipalities.items():
            first = municipalities.get(code, (registered, doc))[0]
            municipalities[code] = (first, doc)
        sessions.update(batch.sessions)
        index.apply(batch.index_reset, batch.index)
        for reference, made in batch.offers:
            offers.setdefault(reference, made)  # the store keeps the first
        for line in batch.ledger:
            row = line.row()
            _compare_line(ledger.next(), row)
            code = row[3]
            chunk, chunk_doc = tails.get(code, (0, ChunkDoc()))
            if len(chunk_doc.lines) >= CHUNK_LINES:
                _compare_chunk(store, code, chunk, chunk_doc)
                chunk, chunk_doc = chunk + 1, ChunkDoc()
            chunk_doc.add(line_key(row))
            tails[code] = (chunk, chunk_doc)
        if progress is not None:
            progress(batch.end.position - start.position)
        start = batch.end
    extra = ledger.next()
    if extra is not None:
        where = f"(position {extra[0]}, idx {extra[1]})"
        raise Mismatch("mma_views_ledger", where, "row", "a ledger line", _MISSING)
    for code in sorted(tails):
        _compare_chunk(store, code, *tails[code])
    counts = store.raw_chunk_counts()
    for code in sorted(set(counts) | set(tails)):
        want = tails[code][0] + 1 if code in tails else 0
        if counts.get(code, 0) != want:
            raise Mismatch("mma_views_cost_chunks", code, "chunks", counts.get(code, 0), want)
    latest = None if start.latest is None else start.latest.isoformat()
    if latest_text != latest:
        raise Mismatch("mma_views_tracking", TRACKING_NAME, "latest", latest_text, latest)
    _check_rows(
        "mma_views_municipalities", store.raw_municipalities(), municipalities, "registered"
    )
    _check_rows("mma_views_sessions", store.raw_sessions(), sessions, "starts_at")
    compared[INDEX] = index.check(source, store, updater)
    compared[OFFERS] = _check_offers(store, offers)
    return updater


def _check_rows(
    table: str,
    stored: dict[str, tuple[Any, Any]],
    rebuilt: dict[str, tuple[Any, str]],
    column: str,
) -> None:
    for key in sorted(set(stored) | set(rebuilt)):
        if key not in rebuilt:
            raise Mismatch(table, key, "row", "a row", _MISSING)
        if key not in stored:
            raise Mismatch(table, key, "row", _MISSING, "a row")
        (have_first, have_doc), (want_first, want_doc) = stored[key], rebuilt[key]
        if have_first != want_first:
            raise Mismatch(table, key, column, have_first, want_first)
        _fields(table, key, have_doc, want_doc)


def _municipality_ids(source: DerivedSource) -> set[UUID]:
    """Every municipality in the log, read by topic (nothing decoded): the snapshots are
    checked whether or not the read models have caught up."""
    topic = get_topic(Municipality.Registered)
    ids: set[UUID] = set()
    start = 1
    while True:
        found = source.recorder.select_notifications(start, BATCH, topics=(topic,))
        ids.update(n.originator_id for n in found)
        if len(found) < BATCH:
            return ids
        start = found[-1].id + 1


def _later(a: Any, b: Any) -> Any:
    return b if a is None or (b is not None and b > a) else a


def _check_snapshots(source: DerivedSource, ids: set[UUID]) -> None:
    """Every stored snapshot against a replay of its municipality's events to its version."""
    snapshots = getattr(source, "snapshots", None)
    if snapshots is None:
        return
    table = getattr(snapshots.recorder, "events_table_name", "snapshots")
    transcoder = source.mapper.transcoder

    def normal(state: dict[str, Any]) -> Any:
        return transcoder.decode(transcoder.encode(state))

    for aggregate_id in sorted(ids):
        try:
            stored = [s for s in snapshots.get(aggregate_id) if getattr(s, "usable", True)]
        except Exception as error:  # a damaged row: whatever the decoder raised
            raise Mismatch(
                table,
                str(aggregate_id),
                "state",
                f"unreadable ({type(error).__name__})",
                "a snapshot",
            ) from None
        if not stored:
            continue
        events: Iterator[Any] = iter(source.aggregate_events(aggregate_id))
        m: Any = None
        recorded_until: datetime | None = None
        business_until: date | None = None
        for snapshot in stored:
            version = snapshot.originator_version
            while m is None or m.version < version:
                event = next(events, None)
                if event is None:
                    break
                m = event.mutate(m)
                recorded_until = _later(recorded_until, event.timestamp)
                if isinstance(event, Recorded) and not isinstance(event, Municipality.Registered):
                    business_until = _later(business_until, event.business_date)
            code = getattr(m, "code", str(aggregate_id))
            key = f"({code}, version {version})"
            if m is None or m.version != version:
                raise Mismatch(table, key, "version", version, _MISSING)
            expected = normal(type(snapshot).of(m, recorded_until, business_until).state)
            _compare(table, key, normal(snapshot.state), expected)


def verify_derived(
    source: DerivedSource,
    progress: Callable[[int], None] | None = None,
    compared: dict[str, int] | None = None,
) -> Problem | None:
    """The first difference between the derived data of ``source``'s store and a replay of
    its log (kind ``derived``), or None. A ``memory://`` store keeps nothing beside its
    events that outlives the process: nothing to check. ``compared``, if given, receives
    how many rows of the as-of index and of the offers table were compared."""
    counts: dict[str, int] = {} if compared is None else compared
    store = store_for(source)
    if not isinstance(store, SqlViewStore):
        return None
    try:
        with store.datastore.transaction(commit=False) as cursor:
            if source.env.get("PERSISTENCE_MODULE") == "eventsourcing.postgres":
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            snapshots = _Snapshots(source)
            replay = _check_views(source, _Pinned(store, cursor), progress, snapshots, counts)
        snapshots.finish(source, replay._aggregates)
    except Mismatch as mismatch:
        return mismatch.problem
    return None


def drop_snapshots(source: DerivedSource) -> int:
    """Delete every stored snapshot (derived data: each is stored again when a read needs
    it, replayed from the log); returns how many. The repair of a snapshot ``verify`` names,
    run by ``mma views rebuild``."""
    snapshots = getattr(source, "snapshots", None)
    recorder = getattr(snapshots, "recorder", None)
    datastore = getattr(recorder, "datastore", None)
    if recorder is None or datastore is None:  # memory://: nothing outlives the process
        return 0
    table = recorder.events_table_name
    if source.env.get("PERSISTENCE_MODULE") == "eventsourcing.postgres":
        from psycopg import sql

        from mma_core.storage.schema import schema_prefix

        with datastore.get_connection() as conn:
            table = schema_prefix(datastore) + sql.Identifier(table).as_string(conn)
    with datastore.transaction(commit=True) as c:
        c.execute(f"SELECT COUNT(*) AS n FROM {table}")  # noqa: S608 (the recorder's own name)
        row = c.fetchone()
        c.execute(f"DELETE FROM {table}")  # noqa: S608
        return int(row["n"]) if row is not None else 0


def verify_programme(
    source: DerivedSource,
    checkpoints: Sequence[str] = (),
    keys: Sequence[notes.VerifierKey] = (),
    *,
    origin: str | None = None,
    log_only: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Result:
    """What ``mma audit verify`` checks, for a service that holds the programme: the log (as
    :func:`mma_core.audit.verify.verify`, each checkpoint signed by one of ``keys`` and of
    ``origin``), then, unless ``log_only``, the derived data (:func:`verify_derived`). The
    first problem found is the result's."""
    with open_reader(source.recorder) as reader:
        result = verify(reader, checkpoints, keys, progress, origin=origin)
    if result.ok and not log_only:
        problem = verify_derived(source)
        if problem is not None:
            result = replace(result, problem=problem)
    return result
