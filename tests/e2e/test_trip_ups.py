"""What a new coordinator tripped over, each fixed and kept fixed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import Mma  # the fixture's type; fixtures come from tests/e2e/conftest.py


ROOT = Path(__file__).resolve().parents[2]


def test_prior_connection_says_the_connection_date_as_such(invited: Mma) -> None:
    out = invited.ok(
        "prior-connection", "GM0479", "--connected-on", "2018-03-01", "--costs", "2000.00"
    )
    assert "connected since 1 March 2018" in out
    assert "on 1 March 2018" not in out


def test_booking_an_official_nominated_after_the_session_says_how_to_fix_it(
    invited: Mma,
) -> None:
    invited.connect("GM0363")
    out = invited.ok("official", "add", "GM0363", "--name", "A B", "--email", "a@b.example")
    assert "GM0363-1" in out
    done = invited(
        "training",
        "book",
        "GM0363",
        "--official",
        "GM0363-1",
        "--session",
        "2019-11-06",
        "--on",
        "2019-11-01",
    )
    assert done.returncode == 1
    assert "after the session on 2019-11-06" in done.stderr
    assert "nominate them again with the day of the nomination" in done.stderr
    assert "A B" not in done.stderr  # no personal data in an error
    # The way out works: withdraw, nominate with the real day, book.
    invited.ok("official", "withdraw", "GM0363-1")
    invited.ok(
        "official", "add", "GM0363", "--name", "A B", "--email", "a@b.example", "--on", "2019-10-30"
    )
    invited.ok(
        "training",
        "book",
        "GM0363",
        "--official",
        "GM0363-2",
        "--session",
        "2019-11-06",
        "--on",
        "2019-11-01",
    )


def test_the_funnel_as_of_a_day_keeps_a_municipality_that_stopped_since(invited: Mma) -> None:
    invited.connect("GM0358")
    invited.connect("GM0361")
    with invited.programme() as prog:
        prog.evaluate("GM0358", on=date(2020, 11, 20), outcome="stop", by="t")
        prog.terminate("GM0358", on=date(2020, 12, 1), by="t")
    before = json.loads(invited.ok("--json", "status", "--as-of", "2020-11-30"))
    after = json.loads(invited.ok("--json", "status", "--as-of", "2020-12-31"))
    assert before["funnel"]["connected"] == 2
    assert after["funnel"]["connected"] == 2  # it got connected; it stopped later
    assert after["funnel"]["accepted"] == 2
    assert after["by_stage"]["connected"] == 1  # who is connected now
    assert after["by_stage"]["stopped"] == 1


def test_a_postgresql_store_without_the_driver_is_one_line(tmp_path: Path) -> None:
    # A psycopg that cannot be imported, ahead of the real one: as after 'pip install mma-core'.
    fake = tmp_path / "no-driver" / "psycopg"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError(\"No module named 'psycopg'\")\n")
    env = {**os.environ, "PYTHONPATH": str(fake.parent)}
    done = subprocess.run(
        [sys.executable, "-m", "mma_core.cli", "--store", "postgresql://u@127.0.0.1/x", "status"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "pip install 'mma-core[postgres]'" in lines[0]
    assert "Traceback" not in done.stderr


def test_getting_started_says_how_to_put_mma_on_the_path() -> None:
    for page in (ROOT / "docs" / "getting-started.md", ROOT / "README.md"):
        text = page.read_text(encoding="utf-8")
        demo = text.index("make demo")
        activate = text.index(". .venv/bin/activate")
        assert activate > demo, page.name
        first_bare = text.find("\nmma ", demo)
        assert first_bare == -1 or first_bare > activate, page.name


def test_errors_never_name_python_functions(mma: Mma) -> None:
    import inspect
    import re

    from mma_core import Programme

    # The modules Programme is put together from (its commands and queries).
    parts = {inspect.getfile(c) for c in Programme.__mro__ if c.__module__.startswith("mma_core")}
    source = "\n".join(Path(p).read_text(encoding="utf-8") for p in sorted(parts))
    public = {
        name for name in re.findall(r"    def ([a-z]\w+)\(", source) if "_" in name
    }  # register_registry, change_offer_terms, ...
    # Sentences only, outside docstrings and comments: a bare name such as a command's name for
    # validators is not a message.
    code = re.sub(r'"""[\s\S]*?"""|#[^\n]*', "", source)
    # (A command-line option for a server, such as "-c lock_timeout=...", is not a message.)
    messages = " ".join(
        m for m in re.findall(r'f?"([^"]*)"', code) if " " in m and not m.startswith("-")
    )
    named = sorted(n for n in public if re.search(rf"\b{n}\b", messages))
    assert named == [], named
    done = mma("invite", "GM0363", "--on", "2019-10-18", "--reference", "X")
    assert done.returncode == 1
    assert "make_offer" not in done.stderr
    assert "'mma offer'" in done.stderr
