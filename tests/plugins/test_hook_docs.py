"""docs/plugins.md documents every hook with its exact signature, and every hook has a test of
its own (a function named ``test_<hook>``)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from mma_core.extensions import hookspecs
from mma_core.extensions.plugins import Plugins

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "plugins.md"
HOOKS = sorted(name for name in vars(hookspecs) if name.startswith("mma_"))


def signature(name: str) -> str:
    function = getattr(hookspecs, name)
    annotations = function.__annotations__
    parameters = ", ".join(f"{p}: {annotations[p]}" for p in inspect.signature(function).parameters)
    return f"def {name}({parameters}) -> {annotations['return']}"


def test_the_hooks_are_the_ones_of_the_design() -> None:
    assert HOOKS == [
        "mma_answer_link",
        "mma_configure",
        "mma_notifications_for_event",
        "mma_plugin_info",
        "mma_register_commands",
        "mma_register_cost_calculators",
        "mma_register_exporters",
        "mma_register_notifiers",
        "mma_validate_command",
    ]
    specs = {name for name in Plugins(env={}).pm.hook.__dict__ if name.startswith("mma_")}
    assert specs == set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented_with_its_exact_signature(hook: str) -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert f"### {hook}\n" in text
    section = text.split(f"### {hook}\n", 1)[1].split("\n### ", 1)[0]
    assert signature(hook) in section.splitlines()
    historic = getattr(hookspecs, hook).mma_core_spec["historic"]
    assert ("@hookspec(historic=True)" in section) is historic


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_says_when_what_and_on_error(hook: str) -> None:
    doc = inspect.getdoc(getattr(hookspecs, hook)) or ""
    assert "Called" in doc
    assert "Return" in doc
    assert "raises" in doc


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_test_of_its_own(hook: str) -> None:
    files = [*ROOT.glob("tests/plugins/test_*.py"), *ROOT.glob("plugins/*/tests/test_*.py")]
    pattern = re.compile(rf"^def test_{hook}\(", re.MULTILINE)
    assert any(pattern.search(f.read_text(encoding="utf-8")) for f in files), hook


def test_the_documented_api_version_is_the_real_one() -> None:
    assert f"(now `{hookspecs.HOOK_API_VERSION}`)" in DOCS.read_text(encoding="utf-8")


def python_blocks(section: str) -> list[str]:
    text = DOCS.read_text(encoding="utf-8").split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```python\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)
    return [b for b in blocks if not b.startswith("@hookspec")]  # signatures, not code


def test_the_command_names_a_validator_sees_are_all_documented() -> None:
    from mma_core import Programme
    from mma_core.application.commanding import COMMAND_NAME

    real = {  # the names of the methods marked @command, which validators see
        getattr(getattr(Programme, name), COMMAND_NAME)
        for name in dir(Programme)
        if hasattr(getattr(Programme, name), COMMAND_NAME)
    }
    text = DOCS.read_text(encoding="utf-8")
    table = text.split("#### Command names a validator sees\n", 1)[1].split("\n### ", 1)[0]
    documented = set(re.findall(r"^\| `(\w+)` \|", table, re.MULTILINE))
    assert "record_report" in real
    assert documented == real


@pytest.mark.parametrize("section", ["Hook reference", "A plugin's own command"])
def test_the_examples_run_with_only_the_plugin_api(section: str) -> None:
    import types
    from typing import IO

    import click

    import mma_core
    from mma_core import plugin_api

    blocks = python_blocks(section)
    assert blocks
    for index, block in enumerate(blocks):
        module = types.ModuleType(f"example_{index}")
        module.__dict__.update({n: getattr(plugin_api, n) for n in plugin_api.__all__})
        module.__dict__.update({n: getattr(mma_core, n) for n in mma_core.__all__})
        module.__dict__.update({"IO": IO, "click": click, "connected": click.Command("c")})
        exec(compile(block, f"docs/plugins.md:{section}:{index}", "exec"), module.__dict__)
        record = Plugins(env={}).register(module, module.__name__)
        assert record.status == "loaded", (block, record.error)
