"""The typed face of ``pm.hook``: one method per hook, each calling the implementations one at a
time where the hook's meaning allows it, so one that raises is recorded against its plugin
instead of aborting the call (pluggy alone would abort it, and type every result ``Any``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

from mma_core.application.commands import VALIDATES, checked_commands
from mma_core.extensions.exporting import Exporter
from mma_core.extensions.records import HookCall, HookFailure, PluginRecord, describe
from mma_core.extensions.values import (
    EventRecord,
    Notification,
    Notifier,
    PluginInfo,
    check_name,
)

if TYPE_CHECKING:  # pragma: no cover
    import click

    from mma_core.application.commands import Command
    from mma_core.application.costs import CostCalculator
    from mma_core.application.programme import Programme
    from mma_core.views.state import MunicipalityView

__all__ = ["Hooks", "PluginValidator"]


class PluginValidator:
    """One plugin's ``mma_validate_command``, as a ``Programme`` validator."""

    def __init__(self, plugin: str, hooks: Hooks, impl: pluggy.HookImpl) -> None:
        self.plugin = plugin
        self.__qualname__ = f"plugin {plugin}"
        self._hooks = hooks
        self._impl = impl
        # The commands the plugin's implementation says it checks (validates()), if it says.
        names = checked_commands(impl.function)
        if names is not None:
            setattr(self, VALIDATES, names)

    def __call__(self, command: Command, municipality: MunicipalityView | None) -> list[str]:
        result = self._hooks._call(
            "mma_validate_command", self._impl, command=command, municipality=municipality
        )
        if result is None:
            return []
        if isinstance(result, str) or not isinstance(result, Sequence):
            raise TypeError("mma_validate_command must return a sequence of strings")
        return [str(v) for v in result]


class Hooks:
    """Typed calls of every hook. Each method calls the implementations one at a time (newest
    registration first, like pluggy), so one that raises is recorded against its plugin instead
    of aborting the call."""

    def __init__(
        self,
        pm: pluggy.PluginManager,
        records: Mapping[str, PluginRecord],
        monitors: Sequence[Callable[[HookCall], None]],
    ) -> None:
        # The manager's own objects, shared: it adds and removes records and monitors.
        self._pm = pm
        self._records = records
        self._monitors = monitors
        self._notifiers: dict[str, Notifier] | None = None
        self._exporters: dict[str, Exporter] | None = None
        self._calculators: dict[str, CostCalculator] | None = None

    def forget(self) -> None:
        """Drop what the register hooks returned (after a plugin was added or removed)."""
        self._notifiers = self._exporters = self._calculators = None

    def _impls(
        self, hook: str, *, oldest_first: bool = False
    ) -> Iterator[tuple[str, pluggy.HookImpl]]:
        caller: pluggy.HookCaller = getattr(self._pm.hook, hook)
        impls = caller.get_hookimpls()
        for impl in impls if oldest_first else reversed(impls):
            if impl.hookwrapper or impl.wrapper:
                continue  # wrappers make no sense for isolated calls; they are skipped
            yield impl.plugin_name, impl

    def _call(self, hook: str, impl: pluggy.HookImpl, **arguments: Any) -> Any:
        try:
            result = impl.function(*[arguments[name] for name in impl.argnames])
        except Exception as error:
            for monitor in self._monitors:
                monitor(HookCall(hook, impl.plugin_name, arguments, None, error))
            raise
        for monitor in self._monitors:
            monitor(HookCall(hook, impl.plugin_name, arguments, result, None))
        return result

    def _fail(self, plugin: str, hook: str, error: BaseException) -> HookFailure:
        record = self._records.get(plugin)
        if record is not None:
            record.errors.append(f"{hook}: {describe(error)}")
        return HookFailure(plugin, hook, type(error).__name__)

    def plugin_info(self) -> dict[str, PluginInfo]:
        infos: dict[str, PluginInfo] = {}
        for plugin, impl in self._impls("mma_plugin_info"):
            try:
                result = self._call("mma_plugin_info", impl)
            except Exception as error:
                self._fail(plugin, "mma_plugin_info", error)
                continue
            if isinstance(result, PluginInfo):
                infos[plugin] = result
        return infos

    def register_commands(self, cli: click.Group) -> list[HookFailure]:
        failures = []
        for plugin, impl in self._impls("mma_register_commands"):
            before = set(cli.commands)
            try:
                self._call("mma_register_commands", impl, cli=cli)
            except Exception as error:
                failures.append(self._fail(plugin, "mma_register_commands", error))
            added = sorted(set(cli.commands) - before)
            record = self._records.get(plugin)
            if record is not None and added:
                known = record.registered.get("commands", [])
                record.registered["commands"] = sorted({*known, *added})
        return failures

    def _collect(
        self,
        hook: str,
        kind: str,
        key: Callable[[Any], str],
        check: Callable[[Any], bool],
        expected: str,
    ) -> dict[str, Any]:
        found: dict[str, Any] = {}
        # Oldest registration first: an installed plugin's name wins over a built-in's.
        for plugin, impl in self._impls(hook, oldest_first=True):
            record = self._records.get(plugin)
            names: list[str] = []

            def register(obj: Any, plugin: str = plugin, names: list[str] = names) -> None:
                if not check(obj):
                    raise TypeError(f"{plugin} registered {type(obj).__name__}, not {expected}")
                name = check_name(kind, key(obj))
                if name in found:
                    raise ValueError(f"{kind} {name!r} is registered already by another plugin")
                found[name] = obj
                names.append(name)

            try:
                self._call(hook, impl, register=register)
            except Exception as error:
                self._fail(plugin, hook, error)
            if record is not None:
                record.registered[kind + "s"] = names
        return found

    def notifiers(self) -> dict[str, Notifier]:
        if self._notifiers is None:
            self._notifiers = self._collect(
                "mma_register_notifiers",
                "notifier",
                lambda n: n.channel,
                lambda n: isinstance(n, Notifier),
                "a notifier (channel, send)",
            )
        return dict(self._notifiers)

    def exporters(self) -> dict[str, Exporter]:
        if self._exporters is None:
            self._exporters = self._collect(
                "mma_register_exporters",
                "exporter",
                lambda e: e.format,
                lambda e: isinstance(e, Exporter),
                "an exporter (format, suffix, views, export)",
            )
        return dict(self._exporters)

    def cost_calculators(self) -> dict[str, CostCalculator]:
        if self._calculators is None:
            self._calculators = self._collect(
                "mma_register_cost_calculators",
                "cost_calculator",
                lambda c: c.name,
                lambda c: all(hasattr(c, a) for a in ("name", "version", "calculate")),
                "a cost calculator (name, version, calculate)",
            )
        return dict(self._calculators)

    def validators(self) -> list[PluginValidator]:
        return [
            PluginValidator(plugin, self, impl)
            for plugin, impl in self._impls("mma_validate_command")
        ]

    def validate_command(
        self, command: Command, municipality: MunicipalityView | None
    ) -> list[tuple[str, str]]:
        """Every violation as (plugin, message); a validator that raises is a violation too."""
        violations: list[tuple[str, str]] = []
        for validator in self.validators():
            try:
                found = validator(command, municipality)
            except Exception as error:
                self._fail(validator.plugin, "mma_validate_command", error)
                found = [f"validator failed ({type(error).__name__})"]
            violations.extend((validator.plugin, v) for v in found)
        return violations

    def notifications_for_event(
        self,
        event: EventRecord,
        municipality: MunicipalityView | None,
        only: str | None = None,
    ) -> tuple[list[tuple[str, Notification]], list[HookFailure]]:
        """The notifications every plugin (or only the plugin ``only``) wants for ``event``."""
        notes: list[tuple[str, Notification]] = []
        failures: list[HookFailure] = []
        for plugin, impl in self._impls("mma_notifications_for_event"):
            if only is not None and plugin != only:
                continue
            try:
                result = self._call(
                    "mma_notifications_for_event", impl, event=event, municipality=municipality
                )
                items = list(result or ())
                if not all(isinstance(n, Notification) for n in items):
                    raise TypeError("mma_notifications_for_event must return Notifications")
            except Exception as error:
                failures.append(self._fail(plugin, "mma_notifications_for_event", error))
                continue
            notes.extend((plugin, n) for n in items)
        return notes, failures

    def answer_link(self, programme: Programme, code: str, by: str) -> str | None:
        """The first answer address a plugin gives for ``code``'s letter, or None."""
        for plugin, impl in self._impls("mma_answer_link"):
            try:
                result = self._call("mma_answer_link", impl, programme=programme, code=code, by=by)
                if result is not None and not isinstance(result, str):
                    raise TypeError("mma_answer_link must return a string or None")
            except Exception as error:
                self._fail(plugin, "mma_answer_link", error)
                continue
            if result:
                return result
        return None
