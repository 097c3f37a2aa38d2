"""The tariff profiles, on a real programme opened through the plugin system."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import mma_costs.plugin
import pytest
from mma_costs import PopulationBands, load_profiles

from mma_core import Money, Programme, RuleViolation
from mma_core.plugin_api import Config, load_plugins, open_programme
from mma_core.testing import Plugins, cost_summary

OFFER = "1298348/1298354"
LETTER = date(2019, 10, 18)
NOW = datetime(2023, 6, 1, 12, tzinfo=UTC)


def clock() -> datetime:
    return NOW


def plugins_for(costs: dict[str, str], settings: dict[str, str] | None = None) -> Plugins:
    config = Config(data={"costs": costs, "plugins": {"mma-costs": settings or {}}})
    plugins = load_plugins(config, env={}, entry_points=[])
    record = plugins.register(mma_costs.plugin, "mma-costs")
    assert record.status == "loaded", record.error
    return plugins


@pytest.fixture
def fryslan() -> Iterator[Programme]:
    with open_programme(
        "memory://", plugins=plugins_for({"connection": "fryslan-2022"}), clock=clock
    ) as prog:
        prog.register_registry("noord-holland-2019", by="coordinator")
        prog.make_offer(reference=OFFER, sent_on=LETTER, by="gs")
        yield prog


def connect(prog: Programme, code: str, day: date = date(2022, 3, 1)) -> None:
    prog.invite(code, on=LETTER, reference=OFFER, by="gs")
    prog.accept(code, on=date(2019, 11, 1), by="burgemeester")
    prog.connect(code, on=day, by="coordinator")


def connection_amount(prog: Programme, code: str) -> Money:
    (entry,) = [
        e
        for e in prog.municipality(code, cost_lines=True).costs
        if e.line.kind.value == "connection"
    ]
    return entry.line.amount


def test_the_plugin_is_installed_with_its_entry_point() -> None:
    (entry,) = [
        ep for ep in importlib.metadata.entry_points(group="mma_core") if ep.name == "mma-costs"
    ]
    assert entry.value == "mma_costs.plugin"
    plugins = load_plugins(env={"MMA_LOAD_PLUGINS": "mma-costs"})
    assert plugins.records["mma-costs"].status == "loaded"
    assert {"fryslan-2022", "amsterdam-2017", "noord-holland-2019"} <= set(
        plugins.hook.cost_calculators()
    )


# Population (CBS 2020, from the shipped registry) -> band, computed by hand.
HAND = {
    "GM0363": (869_709, Decimal("4000.00")),  # Amsterdam, 100,000+
    "GM0392": (162_962, Decimal("4000.00")),  # Haarlem
    "GM0402": (91_110, Decimal("2800.00")),  # Hilversum, 50,000-100,000
    "GM0400": (56_388, Decimal("2800.00")),  # Den Helder
    "GM0358": (31_927, Decimal("2200.00")),  # Aalsmeer, 30,000-50,000
    "GM0384": (31_206, Decimal("2200.00")),  # Diemen
    "GM0451": (29_817, Decimal("1600.00")),  # Uithoorn, under 30,000
    "GM0431": (9_682, Decimal("1600.00")),  # Oostzaan
}


def test_fryslan_charges_each_municipality_by_its_population_band(fryslan: Programme) -> None:
    for code in HAND:
        connect(fryslan, code)
    for code, (population, amount) in HAND.items():
        m = fryslan.municipality(code, cost_lines=True)
        assert m.population == population
        (entry,) = m.costs
        assert entry.line.amount == Money(amount)
        assert entry.line.calculator == "fryslan-2022"
        assert entry.line.payer.value == "province"
    summary = cost_summary(fryslan, None, by_municipality=True)
    assert summary["total"] == Decimal("21200.00")  # 2x4000 + 2x2800 + 2x2200 + 2x1600
    assert summary["by_payer"] == {"province": Decimal("21200.00")}
    tariffs = {t["tariff_id"]: (t["lines"], t["amount"]) for t in summary["by_tariff"]}
    assert tariffs == {
        "fryslan-2022/from-100000": (2, Decimal("8000.00")),
        "fryslan-2022/from-50000": (2, Decimal("5600.00")),
        "fryslan-2022/from-30000": (2, Decimal("4400.00")),
        "fryslan-2022/from-0": (2, Decimal("3200.00")),
    }


def test_fryslan_stops_at_the_ceiling(fryslan: Programme) -> None:
    for code in HAND:
        connect(fryslan, code)  # 21,200
    for code in ("GM0479", "GM0394", "GM0361"):  # Zaanstad, Haarlemmermeer, Alkmaar: 3x4000
        connect(fryslan, code)
    connect(fryslan, "GM0362")  # Amstelveen 2,800 -> 36,000
    connect(fryslan, "GM0439")  # Purmerend: 2,800 wanted, 1,800 left under 37,800
    connect(fryslan, "GM0405")  # Hoorn: nothing left
    assert connection_amount(fryslan, "GM0439") == Money("1800.00")
    assert connection_amount(fryslan, "GM0405") == Money("0.00")
    assert cost_summary(fryslan, None, False)["total"] == Decimal("37800.00")


def test_fryslan_requires_24_months(fryslan: Programme) -> None:
    connect(fryslan, "GM0358", date(2020, 3, 1))
    with pytest.raises(RuleViolation, match=r"at least 24 months; terminate on 2022-03-01"):
        fryslan.terminate("GM0358", on=date(2022, 2, 28), by="burgemeester")
    fryslan.terminate("GM0358", on=date(2022, 3, 1), by="burgemeester")

    assert fryslan.municipality("GM0358").stage.value == "stopped"


def test_fryslan_bands_boundaries() -> None:
    bands = PopulationBands(load_profiles()["fryslan-2022"])
    assert bands.band(100_000)[1] == Money("4000")
    assert bands.band(99_999)[1] == Money("2800")
    assert bands.band(50_000)[1] == Money("2800")
    assert bands.band(30_000)[1] == Money("2200")
    assert bands.band(29_999)[1] == Money("1600")


def test_amsterdam_2017(tmp_path: Path) -> None:
    plugins = plugins_for({"connection": "amsterdam-2017", "report_fee": "amsterdam-2017"})
    with open_programme("memory://", plugins=plugins, clock=clock) as prog:
        prog.register_registry("noord-holland-2019", by="c")
        prog.make_offer(reference=OFFER, sent_on=LETTER, by="gs")
        connect(prog, "GM0363")
        for n in range(3):
            prog.record_report(
                "GM0363",
                received_on=date(2022, 4, 1 + n),
                category="woonfraude",
                reference=f"MMA-22-{n}",
                by="mma",
            )
        m = prog.municipality("GM0363", cost_lines=True)
    assert m.costs_municipality == Money("2142.50")  # 2,000 + 3 x 47.50
    assert m.costs_province == Money("0")
    assert {e.line.tariff_id for e in m.costs} == {"amsterdam-2017/annual", "amsterdam-2017/report"}


def test_changing_a_tariff_after_the_fact_changes_no_recorded_amount(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'mma.sqlite'}"
    costs = {"connection": "noord-holland-2019", "report_fee": "noord-holland-2019"}
    first = {"noord_holland_connection_fee": "1000.00", "noord_holland_report_fee": "20.00"}
    with open_programme(url, plugins=plugins_for(costs, first), clock=clock) as prog:
        prog.register_registry("noord-holland-2019", by="c")
        prog.make_offer(reference=OFFER, sent_on=LETTER, by="gs")
        connect(prog, "GM0363")
        before = prog.municipality("GM0363", cost_lines=True).costs

    second = {"noord_holland_connection_fee": "3000.00", "noord_holland_report_fee": "50.00"}
    with open_programme(url, plugins=plugins_for(costs, second), clock=clock) as prog:
        connect(prog, "GM0358")
        assert (
            prog.municipality("GM0363", cost_lines=True).costs == before
        )  # replayed, not recomputed
        (old,) = before
        (new,) = prog.municipality("GM0358", cost_lines=True).costs
        assert old.line.amount == Money("1000.00")
        assert new.line.amount == Money("3000.00")
        assert old.line.tariff_id != new.line.tariff_id
        summary = cost_summary(prog, None, True)
    assert summary["total"] == Decimal("4000.00")


def test_a_missing_amount_is_refused_and_writes_nothing() -> None:
    plugins = plugins_for({"connection": "noord-holland-2019"})
    with open_programme("memory://", plugins=plugins, clock=clock) as prog:
        prog.register_registry("noord-holland-2019", by="c")
        prog.make_offer(reference=OFFER, sent_on=LETTER, by="gs")
        prog.invite("GM0363", on=LETTER, reference=OFFER, by="gs")
        prog.accept("GM0363", on=date(2019, 11, 1), by="b")
        with pytest.raises(ValueError, match="noord_holland_connection_fee"):
            prog.connect("GM0363", on=date(2019, 12, 1), by="c")
        assert prog.municipality("GM0363").connected_on is None


def test_a_bad_setting_names_the_plugin_and_the_key() -> None:
    config = Config(data={"plugins": {"mma-costs": {"noord_holland_report_fee": 12.5}}})
    plugins = load_plugins(config, env={}, entry_points=[])
    record = plugins.register(mma_costs.plugin, "mma-costs")
    assert record.status == "broken"
    assert "[plugins.mma-costs] key 'noord_holland_report_fee' must be an amount" in (
        record.error or ""
    )


@pytest.mark.slow
def test_fryslan_ceiling_holds_with_eight_processes_connecting_at_once(tmp_path: Path) -> None:
    """Each connection saves the tariff's budget with it: two processes cannot both spend
    the same remainder (before, both saw it and the scheme paid out more than its ceiling)."""
    import json
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'fryslan.sqlite'}"
    with open_programme(url, plugins=plugins_for({"connection": "fryslan-2022"}), clock=clock) as p:
        p.register_registry("noord-holland-2019", by="c")
        p.make_offer(reference=OFFER, sent_on=LETTER, by="gs")
        codes = [
            code
            for code in p.codes()
            if p.municipality(code).valid_until is None and p.municipality(code).valid_from is None
        ]
        for code in codes:
            p.invite(code, on=LETTER, reference=OFFER, by="gs")
            p.accept(code, on=date(2019, 11, 1), by="burgemeester")
        wanted = sum(
            (
                PopulationBands(load_profiles()["fryslan-2022"])
                .band(p.municipality(code).population or 0)[1]
                .amount
                for code in codes
            ),
            Decimal(0),
        )
    assert wanted > Decimal("37800.00")  # the ceiling binds
    script = Path(__file__).with_name("fryslan_connector.py")
    processes = [
        subprocess.Popen(  # noqa: S603 - our own script, with our arguments
            [sys.executable, str(script), url, *codes[w::8]],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(8)
    ]
    charged: dict[str, Decimal] = {}
    for process in processes:
        out, err = process.communicate(timeout=600)
        assert process.returncode == 0, err
        charged.update({k: Decimal(v) for k, v in json.loads(out).items()})
    assert set(charged) == set(codes)
    assert sum(charged.values()) == Decimal("37800.00")
    with open_programme(url, plugins=plugins_for({"connection": "fryslan-2022"}), clock=clock) as p:
        assert cost_summary(p, None, False)["total"] == Decimal("37800.00")


def test_amsterdam_2017_charges_the_yearly_fee_at_each_renewal() -> None:
    plugins = plugins_for({"connection": "amsterdam-2017", "report_fee": "amsterdam-2017"})
    with open_programme("memory://", plugins=plugins, clock=clock) as prog:
        prog.register_registry("noord-holland-2019", by="c")
        prog.make_offer(reference=OFFER, sent_on=LETTER, by="gs")
        connect(prog, "GM0363", date(2019, 12, 1))
        for year in (2020, 2021, 2022):
            prog.evaluate("GM0363", on=date(year, 11, 20), outcome="continue", by="gs")
            prog.renew("GM0363", on=date(year, 12, 1), by="gs")
        prog.record_report(
            "GM0363", received_on=date(2022, 4, 1), category="fraude", reference="A-1", by="mma"
        )
        m = prog.municipality("GM0363", cost_lines=True)
        annual = [e for e in m.costs if e.line.tariff_id == "amsterdam-2017/annual"]
        assert [e.on for e in annual] == [
            date(2019, 12, 1),
            *(date(y, 12, 1) for y in (2020, 2021, 2022)),
        ]
        assert m.costs_municipality == Money("8047.50")  # 4 years x 2,000 + one report
        # As of a day in the second year: the connection and the first renewal only.
        assert prog.municipality("GM0363", as_of=date(2021, 1, 1)).costs_municipality == Money(
            "4000.00"
        )
