"""A Municipality's state as plain values, and back: what a stored snapshot and a state of the
as-of index (``views.asof_index``) both keep.

The state is the aggregate's own fields (enums as their values, tuples as lists, the officials'
records as dicts) without eventsourcing's bookkeeping; ``municipality_from`` builds the
aggregate again without running any rule (as a fold does).
"""

from __future__ import annotations

import copy
from typing import Any
from uuid import UUID

from mma_core.domain.municipality import Municipality
from mma_core.domain.officials import OfficialRecord
from mma_core.domain.values import Outcome, Stage

_BOOKKEEPING = ("_id", "_version", "_pending_events")
_KEPT = ("_created_on", "_modified_on")


def state_of(m: Municipality) -> dict[str, Any]:
    """The aggregate's fields as plain values: a deep copy, the aggregate may go on changing."""
    state: dict[str, Any] = {}
    for key, value in vars(m).items():
        if key in _BOOKKEEPING:
            continue
        if isinstance(value, Stage | Outcome):
            value = value.value
        elif key == "term_evaluation" and value is not None:
            value = [value[0], value[1].value]
        elif key == "officials":
            value = {oid: dict(vars(o)) for oid, o in value.items()}
        elif isinstance(value, tuple):
            value = list(value)
        state[key] = value
    return copy.deepcopy(state)


def municipality_from(state: dict[str, Any], aggregate_id: UUID, version: int) -> Municipality:
    """The aggregate at ``version`` from ``state_of``'s values (keys starting with ``_`` other
    than eventsourcing's own times are left out: they are the holder's notes)."""
    state = {k: v for k, v in state.items() if not k.startswith("_") or k in _KEPT}
    state["stage"] = Stage(state["stage"])
    if state.get("last_outcome") is not None:
        state["last_outcome"] = Outcome(state["last_outcome"])
    if state.get("term_evaluation") is not None:
        on, outcome = state["term_evaluation"]
        state["term_evaluation"] = (on, Outcome(outcome))
    officials = {}
    for oid, fields in state.get("officials", {}).items():
        record = OfficialRecord.__new__(OfficialRecord)
        record.__dict__.update(fields)
        officials[oid] = record
    state["officials"] = officials
    state["_id"] = aggregate_id
    state["_version"] = version
    state["_pending_events"] = []
    m = object.__new__(Municipality)
    object.__setattr__(m, "__dict__", state)
    return m
