"""The html exporter through ``mma export``: one self-contained file, Dutch by default, English
on request, as of a day, no personal data."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from mma_export_html.exporter import render
from mma_export_html.report import gather, month_ends

from mma_core import Programme

# The demo's officials are "Ambtenaar N <municipality>" with "oovN@<municipality>.example".
NAMES = re.compile(r"Ambtenaar \d|oov\d@|\.example")


def export(store: str, target: Path, *args: str, lang: str | None = None) -> str:
    env = {**os.environ, "MMA_STORE": store}
    env.pop("MMA_REPORT_LANG", None)
    if lang is not None:
        env["MMA_REPORT_LANG"] = lang
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "mma_core.cli", "export", "html", "-o", str(target), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return target.read_text(encoding="utf-8")


def test_the_report_is_one_self_contained_dutch_file(demo_url: str, tmp_path: Path) -> None:
    html = export(demo_url, tmp_path / "report.html")
    assert html.startswith("<!DOCTYPE html>")
    assert html.count('<svg class="chart"') == 5
    for forbidden in ("<script", "<link", "<img", "@import", "<iframe"):
        assert forbidden not in html
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", html)
    assert not re.search(r"url\((?!#)", html)  # only references inside an SVG
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))  # five SVGs in one document, no clashing ids
    assert "Aansluiting op Meld Misdaad Anoniem" in html
    assert "18 oktober 2019" in html
    assert re.search(r"€\xa0\d{1,3}(\.\d{3})*,\d{2}", html)  # € 1.234,50
    assert "Bloemendaal" in html
    assert not NAMES.search(html)


def test_english_and_as_of(demo_url: str, tmp_path: Path) -> None:
    html = export(demo_url, tmp_path / "en.html", "--as-of", "2019-12-31", lang="en")
    assert "Programme status on 31 December 2019" in html
    assert "Offer sent on 18 October 2019" in html
    assert re.search(r"€\d{1,3}(,\d{3})*\.\d{2}", html)
    with Programme.open(demo_url) as prog:
        report = gather(prog, None)
        then = gather(prog, report.offer_on)
        assert then.months[-1].connected == 0
        assert report.months[-1].connected == report.overview.connected
        assert render(prog, None, "nl").count("<svg") == 5


def test_month_ends() -> None:
    from datetime import date

    assert month_ends(date(2019, 10, 18), date(2020, 1, 10)) == [
        date(2019, 10, 31),
        date(2019, 11, 30),
        date(2019, 12, 31),
        date(2020, 1, 10),
    ]


def test_an_unknown_language_is_one_line_and_writes_nothing(demo_url: str, tmp_path: Path) -> None:
    target = tmp_path / "xx.html"
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "mma_core.cli", "export", "html", "-o", str(target)],
        env={**os.environ, "MMA_STORE": demo_url, "MMA_REPORT_LANG": "xx"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("error: report language 'xx'")
    assert not target.exists()


def test_lang_option_and_shareable_file_mode(demo_url: str, tmp_path: Path) -> None:
    html = export(demo_url, tmp_path / "en.html", "--as-of", "2019-12-31", "--lang", "en")
    assert "Programme status on 31 December 2019" in html
    # A report is meant to be e-mailed: the usual permissions, not mkstemp's private 0600.
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "en.html").stat().st_mode & 0o777 == 0o666 & ~umask


def test_training_table_counts_the_absent_who_booked_again(demo_url: str) -> None:
    # The demo's officials who missed a session booked the last one: the session they missed
    # still counts them as absent, and the one they attended as present.
    with Programme.open(demo_url) as prog:
        report = gather(prog, None)
        recorded: dict[tuple[str, bool], int] = {}
        for code in prog.codes():
            for e in prog.history(code):
                if e.type == "AttendanceRecorded":
                    key = (e.data["session_id"], bool(e.data["attended"]))
                    recorded[key] = recorded.get(key, 0) + 1
    assert sum(n for (_, came), n in recorded.items() if not came) > 0
    for o in report.occupancy:
        sid = o.session.session_id
        assert (o.attended, o.missed) == (
            recorded.get((sid, True), 0),
            recorded.get((sid, False), 0),
        )


def test_the_map_draws_the_boundaries_of_the_day(demo_url: str) -> None:
    from datetime import date

    from mma_core.plugin_api import outlines

    layers = outlines().layers
    assert len(layers["2019"]) == 47
    assert "GM1980" in layers["2022"]
    with Programme.open(demo_url) as prog:
        before = gather(prog, date(2020, 6, 30))
        after = gather(prog, date(2023, 6, 1))
    assert {a.code for a in before.areas} == {r.code for r in before.records}
    assert len(before.areas) == 47
    assert "GM0398" in {a.code for a in before.areas}  # Heerhugowaard, before Dijk en Waard
    codes_after = {a.code for a in after.areas}
    assert len(codes_after) == 44
    assert "GM1980" in codes_after
    assert not codes_after & {"GM0370", "GM0398", "GM0416", "GM0457"}
    amsterdam = next(a for a in after.areas if a.code == "GM0363")
    weesp = layers["2022"]["GM0457"]
    assert all(ring in amsterdam.rings for ring in weesp)  # Weesp is part of Amsterdam now
    stages = {a.code: a.stage for a in after.areas}
    assert stages == {r.code: r.stage.value for r in after.records}


def test_month_ticks_never_crowd() -> None:
    from datetime import date

    from mma_export_html.charts import MAX_MONTH_LABELS, month_ticks

    for first, last in (
        (date(2019, 10, 31), date(2020, 6, 30)),
        (date(2019, 10, 31), date(2026, 11, 30)),
    ):
        ends = month_ends(first, last)
        ticks = month_ticks(ends)
        assert 2 <= len(ticks) <= MAX_MONTH_LABELS
        assert ticks == sorted(set(ticks))
