"""The ``mma`` CLI as a user runs it: a subprocess on an SQLite file, checked through Programme."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import click
import pytest

from mma_core import Money, Programme, Stage
from mma_core.language.i18n import language

if TYPE_CHECKING:
    from conftest import Mma  # the fixture's type; fixtures come from tests/e2e/conftest.py

OFFER = "1298348/1298354"
ACTOR = "tester"  # MMA_ACTOR as the fixture sets it


def eur(amount: str) -> str:
    """An amount as babel writes it for en_GB (the suite runs with MMA_LANG=en)."""
    return f"€{amount}"


# -- happy paths --------------------------------------------------------------------------


def test_a_municipality_goes_through_its_whole_lifecycle(mma: Mma) -> None:
    assert "49 municipalities" in mma.ok("init")
    assert eur("2,000.00") in mma.ok(
        "offer",
        "--reference",
        OFFER,
        "--sent-on",
        "2019-10-18",
        "--connection-fee",
        "2000.00",
        "--report-fee",
        "22.50",
    )
    mma.ok(
        "training",
        "schedule",
        "2019-11-06",
        "--starts-at",
        "2019-11-06T10:00",
        "--ends-at",
        "2019-11-06T12:30",
        "--location",
        "Provinciehuis, Dreef 3, Haarlem",
        "--capacity",
        "40",
    )
    assert "Invited 47" in mma.ok("invite", "--all", "--on", "2019-10-18", "--reference", OFFER)
    out = mma.ok("accept", "GM0363", "--on", "2019-11-01")
    assert "GM0363 Amsterdam" in out
    assert "1 November 2019" in out
    oid = mma.ok(
        "official",
        "add",
        "GM0363",
        "--name",
        "Anna Oov",
        "--email",
        "anna@ams.example",
        "--on",
        "2019-11-01",
    ).strip()
    assert oid == "GM0363-1"
    mma.ok(
        "training",
        "book",
        "GM0363",
        "--official",
        oid,
        "--session",
        "2019-11-06",
        "--on",
        "2019-11-02",
    )
    mma.ok(
        "training", "attend", "GM0363", "--official", oid, "--session", "2019-11-06", "--attended"
    )
    listing = mma.ok("training", "list")
    assert "2019-11-06" in listing
    assert "6 November 2019" in listing
    assert "10:00–12:30" in listing
    mma.ok("connect", "GM0363", "--on", "2019-12-01")
    mma.ok(
        "report",
        "GM0363",
        "--received-on",
        "2020-02-03",
        "--category",
        "sociale zekerheid",
        "--reference",
        "MMA-20-00001",
    )
    mma.ok(
        "evaluate",
        "GM0363",
        "--on",
        "2020-11-20",
        "--outcome",
        "continue",
        "--recovered",
        "12000.00",
        "--notes",
        "useful",
    )
    mma.ok("renew", "GM0363", "--on", "2020-12-01")
    mma.ok("terminate", "GM0363", "--on", "2021-06-01", "--reason", "budget")

    with mma.programme() as prog:
        m = prog.municipality("GM0363")
        sessions = prog.sessions()
        history = prog.history("GM0363")
    assert m.stage is Stage.STOPPED
    assert m.invited_on == date(2019, 10, 18)
    assert m.connected_on == date(2019, 12, 1)
    assert m.reports_received == 1
    assert m.renewals == (date(2020, 12, 1),)
    assert m.terminated_on == date(2021, 6, 1)
    assert m.costs_province == Money("2000.00")
    assert m.costs_municipality == Money("22.50")
    assert m.officials[0].attended is True
    assert m.officials[0].name == "Anna Oov"
    assert sessions[0].booked == (oid,)
    assert sessions[0].capacity == 40
    recorded = [e for e in history if e.type != "Registered"]
    assert {e.origin for e in recorded} == {"cli"}
    assert {e.by for e in recorded} == {ACTOR}


def test_a_declined_municipality_that_was_connected_before_accepts_and_is_compensated(
    invited: Mma,
) -> None:
    invited.ok("decline", "GM0479", "--on", "2019-10-25", "--reason", "already connected")
    invited.ok(
        "prior-connection",
        "GM0479",
        "--connected-on",
        "2018-03-01",
        "--costs",
        "1750.00",
        "--on",
        "2019-10-26",
    )
    out = invited.ok("accept", "GM0479", "--on", "2019-11-04")
    assert "now connected" in out
    with invited.programme() as prog:
        m = prog.municipality("GM0479")
    assert m.stage is Stage.CONNECTED
    assert m.connection_kind == "prior"
    assert m.declined_on == date(2019, 10, 25)
    assert m.prior_connected_on == date(2018, 3, 1)
    assert m.costs_province == Money("1750.00")  # the compensation, no connection fee


def test_invite_by_code_invites_only_those(mma: Mma) -> None:
    mma.ok("init")
    mma.ok("offer", "--reference", OFFER, "--sent-on", "2019-10-18")
    out = mma.ok("invite", "GM0358", "gm0361", "--on", "2019-10-20", "--reference", OFFER)
    assert "Invited 2" in out
    with mma.programme() as prog:
        overview = prog.overview(as_of=date(2019, 10, 21))
    assert overview.by_stage["invited"] == 2
    assert overview.by_stage["registered"] == 45


def test_merge_connects_a_successor_by_succession(invited: Mma) -> None:
    invited.connect("GM0398")
    out = invited.ok("merge", "GM0398", "--into", "GM1980", "--on", "2022-01-01")
    assert "merged into GM1980 Dijk en Waard" in out
    with invited.programme() as prog:
        successor = prog.municipality("GM1980")
        absorbed = prog.municipality("GM0398")
    assert absorbed.stage is Stage.MERGED
    assert absorbed.successor == "GM1980"
    assert successor.stage is Stage.CONNECTED
    assert successor.connection_kind == "succession"
    assert successor.costs_province == Money("0.00")  # no new connection fee


def test_officials_are_capped_withdrawn_and_erased(invited: Mma) -> None:
    first = invited.ok(
        "official",
        "add",
        "GM0392",
        "--name",
        "Piet Geheim",
        "--email",
        "piet@haarlem.example",
        "--on",
        "2019-10-20",
    ).strip()
    invited.ok("official", "add", "GM0392", "--name", "Two", "--email", "two@haarlem.example")
    before = invited.count()
    third = invited("official", "add", "GM0392", "--name", "Three", "--email", "3@haarlem.example")
    assert third.returncode == 1
    assert "GM0392 Haarlem" in third.stderr
    assert "Three" not in third.stderr  # no personal data in an error message
    assert invited.count() == before

    invited.ok("official", "withdraw", first, "--on", "2019-11-01")
    invited.ok("official", "erase", first)
    history = invited.ok("history", "GM0392")
    assert "[erased]" in history
    assert "Piet Geheim" not in history
    assert "piet@haarlem.example" not in history
    with invited.programme() as prog:
        officials = {o.id: o for o in prog.municipality("GM0392").officials}
    assert officials[first].erased
    assert not officials[first].active
    assert officials["GM0392-2"].active


def test_the_actor_comes_from_by_then_mma_actor(invited: Mma) -> None:
    invited.ok("--by", "burgemeester", "accept", "GM0358", "--on", "2019-11-01")
    # A real process: the actor comes from its environment.
    result = invited.real("decline", "GM0361", "--on", "2019-11-01", env={"MMA_ACTOR": "wethouder"})
    assert result.returncode == 0, result.stderr
    with invited.programme() as prog:
        assert prog.history("GM0358")[-1].by == "burgemeester"
        assert prog.history("GM0361")[-1].by == "wethouder"


# -- errors write nothing ----------------------------------------------------------------

RULE_VIOLATIONS = [
    pytest.param(
        ["connect", "GM0363", "--on", "2019-12-01"], "GM0363 Amsterdam", id="not-accepted"
    ),
    pytest.param(["accept", "GM0392", "--on", "2019-10-01"], "GM0392 Haarlem", id="backwards"),
    pytest.param(["accept", "GM0392", "--on", "2099-01-01"], "GM0392 Haarlem", id="future"),
    pytest.param(
        [
            "report",
            "GM0358",
            "--received-on",
            "2020-01-02",
            "--category",
            "fraude",
            "--reference",
            "MMA-20-9",
        ],
        "GM0358 Aalsmeer",
        id="report-not-connected",
    ),
    pytest.param(["accept", "GM9999", "--on", "2019-11-01"], "GM9999", id="unknown"),
    pytest.param(
        ["invite", "GM0363", "--on", "2019-10-20", "--reference", OFFER],
        "GM0363 Amsterdam",
        id="invited-twice",
    ),
    pytest.param(
        ["invite", "GM0393", "GM1980", "--on", "2019-10-20", "--reference", OFFER],
        "GM0393",
        id="batch-not-existing",
    ),
    pytest.param(
        ["evaluate", "GM0363", "--on", "2020-01-01", "--outcome", "stop"],
        "GM0363 Amsterdam",
        id="evaluate-not-connected",
    ),
    pytest.param(
        ["training", "book", "GM0363", "--official", "GM0363-1", "--session", "nope"],
        "nope",
        id="unknown-session",
    ),
]


@pytest.mark.parametrize(("args", "names"), RULE_VIOLATIONS)
def test_a_rule_violation_prints_one_line_exits_1_and_writes_nothing(
    invited: Mma, args: list[str], names: str
) -> None:
    before = invited.count()
    result = invited(*args)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert names in lines[0]
    assert invited.count() == before


def test_a_duplicate_report_is_refused_and_charged_once(invited: Mma) -> None:
    invited.connect("GM0363")
    report = [
        "report",
        "GM0363",
        "--received-on",
        "2020-01-02",
        "--category",
        "fraude",
        "--reference",
        "MMA-20-00001",
    ]
    invited.ok(*report)
    before = invited.count()
    result = invited(*report)
    assert result.returncode == 1
    assert "GM0363 Amsterdam" in result.stderr
    assert "MMA-20-00001" in result.stderr
    assert invited.count() == before


def test_a_failing_batch_invitation_invites_none(mma: Mma) -> None:
    mma.ok("init")
    mma.ok("offer", "--reference", OFFER, "--sent-on", "2019-10-18")
    mma.ok("invite", "GM0358", "--on", "2019-10-18", "--reference", OFFER)
    before = mma.count()
    result = mma("invite", "GM0361", "GM0358", "--on", "2019-10-18", "--reference", OFFER)
    assert result.returncode == 1
    assert "GM0358 Aalsmeer" in result.stderr
    assert mma.count() == before
    with mma.programme() as prog:
        assert prog.municipality("GM0361").stage is Stage.REGISTERED


USAGE_ERRORS = [
    pytest.param(["accept", "GM0363", "--on", "2019-02-30"], id="impossible-date"),
    pytest.param(["accept", "GM0363", "--on", "01-11-2019"], id="dutch-order"),
    pytest.param(["accept", "GM0363"], id="missing-date"),
    pytest.param(["status", "--as-of", "yesterday"], id="as-of"),
    pytest.param(["status", "--known-at", "2020-01-01"], id="known-at-without-time"),
    pytest.param(
        ["prior-connection", "GM0479", "--connected-on", "2018-03-01", "--costs", "1.750,00"],
        id="dutch-amount",
    ),
    pytest.param(
        [
            "report",
            "GM0363",
            "--received-on",
            "2020-01-02",
            "--category",
            "burenruzie",
            "--reference",
            "X",
        ],
        id="category",
    ),
    pytest.param(["evaluate", "GM0363", "--on", "2020-01-01", "--outcome", "maybe"], id="outcome"),
    pytest.param(
        ["training", "attend", "GM0363", "--official", "GM0363-1", "--session", "s"],
        id="attended-or-missed",
    ),
    pytest.param(["invite", "--on", "2019-10-18", "--reference", OFFER], id="invite-nobody"),
    pytest.param(
        ["invite", "GM0363", "--all", "--on", "2019-10-18", "--reference", OFFER], id="invite-both"
    ),
    pytest.param(["no-such-command"], id="command"),
]


@pytest.mark.parametrize("args", USAGE_ERRORS)
def test_a_usage_error_exits_2_and_writes_nothing(invited: Mma, args: list[str]) -> None:
    before = invited.count()
    result = invited(*args)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert invited.count() == before


def test_a_real_process_exits_1_or_2_with_one_message_on_stderr_only(invited: Mma) -> None:
    # The in-process tests above check every case; this is what a shell script sees.
    before = invited.count()
    broken = invited.real("connect", "GM0363", "--on", "2019-12-01")
    assert broken.returncode == 1
    assert broken.stdout == ""
    assert broken.stderr.startswith("error: ")
    assert len(broken.stderr.splitlines()) == 1
    usage = invited.real("accept", "GM0363", "--on", "01-11-2019")
    assert usage.returncode == 2
    assert usage.stdout == ""
    assert "01-11-2019" in usage.stderr
    assert "Traceback" not in usage.stderr
    assert invited.count() == before


def test_a_store_that_cannot_be_opened_is_one_line_and_exit_3(mma: Mma) -> None:
    # A real process: the exit status and the one line on stderr are what a script sees.
    result = mma.real("--store", f"sqlite:///{mma.cwd / 'no' / 'such' / 'dir.sqlite'}", "status")
    assert result.returncode == 3
    assert result.stderr.startswith("error: the store sqlite:///")
    assert len(result.stderr.splitlines()) == 1
    bad_scheme = mma("--store", "ftp://example.org/x", "status")
    assert bad_scheme.returncode == 1
    assert "ftp" in bad_scheme.stderr


# -- queries ------------------------------------------------------------------------------


def test_status_as_of_shows_stages_coverage_and_costs_of_that_day(invited: Mma) -> None:
    invited.connect("GM0363", on=date(2019, 12, 1))
    with invited.programme() as prog:
        prog.record_report(
            "GM0363",
            received_on=date(2020, 2, 3),
            category="fraude",
            reference="MMA-20-00001",
            by="seed",
        )
    before = invited.ok("status", "--as-of", "2019-11-30")
    assert "30 November 2019" in before
    assert "0 of 47 (0.0%)" in before
    after = invited.ok("status", "--as-of", "2020-06-30")
    assert "30 June 2020" in after
    assert "1 of 47 (2.1%)" in after
    assert eur("2,000.00") in after
    assert eur("22.50") in after
    assert "Open deadlines" in after


def test_status_known_at_shows_what_the_store_knew_then(invited: Mma) -> None:
    earlier = datetime.now().astimezone() - timedelta(seconds=1)  # before the connection below
    invited.connect("GM0363")
    then = json.loads(invited.ok("--json", "status", "--known-at", earlier.isoformat()))
    now = json.loads(invited.ok("--json", "status"))
    assert then["connected"] == 0
    assert now["connected"] == 1


def test_status_json_uses_iso_dates_and_decimal_strings(invited: Mma) -> None:
    invited.connect("GM0363")
    data = json.loads(invited.ok("--json", "status", "--as-of", "2021-06-01"))
    assert data["as_of"] == "2021-06-01"
    assert data["total"] == 47
    assert data["connected"] == 1
    assert Decimal(data["coverage"]) == Decimal("0.0213")
    assert data["costs_by_payer"]["province"] == "2000.00"
    assert data["by_stage"]["invited"] == 46
    overdue = [d for d in data["deadlines"] if d["code"] == "GM0363"]
    assert overdue == [
        {
            "code": "GM0363",
            "name": "Amsterdam",
            "kind": "evaluation",
            "due_on": "2020-12-01",
            "overdue": True,
        }
    ]
    amsterdam = next(m for m in data["municipalities"] if m["code"] == "GM0363")
    assert amsterdam["connected_on"] == "2019-12-01"
    assert "officials" not in amsterdam  # the status never carries personal data


def test_show_as_of_a_date_and_as_json(invited: Mma) -> None:
    invited.connect("GM0363")
    human = invited.ok("show", "GM0363", "--as-of", "2019-11-15")
    assert "GM0363 Amsterdam" in human
    assert "accepted" in human
    assert "1 November 2019" in human
    data = json.loads(invited.ok("--json", "show", "GM0363"))
    assert data["stage"] == "connected"
    assert data["connected_on"] == "2019-12-01"
    assert data["costs_province"] == "2000.00"
    assert data["evaluation_due"] == "2020-12-01"
    gone = invited("show", "GM1980", "--as-of", "2021-01-01")
    assert gone.returncode == 1
    assert "GM1980 Dijk en Waard" in gone.stderr


def test_history_prints_one_line_per_event_in_recorded_order(invited: Mma) -> None:
    invited.ok("accept", "GM0363", "--on", "2019-11-01")
    lines = invited.ok("history", "GM0363").splitlines()
    with invited.programme() as prog:
        entries = prog.history("GM0363")
    assert len(lines) == len(entries) == 3
    positions = [int(line.split()[0]) for line in lines]
    assert positions == sorted(positions) == [e.position for e in entries]
    registered, invitation, acceptance = lines
    assert " Registered " in registered
    assert " 2019-10-18 " in invitation
    assert " Invited " in invitation
    assert "by=seed" in invitation
    assert '"offer_reference": "1298348/1298354"' in invitation
    assert " 2019-11-01 " in acceptance
    assert f"by={ACTOR}" in acceptance
    assert "origin=cli" in acceptance
    as_json = json.loads(invited.ok("--json", "history", "GM0363"))
    assert [e["type"] for e in as_json] == ["Registered", "Invited", "Accepted"]
    assert as_json[2]["date"] == "2019-11-01"
    assert datetime.fromisoformat(as_json[2]["recorded_at"]).tzinfo is not None


@pytest.mark.parametrize(
    ("args", "key", "value"),
    [
        (["init"], "registry", "noord-holland-2019"),
        (["accept", "GM0363", "--on", "2019-11-01"], "stage", "accepted"),
        (
            ["official", "add", "GM0363", "--name", "N", "--email", "n@x.example"],
            "official_id",
            "GM0363-1",
        ),
        (["training", "list"], None, None),
    ],
)
def test_json_output_parses(invited: Mma, args: list[str], key: str | None, value: str) -> None:
    data = json.loads(invited.ok("--json", *args))
    if key is None:
        assert data[0]["session_id"] == "2019-11-06"
        assert data[0]["seats_left"] == 2
        assert data[0]["starts_at"].startswith("2019-11-06T10:00:00+01:00")
    else:
        assert data[key] == value


# -- the command itself -------------------------------------------------------------------


def test_every_command_has_help_with_an_example(mma: Mma) -> None:
    from mma_core.cli import cli, load_all

    load_all()
    # The real thing once; the texts themselves are checked in-process.
    top = mma.real("--help")
    assert top.returncode == 0, top.stderr
    for name, command in cli.commands.items():
        # A plugin's command (this process may have loaded one) is added on first use, never
        # to the help: only mma_core's own commands are listed there.
        if command.callback is None or command.callback.__module__.startswith("mma_core."):
            assert name in top.stdout, name
    assert set(cli.commands) >= TOP_LEVEL
    for name, command in _leaves(cli):
        with click.Context(command, info_name=name) as ctx, language("en"):
            assert "Example" in command.get_help(ctx), name


def test_the_command_index_is_current() -> None:
    """``mma --help`` lists the commands from ``cli/index.py`` without importing them: the
    index holds each command, its module and its help exactly as loading them gives."""
    sys.path.insert(0, str(Path(__file__).parents[2] / "tools"))
    try:
        import cli_index
    finally:
        sys.path.pop(0)
    from mma_core.cli.index import COMMANDS

    assert cli_index.computed() == COMMANDS, "run: python tools/cli_index.py"


def test_a_command_loads_its_module_only_when_asked_for() -> None:
    code = (
        "import sys, json\n"
        "from mma_core.cli import cli\n"
        "try:\n"
        "    cli(['--lang', 'en', 'history', '--help'], prog_name='mma')\n"
        "except SystemExit:\n"
        "    pass\n"
        "mods = ['mma_core.cli.queries', 'mma_core.cli.training', 'mma_core.audit.cli']\n"
        "print(json.dumps({m: m in sys.modules for m in mods}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded == {
        "mma_core.cli.queries": True,
        "mma_core.cli.training": False,
        "mma_core.audit.cli": False,
    }


def _leaves(group: click.Group, prefix: str = "mma") -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found += _leaves(command, f"{prefix} {name}")
        elif name in BUILT_IN:
            found.append((f"{prefix} {name}", command))
    return found


# The built-in commands at the top level, and (BUILT_IN) the names of every built-in leaf.
TOP_LEVEL = {
    "init",
    "offer",
    "invite",
    "accept",
    "decline",
    "prior-connection",
    "connect",
    "report",
    "evaluate",
    "renew",
    "terminate",
    "merge",
    "status",
    "show",
    "history",
    "demo",
    "training",
    "official",
}
BUILT_IN = (TOP_LEVEL - {"training", "official"}) | {
    "schedule",
    "book",
    "attend",
    "list",
    "add",
    "withdraw",
    "erase",
}


def test_the_console_script_runs(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("mma")
    if not script.exists():
        pytest.skip("the mma console script is not installed next to this interpreter")
    result = subprocess.run(
        [str(script), "--version"], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert result.returncode == 0
    assert "0." in result.stdout


def test_extensions_register_and_only_a_missing_module_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mma_core import cli as mma_cli

    group = click.Group()
    extension = types.ModuleType("mma_test_extension")

    def register(cli: click.Group) -> None:
        cli.add_command(click.Command("hello", callback=lambda: None))

    extension.register = register  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "mma_test_extension", extension)
    (tmp_path / "mma_test_broken.py").write_text("import mma_no_such_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))

    monkeypatch.setattr(mma_cli, "EXTENSIONS", ("mma_test_missing.cli", "mma_test_extension"))
    mma_cli._register_extensions(group)
    assert "hello" in group.commands

    monkeypatch.setattr(mma_cli, "EXTENSIONS", ("mma_test_broken",))
    with pytest.raises(ModuleNotFoundError, match="mma_no_such_dependency"):
        mma_cli._register_extensions(group)


def test_cli_commands_price_with_the_calculator_mma_toml_selects(invited: Mma) -> None:
    # The mma-costs plugin is installed like any third-party plugin; mma.toml next to the store
    # picks its Fryslân profile for connections. The event must name that calculator.
    (invited.cwd / "mma.toml").write_text('[costs]\nconnection = "fryslan-2022"\n')
    invited.ok("accept", "GM0363", "--on", "2019-11-01")
    invited.ok("connect", "GM0363", "--on", "2019-12-01")
    with invited.programme() as prog:
        costs = prog.municipality("GM0363", cost_lines=True).costs
    line = next(c.line for c in costs if c.line.kind == "connection")
    assert line.calculator == "fryslan-2022"
    assert line.amount == Money("4000.00")  # Amsterdam: 100,000 inhabitants or more


def test_cli_commands_obey_plugin_validators(invited: Mma) -> None:
    # Fryslân's 24-month minimum is a plugin validator: an early termination is refused with
    # exit 1 and nothing written, exactly like a built-in rule.
    (invited.cwd / "mma.toml").write_text('[costs]\nconnection = "fryslan-2022"\n')
    invited.ok("accept", "GM0363", "--on", "2019-11-01")
    invited.ok("connect", "GM0363", "--on", "2019-12-01")
    before = invited.count()
    result = invited("terminate", "GM0363", "--on", "2020-06-01")
    assert result.returncode == 1, result.stderr
    assert "GM0363" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert invited.count() == before


def test_history_json_pages_with_a_cursor(invited: Mma) -> None:
    """``mma --json history CODE --limit N`` is one page and the position of the next:
    following ``next`` reads every event once, in order, as the whole list has them."""
    whole = json.loads(invited.ok("--json", "history", "GM0363"))
    seen: list[int] = []
    after = "0"
    while True:
        page = json.loads(
            invited.ok("--json", "history", "GM0363", "--limit", "2", "--after", after)
        )
        assert len(page["events"]) <= 2
        seen += [e["position"] for e in page["events"]]
        if page["next"] is None:
            break
        after = str(page["next"])
    assert seen == [e["position"] for e in whole]


def test_official_add_reads_personal_data_from_a_prompt_or_a_file(
    invited: Mma, tmp_path: Path
) -> None:
    """Options put a name and an address in the process list and the shell's history; the
    prompt and --from FILE keep them out."""
    prompted = invited.real(
        "official", "add", "GM0392", "--on", "2019-10-20", input_text="Eva de Vries\neva@h.nl\n"
    )
    assert prompted.returncode == 0, prompted.stderr
    first = prompted.stdout.strip().splitlines()[-1]
    person = tmp_path / "official.txt"
    person.write_text("name: Piet Bakker\nemail: piet@h.nl\n", encoding="utf-8")
    from_file = invited.real("official", "add", "GM0392", "--from", str(person))
    assert from_file.returncode == 0, from_file.stderr
    second = from_file.stdout.strip()
    with Programme.open(invited.store) as prog:
        officials = {o.id: (o.name, o.email) for o in prog.municipality("GM0392").officials}
    assert officials == {first: ("Eva de Vries", "eva@h.nl"), second: ("Piet Bakker", "piet@h.nl")}
    person.write_text("name: Half\n", encoding="utf-8")
    before = invited.count()
    half = invited("official", "add", "GM0363", "--from", str(person))
    assert half.returncode == 2
    assert "missing: email" in half.stderr
    assert "Half" not in half.stderr
    both = invited("official", "add", "GM0363", "--from", str(person), "--name", "X")
    assert both.returncode == 2
    assert invited.count() == before
