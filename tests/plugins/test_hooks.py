"""One test per hook (``test_<hook name>``; ``test_hook_docs.py`` checks that each exists)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import IO, Any

import click
import pluggy
import pytest
from click.testing import CliRunner
from plugin_helpers import LETTER, OFFER, OFFICIAL_EMAIL, OFFICIAL_NAME, builtins_only, campaign

from mma_core import InvalidInput, Money, Programme, RuleViolation, Terms
from mma_core.application.commands import Command
from mma_core.application.costs import CostContext
from mma_core.domain.values import CostKind, CostLine
from mma_core.extensions.exporting import ExportSource
from mma_core.extensions.hookspecs import (
    HOOK_API_VERSION,
    EventRecord,
    Notification,
    PluginInfo,
    Recipient,
    hookimpl,
)
from mma_core.extensions.plugins import Config, Plugins, open_programme
from mma_core.outbox.delivery import Outbox
from mma_core.plugin_api import validates
from mma_core.testing import HookCallRecorder
from mma_core.views.state import MunicipalityView


def test_mma_configure() -> None:
    seen: list[tuple[object, object]] = []

    class Early:
        @hookimpl
        def mma_configure(self, config: Config, pm: pluggy.PluginManager) -> None:
            seen.append((config, pm))

    class Failing:
        @hookimpl
        def mma_configure(self, config: Config) -> None:
            raise RuntimeError("no")

    config = Config(store="memory://")
    plugins = Plugins(config, env={})
    # Historic: called at registration, though the call was made when the manager was built.
    assert plugins.register(Early(), "early").status == "loaded"
    assert seen == [(config, plugins.pm)]
    record = plugins.register(Failing(), "failing")
    assert record.status == "broken"
    assert record.error == "RuntimeError: no"
    assert not plugins.pm.has_plugin("failing")


def test_mma_plugin_info(mma_plugins: Plugins) -> None:
    class Info:
        @hookimpl
        def mma_plugin_info(self) -> PluginInfo:
            return PluginInfo(name="info", api_version=HOOK_API_VERSION, description="hello")

    class Raising:
        @hookimpl
        def mma_plugin_info(self) -> PluginInfo:
            raise ValueError("bad")

    class NotInfo:
        @hookimpl
        def mma_plugin_info(self) -> object:
            return {"name": "x"}

    assert mma_plugins.register(Info(), "info").info == PluginInfo(
        "info", HOOK_API_VERSION, "hello"
    )
    assert mma_plugins.hook.plugin_info()["info"].description == "hello"
    assert mma_plugins.register(Raising(), "raising").error == "ValueError: bad"
    assert "did not return a PluginInfo" in (mma_plugins.register(NotInfo(), "n").error or "")


def test_mma_register_commands(mma_plugins: Plugins) -> None:
    class Adds:
        @hookimpl
        def mma_register_commands(self, cli: click.Group) -> None:
            @cli.command()
            def hello() -> None:
                click.echo("hello from a plugin")

    class Raises:
        @hookimpl
        def mma_register_commands(self, cli: click.Group) -> None:
            raise RuntimeError("broken command")

    mma_plugins.register(Adds(), "adds")
    mma_plugins.register(Raises(), "raises")
    group = click.Group("mma")
    failures = mma_plugins.hook.register_commands(group)
    assert [(f.plugin, f.error) for f in failures] == [("raises", "RuntimeError")]
    result = CliRunner().invoke(group, ["hello"])
    assert result.output == "hello from a plugin\n"
    assert mma_plugins.records["adds"].registered == {"commands": ["hello"]}


def test_mma_register_notifiers(mma_plugins: Plugins, mma_hook_calls: HookCallRecorder) -> None:
    class Pager:
        channel = "pager"

        def send(self, notification: Notification) -> None:
            pass

    class Plugin:
        @hookimpl
        def mma_register_notifiers(self, register: Callable[[object], None]) -> None:
            register(Pager())
            with pytest.raises(ValueError, match="must be 1 to 61 lowercase"):
                register(type("Bad", (), {"channel": "Bad Name", "send": lambda s, n: None})())
            register(object())  # not a notifier: refused, reported, the rest stays

    mma_plugins.register(Plugin(), "plugin")
    assert list(mma_plugins.hook.notifiers()) == ["pager"]
    assert mma_plugins.records["plugin"].registered["notifiers"] == ["pager"]
    assert "not a notifier" in mma_plugins.records["plugin"].errors[0]
    assert mma_hook_calls.plugins_called("mma_register_notifiers") == ["plugin"]


def test_mma_register_exporters(
    builtin_plugins: Plugins, recorded: Programme, tmp_path: Any
) -> None:
    class Codes:
        format = "codes"
        suffix = ".txt"
        views = ("status",)

        def export(self, source: ExportSource, view: str | None, out: IO[bytes]) -> None:
            for row in source.status().dicts():
                out.write(f"{row['code']}\n".encode())

    class Plugin:
        @hookimpl
        def mma_register_exporters(self, register: Callable[[object], None]) -> None:
            register(Codes())

    builtin_plugins.register(Plugin(), "codes-plugin")
    exporters = builtin_plugins.hook.exporters()
    assert set(exporters) == {"csv", "jsonl", "letter", "codes"}
    out = tmp_path / "codes.txt"
    with out.open("wb") as stream:
        exporters["codes"].export(ExportSource(recorded), None, stream)
    assert "GM0363" in out.read_text().split()


class Banded:
    """A calculator from a plugin: EUR 1,000 per 10,000 inhabitants, started."""

    name = "banded-test"
    version = "3"

    def calculate(self, context: CostContext) -> CostLine:
        tens = -(-(context.population or 0) // 10_000)
        return CostLine(
            kind=context.kind,
            amount=Money(1000 * tens),
            payer="province",  # type: ignore[arg-type]
            payee="MMA",
            calculator=self.name,
            calculator_version=self.version,
            tariff_id="test-bands",
        )


def test_mma_register_cost_calculators(clock: Any) -> None:
    class Plugin:
        @hookimpl
        def mma_register_cost_calculators(self, register: Callable[[object], None]) -> None:
            register(Banded())

    plugins = builtins_only(Config(data={"costs": {"connection": "banded-test"}}))
    plugins.register(Plugin(), "banded")
    with open_programme("memory://", plugins=plugins, clock=clock) as prog:
        prog.register_registry("noord-holland-2019", by="t")
        prog.make_offer(reference=OFFER, sent_on=LETTER, by="t", terms=Terms())
        prog.invite("GM0358", on=LETTER, reference=OFFER, by="t")  # Aalsmeer, 31,927
        prog.accept("GM0358", on=date(2019, 11, 1), by="t")
        prog.connect("GM0358", on=date(2019, 12, 1), by="t")
        (entry,) = prog.municipality("GM0358", cost_lines=True).costs
    assert entry.line.amount == Money("4000.00")
    assert (entry.line.calculator, entry.line.calculator_version) == ("banded-test", "3")
    assert entry.line.tariff_id == "test-bands"
    assert entry.line.kind is CostKind.CONNECTION


def test_mma_validate_command(clock: Any) -> None:
    seen: list[Command] = []

    class NoDeclines:
        @hookimpl
        def mma_validate_command(
            self, command: Command, municipality: MunicipalityView | None
        ) -> Sequence[str]:
            seen.append(command)
            if command.name == "decline":
                assert municipality is not None
                return [f"{municipality.name} may not decline in this test"]
            if command.name == "terminate":
                raise KeyError("cannot decide")
            return []

    plugins = builtins_only()
    plugins.register(NoDeclines(), "no-declines")
    with open_programme("memory://", plugins=plugins, clock=clock) as prog:
        campaign(prog)
        before = prog.event_count()
        with pytest.raises(RuleViolation, match="rejected by plugin no-declines: Aalsmeer may"):
            prog.decline("GM0358", on=date(2019, 11, 4), by="t")
        with pytest.raises(RuleViolation, match=r"validator plugin no-declines failed \(KeyError"):
            prog.terminate("GM0363", on=date(2020, 1, 1), by="t")
        assert prog.event_count() == before  # nothing written
    nominated = next(c for c in seen if c.name == "nominate_official")
    assert OFFICIAL_NAME not in repr(nominated)
    assert OFFICIAL_EMAIL not in repr(nominated)
    assert nominated.code == "GM0363"


def test_mma_validate_command_asked_only_about_the_commands_it_names(clock: Any) -> None:
    """``validates(...)``: asked about those commands only, and the municipality's view is not
    built for a command that no validator checks."""
    seen: list[str] = []

    class TerminationsOnly:
        @hookimpl
        @validates("terminate", "decline")
        def mma_validate_command(
            self, command: Command, municipality: MunicipalityView | None
        ) -> Sequence[str]:
            seen.append(command.name)
            assert municipality is not None
            return [f"{municipality.name} may not end"] if command.name == "terminate" else []

    plugins = builtins_only()
    plugins.register(TerminationsOnly(), "terminations-only")
    with open_programme("memory://", plugins=plugins, clock=clock) as prog:
        views: list[str] = []
        build = prog.uow.municipality

        def counting(code: Any) -> Any:
            views.append(str(code))
            return build(code)

        campaign(prog)
        assert seen == []  # invite, accept, nominate, connect, report: none of its commands
        prog.uow.municipality = counting  # type: ignore[method-assign]
        prog.record_report(
            "GM0363", received_on=date(2019, 12, 2), category="fraude", reference="V-1", by="t"
        )
        # The report's own read only: no second read for a view no validator looks at.
        assert views == ["GM0363"]
        before = prog.event_count()
        with pytest.raises(RuleViolation, match="rejected by plugin terminations-only: Amsterdam"):
            prog.terminate("GM0363", on=date(2020, 1, 1), by="t")
        assert prog.event_count() == before
        assert seen == ["terminate"]
        prog.decline("GM0358", on=date(2019, 11, 4), by="t")
        assert seen == ["terminate", "decline"]


def test_validates_refuses_a_name_that_is_no_command(clock: Any) -> None:
    @validates("terminat")
    def typo(command: Command, municipality: MunicipalityView | None) -> Sequence[str]:
        return ["never asked"]

    with pytest.raises(InvalidInput, match="terminat, which are no commands"):
        Programme.open("memory://", clock=clock, validators=[typo])
    with pytest.raises(ValueError, match="one or more command names"):
        validates()


def test_mma_notifications_for_event(builtin_plugins: Plugins, recorded: Programme) -> None:
    events: list[EventRecord] = []

    class Plugin:
        @hookimpl
        def mma_notifications_for_event(
            self, event: EventRecord, municipality: MunicipalityView | None
        ) -> list[Notification]:
            events.append(event)
            if event.type != "Connected":
                return []
            assert municipality is not None
            return [
                Notification(
                    key="hello",
                    subject=f"{municipality.name} connected",
                    body="",
                    recipient=Recipient("coordinator", event.code),
                    channel="log",
                )
            ]

    builtin_plugins.register(Plugin(), "hello")
    outbox = Outbox(recorded, builtin_plugins)
    report = outbox.run()
    assert report.delivered == len(outbox.delivered())
    keys = {row.key for row in outbox.delivered()}
    assert "hello:hello" in keys
    types = [e.type for e in events]
    # Asked when planning, and again when sending (notifications are rebuilt, never stored).
    assert len({e.position for e in events if e.type == "Connected"}) == 1
    assert "OfficialNominated" in types
    nominated = next(e for e in events if e.type == "OfficialNominated")
    assert "personal_data" not in nominated.data
    assert all(OFFICIAL_EMAIL not in repr(e) for e in events)
