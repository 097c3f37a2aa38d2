"""The figures a coordinator reads: merged municipalities counted, the registry's count on the
offer's date, an ended municipality's end and successor, cost lines in date order, categories
in any case."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

from cli_runner import invoke
from mma_core import InvalidInput, Programme
from mma_core.domain.values import ReportCategory


def _run(url: str, tmp_path: Path, *args: str, lang: str = "nl") -> str:
    result = invoke(["--store", url, "--lang", lang, *args], env={"COLUMNS": "200"}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_status_counts_the_municipalities_merged_in_2022(demo_store: str, tmp_path: Path) -> None:
    text = _run(demo_store, tmp_path, "status")
    line = next(x for x in text.splitlines() if "nu gefuseerd" in x)
    assert re.search(r"nu gefuseerd \(niet in het totaal\)\s*│\s*4\s*│", line), line
    data = json.loads(_run(demo_store, tmp_path, "--json", "status"))
    assert data["merged_away"] == 4  # Beemster, Heerhugowaard, Langedijk, Weesp
    assert data["by_stage"]["merged"] == 0  # the stages count who exists: they sum to the total
    assert sum(data["by_stage"].values()) == data["total"]
    before = json.loads(_run(demo_store, tmp_path, "--json", "status", "--as-of", "2021-12-31"))
    assert before["merged_away"] == 0
    between = json.loads(_run(demo_store, tmp_path, "--json", "status", "--as-of", "2022-01-01"))
    assert between["merged_away"] == 3  # Weesp follows on 24 March 2022


def test_init_says_how_many_count_on_the_offers_date_and_which_stand_outside(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'x.sqlite'}"
    text = _run(url, tmp_path, "init")
    assert "49 gemeenten geregistreerd" in text
    assert "Op 18 oktober 2019 bestaan er daarvan 47; die tellen mee." in text
    assert "GM0393 Haarlemmerliede en Spaarnwoude is opgeheven op 31 december 2018" in text
    assert "(voortgezet door GM0394 Haarlemmermeer)" in text
    assert "GM1980 Dijk en Waard bestaat vanaf 1 januari 2022" in text
    data = json.loads(_run(url, tmp_path, "--json", "init", "--on", "2022-06-01"))
    assert data["counted"] == 44
    assert {o["code"] for o in data["outside"]} == {
        "GM0370",
        "GM0398",
        "GM0416",
        "GM0457",
        "GM0393",
    }
    bad = invoke(
        ["--store", url, "--lang", "nl", "init", "--on", "2019-02-30"], env={}, cwd=tmp_path
    )
    assert bad.returncode == 2
    assert "is geen datum" in bad.stderr


def test_show_of_an_ended_municipality_names_its_end_and_successor(
    demo_store: str, tmp_path: Path
) -> None:
    text = _run(demo_store, tmp_path, "show", "GM0393")
    assert "opgeheven op 31 december 2018" in text
    assert "voortgezet door GM0394 Haarlemmermeer" in text
    assert "geregistreerd" not in text
    earlier = _run(demo_store, tmp_path, "show", "GM0393", "--as-of", "2018-06-01")
    assert "opgeheven" not in earlier  # on a day it still existed, it simply stood registered
    data = json.loads(_run(demo_store, tmp_path, "--json", "show", "GM0393"))
    assert data["ended"] == {
        "on": "2018-12-31",
        "successor": "GM0394",
        "successor_name": "Haarlemmermeer",
    }
    assert json.loads(_run(demo_store, tmp_path, "--json", "show", "GM0363"))["ended"] is None


def test_cost_lines_stand_in_date_order(memory_programme: Programme) -> None:
    prog = memory_programme
    prog.register_registry("noord-holland-2019", by="c")
    from mma_core.domain.values import Money, Terms

    terms = Terms(connection_fee=Money("2000.00"), report_fee=Money("22.50"))
    prog.make_offer(reference="1298348/1298354", sent_on=date(2019, 10, 18), by="c", terms=terms)
    prog.invite("GM0363", on=date(2019, 10, 18), reference="1298348/1298354", by="c")
    prog.accept("GM0363", on=date(2019, 11, 1), by="c")
    prog.connect("GM0363", on=date(2019, 12, 1), by="c")
    prog.record_report(
        "GM0363", received_on=date(2020, 3, 1), category="Fraude", reference="MMA-1", by="c"
    )
    # Recorded later, but received earlier: it stands before the March report.
    prog.record_report(
        "GM0363", received_on=date(2020, 2, 1), category="fraude", reference="MMA-2", by="c"
    )
    days = [e.on for e in prog.municipality("GM0363", cost_lines=True).costs]
    assert days == sorted(days)
    assert days[1] == date(2020, 2, 1)


def test_a_category_in_another_case_is_read_as_its_canonical_form(
    demo_copy: str, tmp_path: Path
) -> None:
    assert ReportCategory("Fraude").value == "fraude"
    assert ReportCategory(" Illegaal  Vuurwerk ").value == "illegaal vuurwerk"
    try:
        ReportCategory("fraud")
    except InvalidInput:
        pass
    else:
        raise AssertionError("an unknown category was stored")
    file = tmp_path / "meldingen.csv"
    file.write_text(
        "gemeente;datum;categorie;kenmerk\nGM0363;01-03-2021;Sociale Zekerheid;MMA-99-1\n",
        encoding="utf-8",
    )
    _run(demo_copy, tmp_path, "report", "import", str(file))
    _run(
        demo_copy,
        tmp_path,
        "report",
        "GM0363",
        "--received-on",
        "2021-03-02",
        "--category",
        "FRAUDE",
        "--reference",
        "MMA-99-2",
    )
    with Programme.open(demo_copy) as prog:
        recorded = [
            e.data["category"] for e in prog.history("GM0363") if e.type == "ReportReceived"
        ]
    assert recorded[-2:] == ["sociale zekerheid", "fraude"]
