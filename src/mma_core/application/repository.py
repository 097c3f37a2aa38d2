"""The programme's repository: eventsourcing's, with its aggregate cache handing out copies."""

from __future__ import annotations

import copy
import pickle
from typing import Any
from uuid import UUID

from eventsourcing.application import Repository, project_aggregate


class CopyingRepository(Repository[UUID]):
    """The repository with its aggregate cache, handing out copies made by pickling.

    A command mutates the aggregate it gets, so it must get a copy, never the cached object:
    eventsourcing makes that copy with ``copy.deepcopy``, which walks a Municipality's costs,
    officials and dates object by object and was the largest single cost of a command (see
    docs/performance.md). A pickle round trip makes the same independent copy in under half
    the time; an aggregate that does not pickle is deep-copied as before.
    """

    def get(
        self,
        aggregate_id: UUID,
        *,
        version: int | None = None,
        projector_func: Any = project_aggregate,
        fastforward_skipping: bool = False,
        deepcopy_from_cache: bool = True,
    ) -> Any:
        from_cache = self.cache is not None and version is None
        aggregate = super().get(
            aggregate_id,
            version=version,
            projector_func=projector_func,
            fastforward_skipping=fastforward_skipping,
            deepcopy_from_cache=False,
        )
        if from_cache and deepcopy_from_cache and self.deepcopy_from_cache:
            return copy_aggregate(aggregate)
        return aggregate


def copy_aggregate(aggregate: Any) -> Any:
    """An independent copy of ``aggregate``, pending events included: a pickle round trip, or a
    deep copy for an aggregate that does not pickle."""
    try:
        return pickle.loads(pickle.dumps(aggregate, pickle.HIGHEST_PROTOCOL))  # noqa: S301
    except (pickle.PicklingError, TypeError, AttributeError):
        return copy.deepcopy(aggregate)
