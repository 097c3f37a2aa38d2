"""The event catalogue (docs/events.md, docs/schemas/) is what the event classes generate, its
schemas hold for every stored state of the demo history, and the independent replay written
from it (tools/replay_export.py) agrees with ``Programme.overview`` on many days."""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from audit_helpers import ROOT, export_url

from mma_core import Programme
from mma_core.audit import checkpoint as notes
from mma_core.audit.catalogue import event_types, generate

DOCS = ROOT / "docs"
REPLAY = ROOT / "tools" / "replay_export.py"


def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_the_catalogue_is_what_the_event_classes_generate() -> None:
    stale = [
        relative
        for relative, text in generate().items()
        if not (DOCS / relative).exists() or (DOCS / relative).read_text(encoding="utf-8") != text
    ]
    extra = {
        f"schemas/{p.name}" for p in (DOCS / "schemas").glob("*.schema.json")
    } - generate().keys()
    regenerate = "run 'python -m mma_core.audit.catalogue docs' and commit the result"
    assert not stale, f"docs/{stale} no longer match the event classes: {regenerate}"
    assert not extra, f"docs/{sorted(extra)} belong to no event class: {regenerate}"


def test_every_field_of_every_event_has_a_type_and_a_meaning() -> None:
    types = event_types()
    assert len(types) >= 24
    for event in types:
        for field in event.fields:
            assert field.schema, f"{event.qualname}.{field.name}: no JSON type"
            assert field.meaning, f"{event.qualname}.{field.name}: no meaning in MEANINGS"


def conforms(value: Any, schema: dict[str, Any]) -> bool:
    """The subset of JSON Schema the catalogue writes."""
    if "anyOf" in schema:
        return any(conforms(value, option) for option in schema["anyOf"])
    if "const" in schema and value != schema["const"]:
        return False
    if "enum" in schema and value not in schema["enum"]:
        return False
    kind = schema.get("type")
    python = {"string": str, "integer": int, "boolean": bool, "object": dict, "null": type(None)}
    if kind is not None and (
        not isinstance(value, python[kind]) or (kind == "integer" and isinstance(value, bool))
    ):
        return False
    if kind == "object":
        properties = schema.get("properties", {})
        if not set(schema.get("required", ())) <= set(value):
            return False
        if schema.get("additionalProperties") is False and not set(value) <= set(properties):
            return False
        return all(conforms(value[k], properties[k]) for k in value if k in properties)
    return True


@pytest.fixture(scope="module")
def demo(demo_store: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """``mma demo``'s campaign in an SQLite file (shared, read only), and its export."""
    export = tmp_path_factory.mktemp("demo-export") / "export"
    export_url(demo_store, export, notes.generate_key("demo"))
    return demo_store, export


def test_every_stored_state_of_the_demo_history_fits_its_schema(
    demo: tuple[str, Path],
) -> None:
    _, export = demo
    schemas = {
        event.topic: json.loads((DOCS / "schemas" / f"{event.qualname}.schema.json").read_text())
        for event in event_types()
    }
    seen = set()
    with (export / "events.jsonl").open("rb") as lines:
        for line in lines:
            row = json.loads(line)
            state = json.loads(base64.b64decode(row["state"]))
            assert row["topic"] in schemas, f"{row['topic']} is not in the catalogue"
            assert conforms(state, schemas[row["topic"]]), (row["topic"], state)
            seen.add(row["topic"])
    assert len(seen) >= 15  # the demo plays most kinds of event
    # And a state the schema must refuse: a field missing, one added, a wrong tag.
    invited = schemas["mma_core.domain.municipality:Municipality.Invited"]
    good = {
        "timestamp": {"_type_": "datetime_iso", "_data_": "2019-10-18T09:00:00+00:00"},
        "by": "x",
        "origin": "cli",
        "on": {"_type_": "date_iso", "_data_": "2019-10-18"},
        "offer_reference": "1298348/1298354",
    }
    assert conforms(good, invited)
    assert not conforms({k: v for k, v in good.items() if k != "on"}, invited)
    assert not conforms({**good, "extra": 1}, invited)
    assert not conforms({**good, "on": {"_type_": "money", "_data_": "1.00"}}, invited)


def days_of_the_demo(step: int) -> list[date]:
    """Every ``step`` days across the campaign (2019-10 to 2023-06), and the days around its
    mergers."""
    days = [date(2019, 10, 1) + timedelta(days=step * n) for n in range(1400 // step + 1)]
    days += [date(2021, 12, 31), date(2022, 1, 1), date(2022, 3, 23), date(2022, 3, 24)]
    return sorted(set(days))


@pytest.mark.parametrize(
    "step", [pytest.param(61, id="every 61 days"), pytest.param(9, marks=pytest.mark.slow)]
)
def test_the_independent_replay_agrees_with_the_programme_on_many_days(
    demo: tuple[str, Path], step: int
) -> None:
    url, export = demo
    replay = load(REPLAY)
    source = REPLAY.read_text()
    assert "mma_core" not in source.replace("mma_core audit export", "").split('"""', 2)[2]
    with Programme.open(url) as prog:
        for day in days_of_the_demo(step):
            overview = prog.overview(as_of=day)
            expected = {
                m.code: (
                    m.stage.value,
                    m.costs_province.amount,
                    m.costs_municipality.amount,
                )
                for m in (*overview.municipalities, *overview.merged)
            }
            got = {
                m.code: (m.stage, m.costs["province"], m.costs["municipality"])
                for m in replay.replay(export, day)
            }
            assert got == expected, day
        # One municipality's own view agrees too, on a day with costs on both sides.
        day = date(2021, 6, 1)
        found = {m.code: m for m in replay.replay(export, day)}
        connected = [c for c, m in found.items() if m.stage == "connected"]
        assert connected
        for code in connected[:5]:
            view = prog.municipality(code, as_of=day)
            assert found[code].costs["municipality"] == view.costs_municipality.amount
            assert found[code].costs["province"] == view.costs_province.amount


def test_the_replay_as_a_command(demo: tuple[str, Path]) -> None:
    _, export = demo
    done = subprocess.run(
        [sys.executable, str(REPLAY), str(export), "--as-of", "2020-06-30", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(done.stdout)
    assert report["as_of"] == "2020-06-30"
    stages = {m["stage"] for m in report["municipalities"]}
    assert "connected" in stages
    bad = subprocess.run(
        [sys.executable, str(REPLAY), str(export), "--as-of", "30-06-2020"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2


def test_the_costs_headline_is_the_sum_of_the_list_merged_municipalities_included(
    demo: tuple[str, Path],
) -> None:
    """Four municipalities of the demo are merged away in 2022; their costs stay paid. They stay
    in the list as merged, so ``costs_by_payer`` equals the sum of what the list shows, in
    ``mma --json status`` and in the independent replay of the export alike."""
    url, export = demo
    done = subprocess.run(
        [sys.executable, "-m", "mma_core.cli", "--store", url, "--json", "status"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "MMA_LANG": "en"},
    )
    status = json.loads(done.stdout)
    listed = status["municipalities"]
    merged = [m for m in listed if m["stage"] == "merged"]
    assert len(merged) == 4
    assert all(Decimal(m["costs_province"]) + Decimal(m["costs_municipality"]) for m in merged)
    for payer in ("province", "municipality"):
        assert Decimal(status["costs_by_payer"][payer]) == sum(
            (Decimal(m[f"costs_{payer}"]) for m in listed), Decimal("0")
        )
    # The independent replay lists the same rows with the same costs, on the same day.
    replayed = subprocess.run(
        [sys.executable, str(REPLAY), str(export), "--as-of", status["as_of"], "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = json.loads(replayed.stdout)["municipalities"]
    got = {
        m["code"]: (
            m["stage"],
            *(Decimal(m["costs_by_payer"][p]) for p in ("province", "municipality")),
        )
        for m in rows
    }
    expected = {
        m["code"]: (m["stage"], Decimal(m["costs_province"]), Decimal(m["costs_municipality"]))
        for m in listed
    }
    assert got == expected


def test_every_aggregate_of_the_domain_is_in_the_catalogue() -> None:
    """An aggregate left out is a stored history an auditor cannot read (a tariff's budget
    once was)."""
    import importlib
    import pkgutil

    from eventsourcing.domain import Aggregate

    import mma_core.domain
    from mma_core.audit.catalogue import AGGREGATES

    found = set()
    for info in pkgutil.iter_modules(mma_core.domain.__path__):
        module = importlib.import_module(f"mma_core.domain.{info.name}")
        found |= {
            value
            for value in vars(module).values()
            if isinstance(value, type)
            and issubclass(value, Aggregate)
            and value.__module__ == module.__name__
            and any(
                isinstance(v, type) and issubclass(v, Aggregate.Event) for v in vars(value).values()
            )
        }
    assert found, "no aggregate found in mma_core.domain"
    missing = sorted(a.__name__ for a in found - set(AGGREGATES))
    assert not missing, f"{missing} not in the catalogue's AGGREGATES"


def test_a_budgets_stored_states_fit_their_schemas(tmp_path: Path) -> None:
    """A tariff with a ceiling keeps a budget: opened, charged and refunded (a connection
    retracted), each state as docs/schemas/ says."""
    from datetime import UTC, datetime

    import mma_costs.plugin

    from mma_core.domain.budget import budget_id
    from mma_core.plugin_api import Config, load_plugins, open_programme

    config = Config(data={"costs": {"connection": "fryslan-2022"}, "plugins": {}})
    plugins = load_plugins(config, env={}, entry_points=[])
    plugins.register(mma_costs.plugin, "mma-costs")
    schemas = {
        event.topic: json.loads((DOCS / "schemas" / f"{event.qualname}.schema.json").read_text())
        for event in event_types()
    }
    url = f"sqlite:///{tmp_path / 'fryslan.sqlite'}"
    now = datetime(2023, 6, 1, 12, tzinfo=UTC)
    with open_programme(url, plugins=plugins, clock=lambda: now) as prog:
        prog.register_registry("noord-holland-2019", by="c")
        prog.make_offer(reference="R", sent_on=date(2019, 10, 18), by="gs")
        for code in ("GM0363", "GM0358"):
            prog.invite(code, on=date(2019, 10, 18), reference="R", by="gs")
            prog.accept(code, on=date(2019, 11, 1), by="b")
            prog.connect(code, on=date(2022, 3, 1), by="c")
        (connected,) = [e for e in prog.history("GM0363") if e.type == "Connected"]
        prog.retract(connected.position, reason="wrong municipality", by="c")
        stored = prog.recorder.select_events(budget_id("fryslan-2022"))
    topics = []
    for event in stored:
        state = json.loads(event.state)
        assert event.topic in schemas, f"{event.topic} is not in the catalogue"
        assert conforms(state, schemas[event.topic]), (event.topic, state)
        topics.append(event.topic.rpartition(".")[2])
    assert topics == ["Opened", "Charged", "Charged", "Refunded"]
