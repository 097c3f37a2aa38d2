"""Programme: the application service. Commands record what happened; queries say where
things stand.

Commands validate everything on the current state, then save every changed aggregate in one
``save()`` (one transaction) and return an id. A command that breaks a rule raises a
``DomainError`` and writes nothing. Queries return frozen plain values.
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any, Concatenate, ParamSpec, TypeVar
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
    ProcessingEvent,
    project_aggregate,
)
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import RecordConflictError
from eventsourcing.utils import get_topic

from mma_core.application import asof, migrations, receipts
from mma_core.application.asof import AsOf
from mma_core.application.commands import Command, Validator
from mma_core.application.costs import CostCalculator, CostContext, OfferTermsCalculator
from mma_core.application.events import EventRecord
from mma_core.application.follow import follow, last_position, wait_for
from mma_core.application.health import Health, health
from mma_core.application.receipts import Receipt
from mma_core.application.report_rows import ParsedRow, ReportRow, parse_report_row
from mma_core.application.staging import Staged
from mma_core.application.wiring import StoredApplication
from mma_core.domain import text as domain_text
from mma_core.domain.budget import Budget, budget_id
from mma_core.domain.common import AMSTERDAM, Stamp, as_date
from mma_core.domain.errors import (
    ConcurrencyConflict,
    DomainError,
    DuplicateReport,
    InvalidInput,
    InvalidTransition,
    RuleViolation,
    UnknownMunicipality,
    UnknownOffer,
    UnknownSession,
)
from mma_core.domain.municipality import Municipality, municipality_id
from mma_core.domain.offer import Offer, check_offer_reference, offer_id
from mma_core.domain.report_claim import ReportClaim, claim_ids
from mma_core.domain.training import TrainingSession, check_session_id, session_id_to_uuid
from mma_core.domain.values import (
    CostKind,
    CostLine,
    Money,
    MunicipalityCode,
    Official,
    OfficialId,
    Outcome,
    ReportCategory,
    ReportReference,
    Stage,
    Terms,
    TrainingSlot,
    add_months,
)
from mma_core.language.i18n import _ as _t
from mma_core.storage import (
    DEFAULT_STORE,
    ERASE_KEYS,
    KEYS,
    ErasureCheck,
    describe,
    registries,
    store_env,
)
from mma_core.storage.cipher import Keyring, StoreCipherError, keyring_from
from mma_core.storage.errors import guarded, translated
from mma_core.storage.privacy import new_key, seal, unseal
from mma_core.views.models import ReadModels, overview_from_records, records_and_costs
from mma_core.views.replay import event_data, municipality_view
from mma_core.views.state import (
    EvaluationView,
    HistoryEntry,
    MunicipalityView,
    OfferView,
    Overview,
    SessionView,
)

T = TypeVar("T")
P = ParamSpec("P")
MAX_ATTEMPTS = 5  # kept for callers that read it; the budget is Programme.retries
BULK_BATCH = 1000  # rows a transaction of a non-atomic record_reports
DEFAULT_RETRIES = 12  # retries after a concurrent write, before ConcurrencyConflict
RETRIES_ENV = "MMA_RETRIES"
CONTENDED = 2.0  # seconds after a conflict in which commands take turns from the first try
PERSONAL_ARGUMENTS = frozenset({"name", "email"})
logger = logging.getLogger(__name__)
# The domain's messages in the current language: the domain marks them, mma_core.language.i18n
# (outside the domain, which imports nothing of the application) translates them.
domain_text.translate_with(_t)


def utc_now() -> datetime:
    return datetime.now(UTC)


COMMAND_NAME = "__mma_command__"  # the attribute that names a command on its method


def command(
    method: Callable[Concatenate[Programme, P], T],
) -> Callable[Concatenate[Programme, P], T]:
    """Mark a Programme method as a command: validators run on it before anything is written.
    The command's name (what validators and receipts see) is the method's, without a leading
    underscore: a public method may check its arguments and then call a private command."""
    signature = inspect.signature(method)
    name = method.__name__.lstrip("_")

    @functools.wraps(method)
    def wrapper(self: Programme, /, *args: P.args, **kwargs: P.kwargs) -> T:
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

    def _checked(self: Programme, /, *args: P.args, **kwargs: P.kwargs) -> T:
        if self.validators:
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


def _subject_of(
    signature: inspect.Signature, self: Programme, args: Any, kwargs: Any
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


class Programme(StoredApplication):
    """One programme, one store. Open with :meth:`open` and use as a context manager."""

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
        self.clock = clock
        default = OfferTermsCalculator()
        self.cost_calculators: dict[CostKind, CostCalculator] = dict.fromkeys(CostKind, default)
        self.cost_calculators.update(cost_calculators or {})
        self._staging = threading.local()
        super().__init__(env, keyring=keyring, create=create)

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
        """
        Stamp(by="-", origin=origin, at=clock())  # fail early on a bad origin or clock
        env = store_env(url)
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
    def upgrade_store(cls, url: str = DEFAULT_STORE) -> tuple[int | None, int]:
        """``mma store upgrade``: open the store at ``url`` without the version check, apply
        every migration after its schema version, in order; returns (before, after)."""
        env = store_env(url)
        label, secrets = describe(url), (env.get("POSTGRES_PASSWORD", ""),)
        with translated(label, secrets):
            programme = cls(env, create=False)
        programme.store_label, programme.store_secrets = label, secrets
        try:
            return migrations.upgrade(programme)
        finally:
            programme.close()

    # -- plumbing -------------------------------------------------------------------------

    def validate(self, cmd: Command) -> None:
        """Ask every validator about ``cmd``; a violation, or a validator that fails, rejects it."""
        view: MunicipalityView | None = None
        if cmd.code is not None:
            try:
                # The aggregate and its cost lines as streamed into memory: a command must not
                # wait for the read models to catch up (a write of their own).
                m = self._municipality(cmd.code)
                costs = self._asof.costs(m.id, None, None)
                view = municipality_view(m, self.reveal, None, None, costs)
            except (UnknownMunicipality, InvalidInput):
                view = None
        for validator in self.validators:
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

    # -- all or nothing -------------------------------------------------------------------

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """Commands run in the block are written together when it ends, in one transaction,
        or not at all: an error in any of them (or in the block) writes none of them.

        Each command sees the changes of those before it in the block. Used by imports, where
        every row must hold or none is recorded. Not re-entrant; per thread.
        """
        if getattr(self._staging, "atomic", False):
            raise RuntimeError("Programme.atomic() blocks do not nest")
        self._staging.atomic = True
        try:
            with self._holding() as staged:
                yield
        finally:
            self._staging.atomic = False
        if staged.aggregates:
            try:
                self.save(*staged.aggregates.values(), **staged.extras)
            except RecordConflictError:
                raise ConcurrencyConflict(
                    _t(
                        "another writer changed the same municipality or session meanwhile; "
                        "nothing was written, run it again"
                    )
                ) from None

    @contextmanager
    def _holding(self) -> Iterator[Staged]:
        """Hold back the saves made inside (``mma_core.application.staging``): by ``atomic()`` and
        by a command with a request id, which writes them with its receipt."""
        stack = self._stack()
        staged = Staged()
        stack.append(staged)
        try:
            yield staged
        finally:
            stack.pop()

    def _stack(self) -> list[Staged]:
        stack: list[Staged] | None = getattr(self._staging, "stack", None)
        if stack is None:
            stack = self._staging.stack = []
        return stack

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        stack = self._stack()
        if stack:  # held back: the events stay pending until the holder writes them
            stack[-1].add(objs, kwargs)
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

    def _staged(self, aggregate_id: UUID) -> Any:
        """The aggregate as a held-back save left it, if one did (innermost first)."""
        for staged in reversed(self._stack()):
            found = staged.get(aggregate_id)
            if found is not None:
                return found
        return None

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
            with self._holding() as held:
                result = attempt()
        except DomainError:
            # The twin that answered first changed the state this attempt read.
            found = receipts.answered(self, request)
            if found is not None:
                return receipts.result_of(found)  # type: ignore[no-any-return]
            raise
        receipts.save_with_receipt(self, held, request, result)
        return result

    def receipt(self, request_id: str) -> Receipt | None:
        """The answer a command gave to ``request_id``, or ``None`` if none did (yet)."""
        with translated(self.store_label, self.store_secrets):
            return receipts.receipt_view(self, request_id)

    def _municipality(self, code: str | MunicipalityCode) -> Municipality:
        parsed = MunicipalityCode.parse(code)
        staged = self._staged(municipality_id(parsed))
        if staged is not None:
            return staged  # type: ignore[no-any-return]
        try:
            return self.repository.get(municipality_id(parsed))
        except AggregateNotFoundError:
            raise UnknownMunicipality(
                _t(
                    "{code}: no such municipality is registered; register its registry first "
                    "(on the command line: 'mma init')"
                ).format(code=parsed)
            ) from None

    def _offer(self, reference: str) -> Offer:
        try:
            return self.repository.get(offer_id(reference))
        except AggregateNotFoundError:
            raise UnknownOffer(
                _t("no offer {reference} was made; record the offer first ('mma offer')").format(
                    reference=repr(reference)
                )
            ) from None

    def _session(self, session_id: str) -> TrainingSession:
        staged = self._staged(session_id_to_uuid(session_id))
        if staged is not None:
            return staged  # type: ignore[no-any-return]
        try:
            return self.repository.get(session_id_to_uuid(session_id))
        except AggregateNotFoundError:
            raise UnknownSession(
                _t("no training session {session} was scheduled; schedule it first").format(
                    session=repr(session_id)
                )
            ) from None

    def _exists(self, aggregate_id: UUID) -> bool:
        return bool(self.recorder.select_events(aggregate_id, limit=1))

    def _terms_for(
        self, m: Municipality, on: date, offers: dict[str, Offer] | None = None
    ) -> tuple[str, Terms]:
        """The offer's terms on ``on``; ``offers`` keeps the offers read (one bulk command)."""
        if m.offer_reference is None:
            raise InvalidTransition(
                _t("{label}: was never invited, so no offer's terms apply").format(label=m.label)
            )
        if offers is None:
            return m.offer_reference, self._offer(m.offer_reference).terms_on(on)
        if m.offer_reference not in offers:
            offers[m.offer_reference] = self._offer(m.offer_reference)
        return m.offer_reference, offers[m.offer_reference].terms_on(on)

    def _cost(
        self,
        kind: CostKind,
        m: Municipality,
        on: date,
        prior: Money | None = None,
        offers: dict[str, Offer] | None = None,
        budget: Budget | None = None,
        renewal: bool = False,
    ) -> CostLine | None:
        """The cost line the kind's calculator prices (at a renewal: the yearly fee, if its
        calculator has one; else None)."""
        reference, terms = self._terms_for(m, on, offers)
        context = CostContext(
            kind=kind,
            code=m.code,
            name=m.name,
            population=m.population,
            on=on,
            offer_reference=reference,
            terms=terms,
            prior_costs=prior,
            left=None if budget is None else budget.left,
        )
        calculator = self.cost_calculators[kind]
        if renewal:
            renew = getattr(calculator, "renewal", None)
            if renew is None:
                return None
            line = renew(context)
            if line is None:
                return None
        else:
            line = calculator.calculate(context)
        if not isinstance(line, CostLine) or line.kind is not kind:
            raise InvalidInput(
                _t("{label}: the {kind} calculator returned no valid cost line").format(
                    label=m.label, kind=kind.value
                )
            )
        return line

    def _priced(self, kind: CostKind, m: Municipality, on: date, **kwargs: Any) -> CostLine:
        line = self._cost(kind, m, on, **kwargs)
        assert line is not None  # only a renewal may price nothing
        return line

    def _budget(self, kind: CostKind, stamp: Stamp) -> Budget | None:
        """The budget of the kind's calculator, if it has a ceiling (opened on first use with
        what the ledger shows it charged before)."""
        calculator = self.cost_calculators[kind]
        ceiling = getattr(calculator, "ceiling", None)
        if not isinstance(ceiling, Money):
            return None
        try:
            budget: Budget = self.repository.get(budget_id(calculator.name))
            return budget
        except AggregateNotFoundError:
            self.views.catch_up()
            before = Money.zero()
            for line in self.views.ledger():
                if line.calculator == calculator.name:
                    before += line.amount
            return Budget.open(calculator.name, ceiling, before, stamp)

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
            m = self._municipality(code)
            change(m, stamp)
            self.save(m)
            return m.code

        return self._run(attempt)

    # -- commands: set-up -----------------------------------------------------------------

    @command
    def register_registry(
        self, name: str, *, by: str, origin: str | None = None, request_id: str | None = None
    ) -> list[str]:
        """Register every row of a shipped registry, with its validity. Idempotent."""
        entries = registries.load(name)
        stamp = self._stamp(by, origin)

        def attempt() -> list[str]:
            new = [
                Municipality.register(entry, name, stamp)
                for entry in entries
                if not self._exists(municipality_id(entry.code))
            ]
            if new:
                self.save(*new)
            return [entry.code.value for entry in entries]

        return self._run(attempt)

    @command
    def make_offer(
        self,
        *,
        reference: str,
        sent_on: date,
        by: str,
        terms: Terms | None = None,
        origin: str | None = None,
        request_id: str | None = None,
    ) -> str:
        """Record the offer as sent. Terms default to the 2019 letter's (12 months, 2 officials)."""
        reference = check_offer_reference(reference)
        stamp = self._stamp(by, origin)

        def attempt() -> str:
            if self._exists(offer_id(reference)):
                raise InvalidTransition(
                    _t(
                        "offer {reference} was made already; record a change of its terms instead"
                    ).format(reference=reference)
                )
            self.save(Offer.make(reference, sent_on, terms or Terms(), stamp))
            return reference

        return self._run(attempt)

    @command
    def change_offer_terms(
        self,
        reference: str,
        *,
        on: date,
        terms: Terms,
        by: str,
        origin: str | None = None,
        request_id: str | None = None,
    ) -> str:
        """Record a change of the offer's terms from ``on``; amounts already charged stay."""
        stamp = self._stamp(by, origin)

        def attempt() -> str:
            offer = self._offer(check_offer_reference(reference))
            offer.change_terms(on, terms, stamp)
            self.save(offer)
            return reference

        return self._run(attempt)

    @command
    def sign_covenant(
        self,
        reference: str,
        *,
        on: date,
        by: str,
        place: str = "",
        origin: str | None = None,
        request_id: str | None = None,
    ) -> str:
        """Record that the covenant with MMA, of which offer ``reference`` is part, was signed
        on ``on`` (at ``place``, e.g. the mayors' conference). Returns the reference."""
        stamp = self._stamp(by, origin)

        def attempt() -> str:
            offer = self._offer(check_offer_reference(reference))
            offer.sign_covenant(on, place, stamp)
            self.save(offer)
            return offer.reference

        return self._run(attempt)

    @command
    def schedule_training(
        self,
        session_id: str,
        *,
        starts_at: datetime,
        ends_at: datetime,
        location: str,
        capacity: int,
        by: str,
        origin: str | None = None,
        request_id: str | None = None,
    ) -> str:
        """Schedule a training session. Naive datetimes are read as Europe/Amsterdam time."""
        session_id = check_session_id(session_id)
        slot = TrainingSlot(_aware(starts_at), _aware(ends_at), location, capacity)
        stamp = self._stamp(by, origin)

        def attempt() -> str:
            if self._exists(session_id_to_uuid(session_id)):
                raise InvalidTransition(
                    _t("session {session} was scheduled already").format(session=session_id)
                )
            self.save(TrainingSession.schedule(session_id, slot, stamp))
            return session_id

        return self._run(attempt)

    # -- commands: the lifecycle ----------------------------------------------------------

    @command
    def invite(
        self,
        code: str,
        *,
        on: date,
        reference: str,
        by: str,
        origin: str | None = None,
        request_id: str | None = None,
    ) -> str:

        def change(m: Municipality, stamp: Stamp) -> None:
            offer = self._offer(check_offer_reference(reference))
            m.invite(on, offer.reference, offer.sent_on, stamp)

        return self._change(code, by, origin, change)

    @command
    def invite_all(
        self,
        *,
        on: date,
        reference: str,
        by: str,
        origin: str | None = None,
        request_id: str | None = None,
    ) -> list[str]:
        """Invite every municipality that exists on ``on`` and was not invited yet (its stage
        is still ``registered``) to take up offer ``reference``; returns their codes, in
        registration order (none: an empty list).

        All or nothing: every invitation is checked (each by the rules and the validators of
        :meth:`invite`) before any is written, and all are written in one transaction. An
        unknown offer raises before anything is read. What ``mma invite --all`` does."""
        reference = check_offer_reference(reference)
        day = as_date(on, "invitation date", "invite_all")
        stamp = self._stamp(by, origin)

        def attempt() -> list[str]:
            offer = self._offer(reference)
            invited: list[Municipality] = []
            for registered in self.events_of_type(Municipality.Registered):
                m = self._municipality(registered.code)
                if m.stage is not Stage.REGISTERED or not m.exists_on(day):
                    continue
                if self.validators:
                    arguments = {"code": m.code, "on": day, "reference": offer.reference}
                    arguments.update(by=stamp.by, origin=stamp.origin)
                    self.validate(Command("invite", m.code, arguments))
                m.invite(day, offer.reference, offer.sent_on, stamp)
                invited.append(m)
            if invited:
                self.save(*invited)
            return [m.code for m in invited]

        return self._run(attempt)

    @command
    def record_prior_connection(
        self,
        code: str,
        *,
        connected_on: date,
        costs: Money,
        by: str,
        on: date | None = None,
        origin: str | None = None,
        request_id: str | None = None,
    ) -> str:

        def change(m: Municipality, stamp: Stamp) -> None:
            m.record_prior_connection(connected_on, costs, on, stamp)

        return self._change(code, by, origin, change)

    @command
    def accept(
        self,
        code: str,
        *,
        on: date,
        by: str,
        origin: str | None = None,
        request_id: str | None = None,
    ) -> str:
        """Accept the offer; with a prior connection the municipality is connected at once."""

        def change(m: Municipality, stamp: Stamp) -> None:
            day = m.check_accept(on, stamp)  # every rule first: no cost is priced for nothing
            _, terms = self._terms_for(m, day)
            compensation = None
            if m.prior_connected_on is not None:
                compensation = self._priced(CostKind.COMPENSATION, m, day, prior=m.prior_costs)
            m.accept(day, add_months(day, terms.evaluation_months), compensation, stamp)

        return self._change(code, by, origin, change)

    @command
    def decline(
        self,
        code: str,
        *,
        on: date,
        by: str,
        reason: str = "",
        origin: str | None = None,
        request_id: str | None = None,
    ) -> str:
        return self._change(code, by, origin, lambda m, stamp: m.decline(on, reason, stamp))

    @command
    def connect(
        self,
        code: str,
        *,
        on: date,
        by: str,
        origin: str | None = None,
        request_id: str | None = None,
    ) -> str:
        stamp = self._stamp(by, origin)

        def attempt() -> str:
            m = self._municipality(code)
            day = m.check_connect(on, stamp)
            _, terms = self._terms_for(m, day)
            budget = self._budget(CostKind.CONNECTION, stamp)
            cost = self._priced(CostKind.CONNECTION, m, day, budget=budget)
            m.connect(day, add_months(day, terms.evaluation_months), cost, stamp)
            if budget is not None:
                budget.charge(day, m.code, cost.amount, stamp)
            self.save(m, budget)  # the budget's new version serialises concurrent connections
            return m.code

        return self._run(attempt)

    @command
    def record_report(
        self,
        code: str,
        *,
        received_on: date,
        category: str,
        reference: str,
        by: str,
        origin: str | None = None,
        request_id: str | None = None,
    ) -> str:
        """Record a forwarded report (date, category, opaque reference); returns the reference."""
        parsed_category = ReportCategory(category)
        parsed_reference = ReportReference(reference)
        stamp = self._stamp(by, origin)

        def attempt() -> str:
            m = self._municipality(code)
            day = m.check_report(received_on, stamp)
            for earlier in claim_ids(parsed_reference, reference):
                if not self._exists(earlier):
                    continue
                claim: ReportClaim = self.repository.get(earlier)
                raise DuplicateReport(
                    _t(
                        "{label}: MMA reference {reference} was recorded already (for {code}, "
                        "received {day}); a reference counts once"
                    ).format(
                        label=m.label,
                        reference=parsed_reference,
                        code=claim.code,
                        day=claim.received_on.isoformat(),
                    ),
                    details={"reference": parsed_reference.value},
                )
            fee = self._priced(CostKind.REPORT_FEE, m, day)
            m.record_report(day, parsed_category, parsed_reference, fee, stamp)
            claim = ReportClaim.claim(parsed_reference, MunicipalityCode(m.code), day, stamp)
            self.save(m, claim)
            return parsed_reference.value

        return self._run(attempt)

    def record_reports(
        self,
        rows: Iterable[ReportRow],
        *,
        by: str,
        origin: str | None = None,
        atomic: bool = True,
        batch_size: int = BULK_BATCH,
        dry_run: bool = False,
        progress: Callable[[int, int], None] | None = None,
        request_id: str | None = None,
    ) -> list[str]:
        """Record many reports; returns their references (canonical), in row order.

        ``request_id`` makes the whole import idempotent, as for every other command: a retry
        with the same rows returns the first answer and writes nothing. It needs one
        transaction, so it cannot go with ``atomic=False`` or ``dry_run``.

        Each row (:class:`ReportRow`: municipality code, received_on, category, reference) is
        checked by every rule of :meth:`record_report` (and every validator), against the
        municipality as the rows before it left it. A row that breaks one raises that rule's
        error, prefixed with the row (its line in the file, if it has one), and nothing is
        written: by default all rows go in one transaction. ``atomic=False`` writes them in
        transactions of ``batch_size`` rows; a failing row then leaves the batches before its
        own written. ``dry_run`` checks every row and writes nothing. ``progress(done, total)``
        is called as rows are checked.
        """
        rows = list(rows)  # read once: a generator is neither re-readable nor fingerprinted
        if request_id is not None and (not atomic or dry_run):
            raise InvalidInput(
                _t(
                    "a bulk import with a request_id is one transaction: it cannot be written in "
                    "batches (atomic=False) or as a dry run"
                )
            )
        return self._record_reports(
            rows,
            by=by,
            origin=origin,
            atomic=atomic,
            batch_size=batch_size,
            dry_run=dry_run,
            progress=progress,
            request_id=request_id,
        )

    @command
    def _record_reports(
        self,
        rows: list[ReportRow],
        *,
        by: str,
        origin: str | None = None,
        atomic: bool = True,
        batch_size: int = BULK_BATCH,
        dry_run: bool = False,
        progress: Callable[[int, int], None] | None = None,
        request_id: str | None = None,  # taken by @command
    ) -> list[str]:
        # The command validators and receipts see as record_reports (its rows as a list).
        parsed = [parse_report_row(row, n) for n, row in enumerate(rows, start=1)]
        stamp = self._stamp(by, origin)
        size = len(parsed) if atomic or dry_run else max(1, int(batch_size))
        references: list[str] = []
        for start in range(0, len(parsed), size or 1):
            batch = parsed[start : start + size]

            def attempt(batch: list[ParsedRow] = batch, done: int = start) -> list[str]:
                return self._record_batch(batch, stamp, dry_run, progress, done, len(parsed))

            references.extend(self._run(attempt))
        return references

    def _record_batch(
        self,
        batch: list[ParsedRow],
        stamp: Stamp,
        dry_run: bool,
        progress: Callable[[int, int], None] | None,
        done: int,
        total: int,
    ) -> list[str]:
        municipalities: dict[str, Municipality] = {}
        claims: list[ReportClaim] = []
        seen: dict[UUID, ParsedRow] = {}
        references = []
        offers: dict[str, Offer] = {}
        ids_of = [claim_ids(row.reference, row.typed) for row in batch]
        claimed = self.keys.select_existing([i for ids in ids_of for i in ids])
        for n, (row, ids) in enumerate(zip(batch, ids_of, strict=True), start=1):
            try:
                if self.validators:
                    arguments = {
                        "code": row.code,
                        "received_on": row.received_on,
                        "category": row.category.value,
                        "reference": row.reference.value,
                        "by": stamp.by,
                        "origin": stamp.origin,
                    }
                    self.validate(Command("record_report", row.code, arguments))
                m = municipalities.get(row.code)
                if m is None:
                    m = municipalities[row.code] = self._municipality(row.code)
                day = m.check_report(row.received_on, stamp)
                earlier = next((seen[i] for i in ids if i in seen), None)
                if earlier is not None:
                    raise DuplicateReport(
                        _t(
                            "{label}: MMA reference {reference} is also on {where}; a reference "
                            "counts once"
                        ).format(label=m.label, reference=row.reference, where=earlier.where)
                    )
                for claim_at in ids:
                    if claim_at in claimed:
                        claim: ReportClaim = self.repository.get(claim_at)
                        raise DuplicateReport(
                            _t(
                                "{label}: MMA reference {reference} was recorded already (for "
                                "{code}, received {day}); a reference counts once"
                            ).format(
                                label=m.label,
                                reference=row.reference,
                                code=claim.code,
                                day=claim.received_on.isoformat(),
                            )
                        )
                seen[ids[0]] = row
                fee = self._priced(CostKind.REPORT_FEE, m, day, offers=offers)
                m.record_report(day, row.category, row.reference, fee, stamp)
                claims.append(
                    ReportClaim.claim(row.reference, MunicipalityCode(m.code), day, stamp)
                )
                references.append(row.reference.value)
            except DomainError as error:
                named = type(error)(f"{row.where}: {error}")
                raise named.with_traceback(error.__traceback__) from None
            if progress is not None and (n % 100 == 0 or n == len(batch)):
                progress(done + n, total)
        if not dry_run:
            self.save(*municipalities.values(), *claims)
        return references

    @command
    def evaluate(
        self,
        code: str,
        *,
        on: date,
        outcome: str,
        by: str,
        recovered: Money | None = None,
        notes: str = "",
        origin: str | None = None,
        useful: int | None = None,
        followed_up: int | None = None,
        satisfaction: int | None = None,
        reasons: str = "",
        request_id: str | None = None,
    ) -> str:
        """Record the evaluation of the current term: the decision (``continue`` or ``stop``)
        and, optionally, how many of the term's reports were useful and followed up, a
        satisfaction score from 1 to 5 and the reasons. The number of reports received in the
        term is filled in from the history."""
        try:
            parsed_outcome = Outcome(outcome)
        except ValueError:
            raise InvalidInput(
                _t("{code}: outcome {outcome} is not 'continue' or 'stop'").format(
                    code=code, outcome=repr(outcome)
                )
            ) from None

        def change(m: Municipality, stamp: Stamp) -> None:
            start = m.term_start or date.min
            reports = sum(
                1
                for event in self.aggregate_events(m.id)
                if isinstance(event, Municipality.ReportReceived)
                and isinstance(on, date)
                and start <= event.received_on <= on
            )
            m.evaluate(
                on,
                parsed_outcome,
                recovered or Money.zero(),
                notes,
                stamp,
                reports=reports,
                useful=useful,
                followed_up=followed_up,
                satisfaction=satisfaction,
                reasons=reasons,
            )

        return self._change(code, by, origin, change)

    @command
    def renew(
        self,
        code: str,
        *,
        on: date,
        by: str,
        origin: str | None = None,
        request_id: str | None = None,
    ) -> str:

        def change(m: Municipality, stamp: Stamp) -> None:
            day = m.check_renew(on, stamp)
            _, terms = self._terms_for(m, day)
            fee = None
            if m.connection_kind == "programme":  # its connection's tariff runs by the year
                fee = self._cost(CostKind.CONNECTION, m, day, renewal=True)
            m.renew(day, add_months(day, terms.evaluation_months), stamp, fee)

        return self._change(code, by, origin, change)

    @command
    def terminate(
        self,
        code: str,
        *,
        on: date,
        by: str,
        reason: str = "",
        origin: str | None = None,
        request_id: str | None = None,
    ) -> str:
        return self._change(code, by, origin, lambda m, stamp: m.terminate(on, reason, stamp))

    @command
    def merge(
        self,
        code: str,
        *,
        into: str,
        on: date,
        by: str,
        origin: str | None = None,
        request_id: str | None = None,
    ) -> str:
        """Merge ``code`` into ``into``; a connected predecessor connects its successor."""
        stamp = self._stamp(by, origin)

        def attempt() -> str:
            absorbed = self._municipality(code)
            successor = self._municipality(into)
            absorbed.merge(on, successor, stamp)
            self.save(absorbed, successor)
            return successor.code

        return self._run(attempt)

    # -- commands: officials and training -------------------------------------------------

    @command
    def nominate_official(
        self,
        code: str,
        *,
        name: str,
        email: str,
        by: str,
        on: date | None = None,
        origin: str | None = None,
        request_id: str | None = None,
    ) -> str:
        """Nominate an official; returns the official id (e.g. ``GM0363-1``)."""
        person = Official(name=name, email=email)
        stamp = self._stamp(by, origin)

        def attempt() -> str:
            m = self._municipality(code)
            limit = 2
            if m.offer_reference is not None:
                limit = self._terms_for(m, stamp.today)[1].officials_per_municipality
            official_id, day = m.check_nominate(on, stamp, limit)
            key = new_key()
            m.nominate_official(official_id, seal(key, official_id, person), day, stamp)
            stored = self.key_wrapper.wrap(official_id.value, key)
            self.save(m, **{KEYS: {official_id.value: stored}})
            return official_id.value

        return self._run(attempt)

    @command
    def book_training(
        self,
        code: str,
        *,
        official_id: str,
        session_id: str,
        by: str,
        on: date | None = None,
        origin: str | None = None,
        request_id: str | None = None,
    ) -> str:
        oid = _official_of(code, official_id)
        stamp = self._stamp(by, origin)

        def attempt() -> str:
            m = self._municipality(code)
            session = self._session(check_session_id(session_id))
            day = m.check_booking(oid, session.day, on, stamp)
            session.check_seat(oid)
            m.book_training(oid, session.session_id, session.day, day, stamp)
            session.book(oid, day, stamp)
            self.save(m, session)
            return session.session_id

        return self._run(attempt)

    @command
    def record_attendance(
        self,
        code: str,
        *,
        official_id: str,
        session_id: str,
        attended: bool,
        by: str,
        origin: str | None = None,
        request_id: str | None = None,
    ) -> str:
        oid = _official_of(code, official_id)
        stamp = self._stamp(by, origin)

        def attempt() -> str:
            m = self._municipality(code)
            session = self._session(check_session_id(session_id))
            if oid.value not in session.booked and m.official(oid).session_id == session_id:
                # Withdrawn or erased before the session: the seat was released, so the
                # official was not there to attend or miss it.
                raise InvalidTransition(
                    _t(
                        "{label}: official {official} gave up the seat on session {session}; "
                        "attendance is recorded only for officials holding a seat"
                    ).format(label=m.label, official=oid, session=session_id)
                )
            m.record_attendance(oid, session.session_id, session.day, attended, stamp)
            self.save(m)
            return oid.value

        return self._run(attempt)

    @command
    def withdraw_official(
        self,
        official_id: str,
        *,
        by: str,
        on: date | None = None,
        origin: str | None = None,
        request_id: str | None = None,
    ) -> str:
        oid = OfficialId(official_id)
        stamp = self._stamp(by, origin)

        def attempt() -> str:
            m = self._municipality(oid.code)
            day = m.check_withdraw(oid, on, stamp)
            session = self._held_seat(m, oid, day)
            m.withdraw_official(oid, day, stamp)
            if session is not None:
                session.release(oid, day, stamp)
            self.save(m, session)
            return oid.value

        return self._run(attempt)

    @command
    def erase_official(
        self, official_id: str, *, by: str, origin: str | None = None, request_id: str | None = None
    ) -> str:
        """Delete the official's key: their data reads ``[erased]``; the history still verifies.

        Then the store removes the key's bytes from its files and checks it
        (:meth:`wipe_erased_keys`); what it checked is in :attr:`last_erasure`. When that
        check fails (:class:`ErasureIncomplete`: a reader held an old snapshot) the erasure is
        recorded and the key deleted all the same: call :meth:`wipe_erased_keys` again later.
        """
        oid = OfficialId(official_id)
        stamp = self._stamp(by, origin)
        stored: list[bytes | None] = [None]

        def attempt() -> str:
            m = self._municipality(oid.code)
            official = m.check_erase(oid)
            session = self._held_seat(m, oid, stamp.today) if official.active else None
            m.erase_official(oid, stamp)
            if session is not None:
                session.release(oid, stamp.today, stamp)
            stored[0] = self.keys.select_official_key(oid.value)
            self.save(m, session, **{ERASE_KEYS: [oid.value]})
            return oid.value

        self.last_erasure = None
        result = self._run(attempt)
        self.last_erasure = self.wipe_erased_keys(stored[0])
        return result

    def wipe_erased_keys(self, erased: bytes | None = None) -> ErasureCheck:
        """Remove deleted keys' bytes from the store's files and say what was checked: on
        SQLite the WAL is folded into the file and emptied (and ``erased``, a key's stored
        bytes, looked for in both); on PostgreSQL the keys table is rewritten. Raises
        :class:`~mma_core.domain.errors.ErasureIncomplete` when a reader prevents it."""
        check: ErasureCheck = self.recorder.after_erasure(erased)  # type: ignore[attr-defined]
        return check

    def _held_seat(self, m: Municipality, oid: OfficialId, day: date) -> TrainingSession | None:
        """The session whose seat the official gives up: one still to come, not yet attended."""
        session_id = m.seat_to_release(oid)
        if session_id is None:
            return None
        session = self._session(session_id)
        return session if session.day >= day else None

    # -- queries --------------------------------------------------------------------------

    # What the read models read (``mma_core.views.source.ViewSource``).

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

    def _as_of(self, code: str, as_of: date | None, known_at: datetime | None) -> Municipality:
        parsed = MunicipalityCode.parse(code)
        if as_of is None and known_at is None:
            return self._municipality(parsed)
        m = self._asof.fold(municipality_id(parsed), as_of, _utc(known_at))
        if m is None:
            raise UnknownMunicipality(
                (
                    _t(
                        "{code}: the store knew no such municipality; register its registry "
                        "first (on the command line: 'mma init')"
                    )
                    if known_at is None
                    else _t(
                        "{code}: the store knew no such municipality at {when}; register its "
                        "registry first (on the command line: 'mma init')"
                    )
                ).format(code=parsed, when=known_at and known_at.isoformat())
            )
        return m  # type: ignore[no-any-return]

    @guarded
    def municipality(
        self, code: str, *, as_of: date | None = None, known_at: datetime | None = None
    ) -> MunicipalityView:
        """The municipality as of a business date and/or as the store knew it at a time."""
        if as_of is not None:
            as_of = as_date(as_of, "as_of", str(code))
        m = self._as_of(code, as_of, known_at)
        if as_of is not None and not m.exists_on(as_of):
            raise UnknownMunicipality(
                _t("{label}: did not exist on {day} (valid {start} to {end})").format(
                    label=m.label,
                    day=as_of.isoformat(),
                    start=m.valid_from or _t("before 2019"),
                    end=m.merged_on or m.valid_until or _t("now"),
                )
            )
        if as_of is None and known_at is None:
            try:
                costs = self.views.costs(m.code)
            except StoreCipherError:
                # A damaged row of another aggregate stops the views' catch-up; this
                # municipality's own events still answer, as they did before the ledger moved.
                costs = self._asof.costs(m.id, None, None)
        else:
            costs = self._asof.costs(m.id, as_of, _utc(known_at))
        return municipality_view(m, self.reveal, as_of, _utc(known_at), costs)

    @guarded
    def codes(self) -> list[str]:
        """Every registered municipality code, in registration order."""
        return [m.code for m in self.events_of_type(Municipality.Registered)]

    @functools.cached_property
    def views(self) -> ReadModels:
        """The read models (overview, ledger, roster, deadlines, waterbed) beside the events."""
        return ReadModels(self)

    @guarded
    def overview(
        self,
        *,
        as_of: date | None = None,
        known_at: datetime | None = None,
        cost_lines: bool = True,
    ) -> Overview:
        """Totals over the municipalities that exist on ``as_of`` (default: today).

        Without ``as_of`` and ``known_at`` it reads the read models, caught up first; otherwise
        it replays. ``cost_lines=False`` leaves each municipality's cost lines out (their totals
        stay), which keeps a large programme's status fast.
        """
        if as_of is None and known_at is None:
            day = self.today()
            self.views.catch_up()
            if self.views.current_on(day):
                return self.views.overview(day, cost_lines=cost_lines)
        day = as_date(as_of, "as_of", "overview") if as_of is not None else self.today()
        aggregates = []
        for registered in self.events_of_type(Municipality.Registered):
            m = self._asof.fold(registered.originator_id, day, _utc(known_at))
            if m is not None:
                aggregates.append(m)
        records, costs = records_and_costs(
            aggregates,
            lambda m: self._asof.costs(m.id, day, _utc(known_at)) if cost_lines else (),
        )
        costs_of = costs.__getitem__ if cost_lines else None
        return overview_from_records(records, self.reveal, day, _utc(known_at), costs_of)

    @guarded
    def sessions(self) -> list[SessionView]:
        views = []
        for scheduled in self.events_of_type(TrainingSession.Scheduled):
            s: TrainingSession = self.repository.get(scheduled.originator_id)
            assert s.slot is not None
            views.append(
                SessionView(
                    session_id=s.session_id,
                    starts_at=s.slot.starts_at,
                    ends_at=s.slot.ends_at,
                    location=s.slot.location,
                    capacity=s.slot.capacity,
                    booked=tuple(s.booked),
                )
            )
        return sorted(views, key=lambda v: v.starts_at)

    @guarded
    def offer(self, reference: str) -> OfferView:
        """The offer, its terms and their history, and the covenant if it was signed."""
        o = self._offer(check_offer_reference(reference))
        covenant = getattr(o, "covenant", None)
        return OfferView(
            reference=o.reference,
            sent_on=o.sent_on,
            terms=tuple(o.terms_history),
            covenant_on=covenant[0] if covenant else None,
            covenant_place=covenant[1] if covenant else "",
        )

    @guarded
    def offers(self) -> list[OfferView]:
        """Every offer made, in the order they were made."""
        topic = get_topic(Offer.Made)
        found: list[OfferView] = []
        start = 1
        while True:
            batch = self.recorder.select_notifications(start, 500, topics=[topic])
            for notification in batch:
                made = self.mapper.to_domain_event(notification)
                found.append(self.offer(made.reference))  # type: ignore[attr-defined]
            if len(batch) < 500:
                return found
            start = batch[-1].id + 1

    @guarded
    def offer_terms(self, reference: str, *, on: date) -> Terms:
        return self._offer(check_offer_reference(reference)).terms_on(on)

    @guarded
    def evaluations(self, code: str) -> list[EvaluationView]:
        """Every evaluation of the municipality, oldest first."""
        return [
            EvaluationView(
                on=event.on,
                outcome=event.outcome,
                recovered=event.recovered,
                notes=event.notes,
                reports=getattr(event, "reports", None),
                useful=getattr(event, "useful", None),
                followed_up=getattr(event, "followed_up", None),
                satisfaction=getattr(event, "satisfaction", None),
                reasons=getattr(event, "reasons", ""),
            )
            for event in self.aggregate_events(self._municipality(code).id)
            if isinstance(event, Municipality.Evaluated)
        ]

    @guarded
    def history(
        self,
        code: str,
        *,
        after: int | None = None,
        limit: int | None = None,
        latest: bool = False,
    ) -> list[HistoryEntry]:
        """The municipality's events in the order the store recorded them: those at positions
        after ``after``, at most ``limit`` of them (the first ones, or with ``latest`` the last
        ones). Only the events of the page are read, so a page costs the same however long
        the history."""
        parsed = MunicipalityCode.parse(code)
        if limit is not None and (not isinstance(limit, int) or limit < 0):
            raise InvalidInput(
                _t("{code}: limit is a whole number of events, 0 or more").format(code=parsed)
            )
        if after is not None and not isinstance(after, int):
            raise InvalidInput(
                _t("{code}: after is a position, a whole number").format(code=parsed)
            )
        aggregate_id = municipality_id(parsed)
        if not self._exists(aggregate_id):
            self._municipality(parsed)  # raises UnknownMunicipality
        if limit == 0:
            return []
        page = self.keys.select_page(aggregate_id, after, limit, latest)
        if not page:
            return []
        wanted = dict(page)
        low, high = min(wanted), max(wanted)
        entries = []
        event: Any
        for event in self.events.get(aggregate_id, gt=low - 1, lte=high):
            if event.originator_version not in wanted:
                continue
            data = event_data(event)
            if isinstance(event, Municipality.OfficialNominated):
                person = self.reveal(OfficialId(event.official_id), event.personal_data)
                data["personal_data"] = (
                    "[erased]" if person is None else {"name": person.name, "email": person.email}
                )
            entries.append(
                HistoryEntry(
                    position=wanted[event.originator_version],
                    version=event.originator_version,
                    recorded_at=event.timestamp,
                    date=event.business_date,
                    type=type(event).__name__,
                    by=event.by,
                    origin=event.origin,
                    data=data,
                )
            )
        return sorted(entries, key=lambda e: e.position)

    # -- following the log ----------------------------------------------------------------

    def follow(
        self, after: int = 0, *, limit: int | None = None, wait: float | None = None
    ) -> Iterator[EventRecord]:
        """The events after position ``after``, in the store's order, as exporters see them.

        Each :class:`~mma_core.application.events.EventRecord` carries its ``position``: save
        the last one handled and resume with ``follow(after=saved)`` to miss nothing and see
        nothing twice (also across a writer's crash and rolled-back transactions; see
        :mod:`mma_core.application.follow`). ``limit`` stops after that many events. Without
        ``wait`` the iterator ends once caught up; with ``wait`` it waits up to that many
        seconds for each new event once caught up (PostgreSQL: LISTEN/NOTIFY; SQLite: polling,
        a new event shows within 0.2 s).
        """
        return follow(self, after, limit, wait)

    def last_position(self) -> int:
        """The latest position in the store (0 when empty)."""
        return last_position(self)

    def wait_for(self, position: int, *, timeout: float = 10.0) -> None:
        """Return once the read models include ``position`` (e.g. a receipt's
        ``last_position``), so that queries read this writer's writes; ``TimeoutError`` if
        they do not within ``timeout`` seconds."""
        wait_for(self, position, timeout)

    def health(self) -> Health:
        """Store reachability, schema version, view lag and outbox backlog. Never raises."""
        return health(self)

    @guarded
    def event_count(self) -> int:
        """How many events the store holds. Not the highest position: PostgreSQL's sequence
        skips the numbers of transactions that rolled back."""
        return self.keys.count_events()


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


def _aware(value: datetime) -> datetime:
    if not isinstance(value, datetime):
        raise InvalidInput(_t("a training time must be a date and time"))
    return value if value.tzinfo is not None else value.replace(tzinfo=AMSTERDAM)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise InvalidInput(_t("known_at must be a date and time"))
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _official_of(code: str, official_id: str) -> OfficialId:
    oid = OfficialId(official_id)
    if oid.code != MunicipalityCode.parse(code):
        raise InvalidInput(
            _t("{code}: official {official} belongs to {owner}, not to this municipality").format(
                code=MunicipalityCode.parse(code), official=oid, owner=oid.code
            )
        )
    return oid


__all__ = ["Programme", "ReportRow"]
