"""The plugin commands through the installed ``mma`` (a subprocess), with a broken plugin
installed beside the good ones: discovered from its distribution's entry points, like any."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from plugin_helpers import campaign

from mma_core import Money, Programme, Terms

MMA = [sys.executable, "-m", "mma_core.cli"]


def install_fake_distribution(site: Path, name: str, module: str, source: str) -> None:
    """A minimal installed distribution: dist-info with an ``mma_core`` entry point."""
    dist = site / f"{name.replace('-', '_')}-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[mma_core]\n{name} = {module}\n")
    (site / f"{module}.py").write_text(source)


HELLO = """
import click
from mma_core.extensions.hookspecs import hookimpl


@hookimpl
def mma_register_commands(cli):
    @cli.command()
    def hello():
        click.echo("hello from a plugin")
"""


@dataclass
class Cli:
    store: str
    cwd: Path
    env: dict[str, str]

    def __call__(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*MMA, *args],
            cwd=self.cwd,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


@pytest.fixture
def mma(tmp_path: Path) -> Cli:
    site = tmp_path / "site"
    site.mkdir()
    install_fake_distribution(
        site, "mma-broken", "mma_broken_plugin", "import a_module_that_is_not_installed\n"
    )
    install_fake_distribution(site, "mma-hello", "mma_hello_plugin", HELLO)
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("MMA_") and k not in ("PYTHONPATH",)
    }
    env.update(
        PYTHONPATH=str(site),
        MMA_STORE=f"sqlite:///{tmp_path / 'mma.sqlite'}",
        MMA_ACTOR="tester",
        MMA_LANG="en",
    )
    return Cli(env["MMA_STORE"], tmp_path, env)


def test_a_broken_plugin_is_listed_and_every_command_still_works(mma: Cli) -> None:
    listed = mma("plugins", "--json")
    assert listed.returncode == 0, listed.stderr
    plugins = {p["name"]: p for p in json.loads(listed.stdout)}
    broken = plugins["mma-broken"]
    assert broken["status"] == "broken"
    assert broken["package"] == "mma-broken"
    assert "cannot be imported: ModuleNotFoundError" in broken["error"]
    assert plugins["csv"]["status"] == "loaded"
    text = mma("plugins")
    assert "mma-broken  [broken]" in text.stdout

    for args in (
        ["--help"],
        ["init"],
        ["offer", "--reference", "1298348/1298354", "--sent-on", "2019-10-18"],
        ["invite", "GM0363", "--on", "2019-10-18", "--reference", "1298348/1298354"],
        ["status"],
        ["export", "csv"],
        ["costs"],
        ["notify"],
        ["notify", "--failed"],
    ):
        result = mma(*args)
        assert result.returncode == 0, (args, result.stderr)


def test_a_plugin_command_is_added_on_first_use(mma: Cli) -> None:
    result = mma("hello")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello from a plugin\n"
    listed = {p["name"]: p for p in json.loads(mma("plugins", "--json").stdout)}
    assert listed["mma-hello"]["registered"] == {"commands": ["hello"]}
    assert "hello" not in mma("--help").stdout  # help loads no plugin
    assert "'mma plugins' lists them" in mma("--help").stdout


def test_strict_mode_fails_fast(mma: Cli) -> None:
    for args in (["plugins"], ["export", "csv"], ["init"]):
        result = mma(*args, MMA_STRICT_PLUGINS="1")
        assert result.returncode != 0, args
        assert "plugin mma-broken is broken" in result.stderr
    assert not (mma.cwd / "mma.sqlite").exists()  # nothing ran


def test_disabled_plugin_is_listed_as_blocked(mma: Cli) -> None:
    result = mma("--json", "plugins", MMA_DISABLE_PLUGINS="mma-broken", MMA_STRICT_PLUGINS="1")
    assert result.returncode == 0, result.stderr
    plugins = {p["name"]: p for p in json.loads(result.stdout)}
    assert plugins["mma-broken"]["status"] == "blocked"


@pytest.fixture
def filled(mma: Cli) -> Cli:
    with Programme.open(mma.store) as prog:
        campaign(prog)
        prog.change_offer_terms(
            "1298348/1298354",
            on=date(2019, 10, 18),
            terms=Terms(connection_fee=Money("1500.00"), report_fee=Money("25.00")),
            by="cdk",
        )
        prog.accept("GM0358", on=date(2019, 11, 5), by="burgemeester")
        prog.connect("GM0358", on=date(2019, 12, 2), by="coordinator")
        prog.record_report(
            "GM0358",
            received_on=date(2020, 2, 3),
            category="fraude",
            reference="MMA-20-0001",
            by="mma",
        )
    return mma


def test_export_csv_and_jsonl(filled: Cli) -> None:
    out = filled.cwd / "ledger.csv"
    result = filled("export", "csv", "--view", "ledger", "-o", str(out))
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [(r["code"], r["kind"], r["amount"]) for r in rows] == [
        ("GM0363", "connection", "0.00"),
        ("GM0358", "connection", "1500.00"),
        ("GM0358", "report_fee", "25.00"),
    ]
    assert rows[1]["tariff_id"] == "offer:1298348/1298354"
    lines = filled("export", "jsonl", "--view", "roster").stdout.splitlines()
    (official,) = [json.loads(line) for line in lines]
    assert official["session_id"] == "2019-11-06"
    assert official["session_date"] == "2019-11-06"
    events = filled("export", "jsonl", "--view", "events").stdout.splitlines()
    assert len(events) > 50
    assert "jan.jansen" not in "".join(events)  # personal data never in the event view
    unknown = filled("export", "pdf")
    assert unknown.returncode == 1
    assert "no exporter for format 'pdf'; available: csv, " in unknown.stderr
    assert "jsonl" in unknown.stderr
    assert filled("export", "csv", "--view", "nope").returncode == 1


def test_costs(filled: Cli) -> None:
    result = filled("--json", "costs", "--by-municipality")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["total"] == "1525.00"
    assert summary["by_payer"] == {"municipality": "25.00", "province": "1500.00"}
    assert [m["code"] for m in summary["municipalities"]] == ["GM0358", "GM0363"]
    before = json.loads(filled("--json", "costs", "--as-of", "2019-12-01").stdout)
    assert before["total"] == "0.00"
    assert "paid by the province: €1,500.00" in filled("costs").stdout


def test_notify_and_dead_letters(filled: Cli) -> None:
    config = filled.cwd / "mma.toml"
    config.write_text('[delivery]\nchannels = ["log", "fax"]\nmax_attempts = 1\n')
    result = filled("--json", "notify")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["delivered"] == report["dead"] > 0
    failed = json.loads(filled("--json", "notify", "--failed").stdout)
    assert {row["channel"] for row in failed} == {"fax"}
    assert "no notifier is registered for channel 'fax'" in failed[0]["last_error"]
    config.write_text('[delivery]\nchannels = ["log"]\n')
    retried = json.loads(filled("--json", "notify", "--retry").stdout)
    assert retried["retried"] == len(failed)
    # Still no fax notifier: tried again, kept for a later retry (five attempts by default).
    assert retried["failed"] == len(failed)
    assert "No dead letters." in filled("notify", "--failed").stdout


def test_programme_for_cli_commands_uses_the_configured_calculators(tmp_path: Path) -> None:
    import click

    from mma_core.cli.plugin_commands import programme

    store = f"sqlite:///{tmp_path / 'mma.sqlite'}"
    good, bad = tmp_path / "good.toml", tmp_path / "bad.toml"
    good.write_text('[costs]\nconnection = "offer-terms"\n')
    bad.write_text('[costs]\nconnection = "no-such-tariff"\n')
    with programme(store, origin="cli", config_file=str(good)) as prog:
        assert prog.origin == "cli"
        assert {c.name for c in prog.cost_calculators.values()} == {"offer-terms"}
    with pytest.raises(click.exceptions.Exit):
        programme(store, config_file=str(bad))  # never charge by a tariff that is not there


def test_a_failing_exporter_leaves_no_file(tmp_path: Path) -> None:
    from typing import IO

    from click.testing import CliRunner

    from mma_core.cli import plugin_commands as plugin_cli
    from mma_core.extensions.exporting import ExportSource
    from mma_core.extensions.hookspecs import hookimpl
    from mma_core.extensions.plugins import load_plugins

    class HalfWay:
        format = "halfway"
        suffix = ".txt"
        views = ("status",)

        def export(self, source: ExportSource, view: str | None, out: IO[bytes]) -> None:
            out.write(b"the first half of a secret@example.org ...")
            raise RuntimeError("secret@example.org broke it")

    class Plugin:
        @hookimpl
        def mma_register_exporters(self, register: object) -> None:
            register(HalfWay())  # type: ignore[operator]

    store = f"sqlite:///{tmp_path / 'mma.sqlite'}"
    plugins = load_plugins(env={}, entry_points=[])
    plugins.register(Plugin(), "halfway")
    plugin_cli._LOADED[(store, None)] = plugins
    target = tmp_path / "out.txt"
    try:
        result = CliRunner().invoke(
            plugin_cli.standalone, ["--store", store, "export", "halfway", "-o", str(target)]
        )
    finally:
        del plugin_cli._LOADED[(store, None)]
    assert result.exit_code == 1
    assert "the halfway exporter failed (RuntimeError); nothing was written" in result.output
    assert "secret" not in result.output
    assert not target.exists()
    assert list(tmp_path.glob("*.partial")) == []
