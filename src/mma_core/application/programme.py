"""Programme: the application service. Commands record what happened; queries say where
things stand.

Commands validate everything on the current state, then save every changed aggregate in one
``save()`` (one transaction) and return an id. A command that breaks a rule raises a
``DomainError`` and writes nothing. Queries return frozen plain values.

The class is put together from its parts, each readable on its own:

- :mod:`~mma_core.application.commanding`: the body every command runs in (stamp, validators,
  unit of work, retries, receipts) and the programme's settings;
- :mod:`~mma_core.application.lifecycle`: the registry, the offer, invitations to mergers;
- :mod:`~mma_core.application.training`: sessions, officials, bookings, attendance, erasure;
- :mod:`~mma_core.application.reports`: reports one by one or in bulk, with their fees;
- :mod:`~mma_core.application.addresses`: the municipalities' postal addresses;
- :mod:`~mma_core.application.queries`: municipality, overview, history, follow and the rest;
- this module: opening a store, upgrading it, and ``atomic()`` blocks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from eventsourcing.persistence import RecordConflictError

from mma_core.application import migrations
from mma_core.application.addresses import AddressCommands
from mma_core.application.commanding import (
    utc_now,
)
from mma_core.application.commands import Validator
from mma_core.application.corrections import CorrectionCommands
from mma_core.application.costs import CostCalculator
from mma_core.application.lifecycle import LifecycleCommands
from mma_core.application.queries import Queries
from mma_core.application.store_copy import CopyResult, Progress, copy_store
from mma_core.application.training import TrainingCommands
from mma_core.domain.common import Stamp
from mma_core.domain.errors import ConcurrencyConflict
from mma_core.domain.values import CostKind
from mma_core.language.i18n import _ as _t
from mma_core.storage import DEFAULT_STORE, describe, store_env
from mma_core.storage.cipher import keyring_from
from mma_core.storage.errors import translated


class Programme(LifecycleCommands, TrainingCommands, CorrectionCommands, AddressCommands, Queries):
    """One programme, one store. Open with :meth:`open` and use as a context manager."""

    @classmethod
    def open(
        cls,
        url: str = DEFAULT_STORE,
        *,
        origin: str = "api",
        clock: Callable[[], datetime] = utc_now,
        cost_calculators: dict[CostKind, CostCalculator] | None = None,
        validators: Sequence[Validator] = (),
        cipher_key: str | None = None,
        retries: int | None = None,
        create: bool = True,
        lock_timeout: float | None = None,
    ) -> Programme:
        """Open the programme stored at ``url`` (created if new).

        ``retries`` (else the environment's ``MMA_RETRIES``, else 12) is how often a command
        that met a concurrent write to the same aggregate is tried again, after a short random
        pause, before it raises ``ConcurrencyConflict``; each retry checks every rule again.

        ``create=False`` runs no DDL at all (for a database role that may only read and write
        rows): the store must exist at this library's schema version (``mma store upgrade``).
        A store of a newer schema version is refused (:class:`StoreVersionError`).

        ``cost_calculators`` picks a calculator per cost kind; ``validators`` are asked about every
        command before it writes anything (plugins supply both). ``cipher_key`` (else the
        environment's ``MMA_CIPHER_KEY`` or ``MMA_CIPHER_KEY_FILE``, the only settings read
        from the environment) encrypts the stored events: see :mod:`mma_core.storage.cipher`.

        ``lock_timeout`` (else ``MMA_LOCK_TIMEOUT``, else 5) bounds, in seconds, every wait for
        a lock on the store: a command that does not get its lock in time raises ``StoreBusy``
        (code ``store_busy``, transient) and writes nothing.
        """
        Stamp(by="-", origin=origin, at=clock())  # fail early on a bad origin or clock
        env = store_env(url, lock_timeout=lock_timeout)
        label, secrets = describe(url), (env.get("POSTGRES_PASSWORD", ""),)
        with translated(label, secrets):
            programme = cls(
                env,
                origin=origin,
                clock=clock,
                cost_calculators=cost_calculators,
                validators=validators,
                keyring=keyring_from(cipher_key),
                retries=retries,
                create=create,
            )
        programme.store_label, programme.store_secrets = label, secrets
        try:
            migrations.check(programme, create)
            # The first event says whether the store is encrypted and with which key: a wrong
            # or missing key is refused now, not at the first command.
            with translated(label, secrets):
                first = programme.recorder.select_notifications(1, 1)
            if first:
                programme.mapper.open_state(first[0])  # type: ignore[attr-defined]
        except BaseException:
            programme.close()
            raise
        return programme

    @classmethod
    def upgrade_store(
        cls, url: str = DEFAULT_STORE, *, lock_timeout: float | None = None
    ) -> tuple[int | None, int]:
        """``mma store upgrade``: open the store at ``url`` without the version check, apply
        every migration after its schema version, in order; returns (before, after)."""
        env = store_env(url, lock_timeout=lock_timeout)
        label, secrets = describe(url), (env.get("POSTGRES_PASSWORD", ""),)
        with translated(label, secrets):
            programme = cls(env, create=False)
        programme.store_label, programme.store_secrets = label, secrets
        try:
            return migrations.upgrade(programme)
        finally:
            programme.close()

    @staticmethod
    def copy_store(
        source: str,
        destination: str,
        *,
        cipher_key: str | None = None,
        progress: Progress | None = None,
        checkpoints: Sequence[str] = (),
        public_keys: Sequence[Any] = (),
    ) -> CopyResult:
        """Copy the store at ``source`` into the empty store at ``destination`` and verify it
        against the source's root (``mma store copy``): every event with its position and
        recorded time, every leaf, the sealed officials' keys, the outbox, the schema version
        and the derived data. See :func:`mma_core.application.store_copy.copy_store`."""
        return copy_store(
            source,
            destination,
            cipher_key=cipher_key,
            progress=progress,
            checkpoints=checkpoints,
            public_keys=public_keys,
        )

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """Commands run in the block are written together when it ends, in one transaction,
        or not at all: an error in any of them (or in the block) writes none of them.

        Each command sees what those before it in the block did (the unit of work,
        :mod:`mma_core.application.unit_of_work`); a command that fails inside the block, and
        whose error the block catches, leaves it as it was. Used by imports, where every row
        must hold or none is recorded. Not re-entrant; per thread.
        """
        with self.uow.block() as staged:
            yield
        if staged.aggregates:
            try:
                self._save_held(staged)
            except RecordConflictError:
                raise ConcurrencyConflict(
                    _t(
                        "another writer changed the same municipality or session meanwhile; "
                        "nothing was written, run it again"
                    )
                ) from None


__all__ = ["Programme"]
