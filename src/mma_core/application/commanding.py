"""How every command runs: the ``@command`` decorator and the base the programme is built on.

One body serves every command (:meth:`Commanding._run`): stamp who did it and through what, let
the validators see it, read what it changes through the unit of work, check every rule, save
in one transaction, retry after a concurrent write, and with a request id answer with a
receipt. The parts of ``Programme`` (lifecycle, training, reports, queries) stand on this base.
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, Concatenate, ParamSpec, TypeVar
from uuid import UUID

from eventsourcing.application import ProcessingEvent, project_aggregate
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import RecordConflictError
from eventsourcing.utils import get_topic

from mma_core.application import asof, receipts
from mma_core.application.asof import AsOf
from mma_core.application.commands import Command, Validator, checked_commands, unknown_commands
from mma_core.application.costs import CostCalculator, OfferTermsCalculator
from mma_core.application.staging import Staged
from mma_core.application.unit_of_work import UnitOfWork
from mma_core.application.wiring import StoredApplication
from mma_core.domain import text as domain_text
from mma_core.domain.common import Stamp
from mma_core.domain.errors import (
    ConcurrencyConflict,
    DomainError,
    InvalidInput,
    RuleViolation,
    UnknownMunicipality,
)
from mma_core.domain.municipality import Municipality
from mma_core.domain.values import (
    CostKind,
    MunicipalityCode,
    Official,
    OfficialId,
)
from mma_core.language.i18n import _ as _t
from mma_core.language.i18n import message_date, message_money
from mma_core.storage import (
    ErasureCheck,
)
from mma_core.storage.cipher import Keyring
from mma_core.storage.errors import translated
from mma_core.storage.privacy import unseal
from mma_core.views.models import ReadModels
from mma_core.views.replay import municipality_view
from mma_core.views.state import (
    MunicipalityView,
)

T = TypeVar("T")
P = ParamSpec("P")
C = TypeVar("C", bound="Commanding")
MAX_ATTEMPTS = 5  # kept for callers that read it; the budget is Programme.retries
DEFAULT_RETRIES = 12  # retries after a concurrent write, before ConcurrencyConflict
RETRIES_ENV = "MMA_RETRIES"
CONTENDED = 2.0  # seconds after a conflict in which commands take turns from the first try
PERSONAL_ARGUMENTS = frozenset({"name", "email", "salutation"})
logger = logging.getLogger(__name__)
# The domain's messages in the current language: the domain marks them, mma_core.language
# (outside the domain, which imports nothing of the application) translates them.
domain_text.translate_with(_t, day=message_date, amount=message_money)


def utc_now() -> datetime:
    return datetime.now(UTC)


COMMAND_NAME = "__mma_command__"  # the attribute that names a command on its method


def command(
    method: Callable[Concatenate[C, P], T],
) -> Callable[Concatenate[C, P], T]:
    """Mark a method of the programme as a command: validators run on it before anything is written.
    The command's name (what validators and receipts see) is the method's, without a leading
    underscore: a public method may check its arguments and then call a private command."""
    signature = inspect.signature(method)
    name = method.__name__.lstrip("_")

    @functools.wraps(method)
    def wrapper(self: C, /, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            with translated(self.store_label, self.store_secrets):
                request_id = kwargs.pop("request_id", None)
                if request_id is not None:
                    # Idempotency first: a retry is answered before validators or rules run.
                    bound = signature.bind(self, *args, **kwargs)
                    bound.apply_defaults()
                    request = receipts.request_for(name, request_id, bound.arguments)
                    found = receipts.answered(self, request)
                    if found is not None:
                        return receipts.result_of(found)  # type: ignore[no-any-return]
                    token = receipts.CURRENT.set(request)
                    try:
                        return _checked(self, *args, **kwargs)
                    finally:
                        receipts.CURRENT.reset(token)
                return _checked(self, *args, **kwargs)
        except DomainError as error:
            subject = _subject_of(signature, self, args, kwargs)
            if subject is not None:
                # Every error names the municipality, also one raised by a value or a session.
                error.with_subject(subject)
            raise

    def _checked(self: C, /, *args: P.args, **kwargs: P.kwargs) -> T:
        if self._asks_validators(name):
            bound = signature.bind(self, *args, **kwargs)
            bound.apply_defaults()
            arguments = {
                key: "<personal data>" if key in PERSONAL_ARGUMENTS else value
                for key, value in bound.arguments.items()
                if key not in ("self", "request_id")
            }
            self.validate(Command(name, _code_of(arguments), arguments))
        return method(self, *args, **kwargs)

    setattr(wrapper, COMMAND_NAME, name)
    return wrapper


def command_names(cls: type) -> frozenset[str]:
    """The names of the commands of ``cls`` (its methods marked ``@command``)."""
    found = (getattr(getattr(cls, attribute), COMMAND_NAME, None) for attribute in dir(cls))
    return frozenset(name for name in found if isinstance(name, str))


def _subject_of(
    signature: inspect.Signature, self: Commanding, args: Any, kwargs: Any
) -> str | None:
    """The municipality code a command is about, if its arguments name a valid one."""
    try:
        arguments = signature.bind(self, *args, **kwargs).arguments
        if "code" in arguments:
            return MunicipalityCode.parse(arguments["code"]).value
        if "official_id" in arguments:
            return OfficialId(arguments["official_id"]).code.value
    except (TypeError, DomainError):
        return None
    return None


def _code_of(arguments: dict[str, Any]) -> str | None:
    if "code" in arguments:
        return str(arguments["code"])
    if "official_id" in arguments:
        return OfficialId(str(arguments["official_id"])).code.value
    return None


class Commanding(StoredApplication):
    """The programme's plumbing: its store, its settings, its unit of work and the body every
    command runs in. ``Programme`` adds the commands and queries."""

    name = "Programme"

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        origin: str = "api",
        clock: Callable[[], datetime] = utc_now,
        cost_calculators: dict[CostKind, CostCalculator] | None = None,
        validators: Sequence[Validator] = (),
        keyring: Keyring | None = None,
        retries: int | None = None,
        create: bool = True,
    ) -> None:
        self.retries = retries_from(retries)
        self.last_erasure: ErasureCheck | None = None  # what the last erase_official checked
        self._contended_until = 0.0
        self._asof = AsOf(self)  # as-of folds, stored snapshots, cost lines as of
        self.origin = origin
        self.validators: list[Validator] = list(validators)
        unknown = unknown_commands(self.validators, command_names(type(self)))
        if unknown:
            raise InvalidInput(
                _t("a validator says it checks {names}, which are no commands").format(
                    names=", ".join(unknown)
                )
            )
        self.clock = clock
        default = OfferTermsCalculator()
        self.cost_calculators: dict[CostKind, CostCalculator] = dict.fromkeys(CostKind, default)
        self.cost_calculators.update(cost_calculators or {})
        super().__init__(env, keyring=keyring, create=create)
        # Every lookup of a command goes through it, so it sees what its block has done.
        self.uow = UnitOfWork(self)

    def _asks_validators(self, name: str) -> bool:
        """Whether some validator checks the command ``name`` (all do, unless they say)."""
        return any(name in (checked_commands(v) or (name,)) for v in self.validators)

    def validate(self, cmd: Command) -> None:
        """Ask every validator about ``cmd``; a violation, or a validator that fails, rejects it.
        A validator that names the commands it checks (``validates()``) is asked about those
        only; with none to ask, the municipality's view is not built (most commands)."""
        asked = [v for v in self.validators if cmd.name in (checked_commands(v) or (cmd.name,))]
        if not asked:
            return
        view: MunicipalityView | None = None
        if cmd.code is not None:
            try:
                # The aggregate and its cost lines as streamed into memory: a command must not
                # wait for the read models to catch up (a write of their own).
                m = self.uow.municipality(cmd.code)
                costs = self._asof.costs(m.id, None, None)
                view = municipality_view(m, self.reveal, None, None, costs)
            except (UnknownMunicipality, InvalidInput):
                view = None
        for validator in asked:
            name = getattr(validator, "__qualname__", type(validator).__name__)
            try:
                violations = list(validator(cmd, view))
            except Exception as error:  # a validator that cannot decide must not let it pass
                raise RuleViolation(
                    _t(
                        "{subject}: validator {name} failed ({error}); the command was rejected, "
                        "fix or disable that validator"
                    ).format(subject=cmd.code or cmd.name, name=name, error=type(error).__name__)
                ) from None
            if violations:
                # The violations are the validator's own words (a plugin's, in its language).
                raise RuleViolation(
                    _t("{subject}: {command} rejected by {name}: {violations}").format(
                        subject=cmd.code or cmd.name,
                        command=cmd.name,
                        name=name,
                        violations="; ".join(violations),
                    )
                )

    def _stamp(self, by: str, origin: str | None) -> Stamp:
        return Stamp(by=by, origin=origin or self.origin, at=self.clock())

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        if self.uow.stage(objs, kwargs):  # held back: pending until the holder writes them
            return []
        # eventsourcing's save, but its aggregates' events collected without the two
        # isinstance checks against runtime-checkable protocols per object, which cost a bulk
        # import of 50,000 reports (and as many report claims) a tenth of its time.
        processing_event: ProcessingEvent[UUID] = ProcessingEvent()
        for obj in objs:
            if isinstance(obj, Aggregate):
                processing_event.events.extend(obj.collect_events())
                processing_event.aggregates[obj.id] = obj
            else:
                processing_event.collect_events(obj)
        processing_event.saved_kwargs.update(kwargs)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        self.notify(processing_event.events)  # eventsourcing's deprecated hook, as its save
        return recordings

    def _save_held(self, held: Staged, *more: Any) -> Any:
        """Save what ``held`` held back, and ``more``, in one transaction; or, inside a holder
        around it (a command's receipt in an ``atomic()`` block), hand them to that holder."""
        if self.uow.pass_on(held):
            return self.save(*more) if more else []
        return self.save(*held.release(), *more, **held.extras)

    def _run(self, attempt: Callable[[], T]) -> T:
        """Run a command's attempt (read, check, save), retrying on a concurrent write: each
        retry reads the fresh state and checks every rule again. With a request id the save
        is held back and made together with the command's receipt
        (``mma_core.application.receipts``)."""
        request = receipts.CURRENT.get()

        def once() -> T:
            return attempt() if request is None else self._answer(request, attempt)

        for tries in range(self.retries + 1):
            try:
                if tries == 0 and time.monotonic() >= self._contended_until:
                    return once()
                # A retry runs holding the store's retry lock: writers that collided take
                # turns instead of colliding again, each reading what the one before wrote.
                # The first attempt stays optimistic (no wait when nobody else writes) unless
                # this programme met a conflict in the last CONTENDED seconds.
                with self._retry_lock():
                    return once()
            except RecordConflictError:
                self._contended_until = time.monotonic() + CONTENDED
                if tries == self.retries:
                    raise ConcurrencyConflict(
                        _t(
                            "another writer kept changing the same municipality or session; "
                            "gave up after {attempts} attempts, try again (or raise {env})"
                        ).format(attempts=self.retries + 1, env=RETRIES_ENV)
                    ) from None
                # A short random pause, growing with each try, spreads the writers out.
                time.sleep(random.uniform(0, 0.001 * 2 ** min(tries, 5)))  # noqa: S311
        raise AssertionError("unreachable")

    def _answer(self, request: receipts.Request, attempt: Callable[[], T]) -> T:
        found = receipts.answered(self, request)  # a concurrent twin may have answered it
        if found is not None:
            return receipts.result_of(found)  # type: ignore[no-any-return]
        try:
            with self.uow.hold() as held:
                result = attempt()
        except DomainError:
            # The twin that answered first changed the state this attempt read.
            found = receipts.answered(self, request)
            if found is not None:
                return receipts.result_of(found)  # type: ignore[no-any-return]
            raise
        receipts.save_with_receipt(self, held, request, result)
        return result

    def _change(
        self,
        code: str,
        by: str,
        origin: str | None,
        change: Callable[[Municipality, Stamp], object],
    ) -> str:
        """The body of a command that changes one municipality: read it, let ``change`` check
        every rule and record its events, and save it (tried again on a concurrent write, and
        held for its receipt with a request id: see :meth:`_run`). Returns its code."""
        stamp = self._stamp(by, origin)

        def attempt() -> str:
            m = self.uow.municipality(code)
            change(m, stamp)
            self.save(m)
            return m.code

        return self._run(attempt)

    def today(self) -> date:
        """The programme's today: its clock's date in Europe/Amsterdam."""
        return self._stamp("-", None).today

    def reveal(self, official_id: OfficialId, sealed: str) -> Official | None:
        """An official's sealed personal data opened with their key; ``None`` once erased."""
        stored = self.keys.select_official_key(official_id.value)
        if stored is None:
            return None
        return unseal(self.key_wrapper.unwrap(official_id.value, stored), official_id, sealed)

    def aggregate_events(self, aggregate_id: UUID) -> list[Any]:
        """Every event of one aggregate, oldest first."""
        return list(self.events.get(aggregate_id))

    def events_of_type(self, event_class: type[Any]) -> Iterator[Any]:
        """Every event of that class, in the order the store recorded them (read in pages)."""
        topic = get_topic(event_class)
        start = 1
        while True:
            batch = self.recorder.select_notifications(start, 1000, topics=[topic])
            for notification in batch:
                yield self.mapper.to_domain_event(notification)
            if len(batch) < 1000:
                return
            start = batch[-1].id + 1

    def _take_snapshots(self, processing_event: Any) -> None:
        # A save of many events of one municipality (record_reports) passes several snapshot
        # versions: one replay from the snapshot before them stores them all.
        self._asof.store_crossed(processing_event)

    def take_snapshot(
        self,
        aggregate_id: UUID,
        version: int | None = None,
        projector_func: Any = project_aggregate,
    ) -> None:
        """Store a snapshot of the municipality at ``version`` (eventsourcing calls this
        every ``SNAPSHOT_EVERY`` events, after the save). Derived data: a snapshot that
        cannot be written (another process wrote it first) is only a slower load."""
        try:
            self._asof.store(aggregate_id, version, every=None)
        except Exception as error:  # never fail a command whose events are committed
            logger.info("no snapshot of %s at %s: %s", aggregate_id, version, type(error).__name__)

    @property
    def snapshotting_intervals(self) -> dict[type[Any], int]:  # type: ignore[override]
        return {Municipality: asof.SNAPSHOT_EVERY}

    @functools.cached_property
    def views(self) -> ReadModels:
        """The read models (overview, ledger, roster, deadlines, waterbed) beside the events."""
        return ReadModels(self)


def retries_from(retries: int | None, env: Mapping[str, str] | None = None) -> int:
    """The retry budget: ``retries`` if given, else ``MMA_RETRIES``, else the default."""
    if retries is None:
        text = (os.environ if env is None else env).get(RETRIES_ENV, "").strip()
        if not text:
            return DEFAULT_RETRIES
        try:
            retries = int(text)
        except ValueError:
            raise InvalidInput(
                _t("{env} is a whole number of retries, 0 or more").format(env=RETRIES_ENV)
            ) from None
    if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
        raise InvalidInput(_t("retries is a whole number, 0 or more"))
    return retries
