"""Discovery, isolation, control by environment, API versions and configuration."""

from __future__ import annotations

import textwrap
import types
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from mma_core.application.costs import OfferTermsCalculator
from mma_core.extensions.hookspecs import HOOK_API_VERSION, PluginInfo, Setting, hookimpl
from mma_core.extensions.plugins import (
    BUILTIN_PLUGINS,
    Config,
    ConfigError,
    PluginError,
    Plugins,
    load_config,
    load_plugins,
    open_programme,
    validate_section,
)
from mma_core.testing import HookCallRecorder

GOOD = """
from mma_core.extensions.hookspecs import HOOK_API_VERSION, PluginInfo, hookimpl


class Quiet:
    channel = "quiet"

    def __init__(self):
        self.sent = []

    def send(self, notification):
        self.sent.append(notification)


@hookimpl
def mma_plugin_info():
    return PluginInfo(name="good", api_version=HOOK_API_VERSION)


@hookimpl
def mma_register_notifiers(register):
    register(Quiet())
"""


def entry_point(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group="mma_core")


@pytest.fixture
def good_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "mma_test_good_plugin.py").write_text(GOOD)
    (tmp_path / "mma_test_broken_plugin.py").write_text("import no_such_module_anywhere\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return "mma_test_good_plugin"


def test_builtins_are_registered_by_name_after_entry_points(good_module: str) -> None:
    plugins = load_plugins(env={}, entry_points=[entry_point("good", good_module)])
    names = list(plugins.records)
    assert names == ["good", *[name for name, _ in BUILTIN_PLUGINS]]
    assert all(plugins.records[n].status == "loaded" for n in names)
    assert plugins.records["csv"].source == "built-in"
    assert plugins.records["csv"].package == "mma-core"
    assert set(plugins.hook.notifiers()) == {"log", "quiet"}


def test_a_plugin_that_fails_to_import_is_listed_as_broken(good_module: str) -> None:
    plugins = load_plugins(
        env={},
        entry_points=[
            entry_point("broken", "mma_test_broken_plugin"),
            entry_point("good", good_module),
        ],
    )
    broken = plugins.records["broken"]
    assert broken.status == "broken"
    assert broken.error is not None
    assert "cannot be imported" in broken.error
    assert "ModuleNotFoundError" in broken.error
    assert plugins.records["good"].status == "loaded"
    assert "quiet" in plugins.hook.notifiers()
    listed = {item["name"]: item for item in plugins.listing()}
    assert listed["broken"]["status"] == "broken"


def test_strict_mode_makes_a_broken_plugin_fatal(good_module: str) -> None:
    with pytest.raises(PluginError, match="plugin broken is broken: cannot be imported"):
        load_plugins(
            env={"MMA_STRICT_PLUGINS": "1"},
            entry_points=[entry_point("broken", "mma_test_broken_plugin")],
        )


def test_allowlist_and_blocklist(good_module: str) -> None:
    eps = [entry_point("good", good_module), entry_point("broken", "mma_test_broken_plugin")]
    plugins = load_plugins(env={"MMA_LOAD_PLUGINS": "good"}, entry_points=eps)
    assert plugins.records["good"].status == "loaded"
    assert plugins.records["broken"].status == "blocked"
    assert plugins.records["broken"].error == "not listed in MMA_LOAD_PLUGINS"
    assert plugins.records["csv"].status == "loaded"  # built-ins are not subject to the allowlist

    plugins = load_plugins(env={"MMA_LOAD_PLUGINS": ""}, entry_points=eps)
    assert plugins.records["good"].status == "blocked"

    plugins = load_plugins(env={"MMA_DISABLE_PLUGINS": "good, csv"}, entry_points=eps)
    assert plugins.records["good"].status == "blocked"
    assert plugins.records["csv"].status == "blocked"
    assert plugins.records["csv"].error == "disabled by MMA_DISABLE_PLUGINS"
    assert "csv" not in plugins.hook.exporters()
    assert "jsonl" in plugins.hook.exporters()


class FutureApi:
    @hookimpl
    def mma_plugin_info(self) -> PluginInfo:
        return PluginInfo(name="future", api_version="2.0")


class OlderMinor:
    @hookimpl
    def mma_plugin_info(self) -> PluginInfo:
        return PluginInfo(name="same-major", api_version="1.7")


def test_a_plugin_for_another_major_api_version_is_refused_with_a_message() -> None:
    plugins = Plugins(env={})
    record = plugins.register(FutureApi(), "future")
    assert record.status == "broken"
    assert record.error is not None
    assert "written for hook API 2.0" in record.error
    assert f"this mma_core has hook API {HOOK_API_VERSION}" in record.error
    assert "made for API 1.x" in record.error
    assert not plugins.pm.has_plugin("future")
    assert plugins.register(OlderMinor(), "same-major").status == "loaded"


class Misspelt:
    @hookimpl
    def mma_register_notifier(self, register: object) -> None:  # missing "s"
        raise AssertionError("never called")


def test_an_unknown_hook_marks_the_plugin_broken_and_check_pending_passes() -> None:
    plugins = load_plugins(env={}, entry_points=[])
    record = plugins.register(Misspelt(), "misspelt")
    assert record.status == "broken"
    assert "unknown hook mma_register_notifier" in (record.error or "")
    plugins.check_pending()  # nothing unknown is left registered


class Configurable:
    def __init__(self) -> None:
        self.seen: dict[str, object] = {}

    @hookimpl
    def mma_plugin_info(self) -> PluginInfo:
        return PluginInfo(
            name="configurable",
            api_version=HOOK_API_VERSION,
            config={
                "host": Setting("str", required=True, help="SMTP host"),
                "port": Setting("int", default=25),
                "fee": Setting("decimal", default=None),
                "mode": Setting("str", default="a", choices=("a", "b")),
                "token": Setting("str", secret=True),
            },
        )

    @hookimpl
    def mma_configure(self, config: Config) -> None:
        self.seen = config.plugin("configurable")


def test_configuration_is_validated_and_given_to_the_plugin() -> None:
    config = Config(data={"plugins": {"configurable": {"host": "mail", "fee": "12.50"}}})
    plugin = Configurable()
    record = Plugins(config, env={}).register(plugin, "configurable")
    assert record.status == "loaded"
    assert plugin.seen["host"] == "mail"
    assert plugin.seen["port"] == 25
    assert str(plugin.seen["fee"]) == "12.50"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({}, "[plugins.configurable] needs key 'host'"),
        ({"host": "x", "prot": 1}, "[plugins.configurable] has unknown key 'prot'"),
        ({"host": "x", "port": "25"}, "key 'port' must be a whole number"),
        ({"host": "x", "mode": "c"}, "key 'mode' must be one of a, b"),
        ({"host": "x", "fee": 1.5}, "key 'fee' must be an amount"),
        ({"host": "x", "token": 5}, "key 'token' must be a string, not <secret>"),
    ],
)
def test_a_configuration_error_names_the_plugin_and_the_key(
    table: dict[str, object], message: str
) -> None:
    config = Config(data={"plugins": {"configurable": table}})
    record = Plugins(config, env={}).register(Configurable(), "configurable")
    assert record.status == "broken"
    assert message in (record.error or "")
    with pytest.raises(PluginError, match="configurable"):
        Plugins(config, env={"MMA_STRICT_PLUGINS": "1"}).register(Configurable(), "configurable")


def test_validate_section_fills_defaults() -> None:
    values = validate_section("p", {"a": Setting("list", default=[]), "b": Setting("bool")}, {})
    assert values == {"a": [], "b": None}


def test_config_file_next_to_the_sqlite_store(tmp_path: Path) -> None:
    (tmp_path / "mma.toml").write_text('[costs]\nconnection = "offer-terms"\n')
    config = load_config(f"sqlite:///{tmp_path / 'mma.sqlite'}", env={})
    assert config.path == tmp_path / "mma.toml"
    assert config.costs == {"connection": "offer-terms"}
    other = tmp_path / "other.toml"
    other.write_text("[plugins.x]\na = 1\n")
    assert load_config("memory://", other, env={}).raw_plugin("x") == {"a": 1}
    assert load_config("memory://", env={"MMA_CONFIG": str(other)}).path == other


def test_config_file_errors_say_where(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[plugins\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config("memory://", bad, env={})
    bad.write_text("[plugin.x]\n")
    with pytest.raises(ConfigError, match=r"unknown table \[plugin\]"):
        load_config("memory://", bad, env={})
    with pytest.raises(ConfigError, match="does not exist"):
        load_config("memory://", tmp_path / "missing.toml", env={})
    bad.write_text('[costs]\nconection = "x"\n')
    with pytest.raises(ConfigError, match="unknown key 'conection'"):
        _ = load_config("memory://", bad, env={}).costs


def test_a_configured_calculator_that_is_missing_is_an_error() -> None:
    config = Config(data={"costs": {"connection": "fryslan-2022"}})
    plugins = load_plugins(config, env={}, entry_points=[])
    with pytest.raises(ConfigError, match=r"\[costs\] connection = 'fryslan-2022'"):
        plugins.cost_calculators()


class RaisingExporters:
    @hookimpl
    def mma_register_exporters(self, register: object) -> None:
        raise RuntimeError("cannot")


class DuplicateChannel:
    @hookimpl
    def mma_register_notifiers(self, register: object) -> None:
        from mma_core.builtin_plugins.log_notifier import LogNotifier

        register(LogNotifier())  # type: ignore[operator]


def test_one_failing_implementation_does_not_abort_the_hook_call(
    builtin_plugins: Plugins,
) -> None:
    builtin_plugins.register(RaisingExporters(), "raising")
    builtin_plugins.register(DuplicateChannel(), "duplicate")
    assert set(builtin_plugins.hook.exporters()) == {"csv", "jsonl", "letter"}
    assert set(builtin_plugins.hook.notifiers()) == {"log"}
    errors = builtin_plugins.records["raising"].errors
    assert errors == ["mma_register_exporters: RuntimeError: cannot"]
    assert "registered already" in builtin_plugins.records["duplicate"].errors[0]


def test_open_programme_uses_the_selected_calculators_and_plugin_validators() -> None:
    class Standard(OfferTermsCalculator):
        name = "standard-too"

    class Plugin:
        @hookimpl
        def mma_register_cost_calculators(self, register: object) -> None:
            register(Standard())  # type: ignore[operator]

        @hookimpl
        def mma_validate_command(self) -> list[str]:
            return []

    config = Config(data={"costs": {"report_fee": "standard-too"}})
    plugins = load_plugins(config, env={}, entry_points=[])
    plugins.register(Plugin(), "plugin")
    with open_programme("memory://", plugins=plugins) as prog:
        chosen = {kind.value: calc.name for kind, calc in prog.cost_calculators.items()}
        assert chosen == {
            "connection": "offer-terms",
            "report_fee": "standard-too",
            "compensation": "offer-terms",
        }
        assert [getattr(v, "__qualname__", "") for v in prog.validators] == ["plugin plugin"]


def test_testing_fixtures(mma_plugins: Plugins, mma_register: object) -> None:
    # mma_core.testing is a pytest plugin: its fixtures are here without any import.
    assert mma_plugins.records == {}
    recorder = HookCallRecorder(mma_plugins)
    with mma_register(OlderMinor(), "minor") as record:  # type: ignore[operator]
        assert record.status == "loaded"
        assert mma_plugins.pm.has_plugin("minor")
        assert mma_plugins.hook.plugin_info()["minor"].api_version == "1.7"
    assert not mma_plugins.pm.has_plugin("minor")
    assert recorder.plugins_called("mma_plugin_info") == ["minor"]
    recorder.close()


def test_register_always_unregisters_even_when_the_block_fails(
    mma_plugins: Plugins, mma_register: object
) -> None:
    with pytest.raises(ZeroDivisionError), mma_register(OlderMinor(), "minor"):  # type: ignore[operator]
        _ = 1 / 0
    assert not mma_plugins.pm.has_plugin("minor")


def test_the_testing_module_is_a_registered_pytest_plugin(pytestconfig: pytest.Config) -> None:
    assert pytestconfig.pluginmanager.has_plugin("mma_core")


def test_the_sample_plugin_runs_against_the_real_manager() -> None:
    # The sample itself, executed as a module (not only compiled), registered by the manager.
    module = types.ModuleType("mma_test_sample_plugin")
    exec(compile(textwrap.dedent(GOOD), "good", "exec"), module.__dict__)
    plugins = load_plugins(env={}, entry_points=[])
    record = plugins.register(module, "good")
    assert record.status == "loaded", record.error
    assert record.hooks == ["mma_plugin_info", "mma_register_notifiers"]
    assert plugins.hook.plugin_info()["good"].api_version == HOOK_API_VERSION
    quiet = plugins.hook.notifiers()["quiet"]
    assert record.registered["notifiers"] == ["quiet"]
    quiet.send("hello")  # type: ignore[arg-type]
    assert quiet.sent == ["hello"]  # type: ignore[attr-defined]
