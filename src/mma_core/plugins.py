"""Plugin discovery, isolation, configuration and listing.

Plugins come from the ``mma_core`` entry-point group, then the built-in plugins (CSV and JSON
Lines exporters, a log notifier, the default notification rules and the standard cost calculator)
are registered by name, last, exactly like external ones. Each plugin is loaded, checked and
registered in its own ``try``: one that fails to import, declares another major hook API
version, carries an invalid configuration, implements an unknown hook or raises in
``mma_configure`` is listed as *broken* with its error and the others carry on.
``MMA_STRICT_PLUGINS=1`` makes a broken plugin fatal instead.

Environment: ``MMA_LOAD_PLUGINS`` (comma-separated allowlist of entry-point plugins; empty
loads none of them), ``MMA_DISABLE_PLUGINS`` (comma-separated blocklist, built-ins included),
``MMA_STRICT_PLUGINS``, ``MMA_CONFIG`` (the configuration file).

:class:`Hooks` is the typed face of ``pm.hook``: one method per hook, each calling the
implementations one at a time where the hook's meaning allows it.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import attrs
import pluggy

from mma_core import hookspecs
from mma_core.hookspecs import (
    ENTRY_POINT_GROUP,
    HOOK_API_VERSION,
    PROJECT,
    EventRecord,
    Exporter,
    Notification,
    Notifier,
    PluginInfo,
    Setting,
    api_major,
    check_name,
)

if TYPE_CHECKING:  # pragma: no cover
    import click

    from mma_core.application import Programme
    from mma_core.commands import Command
    from mma_core.costs import CostCalculator
    from mma_core.domain.values import CostKind
    from mma_core.views.state import MunicipalityView

__all__ = [
    "BUILTIN_PLUGINS",
    "Config",
    "ConfigError",
    "HookCall",
    "HookFailure",
    "Hooks",
    "PluginError",
    "PluginRecord",
    "Plugins",
    "load_config",
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
CONFIG_FILE = "mma.toml"
TOP_LEVEL_TABLES = ("plugins", "costs", "delivery", "web")
LOADED, BLOCKED, BROKEN = "loaded", "blocked", "broken"


class PluginError(RuntimeError):
    """A plugin could not be loaded and ``MMA_STRICT_PLUGINS=1`` asks for that to be fatal."""


class ConfigError(ValueError):
    """``mma.toml`` is unreadable or holds a value a plugin does not accept."""


# -- configuration ------------------------------------------------------------------------


@attrs.define
class Config:
    """The loaded ``mma.toml``: ``[plugins.NAME]`` tables, ``[costs]`` and ``[delivery]``."""

    store: str = "memory://"
    data: dict[str, Any] = attrs.field(factory=dict)
    path: Path | None = None
    _validated: dict[str, dict[str, Any]] = attrs.field(factory=dict, alias="_validated")

    @property
    def where(self) -> str:
        return str(self.path) if self.path is not None else CONFIG_FILE

    def raw_plugin(self, name: str) -> dict[str, Any]:
        section = self.data.get("plugins", {}).get(name, {})
        if not isinstance(section, dict):
            raise ConfigError(f"{self.where}: [plugins.{name}] must be a table")
        return section

    def plugin(self, name: str) -> dict[str, Any]:
        """The plugin's ``[plugins.NAME]`` table, validated, with defaults filled in."""
        if name in self._validated:
            return dict(self._validated[name])
        return dict(self.raw_plugin(name))

    def validate_plugin(self, name: str, schema: Mapping[str, Setting]) -> dict[str, Any]:
        values = validate_section(name, schema, self.raw_plugin(name), self.where)
        self._validated[name] = values
        return dict(values)

    @property
    def costs(self) -> dict[str, str]:
        """``[costs]``: which calculator prices each cost kind."""
        from mma_core.domain.values import CostKind

        table = self.data.get("costs", {})
        kinds = {kind.value for kind in CostKind}
        result: dict[str, str] = {}
        for key, value in table.items():
            if key not in kinds:
                raise ConfigError(
                    f"{self.where}: [costs] has unknown key {key!r}; use "
                    + ", ".join(sorted(kinds))
                )
            if not isinstance(value, str):
                raise ConfigError(f"{self.where}: [costs] {key} must name a calculator")
            result[key] = value
        return result

    @property
    def delivery(self) -> dict[str, Any]:
        table = self.data.get("delivery", {})
        return dict(table) if isinstance(table, dict) else {}


def config_path(
    store: str, explicit: str | os.PathLike[str] | None, env: Mapping[str, str]
) -> Path | None:
    """``--config FILE``, else ``MMA_CONFIG``, else ``mma.toml`` next to a SQLite store."""
    if explicit:
        return Path(explicit)
    if env.get("MMA_CONFIG"):
        return Path(env["MMA_CONFIG"])
    try:
        parts = urlsplit(store)
    except ValueError:
        return None  # a malformed URL: opening the store says so, in one line
    if parts.scheme.lower() == "sqlite":
        path = unquote(parts.path if not parts.netloc else parts.netloc + parts.path)
        path = path[1:] if path.startswith("/") else path
        if path:
            candidate = Path(path).parent / CONFIG_FILE
            if candidate.exists():
                return candidate
    return None


def load_config(
    store: str = "memory://",
    path: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> Config:
    env = os.environ if env is None else env
    found = config_path(store, path, env)
    if found is None:
        return Config(store=store)
    try:
        data = tomllib.loads(found.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"configuration file {found} does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{found}: not valid TOML ({error})") from None
    for key in data:
        if key not in TOP_LEVEL_TABLES:
            raise ConfigError(
                f"{found}: unknown table [{key}]; expected " + ", ".join(TOP_LEVEL_TABLES)
            )
    return Config(store=store, data=data, path=found)


def validate_section(
    plugin: str, schema: Mapping[str, Setting], raw: Mapping[str, Any], where: str = CONFIG_FILE
) -> dict[str, Any]:
    """Check a ``[plugins.NAME]`` table against the plugin's schema; the error names both."""
    values: dict[str, Any] = {}
    for key in raw:
        if key not in schema:
            accepted = ", ".join(sorted(schema)) or "no keys"
            raise ConfigError(
                f"{where}: [plugins.{plugin}] has unknown key {key!r}; {plugin} accepts {accepted}"
            )
    for key, setting in schema.items():
        if key not in raw:
            if setting.required:
                raise ConfigError(
                    f"{where}: [plugins.{plugin}] needs key {key!r}"
                    + (f" ({setting.help})" if setting.help else "")
                )
            values[key] = setting.default
            continue
        values[key] = _convert(plugin, key, setting, raw[key], where)
    return values


def _convert(plugin: str, key: str, setting: Setting, value: Any, where: str) -> Any:
    def bad(expected: str) -> ConfigError:
        shown = "<secret>" if setting.secret else repr(value)
        return ConfigError(
            f"{where}: [plugins.{plugin}] key {key!r} must be {expected}, not {shown}"
        )

    kind = setting.type
    if kind == "str":
        if not isinstance(value, str):
            raise bad("a string")
        if setting.choices and value not in setting.choices:
            raise bad("one of " + ", ".join(setting.choices))
        return value
    if kind == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            raise bad("a whole number")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if kind == "decimal":
        if isinstance(value, bool | float) or not isinstance(value, str | int):
            raise bad('an amount as a string, e.g. "1250.00"')
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            raise bad('an amount as a string, e.g. "1250.00"') from None
        if not amount.is_finite():
            raise bad("a finite amount")
        return amount
    if kind == "list":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise bad("a list of strings")
        return list(value)
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise bad("a table of strings")
    return dict(value)


# -- records ------------------------------------------------------------------------------


@attrs.define
class PluginRecord:
    """One plugin as ``mma plugins`` lists it."""

    name: str
    source: str  # "entry point", "built-in" or "manual"
    package: str | None = None
    version: str | None = None
    status: str = LOADED
    error: str | None = None
    info: PluginInfo | None = None
    hooks: list[str] = attrs.field(factory=list)
    registered: dict[str, list[str]] = attrs.field(factory=dict)
    errors: list[str] = attrs.field(factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "package": self.package,
            "version": self.version,
            "status": self.status,
            "error": self.error,
            "api_version": None if self.info is None else self.info.api_version,
            "description": None if self.info is None else self.info.description,
            "hooks": sorted(self.hooks),
            "registered": {k: sorted(v) for k, v in sorted(self.registered.items()) if v},
            "errors": list(self.errors),
        }


@attrs.frozen
class HookFailure:
    """An implementation that raised; ``error`` holds the exception type only, never its
    message, because a message may carry data that must not be logged."""

    plugin: str
    hook: str
    error: str


@attrs.frozen
class HookCall:
    """One call of one plugin's hook implementation, as a monitor sees it."""

    hook: str
    plugin: str
    arguments: Mapping[str, Any]
    result: Any
    error: BaseException | None


def _describe(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text and text[0] else type(error).__name__


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
        self.hook = Hooks(self)
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
        except Exception as error:
            self._broken(record, _describe(error))
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
            self._broken(record, f"cannot be imported: {_describe(error)}")
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


class PluginValidator:
    """One plugin's ``mma_validate_command``, as a ``Programme`` validator."""

    def __init__(self, plugin: str, hooks: Hooks, impl: pluggy.HookImpl) -> None:
        self.plugin = plugin
        self.__qualname__ = f"plugin {plugin}"
        self._hooks = hooks
        self._impl = impl

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

    def __init__(self, plugins: Plugins) -> None:
        self._plugins = plugins
        self._notifiers: dict[str, Notifier] | None = None
        self._exporters: dict[str, Exporter] | None = None
        self._calculators: dict[str, CostCalculator] | None = None

    def forget(self) -> None:
        """Drop what the register hooks returned (after a plugin was added or removed)."""
        self._notifiers = self._exporters = self._calculators = None

    def _impls(
        self, hook: str, *, oldest_first: bool = False
    ) -> Iterator[tuple[str, pluggy.HookImpl]]:
        caller: pluggy.HookCaller = getattr(self._plugins.pm.hook, hook)
        impls = caller.get_hookimpls()
        for impl in impls if oldest_first else reversed(impls):
            if impl.hookwrapper or impl.wrapper:
                continue  # wrappers make no sense for isolated calls; they are skipped
            yield impl.plugin_name, impl

    def _call(self, hook: str, impl: pluggy.HookImpl, **arguments: Any) -> Any:
        try:
            result = impl.function(*[arguments[name] for name in impl.argnames])
        except Exception as error:
            for monitor in self._plugins.monitors:
                monitor(HookCall(hook, impl.plugin_name, arguments, None, error))
            raise
        for monitor in self._plugins.monitors:
            monitor(HookCall(hook, impl.plugin_name, arguments, result, None))
        return result

    def _fail(self, plugin: str, hook: str, error: BaseException) -> HookFailure:
        record = self._plugins.records.get(plugin)
        if record is not None:
            record.errors.append(f"{hook}: {_describe(error)}")
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
            record = self._plugins.records.get(plugin)
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
            record = self._plugins.records.get(plugin)
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
    from mma_core.application import Programme

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
