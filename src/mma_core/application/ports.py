"""The programme as the parts it is built from see it.

``Programme`` hands itself to the parts of the application that read its store: following the
log (:mod:`~mma_core.application.follow`), the health check (:mod:`~mma_core.application.health`),
the migrations (:mod:`~mma_core.application.migrations`) and the event reader
(:mod:`~mma_core.application.events`). They name this protocol, not ``Programme``, so that no
part imports the class that is built from it: the import graph has no circle, not even one
through annotations. ``Programme`` satisfies it (mypy checks that where it passes itself).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, EventStore, InfrastructureFactory, Mapper

from mma_core.storage.signals import Signal
from mma_core.views.models import ReadModels
from mma_core.views.state import SessionView


class Store(Protocol):
    """What the migrations and a store's copy read: the store itself, with no read models."""

    store_label: str  # how errors name the store (no password)
    store_secrets: tuple[str, ...]  # what errors must never show
    create_tables: bool  # False: the programme may run no DDL

    @property
    def lock_timeout(self) -> float: ...  # seconds any wait for a lock may take

    @property
    def name(self) -> str: ...

    @property
    def env(self) -> Mapping[str, str]: ...

    @property
    def recorder(self) -> ApplicationRecorder: ...

    @property
    def factory(self) -> InfrastructureFactory[Any]: ...


class Host(Store, Protocol):
    """What the parts read of the programme that calls them: its store and read models."""

    follow_signal: Signal  # raised after each write of this programme

    @property
    def mapper(self) -> Mapper[UUID]: ...

    @property
    def snapshots(self) -> EventStore[UUID] | None: ...

    @property
    def views(self) -> ReadModels: ...

    def codes(self) -> list[str]: ...

    def sessions(self) -> list[SessionView]: ...
