"""The auditors' independent replay (tools/replay_export.py) applies corrections: after facts
are retracted and corrected, it agrees with ``mma --json status`` on every municipality's stage
and costs, on days before, between and after the amended dates."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from audit_helpers import ROOT, export_url
from test_audit_catalogue import load

from mma_core import Money, Programme, Terms
from mma_core.audit import checkpoint as notes

MMA = (sys.executable, "-m", "mma_core.cli")
REPLAY = ROOT / "tools" / "replay_export.py"
OFFER = "1298348/1298354"
TERMS = Terms(connection_fee=Money("1500.00"), report_fee=Money("22.50"))


def positions(prog: Programme, code: str, kind: str) -> list[int]:
    return [e.position for e in prog.history(code) if e.type == kind]


def corrected_store(url: str) -> None:
    with Programme.open(url) as prog:
        prog.register_registry("noord-holland-2019", by="c")
        prog.make_offer(reference=OFFER, sent_on=date(2019, 10, 18), terms=TERMS, by="cdk")
        for n, code in enumerate(("GM0363", "GM0457", "GM0392", "GM0394")):
            prog.invite(code, on=date(2019, 10, 18), reference=OFFER, by="cdk")
            prog.accept(code, on=date(2019, 11, 1), by="b")
            prog.connect(code, on=date(2019, 12, 1), by="c")
            for i in range(4):
                prog.record_report(
                    code,
                    received_on=date(2020, 1, 1) + timedelta(days=30 * i),
                    category="woonfraude",
                    reference=f"MMA-20-{n}{i:03d}",
                    by="c",
                )
        prog.terminate("GM0394", on=date(2021, 1, 1), reason="budget", by="b")
        prog.merge("GM0457", into="GM0363", on=date(2022, 3, 24), by="c")
        # a report retracted, one moved past the middle day, a connection moved, a
        # termination and a merger retracted, a connection date corrected on Haarlem
        prog.retract(positions(prog, "GM0363", "ReportReceived")[1], reason="x", by="c")
        prog.correct(
            positions(prog, "GM0363", "ReportReceived")[0],
            received_on=date(2020, 9, 1),
            reason="date typo",
            by="c",
        )
        prog.retract(positions(prog, "GM0394", "Terminated")[0], reason="x", by="c")
        prog.retract(positions(prog, "GM0457", "Merged")[0], reason="x", by="c")
        prog.correct(
            positions(prog, "GM0392", "ReportReceived")[3],
            category="drugsdelicten",
            reason="misfiled",
            by="c",
        )
        prog.retract(positions(prog, "GM0392", "ReportReceived")[3], reason="x", by="c")


def status(url: str, day: date) -> dict[str, tuple[str, Decimal, Decimal]]:
    done = subprocess.run(
        [*MMA, "--store", url, "--json", "status", "--as-of", day.isoformat()],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "MMA_LANG": "en"},
    )
    return {
        m["code"]: (m["stage"], Decimal(m["costs_province"]), Decimal(m["costs_municipality"]))
        for m in json.loads(done.stdout)["municipalities"]
    }


def test_the_replay_applies_corrections_and_agrees_with_status(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    corrected_store(url)
    export = tmp_path / "export"
    export_url(url, export, notes.generate_key("corrections"))
    replay = load(REPLAY)
    for day in (date(2020, 2, 15), date(2020, 10, 1), date(2022, 6, 1)):
        got = {
            m.code: (m.stage, m.costs["province"], m.costs["municipality"])
            for m in replay.replay(export, day)
        }
        expected = status(url, day)
        assert got == expected, day
    # the amendments changed what the replay sees: the moved report is out before its day
    early = {m.code: m for m in replay.replay(export, date(2020, 2, 15))}
    assert early["GM0363"].costs["municipality"] == Decimal("0")  # one retracted, one moved
    assert early["GM0457"].stage == "connected"
