"""Plugin discovery, isolation and listing: the plugin manager.

Plugins come from the ``mma_core`` entry-point group, then the built-in plugins (CSV and JSON
Lines exporters, a log notifier, the default notification rules and the standard cost calculator)
are registered by name, last, exactly like external ones. Each plugin is loaded, checked and
registered in its own ``try``: one that fails to import, declares another major hook API
version, carries an invalid configuration, implements an unknown hook or raises in
``mma_configure`` is listed as *broken* with its error and the others carry on.
``MMA_STRICT_PLUGINS=1`` makes a broken plugin fatal instead.

Environment: ``MMA_LOAD_PLUGINS`` (comma-separated allowlist of entry-point plugins; empty
loads none of them), ``MMA_DISABLE_PLUGINS`` (comma-separated blocklist, built-ins included),
``MMA_STRICT_PLUGINS``, ``MMA_CONFIG`` (the configuration file, read by
:mod:`mma_core.extensions.config`). The typed hook calls are in :mod:`mma_core.extensions.hooks`.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import pluggy

from mma_core.extensions import hookspecs
from mma_core.extensions.config import Config, ConfigError, SecretExposed, load_config
from mma_core.extensions.hooks import Hooks, PluginValidator
from mma_core.extensions.hookspecs import ENTRY_POINT_GROUP, HOOK_API_VERSION, PROJECT
from mma_core.extensions.records import BLOCKED, BROKEN, LOADED, HookCall, PluginRecord, describe
from mma_core.extensions.values import PluginInfo, api_major

if TYPE_CHECKING:  # pragma: no cover
    from mma_core.application.costs import CostCalculator
    from mma_core.application.programme import Programme
    from mma_core.domain.values import CostKind

__all__ = [
    "BUILTIN_PLUGINS",
    "PluginError",
    "PluginRecord",
    "Plugins",
    "load_plugins",
    "open_programme",
]

BUILTIN_PLUGINS: tuple[tuple[str, str], ...] = (
    ("standard-costs", "mma_core.builtin_plugins.costs"),
    ("csv", "mma_core.builtin_plugins.csv_export"),
    ("jsonl", "mma_core.builtin_plugins.jsonl_export"),
    ("log", "mma_core.builtin_plugins.log_notifier"),
    ("default-rules", "mma_core.builtin_plugins.rules"),
    ("letter", "mma_core.builtin_plugins.letters"),
)
DEFAULT_CALCULATOR = "offer-terms"


class PluginError(RuntimeError):
    """A plugin could not be loaded and ``MMA_STRICT_PLUGINS=1`` asks for that to be fatal."""


def _names(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [part.strip() for part in value.split(",") if part.strip()]


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


class Plugins:
    """A pluggy plugin manager with the records of what was loaded and why not.

    ``Plugins()`` loads nothing: :func:`load_plugins` discovers entry points and built-ins;
    tests register plugins by hand with :meth:`register`.
    """

    def __init__(
        self, config: Config | None = None, *, env: Mapping[str, str] | None = None
    ) -> None:
        self.env: Mapping[str, str] = os.environ if env is None else env
        self.config = config or Config()
        self.strict = _truthy(self.env.get("MMA_STRICT_PLUGINS"))
        self.allow = _names(self.env.get("MMA_LOAD_PLUGINS"))
        self.deny = set(_names(self.env.get("MMA_DISABLE_PLUGINS")) or ())
        self.pm = pluggy.PluginManager(PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.records: dict[str, PluginRecord] = {}
        self.monitors: list[Callable[[HookCall], None]] = []
        self.hook = Hooks(self.pm, self.records, self.monitors)
        # Historic: every plugin registered from now on gets it, inside its own register().
        self.pm.hook.mma_configure.call_historic(kwargs={"config": self.config, "pm": self.pm})

    # -- registration ---------------------------------------------------------------------

    def register(
        self,
        plugin: object,
        name: str,
        *,
        source: str = "manual",
        package: str | None = None,
        version: str | None = None,
    ) -> PluginRecord:
        """Register ``plugin`` under ``name`` after checking it; a failure is recorded as broken
        (and raised as :class:`PluginError` in strict mode)."""
        record = PluginRecord(name=name, source=source, package=package, version=version)
        self.records[name] = record
        self.hook.forget()
        try:
            if self.pm.has_plugin(name):
                raise PluginError(f"the name {name!r} is taken by another plugin")
            record.info = self._info(plugin, name)
            schema = {} if record.info is None else record.info.config
            if record.info is not None or schema:
                self.config.validate_plugin(name, schema)
            try:
                self.pm.register(plugin, name=name)
            except BaseException:
                if self.pm.has_plugin(name):
                    self.pm.unregister(name=name)
                raise
            unknown = self._unknown_hooks(plugin)
            if unknown:
                self.pm.unregister(name=name)
                raise PluginError(
                    f"implements unknown hook {', '.join(unknown)} (misspelt, or written for "
                    f"another mma_core; this one has hook API {HOOK_API_VERSION})"
                )
            record.hooks = sorted(
                caller.name for caller in self.pm.get_hookcallers(plugin) or () if caller.name
            )
        except SecretExposed:
            raise  # not a broken plugin: a secret on disk for others to read; nothing runs
        except Exception as error:
            self._broken(record, describe(error))
        return record

    def _info(self, plugin: object, name: str) -> PluginInfo | None:
        function = getattr(plugin, "mma_plugin_info", None)
        if function is None or self.pm.parse_hookimpl_opts(plugin, "mma_plugin_info") is None:
            return None
        info = function()
        if not isinstance(info, PluginInfo):
            raise PluginError("mma_plugin_info() did not return a PluginInfo")
        try:
            major = info.api_major
        except ValueError as error:
            raise PluginError(str(error)) from None
        if major != api_major(HOOK_API_VERSION):
            raise PluginError(
                f"written for hook API {info.api_version}, but this mma_core has hook API "
                f"{HOOK_API_VERSION}; install a version of {name} made for API "
                f"{api_major(HOOK_API_VERSION)}.x"
            )
        return info

    def _unknown_hooks(self, plugin: object) -> list[str]:
        unknown = []
        for caller in self.pm.get_hookcallers(plugin) or ():
            if caller.has_spec():
                continue
            for impl in caller.get_hookimpls():
                if impl.plugin is plugin and not impl.optionalhook:
                    unknown.append(caller.name)
        return unknown

    def _broken(self, record: PluginRecord, error: str) -> None:
        record.status = BROKEN
        record.error = error
        record.hooks = []
        if self.strict:
            raise PluginError(
                f"plugin {record.name} is broken: {error} (MMA_STRICT_PLUGINS is set; unset it "
                f"to run without the plugin, or MMA_DISABLE_PLUGINS={record.name} to skip it)"
            )

    def unregister(self, name: str) -> None:
        if self.pm.has_plugin(name):
            self.pm.unregister(name=name)
        self.records.pop(name, None)
        self.hook.forget()

    def _blocked_by(self, name: str, *, external: bool) -> str | None:
        if name in self.deny:
            return "disabled by MMA_DISABLE_PLUGINS"
        if external and self.allow is not None and name not in self.allow:
            return "not listed in MMA_LOAD_PLUGINS"
        return None

    # -- discovery ------------------------------------------------------------------------

    def load_entry_points(
        self, entry_points: Iterable[importlib.metadata.EntryPoint] | None = None
    ) -> None:
        if entry_points is None:
            entry_points = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
        for entry_point in sorted(entry_points, key=lambda ep: ep.name):
            dist = getattr(entry_point, "dist", None)
            package = None if dist is None else str(dist.name)
            version = None if dist is None else str(dist.version)
            self._load(entry_point.name, entry_point.load, "entry point", package, version)

    def load_builtins(self) -> None:
        version = _version("mma-core")
        for name, module in BUILTIN_PLUGINS:

            def load(module: str = module) -> object:
                return importlib.import_module(module)

            self._load(name, load, "built-in", "mma-core", version)

    def _load(
        self,
        name: str,
        load: Callable[[], object],
        source: str,
        package: str | None,
        version: str | None,
    ) -> PluginRecord:
        reason = self._blocked_by(name, external=source != "built-in")
        if reason is not None:
            record = PluginRecord(
                name=name, source=source, package=package, version=version, status=BLOCKED
            )
            record.error = reason
            self.records[name] = record
            return record
        try:
            plugin = load()
        except Exception as error:
            record = PluginRecord(name=name, source=source, package=package, version=version)
            self.records[name] = record
            self._broken(record, f"cannot be imported: {describe(error)}")
            return record
        return self.register(plugin, name, source=source, package=package, version=version)

    def check_pending(self) -> None:
        self.pm.check_pending()

    # -- what the plugins offer -----------------------------------------------------------

    @property
    def loaded(self) -> list[str]:
        return [name for name, r in self.records.items() if r.status == LOADED]

    def listing(self) -> list[dict[str, Any]]:
        """Every plugin with what it registered (asks the register hooks once)."""
        import click

        self.hook.register_commands(click.Group("mma"))  # a scratch group: only to list them
        self.hook.notifiers()
        self.hook.exporters()
        self.hook.cost_calculators()
        return [self.records[name].to_dict() for name in sorted(self.records)]

    def cost_calculators(self) -> dict[CostKind, CostCalculator]:
        """One calculator per cost kind, as ``[costs]`` selects (default ``offer-terms``)."""
        from mma_core.domain.values import CostKind

        available = self.hook.cost_calculators()
        chosen = self.config.costs
        selected: dict[CostKind, CostCalculator] = {}
        for kind in CostKind:
            name = chosen.get(kind.value, DEFAULT_CALCULATOR)
            if name not in available:
                if kind.value not in chosen:
                    continue  # the Programme's own default applies
                broken = [f"{r.name} ({r.error})" for r in self.records.values() if r.error]
                raise ConfigError(
                    f"{self.config.where}: [costs] {kind.value} = {name!r}, but no plugin "
                    f"registered that calculator; available: {', '.join(sorted(available))}"
                    + (f"; not loaded: {'; '.join(broken)}" if broken else "")
                )
            selected[kind] = available[name]
        return selected

    def validators(self) -> list[PluginValidator]:
        return self.hook.validators()

    def enabled_channels(self) -> list[str]:
        """The channels notifications go to: ``[delivery] channels``, default every notifier."""
        notifiers = self.hook.notifiers()
        wanted = self.config.delivery.get("channels")
        if wanted is None:
            return sorted(notifiers)
        if not isinstance(wanted, list) or not all(isinstance(c, str) for c in wanted):
            raise ConfigError(f"{self.config.where}: [delivery] channels must be a list of names")
        return list(wanted)


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def load_plugins(
    config: Config | None = None,
    *,
    env: Mapping[str, str] | None = None,
    entry_points: Iterable[importlib.metadata.EntryPoint] | None = None,
    builtins: bool = True,
) -> Plugins:
    """Discover the entry-point plugins, then register the built-ins, then ``check_pending``."""
    plugins = Plugins(config, env=env)
    plugins.load_entry_points(entry_points)
    if builtins:
        plugins.load_builtins()
    plugins.check_pending()
    return plugins


def open_programme(
    url: str,
    *,
    plugins: Plugins | None = None,
    config: Config | None = None,
    **options: Any,
) -> Programme:
    """``Programme.open(url)`` with the cost calculators ``[costs]`` selects and every plugin's
    validator. Calculators with a ``bind(programme)`` method are bound to the programme."""
    from mma_core.application.programme import Programme

    if plugins is None:
        plugins = load_plugins(config or load_config(url))
    calculators = plugins.cost_calculators()
    programme = Programme.open(
        url, cost_calculators=calculators, validators=plugins.validators(), **options
    )
    for calculator in calculators.values():
        bind = getattr(calculator, "bind", None)
        if callable(bind):
            bind(programme)
    return programme
