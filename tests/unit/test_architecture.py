"""The layers hold: the import contracts in ``.importlinter`` pass on the tree and fail on a
deliberately wrong import; the domain imports only what it may; plugins see one module."""

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


@pytest.mark.parametrize(
    ("module", "wrong_import", "contract"),
    [
        ("domain/values.py", "import mma_core.application", "The domain imports nothing"),
        ("views/state.py", "import mma_core.application", "The read models depend on"),
        ("storage/urls.py", "import mma_core.application", "No import circles"),
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
