"""Corrections and a tariff's budget: a retracted or re-priced connection gives its amount back.

Under a calculator with a ceiling (the Fryslân 2022 scheme of ``mma-costs``) every connection is
charged to the tariff's ``Budget`` in the same transaction. What must hold: a retracted
connection's amount is free again for the connections after it (``Budget.Refunded``, in the
same transaction as the retraction), a connection whose date is corrected is priced again
against what the budget leaves without its old charge, and a refused amendment writes nothing
and refunds nothing. On every store: memory, an SQLite file, PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import TYPE_CHECKING, Any

import mma_costs.plugin
import pytest

from mma_core import CostLine, DomainError, Money, Programme
from mma_core.domain.budget import Budget, budget_id
from mma_core.plugin_api import Config, CostContext, CostKind, Payer, load_plugins
from mma_core.plugin_api import open_programme as open_with_plugins

if TYPE_CHECKING:
    from conftest import Clock

OFFER = "1298348/1298354"
SENT = date(2019, 10, 18)
DAY = date(2022, 3, 1)
TARIFF = "fryslan-2022"
CEILING = Money("37800.00")
# Eight bands' worth and three of the largest: 21,200 + 3 x 4,000 = 33,200 (see mma-costs'
# own ceiling test for each municipality's band).
FILLER = (
    *("GM0363", "GM0392", "GM0402", "GM0400", "GM0358", "GM0384", "GM0451", "GM0431"),
    *("GM0479", "GM0394", "GM0361"),
)
A, B, C = "GM0362", "GM0439", "GM0405"  # Amstelveen, Purmerend, Hoorn: 2,800 each, wanted


@pytest.fixture
def prog(store_url: str, clock: Clock) -> Iterator[Programme]:
    config = Config(data={"costs": {"connection": TARIFF}, "plugins": {"mma-costs": {}}})
    plugins = load_plugins(config, env={}, entry_points=[])
    record = plugins.register(mma_costs.plugin, "mma-costs")
    assert record.status == "loaded", record.error
    with open_with_plugins(store_url, plugins=plugins, clock=clock) as programme:
        programme.register_registry("noord-holland-2019", by="coordinator")
        programme.make_offer(reference=OFFER, sent_on=SENT, by="gs")
        for code in FILLER:
            connect(programme, code)
        yield programme


def connect(prog: Programme, code: str, day: date = DAY) -> None:
    prog.invite(code, on=SENT, reference=OFFER, by="gs")
    prog.accept(code, on=date(2019, 11, 1), by="burgemeester")
    prog.connect(code, on=day, by="coordinator")


def budget(prog: Programme) -> Budget:
    found: Budget = prog.repository.get(budget_id(TARIFF))
    return found


def position(prog: Programme, code: str, kind: str) -> int:
    (entry,) = [e for e in prog.history(code) if e.type == kind]
    return entry.position


def charged_now(prog: Programme, code: str) -> Money:
    """The connection's amount as it stands: its lines (reversals included) summed."""
    total = Money.zero()
    for entry in prog.municipality(code, cost_lines=True).costs:
        total += entry.line.amount
    return total


def refused(prog: Programme, event_count: Callable[[Programme], int], call: Any) -> DomainError:
    before, left = event_count(prog), budget(prog).left
    with pytest.raises(DomainError) as raised:
        call()
    assert event_count(prog) == before
    assert budget(prog).left == left
    return raised.value


def budget_events(prog: Programme) -> list[Any]:
    return list(prog.events.get(budget_id(TARIFF)))


def test_a_retracted_connection_gives_its_amount_back_to_the_budget(prog: Programme) -> None:
    connect(prog, A)  # 2,800: 36,000 charged
    connect(prog, B)  # 2,800 wanted, 1,800 left
    assert charged_now(prog, B) == Money("1800.00")
    assert budget(prog).left == Money.zero()

    at = position(prog, A, "Connected")
    prog.retract(at, reason="connected the wrong municipality", by="coordinator")

    after = budget(prog)
    assert after.left == Money("2800.00")  # A's amount, free again
    assert after.charged == CEILING - Money("2800.00")
    refund = budget_events(prog)[-1]
    assert isinstance(refund, Budget.Refunded)
    assert (refund.code, refund.amount, refund.reverses, refund.on) == (
        A,
        Money("2800.00"),
        at,
        DAY,
    )
    # The refund was written with the retraction: the budget's event right after the
    # municipality's, in the same transaction.
    retraction = prog.history(A)[-1]
    assert retraction.type == "FactRetracted"
    assert prog.event_count() == retraction.position + 1

    connect(prog, C)  # priced against the 2,800 given back, not against nothing
    assert charged_now(prog, C) == Money("2800.00")
    assert budget(prog).left == Money.zero()
    assert sum((charged_now(prog, code) for code in (*FILLER, A, B, C)), Money.zero()) == CEILING


def test_a_corrected_connection_date_is_priced_again_against_the_budget(prog: Programme) -> None:
    connect(prog, A)
    connect(prog, B)  # 1,800 of the 2,800 wanted: the budget ran out
    at = position(prog, B, "Connected")

    # Its old 1,800 back first, so the new price sees it: 1,800 again, nothing left.
    prog.correct(at, on=date(2022, 4, 1), reason="connected a month later", by="coordinator")
    assert charged_now(prog, B) == Money("1800.00")
    assert budget(prog).left == Money.zero()
    *_, refund, charge = budget_events(prog)
    assert isinstance(refund, Budget.Refunded)
    assert (refund.code, refund.amount, refund.reverses, refund.on) == (
        B,
        Money("1800.00"),
        at,
        DAY,
    )
    assert isinstance(charge, Budget.Charged)
    assert (charge.code, charge.amount, charge.on) == (B, Money("1800.00"), date(2022, 4, 1))

    prog.retract(position(prog, A, "Connected"), reason="not connected after all", by="c")
    assert budget(prog).left == Money("2800.00")

    # The 1,800 back (4,600 left), the full band charged on the new date: 1,800 left.
    prog.correct(at, on=date(2022, 5, 2), reason="the contract's date", by="coordinator")
    assert charged_now(prog, B) == Money("2800.00")
    after = budget(prog)
    assert after.left == Money("1800.00")
    assert after.charged == CEILING - Money("1800.00")
    *_, refund, charge = budget_events(prog)
    assert isinstance(refund, Budget.Refunded)
    assert (refund.amount, refund.reverses, refund.on) == (Money("1800.00"), at, date(2022, 4, 1))
    assert isinstance(charge, Budget.Charged)
    assert (charge.amount, charge.on) == (Money("2800.00"), date(2022, 5, 2))

    # Retracted after its corrections: the amount as it stands goes back.
    prog.retract(at, reason="never connected", by="coordinator")
    assert budget(prog).left == Money("4600.00")
    assert budget(prog).charged == sum(
        (charged_now(prog, code) for code in (*FILLER, A, B)), Money.zero()
    )


def test_a_connection_priced_at_nothing_gives_nothing_back(prog: Programme) -> None:
    connect(prog, A)
    connect(prog, B)
    connect(prog, C)  # nothing left: priced at 0.00
    assert charged_now(prog, C) == Money.zero()
    events = len(budget_events(prog))
    at = position(prog, C, "Connected")
    prog.correct(at, on=date(2022, 3, 15), reason="a fortnight later", by="c")
    *_, charge = budget_events(prog)
    assert isinstance(charge, Budget.Charged)
    assert charge.amount == Money.zero()  # charged again, at nothing; nothing to give back
    assert len(budget_events(prog)) == events + 1
    prog.retract(at, reason="never connected", by="c")
    assert len(budget_events(prog)) == events + 1
    assert budget(prog).left == Money.zero()
    assert budget(prog).charged == CEILING


def test_a_refused_amendment_writes_nothing_and_refunds_nothing(
    prog: Programme, event_count: Callable[[Programme], int]
) -> None:
    connect(prog, A)
    connect(prog, B)
    prog.record_report(
        A, received_on=date(2022, 3, 10), category="woonfraude", reference="MMA-22-1", by="mma"
    )
    at = position(prog, A, "Connected")

    error = refused(prog, event_count, lambda: prog.retract(at, reason="wrong", by="c"))
    assert error.code == "depends_on"  # the report rests on the connection
    error = refused(
        prog,
        event_count,
        lambda: prog.correct(at, on=date(2022, 3, 20), reason="later", by="c"),
    )
    assert error.code == "invalid_date"  # the report would come before the connection
    moved = position(prog, B, "Connected")
    refused(
        prog,
        event_count,
        lambda: prog.correct(moved, on=date(2024, 1, 1), reason="later", by="c"),
    )  # a date in the future
    assert budget(prog).left == Money.zero()

    # Once the report is retracted, the connection is; its amount goes back once.
    prog.retract(position(prog, A, "ReportReceived"), reason="not a report", by="c")
    prog.retract(at, reason="wrong", by="c")
    assert budget(prog).left == Money("2800.00")
    assert [type(e).__name__ for e in budget_events(prog)].count("Refunded") == 1


class Unkept:
    """The Fryslân tariff as a library before budgets priced it: 4,000 a connection, and no
    ceiling, so no budget is kept."""

    name, version = TARIFF, "0"

    def calculate(self, context: CostContext) -> CostLine:
        return CostLine(
            kind=context.kind,
            amount=Money("4000.00"),
            payer=Payer.PROVINCE,
            payee="Meld Misdaad Anoniem",
            calculator=self.name,
            calculator_version=self.version,
            tariff_id=f"{TARIFF}/from-100000",
        )


def test_a_budget_opened_late_leaves_out_what_was_retracted_before(
    store_url: str, clock: Clock
) -> None:
    """A store written before budgets were kept: its connection retracted then is not
    counted as charged when the budget is opened."""
    if store_url == "memory://":
        pytest.skip("the store is opened twice: a memory store would be empty the second time")
    unkept = {CostKind.CONNECTION: Unkept()}
    with Programme.open(store_url, cost_calculators=unkept, clock=clock) as old:
        old.register_registry("noord-holland-2019", by="coordinator")
        old.make_offer(reference=OFFER, sent_on=SENT, by="gs")
        connect(old, "GM0363")
        connect(old, "GM0392")
        at = position(old, "GM0363", "Connected")
        old.correct(at, on=date(2022, 3, 2), reason="a day later", by="c")
        old.retract(at, reason="never connected", by="c")
        assert not old.recorder.select_events(budget_id(TARIFF))
    config = Config(data={"costs": {"connection": TARIFF}, "plugins": {"mma-costs": {}}})
    plugins = load_plugins(config, env={}, entry_points=[])
    plugins.register(mma_costs.plugin, "mma-costs")
    with open_with_plugins(store_url, plugins=plugins, clock=clock) as prog:
        connect(prog, "GM0402")  # Hilversum: 2,800
        kept = budget(prog)
        opened = budget_events(prog)[0]
        assert isinstance(opened, Budget.Opened)
        assert opened.charged_before == Money("4000.00")  # Haarlem's; Amsterdam's was retracted
        assert kept.charged == Money("6800.00")
        assert kept.left == CEILING - Money("6800.00")


def test_a_retraction_and_a_connection_at_once_serialise_on_the_budget(
    prog: Programme, store_url: str, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The refund is saved with the municipality: a connection that charged the budget in
    the meantime makes the retraction's save conflict, and its retry refunds from what that
    connection left (never a remainder both spent, never a charge lost)."""
    if store_url == "memory://":
        pytest.skip("two programmes share a store only in a file or a server")
    connect(prog, A)  # 36,000: 1,800 left
    prog.invite(C, on=SENT, reference=OFFER, by="gs")
    prog.accept(C, on=date(2019, 11, 1), by="burgemeester")
    config = Config(data={"costs": {"connection": TARIFF}, "plugins": {"mma-costs": {}}})
    plugins = load_plugins(config, env={}, entry_points=[])
    plugins.register(mma_costs.plugin, "mma-costs")
    refunds = []
    original = type(prog)._refunded

    def refunded(*args: Any, **kwargs: Any) -> Any:
        changed = original(prog, *args, **kwargs)
        refunds.append(changed)
        if len(refunds) == 1:  # between the retraction's read and its save
            with open_with_plugins(store_url, plugins=plugins, clock=clock) as other:
                other.connect(C, on=DAY, by="coordinator")  # the 1,800 left
        return changed

    monkeypatch.setattr(prog, "_refunded", refunded)
    prog.retract(position(prog, A, "Connected"), reason="connected by mistake", by="c")

    assert len(refunds) == 2  # the first save conflicted on the budget's version
    assert charged_now(prog, C) == Money("1800.00")
    after = budget(prog)
    assert after.charged == sum((charged_now(prog, c) for c in (*FILLER, A, C)), Money.zero())
    assert after.left == Money("2800.00")  # A's 2,800 back, after C took the 1,800
