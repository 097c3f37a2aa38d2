"""The covenant of the offer, ``mma offer show``, the goal and its progress in status, and the
structured evaluation."""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING

import pytest

from mma_core import DomainError, Money, Programme, Terms

if TYPE_CHECKING:
    from conftest import Mma  # the fixture's type; fixtures come from tests/e2e/conftest.py


OFFER = "1298348/1298354"


def test_the_covenant_is_an_event_of_the_offer_shown_in_status_and_offer_show(
    invited: Mma,
) -> None:
    out = invited.ok(
        "offer", "covenant", OFFER, "--on", "2019-10-30", "--place", "burgemeestersconferentie"
    )
    assert "covenant signed on 30 October 2019" in out
    before = invited.count()
    again = invited("offer", "covenant", OFFER, "--on", "2019-10-31")
    assert again.returncode == 1
    assert "already" in again.stderr
    assert invited.count() == before

    status = json.loads(invited.ok("--json", "status", "--as-of", "2019-12-31"))
    assert status["offers"][0]["covenant_on"] == "2019-10-30"
    assert status["goal"]["connected"] == 47
    text = invited.ok("status", "--as-of", "2019-12-31")
    assert "covenant with MMA signed on 30 October 2019" in " ".join(text.split())
    assert "Goal: all 47 municipalities connected." in " ".join(text.split())
    early = json.loads(invited.ok("--json", "status", "--as-of", "2019-10-20"))
    assert early["offers"][0]["covenant_on"] is None  # not yet signed on that day
    assert "covenant" not in invited.ok("status", "--as-of", "2019-10-20")


def test_offer_show_lists_the_terms_and_their_history(invited: Mma) -> None:
    with invited.programme() as prog:
        prog.change_offer_terms(
            OFFER,
            on=date(2020, 1, 1),
            terms=Terms(connection_fee=Money("2000.00"), report_fee=Money("25.00")),
            by="t",
        )
    text = " ".join(invited.ok("offer", "show", OFFER).split())
    assert "sent on 18 October 2019" in text
    assert "€22.50" in text
    assert "€25.00" in text
    data = json.loads(invited.ok("--json", "offer", "show"))
    assert [t["from"] for t in data[0]["terms"]] == ["2019-10-18", "2020-01-01"]
    assert [t["report_fee"] for t in data[0]["terms"]] == ["22.50", "25.00"]
    assert invited("offer", "--reference", "X").returncode == 2  # --sent-on is needed


def test_the_structured_evaluation_fills_reports_from_the_history(invited: Mma) -> None:
    invited.connect("GM0363")
    with invited.programme() as prog:
        for n, day in enumerate((date(2020, 2, 1), date(2020, 5, 1), date(2020, 8, 1)), 1):
            prog.record_report(
                "GM0363",
                received_on=day,
                category="fraude",
                reference=f"MMA-20-{n:05d}",
                by="t",
            )
    before = invited.count()
    bad = invited(
        "evaluate", "GM0363", "--on", "2020-11-20", "--outcome", "continue", "--useful", "4"
    )
    assert bad.returncode == 1
    assert "4 useful reports, but 3 were received" in bad.stderr
    assert (
        invited(
            "evaluate", "GM0363", "--on", "2020-11-20", "--outcome", "stop", "--satisfaction", "6"
        ).returncode
        == 2
    )
    assert invited.count() == before
    invited.ok(
        "evaluate",
        "GM0363",
        "--on",
        "2020-11-20",
        "--outcome",
        "continue",
        "--useful",
        "2",
        "--followed-up",
        "1",
        "--satisfaction",
        "4",
        "--reasons",
        "signals on benefit fraud",
    )
    with invited.programme() as prog:
        (e,) = prog.evaluations("GM0363")
    assert (e.reports, e.useful, e.followed_up, e.satisfaction) == (3, 2, 1, 4)
    assert e.reasons == "signals on benefit fraud"
    shown = json.loads(invited.ok("--json", "show", "GM0363"))
    assert shown["evaluation_details"][0]["reports"] == 3
    text = " ".join(invited.ok("show", "GM0363").split())
    assert "4 of 5" in text


def test_followed_up_cannot_exceed_the_useful_reports(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with Programme.open(f"sqlite:///{tmp_path / 'p.sqlite'}") as prog:
        prog.register_registry("noord-holland-2019", by="t")
        prog.make_offer(reference=OFFER, sent_on=date(2019, 10, 18), by="t")
        prog.invite("GM0358", on=date(2019, 10, 18), reference=OFFER, by="t")
        prog.accept("GM0358", on=date(2019, 10, 25), by="t")
        prog.connect("GM0358", on=date(2019, 12, 1), by="t")
        with pytest.raises(DomainError, match="more than the useful"):
            prog.evaluate(
                "GM0358", on=date(2020, 11, 20), outcome="stop", useful=0, followed_up=1, by="t"
            )


def test_the_demo_signs_the_covenant_and_evaluates_with_its_answers(demo_store: str) -> None:
    with Programme.open(demo_store) as prog:
        (offer,) = prog.offers()
        assert offer.covenant_on == date(2019, 10, 30)
        details = [e for code in prog.codes() for e in prog.evaluations(code)]
    assert details
    for e in details:
        assert e.reports is not None
        assert e.useful is not None
        assert e.followed_up is not None
        assert e.followed_up <= e.useful <= e.reports
        assert e.satisfaction is not None
        assert 1 <= e.satisfaction <= 5
        assert e.satisfaction <= 2 if e.outcome == "stop" else e.satisfaction >= 3
