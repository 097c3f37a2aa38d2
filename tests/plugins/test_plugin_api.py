"""``mma_core.plugin_api`` is the whole surface a plugin needs: every hook's types resolve at
runtime and are importable from it, first-party plugins import nothing else of ``mma_core``,
:class:`PluginSettings` replaces each plugin's configure code, and ``mma_core.testing`` works
without pytest."""

from __future__ import annotations

import builtins
import collections.abc
import re
import subprocess
import sys
import textwrap
import typing
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from mma_core import plugin_api
from mma_core.extensions import hookspecs
from mma_core.extensions.plugins import Config, Plugins

ROOT = Path(__file__).resolve().parents[2]
HOOKS = sorted(name for name in vars(hookspecs) if name.startswith("mma_"))


def classes_in(annotation: Any) -> set[type]:
    """Every class an annotation names, through unions, generics and callables."""
    found: set[type] = set()
    origin = typing.get_origin(annotation)
    if origin is None:
        if isinstance(annotation, type):
            found.add(annotation)
        return found
    if isinstance(origin, type) and origin.__module__ not in ("collections.abc", "types"):
        found.add(origin)
    for argument in typing.get_args(annotation):
        if isinstance(argument, list):  # Callable[[A, B], R]
            for item in argument:
                found |= classes_in(item)
        else:
            found |= classes_in(argument)
    return found


def is_standard(cls: type) -> bool:
    return cls.__module__ in ("builtins", "collections.abc", "typing", "types") or (
        cls is type(None)
    )


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_signature_resolves_at_runtime(hook: str) -> None:
    hints = typing.get_type_hints(getattr(hookspecs, hook))
    assert "return" in hints


@pytest.mark.parametrize("hook", HOOKS)
def test_every_type_a_hook_names_is_in_the_plugin_api(hook: str) -> None:
    function = getattr(hookspecs, hook)
    hints = typing.get_type_hints(function)
    for cls in set().union(*(classes_in(h) for h in hints.values())):
        if is_standard(cls):
            continue
        assert getattr(plugin_api, cls.__name__, None) is cls, f"{hook}: {cls.__name__}"
        assert cls.__name__ in plugin_api.__all__
    # Names written in the signature (aliases such as RegisterNotifier included) too.
    standard = set(dir(builtins)) | set(dir(collections.abc)) | {"None"}
    for annotation in function.__annotations__.values():
        for dotted in re.findall(r"[A-Za-z_][\w.]*", str(annotation)):
            name = dotted.rsplit(".", 1)[-1]
            if name not in standard:
                assert name in plugin_api.__all__, f"{hook}: {name}"


def namespace(protocol: type) -> dict[str, Any]:
    # The protocol's own module, with its annotation-only names taken from the plugin API.
    return {**vars(sys.modules[protocol.__module__]), **vars(plugin_api)}


def test_the_protocols_plugins_implement_resolve_with_the_plugin_api() -> None:
    for protocol, method in (
        (plugin_api.Exporter, "export"),
        (plugin_api.Notifier, "send"),
        (plugin_api.CostCalculator, "calculate"),
    ):
        hints = typing.get_type_hints(getattr(protocol, method), globalns=namespace(protocol))
        for cls in set().union(*(classes_in(h) for h in hints.values())):
            assert is_standard(cls) or cls.__name__ in plugin_api.__all__, cls


def test_every_name_in_all_exists_once() -> None:
    for name in plugin_api.__all__:
        assert hasattr(plugin_api, name), name
    assert len(set(plugin_api.__all__)) == len(plugin_api.__all__)


IMPORT = re.compile(r"^\s*(?:from|import)\s+(mma_core(?:\.[\w.]+)?)", re.MULTILINE)


def test_first_party_plugins_import_only_the_plugin_api_and_top_level_names() -> None:
    sources = sorted(ROOT.glob("plugins/*/src/**/*.py"))
    assert sources
    wrong = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in sources
        for module in IMPORT.findall(path.read_text(encoding="utf-8"))
        if module not in ("mma_core", "mma_core.plugin_api")
    ]
    assert wrong == []


def test_first_party_plugin_tests_import_only_the_plugin_api_and_the_testing_module() -> None:
    sources = sorted(ROOT.glob("plugins/*/tests/**/*.py"))
    assert sources
    allowed = ("mma_core", "mma_core.plugin_api", "mma_core.testing")
    wrong = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in sources
        for module in IMPORT.findall(path.read_text(encoding="utf-8"))
        if module not in allowed
    ]
    assert wrong == []


def test_the_views_are_named_in_one_place_only() -> None:
    # When the read models change shape, the plugin API is the one file that follows them.
    naming = [
        path.relative_to(ROOT)
        for path in ROOT.glob("plugins/*/src/**/*.py")
        if "mma_core.views" in path.read_text(encoding="utf-8")
    ]
    assert naming == []
    assert "mma_core.views." in (ROOT / "src/mma_core/plugin_api.py").read_text(encoding="utf-8")


def test_the_hook_values_module_is_a_leaf_of_the_extensions() -> None:
    # It imports nothing of the plugin machinery, only the application's EventRecord (which
    # Programme.follow yields), so hookspecs, the plugin manager, exporting and the outbox can
    # all use it without an import cycle.
    source = (ROOT / "src/mma_core/extensions/values.py").read_text(encoding="utf-8")
    assert "TYPE_CHECKING" not in source
    assert set(IMPORT.findall(source)) == {"mma_core.application.events"}


@pytest.mark.parametrize(
    ("module", "never"),
    [
        ("hooks", {"mma_core.extensions.manager", "mma_core.extensions.plugins"}),
        ("records", {"mma_core.extensions.manager", "mma_core.extensions.hooks"}),
        ("config", {"mma_core.extensions.manager", "mma_core.extensions.hookspecs"}),
        ("exporting", {"mma_core.extensions.hookspecs", "mma_core.extensions.plugins"}),
    ],
)
def test_the_plugin_modules_import_one_way(module: str, never: set[str]) -> None:
    source = (ROOT / f"src/mma_core/extensions/{module}.py").read_text(encoding="utf-8")
    assert not set(IMPORT.findall(source)) & never


class Configured:
    settings = plugin_api.PluginSettings("configured")
    mma_configure = settings.mma_configure

    @plugin_api.hookimpl
    def mma_plugin_info(self) -> plugin_api.PluginInfo:
        return plugin_api.PluginInfo(
            name="configured",
            api_version=plugin_api.HOOK_API_VERSION,
            config={
                "fee": plugin_api.Setting("decimal", required=True),
                "timeout": plugin_api.Setting("int", default=30),
                "password": plugin_api.Setting("str", secret=True),
            },
        )


def test_plugin_settings_hold_the_validated_table_with_defaults() -> None:
    plugin = Configured()
    assert dict(plugin.settings) == {}
    config = Config(data={"plugins": {"configured": {"fee": "12.50", "password": "geheim"}}})
    record = Plugins(config, env={}).register(plugin, "configured")
    assert record.status == "loaded", record.error
    assert "mma_configure" in record.hooks
    assert plugin.settings["fee"] == Decimal("12.50")
    assert plugin.settings.get("timeout") == 30
    assert dict(plugin.settings) == {"fee": Decimal("12.50"), "timeout": 30, "password": "geheim"}
    assert "geheim" not in repr(plugin.settings)


def test_no_plugin_repeats_the_configure_code() -> None:
    files = [
        *ROOT.glob("plugins/*/src/*/plugin.py"),
        *ROOT.glob("src/mma_core/builtin_plugins/*.py"),
    ]
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert "config.plugin(" not in text, path.relative_to(ROOT)


NO_PYTEST = textwrap.dedent(
    """
    import sys
    sys.modules["pytest"] = None  # "import pytest" now raises ImportError
    import mma_core.testing as testing
    from mma_core.plugin_api import HOOK_API_VERSION, PluginInfo, hookimpl

    class Plugin:
        @hookimpl
        def mma_plugin_info(self):
            return PluginInfo(name="p", api_version=HOOK_API_VERSION)

    plugins = testing.fresh_plugins()
    recorder = testing.HookCallRecorder(plugins)
    with testing.registered(plugins, Plugin(), "p") as record:
        assert record.status == "loaded", record.error
        plugins.hook.plugin_info()
    assert recorder.plugins_called("mma_plugin_info") == ["p"]
    assert "aiosmtpd" not in sys.modules  # the servers import it only when one starts
    try:
        import mma_core.testing.fixtures
    except ImportError:
        print("fixtures need pytest")
    print("ok")
    """
)


def test_mma_core_testing_imports_and_works_without_pytest() -> None:
    done = subprocess.run(
        [sys.executable, "-c", NO_PYTEST], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["fixtures", "need", "pytest", "ok"]
