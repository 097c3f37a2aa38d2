"""``Programme.health()``: whether the store answers, its schema version, how far the read
models and the outbox lag behind the log. Never raises: a failure is reported in the result."""

from __future__ import annotations

import attrs

from mma_core.application.migrations import SCHEMA_VERSION, read_version
from mma_core.application.ports import Host
from mma_core.domain.jsonable import JSONReady
from mma_core.storage.errors import translated
from mma_core.storage.outbox import outbox_store


@attrs.frozen
class Health(JSONReady):
    """A programme's health. ``ok``: the store answers at this library's schema version.

    ``view_lag`` is how many positions the read models are behind the log, ``outbox_backlog``
    how many events the outbox has not planned yet plus the notifications waiting to be sent
    (``None`` where that part could not be read; ``error`` says why).
    """

    ok: bool
    store: str
    reachable: bool
    schema_version: int | None
    expected_schema_version: int
    last_position: int | None
    view_position: int | None
    view_lag: int | None
    outbox_position: int | None
    outbox_backlog: int | None
    error: str | None


def health(programme: Host) -> Health:
    label, secrets = programme.store_label, programme.store_secrets
    errors: list[str] = []
    last = version = view = outbox = backlog = None
    reachable = False
    try:
        with translated(label, secrets):
            last = int(programme.recorder.max_notification_id() or 0)
            reachable = True
            version = read_version(programme)
    except Exception as error:
        errors.append(f"store: {error}")
    if reachable:
        try:
            with translated(label, secrets):
                view = programme.views.tracking().position
        except Exception as error:
            errors.append(f"views: {error}")
        try:
            with translated(label, secrets):
                store = outbox_store(
                    programme.env, programme.recorder, create=programme.create_tables
                )
                outbox = store.position()
                backlog = max(0, (last or 0) - outbox) + len(store.rows("pending"))
        except Exception as error:
            errors.append(f"outbox: {error}")
    return Health(
        ok=reachable and version == SCHEMA_VERSION,
        store=label,
        reachable=reachable,
        schema_version=version,
        expected_schema_version=SCHEMA_VERSION,
        last_position=last,
        view_position=view,
        view_lag=None if view is None or last is None else max(0, last - view),
        outbox_position=outbox,
        outbox_backlog=backlog,
        error="; ".join(errors) or None,
    )


__all__ = ["Health", "health"]
