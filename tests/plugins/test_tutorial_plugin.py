"""The tutorial's plugin, built from docs/plugins.md alone, installed with pip into a fresh
environment: it shows up in ``mma plugins``, receives notifications and serves an export, with
no change to mma_core. Nothing is installed into the project's own environment."""

from __future__ import annotations

import json
import os
import re
import site
import subprocess
import sys
import venv
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from mma_core import Programme

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "plugins.md"
FILE_BLOCK = re.compile(r"^`(mma-notify-folder/[^`]+)`:\n\n```[a-z]*\n(.*?)^```$", re.M | re.S)

pytestmark = pytest.mark.slow


def tutorial_files() -> dict[str, str]:
    return dict(FILE_BLOCK.findall(DOCS.read_text(encoding="utf-8")))


def test_the_tutorial_names_its_files() -> None:
    assert set(tutorial_files()) == {
        "mma-notify-folder/pyproject.toml",
        "mma-notify-folder/src/mma_notify_folder/__init__.py",
        "mma-notify-folder/src/mma_notify_folder/plugin.py",
        "mma-notify-folder/tests/test_folder.py",
    }


def run(*args: str | Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(a) for a in args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        **kwargs,  # type: ignore[call-overload]
    )
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def environment(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment that sees the project's packages but not vice versa, with
    the tutorial's package pip-installed into it."""
    base = tmp_path_factory.mktemp("tutorial")
    for name, text in tutorial_files().items():
        path = base / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    env_dir = base / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    purelib = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    ours = [p for p in site.getsitepackages() if p.endswith("site-packages")]
    Path(purelib.stdout.strip(), "project.pth").write_text(
        "".join(f"import site; site.addsitedir({p!r})\n" for p in ours)
    )
    run(
        sys.executable, "-m", "pip", "--python", python, "install", "--quiet",
        "--no-deps", "--no-build-isolation", base / "mma-notify-folder",
    )  # fmt: skip
    return base


def mma(environment: Path, *args: str, store: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MMA_")}
    env.update(MMA_STORE=store, MMA_ACTOR="tester")
    python = environment / "venv" / "bin" / "python"
    return run(python, "-m", "mma_core.cli", *args, env=env, cwd=environment)


def test_installed_from_the_tutorial_it_is_listed_notified_and_exports(
    environment: Path, tmp_path: Path
) -> None:
    store = f"sqlite:///{tmp_path / 'mma.sqlite'}"
    listed = {
        p["name"]: p for p in json.loads(mma(environment, "plugins", "--json", store=store).stdout)
    }
    plugin = listed["mma-notify-folder"]
    assert plugin["status"] == "loaded"
    assert (plugin["package"], plugin["version"], plugin["source"]) == (
        "mma-notify-folder",
        "0.1.0",
        "entry point",
    )
    assert plugin["registered"] == {"exporters": ["digest"], "notifiers": ["folder"]}

    now = datetime(2023, 6, 1, 12, tzinfo=UTC)
    with Programme.open(store, clock=lambda: now) as prog:
        prog.register_registry("noord-holland-2019", by="coordinator")
        prog.make_offer(reference="1298348/1298354", sent_on=date(2019, 10, 18), by="cdk")
        prog.invite("GM0363", on=date(2019, 10, 18), reference="1298348/1298354", by="cdk")
        prog.accept("GM0363", on=date(2019, 11, 1), by="burgemeester")
        prog.connect("GM0363", on=date(2019, 12, 1), by="coordinator")
    outbox = tmp_path / "outbox"
    (tmp_path / "mma.toml").write_text(
        f'[plugins.mma-notify-folder]\nfolder = "{outbox}"\n\n[delivery]\nchannels = ["folder"]\n'
    )
    report = json.loads(mma(environment, "--json", "notify", store=store).stdout)
    assert report["delivered"] == 3  # invitation, connected, evaluation due
    files = [json.loads(p.read_text()) for p in sorted(outbox.glob("*.json"))]
    assert sorted(f["rule"] for f in files) == ["connected", "evaluation-due", "invitation"]
    assert {f["code"] for f in files} == {"GM0363"}

    digest = tmp_path / "digest.txt"
    mma(environment, "export", "digest", "-o", str(digest), store=store)
    lines = digest.read_text().splitlines()
    assert lines[0] == "1 of 44 municipalities connected"
    assert "- Amsterdam (GM0363): connected" in lines


def test_the_tutorial_tests_pass(environment: Path) -> None:
    python = environment / "venv" / "bin" / "python"
    result = run(
        python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests",
        cwd=environment / "mma-notify-folder",
    )  # fmt: skip
    assert "2 passed" in result.stdout


def test_the_project_environment_was_not_touched(environment: Path) -> None:
    import importlib.metadata

    names = {ep.name for ep in importlib.metadata.entry_points(group="mma_core")}
    assert "mma-notify-folder" not in names
