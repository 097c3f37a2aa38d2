"""The lifecycle's commands: the registry, the offer and its covenant, invitations and
answers, connection, evaluation, renewal, termination and merger."""

from __future__ import annotations

from datetime import date

from mma_core.application.commanding import command
from mma_core.application.commands import Command
from mma_core.application.pricing import Pricing
from mma_core.domain.common import Stamp, as_date
from mma_core.domain.corrections import report_days
from mma_core.domain.errors import (
    InvalidInput,
    InvalidTransition,
)
from mma_core.domain.municipality import Municipality, municipality_id
from mma_core.domain.offer import Offer, check_offer_reference, offer_id
from mma_core.domain.values import (
    CostKind,
    Money,
    Outcome,
    Stage,
    Terms,
    add_months,
)
from mma_core.language.i18n import _ as _t
from mma_core.storage import (
    registries,
)


class LifecycleCommands(Pricing):
    """Commands that move a municipality through its stages (and set the programme up)."""

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
                if not self.uow.exists(municipality_id(entry.code))
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
            if self.uow.exists(offer_id(reference)):
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
            offer = self.uow.offer(check_offer_reference(reference))
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
            offer = self.uow.offer(check_offer_reference(reference))
            offer.sign_covenant(on, place, stamp)
            self.save(offer)
            return offer.reference

        return self._run(attempt)

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
        """Invite ``code`` on ``on`` to take up offer ``reference``; returns the code."""

        def change(m: Municipality, stamp: Stamp) -> None:
            offer = self.uow.offer(check_offer_reference(reference))
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
            offer = self.uow.offer(reference)
            invited: list[Municipality] = []
            for code in self.uow.registered(self.events_of_type(Municipality.Registered)):
                m = self.uow.municipality(code)
                if m.stage is not Stage.REGISTERED or not m.exists_on(day):
                    continue
                if self._asks_validators("invite"):
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
        """Record that ``code`` was connected to MMA before the programme (on ``connected_on``, at
        ``costs``); it is compensated once it accepts."""

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
        """Record that ``code`` declined the offer on ``on``; ``reason`` (free text, no
        personal data) is kept with it."""
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
        """Record that ``code`` was connected to MMA on ``on``; the connection fee is charged."""
        stamp = self._stamp(by, origin)

        def attempt() -> str:
            m = self.uow.municipality(code)
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
            # Stored, and recorded earlier in this block but not written yet; as corrected.
            days = report_days([*self.aggregate_events(m.id), *self.uow.pending_events(m)])
            reports = sum(1 for day in days if isinstance(on, date) and start <= day <= on)
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
        """Renew ``code``'s connection for a term from ``on`` (after a ``continue`` evaluation)."""

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
        """End ``code``'s connection on ``on``; ``reason`` (free text, no personal data) is
        kept with it."""
        return self._change(code, by, origin, lambda m, stamp: m.terminate(on, reason, stamp))

    @command
    def merge(
        self,
        code: str,
        *,
        into: str,
        on: date,
        by: str,
        unlisted: bool = False,
        reason: str = "",
        origin: str | None = None,
        request_id: str | None = None,
    ) -> str:
        """Merge ``code`` into ``into``; a connected predecessor connects its successor.

        The registry must list the merger (the absorbed municipality's row names ``into`` as
        its successor), else :class:`~mma_core.domain.errors.MergerNotInRegistry`. For a
        registry that lags reality, ``unlisted=True`` with a ``reason`` records it all the
        same; the reason is kept with the merger."""
        if not isinstance(unlisted, bool):
            raise InvalidInput(_t("unlisted is true or false"))
        stamp = self._stamp(by, origin)

        def attempt() -> str:
            absorbed = self.uow.municipality(code)
            successor = self.uow.municipality(into)
            absorbed.merge(on, successor, stamp, unlisted, reason)
            self.save(absorbed, successor)
            return successor.code

        return self._run(attempt)
