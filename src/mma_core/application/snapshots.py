"""Stored snapshots of a Municipality: derived data in the same store, never part of the record.

Every ``SNAPSHOT_INTERVAL`` events of a municipality, eventsourcing's snapshotting stores its
state beside the events (its own table, ``programme_snapshots``; no audit leaves, ignored by
``mma audit verify``), so a fresh process loads a long-lived municipality from the latest
snapshot and the events after it. Each snapshot also records the latest recorded time and the
latest business date among the events it covers: an as-of fold starts from it only when every
one of those events is visible to the query (see ``mma_core.application.asof``).

A snapshot is written after the events it covers were committed, in a transaction of its own,
and a failure to write one is ignored: deleting every snapshot changes no answer. The state is
JSON through the store's transcoder (sealed too when the store is encrypted), never pickle: a
snapshot read back from the database must not be able to run code. ``FORMAT`` names the shape of
the state; a snapshot of another shape is passed over as if absent.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from eventsourcing.domain import Snapshot
from eventsourcing.utils import get_topic

from mma_core.domain.municipality import Municipality
from mma_core.views.aggregate_state import municipality_from, state_of

SNAPSHOT_INTERVAL = 100
FORMAT = 2  # 2: the facts and amendments that corrections refold from


class MunicipalitySnapshot(Snapshot):
    """A Municipality's state at one version, with the bounds of the events it covers."""

    @classmethod
    def of(
        cls, m: Municipality, recorded_until: datetime, business_until: date | None
    ) -> MunicipalitySnapshot:
        state = state_of(m)
        state["_format"] = FORMAT
        state["_recorded_until"] = recorded_until
        state["_business_until"] = business_until
        return cls(
            originator_id=m.id,
            originator_version=m.version,
            timestamp=cls.create_timestamp(),
            topic=get_topic(Municipality),
            state=state,
        )

    @property
    def usable(self) -> bool:
        return bool(self.state.get("_format") == FORMAT)

    @property
    def recorded_until(self) -> datetime:
        value: datetime = self.state["_recorded_until"]
        return value

    @property
    def business_until(self) -> date | None:
        value: date | None = self.state["_business_until"]
        return value

    def covers(self, as_of: date | None, known_at: datetime | None) -> bool:
        """Whether every event it covers is visible to a fold as of ``as_of``/``known_at``."""
        if known_at is not None and self.recorded_until > known_at:
            return False
        until = self.business_until
        return as_of is None or until is None or until <= as_of

    def mutate(self, _: Any) -> Municipality:
        return municipality_from(self.state, self.originator_id, self.originator_version)
