"""``mma retract`` and ``mma correct`` on a copy of the demo store: what they show, what they
refuse (writing nothing), and what the figures say afterwards."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from e2e.conftest import Mma

CODE = "GM0363"


@pytest.fixture
def demo(demo_copy: str, tmp_path: Path) -> Mma:
    return Mma(store=demo_copy, cwd=tmp_path)


def _history(mma: Mma, code: str = CODE) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = json.loads(mma.ok("--json", "history", code))
    return entries


def _last(mma: Mma, kind: str, code: str = CODE) -> dict[str, Any]:
    return [e for e in _history(mma, code) if e["type"] == kind][-1]


def _status(mma: Mma, *args: str) -> dict[str, Any]:
    status: dict[str, Any] = json.loads(mma.ok("--json", "status", *args))
    return status


def _figures(status: dict[str, Any], code: str = CODE) -> tuple[int, str, str]:
    """The municipality's reports and costs, and what the municipalities paid in all."""
    row = next(m for m in status["municipalities"] if m["code"] == code)
    return (
        row["reports_received"],
        row["costs_municipality"],
        status["costs_by_payer"]["municipality"],
    )


def test_retracting_a_report_lowers_the_figures_and_frees_its_reference(demo: Mma) -> None:
    report = _last(demo, "ReportReceived")
    before = _status(demo)
    time.sleep(0.01)  # the demo's last events lie before the cut, the retraction after
    cut = datetime.now(UTC)
    time.sleep(0.01)
    shown = demo("retract", str(report["position"]), "--reason", "wrong municipality", "--yes")
    assert shown.returncode == 0, shown.stderr
    assert "ReportReceived" in shown.stdout
    assert report["data"]["reference"] in shown.stdout
    reports, costs, paid = _figures(before)
    fee = Decimal(report["data"]["fee"]["amount"])
    assert _figures(_status(demo)) == (
        reports - 1,
        str(Decimal(costs) - fee),
        str(Decimal(paid) - fee),
    )
    # As the store knew it before the retraction: the old figures.
    known = _status(demo, "--known-at", cut.isoformat())
    assert _figures(known) == (reports, costs, paid)
    # The reference is free again (recorded on a day after the renewal of 2020-11-21).
    demo.ok(
        *("report", "record", CODE, "--received-on", "2021-01-15"),
        *("--category", report["data"]["category"], "--reference", report["data"]["reference"]),
    )
    assert _figures(_status(demo))[0] == reports
    again = demo("retract", str(report["position"]), "--reason", "again", "--yes")
    assert again.returncode == 1
    assert "Traceback" not in again.stderr
    assert "error:" in again.stderr
    assert demo("audit", "verify").returncode == 0


def test_retract_json_and_without_yes_asks(demo: Mma) -> None:
    report = _last(demo, "ReportReceived")
    count = demo.count()
    asked = demo("retract", str(report["position"]), "--reason", "wrong")  # no answer: aborts
    assert asked.returncode != 0
    assert demo.count() == count
    done = demo("retract", str(report["position"]), "--reason", "wrong", "--yes", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["command"] == "retract"
    assert data["code"] == CODE
    assert data["fact"] == "ReportReceived"
    assert demo.count() > count


def test_retracting_a_connection_with_reports_is_refused(demo: Mma) -> None:
    code = next(
        m["code"]
        for m in _status(demo)["municipalities"]
        if m["connection_kind"] == "programme" and m["reports_received"] > 0
    )
    connected = _last(demo, "Connected", code)
    count = demo.count()
    refused = demo("retract", str(connected["position"]), "--reason", "never", "--yes")
    assert refused.returncode == 1
    assert "Traceback" not in refused.stderr
    assert refused.stderr.startswith(("error:", "fout:"))
    assert demo.count() == count


def test_correcting_a_reports_date_shows_in_history_and_as_of(demo: Mma) -> None:
    report = _last(demo, "ReportReceived")
    old = report["data"]["received_on"]
    new = "2021-01-15"  # after the renewal of 2020-11-21: a report is dated in a term
    shown = demo(
        *("correct", str(report["position"]), "--set", f"received_on={new}"),
        *("--reason", "date misread", "--yes"),
    )
    assert shown.returncode == 0, shown.stderr
    assert f"{old} → {new}" in shown.stdout
    restated = _last(demo, "FactRestated")
    assert restated["data"]["data"]["received_on"] == new
    entry = next(e for e in _history(demo) if e["position"] == report["position"])
    assert entry["corrected_by"] == {"position": restated["position"], "reason": "date misread"}
    assert restated["amends"] == report["position"]
    text = demo.ok("history", CODE)
    assert f"[amends position {report['position']}]" in text or "wijzigt positie" in text
    # As of the day before the new date the report is not there; on it, it is.
    day = date.fromisoformat(new)
    before_new = _figures(_status(demo, "--as-of", (day - timedelta(days=1)).isoformat()))
    on_new = _figures(_status(demo, "--as-of", new))
    assert on_new[0] == before_new[0] + 1
    assert demo("audit", "verify").returncode == 0


@pytest.mark.parametrize(
    ("args", "status"),
    [
        (("--set", "received_on=2020-06-15"), 2),  # no --reason: usage error
        (("--reason", "x"), 2),  # no --set
        (("--reason", "x", "--set", "colour=blue"), 1),  # not a field of a report
        (("--reason", "x", "--set", "received_on=yesterday"), 1),  # not a date
        (("--reason", "x", "--set", "received_on"), 2),  # not FIELD=VALUE
    ],
)
def test_a_bad_correction_is_refused_and_writes_nothing(
    demo: Mma, args: tuple[str, ...], status: int
) -> None:
    report = _last(demo, "ReportReceived")
    count = demo.count()
    refused = demo("correct", str(report["position"]), *args, "--yes")
    assert refused.returncode == status, refused.stdout + refused.stderr
    assert "Traceback" not in refused.stderr
    assert demo.count() == count


def test_unknown_position_and_merge_refusals_write_nothing(demo: Mma) -> None:
    count = demo.count()
    refused = demo("retract", "99999999", "--reason", "x", "--yes")
    assert refused.returncode == 1
    assert "Traceback" not in refused.stderr
    merge = demo("merge", "GM0441", "--into", "GM0363", "--on", "2022-03-24")
    assert merge.returncode == 1
    assert "Traceback" not in merge.stderr
    assert demo.count() == count
    assert demo("audit", "verify").returncode == 0


def test_retract_in_a_real_process_speaks_dutch(demo: Mma) -> None:
    report = _last(demo, "ReportReceived")
    done = demo.real(
        "--lang", "nl", "retract", str(report["position"]), "--reason", "fout", input_text="j\n"
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "Dit feit intrekken? [j/N]" in done.stdout
    assert f"het feit ReportReceived op positie {report['position']} is ingetrokken" in done.stdout
    again = demo.real("--lang", "nl", "retract", str(report["position"]), "--reason", "fout")
    assert again.returncode == 1
    assert again.stderr.startswith("fout: ")
    assert "al ingetrokken" in again.stderr


def test_a_refusal_comes_before_the_question_and_writes_nothing(demo: Mma) -> None:
    code = next(
        m["code"]
        for m in _status(demo)["municipalities"]
        if m["connection_kind"] == "programme" and m["reports_received"] > 0
    )
    connected = _last(demo, "Connected", code)
    count = demo.count()
    for args in (
        ("retract", str(connected["position"]), "--reason", "never"),
        ("correct", str(connected["position"]), "--set", "on=2030-01-01", "--reason", "x"),
    ):
        refused = demo.real(*args, "--json", input_text="")  # no --yes, nothing on stdin
        assert refused.returncode == 1, refused.stderr
        assert "[y/N]" not in refused.stderr + refused.stdout
        assert "Position" not in refused.stderr  # refused before the fact was shown and asked
        assert "Traceback" not in refused.stderr
        assert demo.count() == count
    refused = demo.real("retract", str(connected["position"]), "--reason", "never")
    # depends_on, with the positions of what rests on it (positions / posities)
    assert re.search(r"\(posi\w+ \d+", refused.stderr), refused.stderr
    # A trial that holds is discarded: the question still comes, and no answer writes nothing.
    report = _last(demo, "ReportReceived")
    asked = demo.real("retract", str(report["position"]), "--reason", "wrong", input_text="")
    assert asked.returncode != 0
    assert "[y/N]" in asked.stderr + asked.stdout
    assert demo.count() == count
