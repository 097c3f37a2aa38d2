"""The layers hold: the import contracts in ``.importlinter`` pass on the tree and fail on a
deliberately wrong import; no import circle, not even through annotations or a function's own
import; the domain imports only what it may; plugins see one module; the folders are the layers
and no module outgrows a file."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "mma_core"
PLUGIN_SOURCES = sorted((ROOT / "plugins").glob("*/src/*"))
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

# What a domain module may import besides the standard library and the domain itself.
DOMAIN_MAY_IMPORT = ("attrs", "eventsourcing.domain", "mma_core.domain")


def _imports(path: Path) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def test_the_domain_imports_only_itself_attrs_eventsourcing_domain_and_the_stdlib() -> None:
    stray = [
        f"{path.relative_to(ROOT)}:{line}: {module}"
        for path in sorted((SRC / "domain").glob("*.py"))
        for line, module in _imports(path)
        if module.split(".")[0] not in sys.stdlib_module_names
        and module != "__future__"
        and not any(
            module == allowed or module.startswith(allowed + ".") for allowed in DOMAIN_MAY_IMPORT
        )
    ]
    assert stray == []


def test_first_party_plugins_import_only_the_plugin_api_of_mma_core() -> None:
    pattern = re.compile(r"^\s*(from|import)\s+mma_core\.(?!plugin_api\b)", re.MULTILINE)
    offenders = [
        str(path.relative_to(ROOT))
        for source in PLUGIN_SOURCES
        for path in sorted(source.rglob("*.py"))
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert PLUGIN_SOURCES, "no plugin sources found"
    assert offenders == []


def _copy_tree(into: Path) -> Path:
    """The packages that ``.importlinter`` names, copied so a test can break one."""
    shutil.copytree(SRC, into / "mma_core", ignore=shutil.ignore_patterns("__pycache__"))
    for source in PLUGIN_SOURCES:
        shutil.copytree(source, into / source.name, ignore=shutil.ignore_patterns("__pycache__"))
    return into


def _lint(packages: Path) -> subprocess.CompletedProcess[str]:
    # The copies come first on the path, so grimp reads them instead of the installed packages.
    env = {**os.environ, "PYTHONPATH": str(packages), "NO_COLOR": "1"}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", str(ROOT / ".importlinter")],
        capture_output=True,
        text=True,
        env=env,
        cwd=packages,
        check=False,
        timeout=300,
    )


TYPE_ONLY = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import {module}"


@pytest.mark.parametrize(
    ("module", "wrong_import", "contract"),
    [
        ("domain/values.py", "import mma_core.application.programme", "The domain imports nothing"),
        ("views/state.py", "import mma_core.application.programme", "The read models depend on"),
        ("storage/urls.py", "import mma_core.application.programme", "No import circles"),
        ("storage/urls.py", "import mma_core.views.state", "The folders are the layers"),
        (
            "application/follow.py",
            TYPE_ONLY.format(module="mma_core.outbox.delivery"),
            "The folders are the layers",
        ),
        (
            "extensions/hookspecs.py",
            "import mma_core.cli.output",
            "The folders are the layers",
        ),
    ],
)
def test_a_deliberately_wrong_import_breaks_its_contract(
    tmp_path: Path, module: str, wrong_import: str, contract: str
) -> None:
    packages = _copy_tree(tmp_path)
    kept = _lint(packages)
    assert kept.returncode == 0, kept.stdout + kept.stderr
    target = packages / "mma_core" / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{wrong_import}  # noqa\n")
    broken = _lint(packages)
    assert broken.returncode != 0
    assert f"{contract}" in broken.stdout
    assert "BROKEN" in broken.stdout


def test_a_plugin_reaching_into_internals_breaks_the_plugin_contract(tmp_path: Path) -> None:
    packages = _copy_tree(tmp_path)
    target = packages / "mma_notify_smtp" / "notifier.py"
    target.write_text(
        target.read_text(encoding="utf-8") + "\nfrom mma_core.views.state import Overview  # noqa\n"
    )
    broken = _lint(packages)
    assert broken.returncode != 0
    assert "mma_notify_smtp is not allowed to import mma_core.views" in broken.stdout


def _module_name(path: Path, src: Path = SRC) -> str:
    parts = path.relative_to(src.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _graph(src: Path) -> dict[str, set[str]]:
    """Every module of the package and the modules of it that it imports anywhere: at the top,
    under ``if TYPE_CHECKING:`` and inside functions. ``from a import b`` counts ``a.b`` when
    ``b`` is a module, else ``a``."""
    modules = {_module_name(p, src) for p in src.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for path in src.rglob("*.py"):
        name = _module_name(path, src)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, *([base] if base else [])])
                for alias in node.names:
                    found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_circle_counting_type_checking_and_function_imports() -> None:
    graph = _graph(SRC)
    assert "mma_core.application.programme" in graph
    assert _circles(graph) == []


def test_the_circle_check_sees_a_circle_through_an_annotation(tmp_path: Path) -> None:
    packages = _copy_tree(tmp_path)
    target = packages / "mma_core" / "application" / "follow.py"
    target.write_text(
        target.read_text(encoding="utf-8")
        + "\nif TYPE_CHECKING:\n    from mma_core.application.programme import Programme\n"
    )
    circles = _circles(_graph(packages / "mma_core"))
    assert any(
        {"mma_core.application.follow", "mma_core.application.programme"} <= set(circle)
        for circle in circles
    )


def test_nothing_below_the_application_names_programme() -> None:
    # The parts the programme is built from take the protocol of application/ports.py.
    below = ("domain", "storage", "views", "audit", "language")
    naming = [
        f"{path.relative_to(ROOT)}:{line}"
        for folder in below
        for path in sorted((SRC / folder).rglob("*.py"))
        for line, module in _imports(path)
        if module.startswith("mma_core.application")
    ]
    assert naming == []


def test_the_folders_are_the_layers_and_no_module_outgrows_a_file() -> None:
    face = sorted(p.name for p in SRC.glob("*.py"))
    assert len(face) <= 6, face
    assert {"__init__.py", "plugin_api.py"} <= set(face)
    layers = {"application", "audit", "cli", "domain", "extensions", "language", "outbox"}
    layers |= {"paperwork", "storage", "views", "builtin_plugins", "testing"}
    assert layers <= {p.name for p in SRC.iterdir() if p.is_dir()}
    too_long = {
        str(p.relative_to(ROOT)): n
        for p in sorted(SRC.rglob("*.py"))
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 1000
    }
    assert too_long == {}
