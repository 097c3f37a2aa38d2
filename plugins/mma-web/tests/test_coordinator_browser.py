"""The coordinator's tasks in headless Chromium, in Dutch, from the dashboard to the recorded
event: end a participation, withdraw an official, record a merger the registry does not list,
look at a past date, record an evaluation, and a municipality's answer "ja" with one official
and no training yet. Each checks the event in the programme's history, and each page it passes
is saved as a screenshot (``MMA_SCREENSHOTS``, else ``test-artifacts/screenshots/``)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

# Chromium, its pages and the login, as the first browser tests have them.
from test_web_browser import FLAGS, chromium, log_in, new_page

from conftest import COORDINATOR, LiveServer
from mma_core import Programme

pytestmark = pytest.mark.slow
TODAY = date.today()
SCREENSHOTS = Path(
    os.environ.get("MMA_SCREENSHOTS")
    or Path(__file__).resolve().parents[3] / "test-artifacts" / "screenshots"
)


@pytest.fixture
def browser() -> Iterator[object]:
    """Chromium in Dutch, its own words too: a date field reads dd-mm-jjjj (with Debian's
    ``chromium-l10n`` installed; without it Chromium has only its American English)."""
    binary = chromium()
    if binary is None:
        pytest.skip("Chromium is not installed (Debian package 'chromium', or set MMA_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    dutch = {**os.environ, "LANGUAGE": "nl", "LANG": "nl_NL.UTF-8"}
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=binary, args=[*FLAGS, "--lang=nl-NL"], env=dutch, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(autouse=True)
def dutch(monkeypatch: pytest.MonkeyPatch) -> None:
    """As a server runs by default: in Dutch (the suite runs in English), so that a rule's
    message on a page carries its dates in Dutch too."""
    monkeypatch.setenv("MMA_LANG", "nl")


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def open_from_dashboard(page, code: str, name: str, shots: str) -> None:  # type: ignore[no-untyped-def]
    """Log in as the coordinator and go from the dashboard's table to the municipality."""
    log_in(page, COORDINATOR)
    shot(page, f"{shots}-1-overzicht")
    page.locator(f"#rij-{code}").get_by_role("link", name=name).click()
    assert page.locator("h1").inner_text().startswith(name)


def connect(programme: Programme, code: str, days_ago: int = 20) -> None:
    programme.accept(code, on=TODAY - timedelta(days=days_ago), by="setup")
    programme.connect(code, on=TODAY - timedelta(days=days_ago - 5), by="setup")


def test_end_a_participation(
    browser, live_server: LiveServer, programme: Programme, event_count
) -> None:  # type: ignore[no-untyped-def]
    connect(programme, "GM0363")
    programme.record_report(
        "GM0363", received_on=TODAY - timedelta(days=2), category="fraude", reference="R-1", by="m"
    )
    page = new_page(browser, live_server)
    open_from_dashboard(page, "GM0363", "Amsterdam", "beeindigen")
    before = event_count(programme)
    form = page.locator("form#beeindigen")
    form.get_by_label("Laatste dag van deelname").fill((TODAY - timedelta(days=5)).isoformat())
    form.get_by_label("Reden").fill("besluit van de gemeenteraad")
    form.get_by_role("button", name="Verder: controleren en bevestigen").click()
    # Before the last report: the rule, in Dutch, next to the date; nothing written.
    error = page.locator("#beeindigen-datum-fout")
    assert "GM0363 Amsterdam" in error.inner_text()
    assert page.locator("form#beeindigen").get_by_label("Reden").input_value() == (
        "besluit van de gemeenteraad"
    )
    shot(page, "beeindigen-2-fout")
    assert event_count(programme) == before
    page.locator("form#beeindigen").get_by_label("Laatste dag van deelname").fill(TODAY.isoformat())
    page.locator("form#beeindigen").get_by_role("button").click()
    assert page.locator("h1").inner_text() == "Controleren en bevestigen: deelname beëindigen"
    assert "Dit is niet terug te draaien." in page.locator("#onherroepelijk").inner_text()
    shot(page, "beeindigen-3-bevestigen")
    assert event_count(programme) == before
    page.get_by_role("button", name="Ja, definitief vastleggen").click()
    assert page.locator("#melding-vastgelegd").inner_text() == "De deelname is beëindigd."
    assert page.locator("#fase").inner_text() == "gestopt"
    shot(page, "beeindigen-4-vastgelegd")
    last = programme.history("GM0363")[-1]
    assert (last.type, last.by, last.origin, last.date) == ("Terminated", "Anna", "web", TODAY)
    assert last.data["reason"] == "besluit van de gemeenteraad"
    assert page.external == []


def test_withdraw_an_official(
    browser, live_server: LiveServer, programme: Programme, event_count
) -> None:  # type: ignore[no-untyped-def]
    programme.accept("GM0392", on=TODAY - timedelta(days=5), by="setup")
    oid = programme.nominate_official("GM0392", name="Eva de Vries", email="eva@h.example", by="s")
    programme.book_training("GM0392", official_id=oid, session_id="najaar-1", by="setup")
    page = new_page(browser, live_server)
    open_from_dashboard(page, "GM0392", "Haarlem", "afmelden")
    before = event_count(programme)
    form = page.locator("form#afmelden")
    form.get_by_label("Functionaris").select_option(oid)
    shot(page, "afmelden-2-formulier")
    form.get_by_role("button", name="Verder: controleren en bevestigen").click()
    warning = page.locator("#onherroepelijk").inner_text()
    assert "Eva de Vries (GM0392-1) is vanaf" in warning
    assert "komt vrij" in warning
    shot(page, "afmelden-3-bevestigen")
    assert event_count(programme) == before
    page.get_by_role("button", name="Ja, definitief vastleggen").click()
    assert page.locator("#melding-vastgelegd").inner_text() == "De functionaris is afgemeld."
    row = page.locator(f"#functionaris-{oid}")
    assert row.locator(".actief").inner_text() == "nee"
    assert "(plaats vrijgegeven)" in row.inner_text()
    shot(page, "afmelden-4-vastgelegd")
    kinds = [(e.type, e.by, e.origin) for e in programme.history("GM0392")[-1:]]
    assert kinds == [("OfficialWithdrawn", "Anna", "web")]
    assert page.external == []


def test_record_a_merger_the_registry_does_not_list(
    browser, live_server: LiveServer, programme: Programme, event_count
) -> None:  # type: ignore[no-untyped-def]
    page = new_page(browser, live_server)
    open_from_dashboard(page, "GM0392", "Haarlem", "fusie")
    before = event_count(programme)
    form = page.locator("form#fusie")
    form.get_by_label("Gaat op in").select_option("GM0377")
    form.get_by_label("Datum van de fusie").fill(TODAY.isoformat())
    form.get_by_role("button", name="Verder: controleren en bevestigen").click()
    # The registry lists no such merger: said next to the successor, naming the checkbox.
    refusal = page.locator("#fusie-opvolger-fout").inner_text()
    assert refusal.startswith("Het register kent deze fusie niet, dus er is niets vastgelegd.")
    shot(page, "fusie-2-niet-in-register")
    form = page.locator("form#fusie")
    form.get_by_label("Deze fusie staat niet in het register").check()
    form.get_by_role("button").click()
    assert page.locator("#fusie-reden-fout").inner_text().startswith("Reden: een fusie die niet")
    shot(page, "fusie-3-reden-nodig")
    assert event_count(programme) == before
    form = page.locator("form#fusie")
    assert form.get_by_label("Deze fusie staat niet in het register").is_checked()
    form.get_by_label("Reden").fill("herindelingsbesluit van de provincie; register loopt achter")
    form.get_by_role("button").click()
    assert "Haarlem gaat op" in page.locator("#onherroepelijk").inner_text()
    assert "niet in het register" in page.locator("#samenvatting").inner_text()
    shot(page, "fusie-4-bevestigen")
    assert event_count(programme) == before
    page.get_by_role("button", name="Ja, definitief vastleggen").click()
    assert page.locator("#fase").inner_text() == "gefuseerd"
    assert page.locator("#opvolger").inner_text() == "Bloemendaal (GM0377)"
    shot(page, "fusie-5-vastgelegd")
    merged = programme.history("GM0392")[-1]
    assert (merged.type, merged.by, merged.origin) == ("Merged", "Anna", "web")
    assert merged.data["successor"] == "GM0377"
    assert merged.data["unlisted"] is True
    assert merged.data["reason"].startswith("herindelingsbesluit")
    assert programme.history("GM0377")[-1].type == "PredecessorMerged"
    assert page.external == []


def test_look_at_a_past_date(browser, live_server: LiveServer, programme: Programme) -> None:  # type: ignore[no-untyped-def]
    connect(programme, "GM0363", days_ago=20)  # accepted 20 days ago, connected 15 days ago
    past = TODAY - timedelta(days=18)
    total = programme.overview().total
    page = new_page(browser, live_server)
    log_in(page, COORDINATOR)
    assert page.locator("#aangesloten").inner_text() == f"1 van {total}"
    page.get_by_label("Stand tonen op").fill(past.isoformat())
    page.get_by_role("button", name="Tonen").click()
    assert page.url.endswith(f"/?as_of={past.isoformat()}")
    assert page.locator("#aangesloten").inner_text() == f"0 van {total}"
    assert "Een datum in het verleden." in page.locator("#verleden").inner_text()
    shot(page, "peildatum-1-overzicht")
    page.locator("#rij-GM0363").get_by_role("link", name="Amsterdam").click()
    assert page.url.endswith(f"/gemeente/GM0363?as_of={past.isoformat()}")
    assert page.locator("#fase").inner_text() == "akkoord"
    assert page.locator("#verleden").is_visible()
    assert page.locator("form#beeindigen").count() == 0  # nothing to record on the past
    shot(page, "peildatum-2-gemeente")
    # What the page shows is the history up to that day.
    dated = {e.type: e.date for e in programme.history("GM0363")}
    assert dated["Accepted"] is not None
    assert dated["Accepted"] <= past
    assert dated["Connected"] is not None
    assert dated["Connected"] > past
    page.get_by_role("link", name="Terug naar vandaag").click()
    assert page.locator("#fase").inner_text() == "aangesloten"
    page.goto("/?as_of=31-02-2020")
    assert page.locator("#as_of-fout").inner_text().startswith("Datum: geen geldige datum")
    shot(page, "peildatum-3-foute-datum")
    assert page.external == []


def test_record_an_evaluation_with_its_answers(
    browser, live_server: LiveServer, programme: Programme, event_count
) -> None:  # type: ignore[no-untyped-def]
    connect(programme, "GM0363")
    for number in range(4):
        programme.record_report(
            "GM0363",
            received_on=TODAY - timedelta(days=3),
            category="fraude",
            reference=f"R-{number}",
            by="mma",
        )
    page = new_page(browser, live_server)
    open_from_dashboard(page, "GM0363", "Amsterdam", "evaluatie")
    form = page.locator("form#evaluatie")
    form.get_by_label("Datum", exact=True).fill(TODAY.isoformat())
    form.get_by_label("Uitkomst").select_option("continue")
    form.get_by_label("Bruikbare meldingen").fill("3")
    form.get_by_label("Opgevolgde meldingen").fill("2")
    form.get_by_label("Tevredenheid").select_option("4")
    form.get_by_label("Teruggevorderd bedrag").fill("1.234,50")
    form.get_by_label("Redenen van het besluit").fill("meldingen leidden tot onderzoek")
    shot(page, "evaluatie-2-formulier")
    form.get_by_role("button", name="Evaluatie vastleggen").click()
    assert page.locator("#melding-vastgelegd").inner_text() == "De evaluatie is vastgelegd."
    table = page.locator("#evaluaties + table").inner_text()
    assert "doorgaan" in table
    assert "1.234,50" in table
    shot(page, "evaluatie-3-vastgelegd")
    evaluated = programme.history("GM0363")[-1]
    assert (evaluated.type, evaluated.by, evaluated.origin) == ("Evaluated", "Anna", "web")
    fields = ("useful", "followed_up", "satisfaction", "reports", "recovered", "reasons")
    assert {k: evaluated.data[k] for k in fields} == {
        "useful": 3,
        "followed_up": 2,
        "satisfaction": 4,
        "reports": 4,
        "recovered": "1234.50",
        "reasons": "meldingen leidden tot onderzoek",
    }
    assert page.external == []


def test_a_municipality_answers_yes_with_one_official_and_no_training_yet(
    browser, live_server: LiveServer, programme: Programme, event_count
) -> None:  # type: ignore[no-untyped-def]
    coordinator = new_page(browser, live_server)
    open_from_dashboard(coordinator, "GM0392", "Haarlem", "antwoord")
    coordinator.get_by_role("button", name="Nieuwe antwoordlink maken").click()
    link = coordinator.locator("#nieuwe-link").inner_text()

    mayor = new_page(browser, live_server)  # a browser of its own: no coordinator cookie
    mayor.goto(link)
    assert mayor.locator("h1").inner_text() == "Antwoord van de gemeente Haarlem"
    mayor.get_by_label("Ja, wij nemen deel").check()
    mayor.get_by_role("button", name="Antwoord versturen").click()
    # No official at all: said next to the first name; nothing written.
    before = event_count(programme)
    assert mayor.locator("#naam1-fout").inner_text().startswith("Functionaris 1: vul naam")
    shot(mayor, "antwoord-2-geen-functionaris")
    mayor.get_by_label("Naam functionaris 1").fill("Eva de Vries")
    mayor.get_by_label("E-mailadres functionaris 1").fill("eva@haarlem.example")
    mayor.get_by_label("Nog niet: wij kiezen later een training").check()
    shot(mayor, "antwoord-3-formulier")
    mayor.get_by_role("button", name="Antwoord versturen").click()
    assert mayor.locator("h1").inner_text() == "Dank u wel"
    assert "Er is nog geen training gekozen" in mayor.locator("main").inner_text()
    shot(mayor, "antwoord-4-dank-u-wel")
    assert mayor.request.get(link).status == 410
    # A link cut off before its token: a Dutch page, not an error for programs.
    assert mayor.goto(link.rsplit("/", 1)[0] + "/").status == 404
    assert mayor.locator("h1").inner_text() == "Pagina niet gevonden"
    shot(mayor, "antwoord-5-link-afgebroken")

    coordinator.goto("/")
    assert coordinator.locator("#rij-GM0392 .stage").inner_text() == "akkoord"
    coordinator.locator("#rij-GM0392").get_by_role("link", name="Haarlem").click()
    notice = coordinator.locator("#zonder-training").inner_text()
    assert notice.startswith("Nog geen training geboekt voor: GM0392-1.")
    shot(coordinator, "antwoord-6-coordinator")
    history = programme.history("GM0392")
    assert [(e.type, e.by, e.origin) for e in history[-2:]] == [
        ("Accepted", "gemeente GM0392", "web"),
        ("OfficialNominated", "gemeente GM0392", "web"),
    ]
    assert event_count(programme) == before + 2  # no booking
    assert ("training", "GM0392") in {(d.kind, d.code) for d in programme.due(within=60)}
    assert not re.search(r"TrainingBooked", " ".join(e.type for e in history))
    assert mayor.external == []
    assert coordinator.external == []


def open_history(page) -> None:  # type: ignore[no-untyped-def]
    """Open the municipality's list of every event."""
    page.locator("#gebeurtenissen summary").click()


def test_retract_a_report(
    browser, live_server: LiveServer, programme: Programme, event_count
) -> None:  # type: ignore[no-untyped-def]
    connect(programme, "GM0363")
    programme.record_report(
        "GM0363", received_on=TODAY - timedelta(days=2), category="fraude", reference="R-1", by="m"
    )
    report = programme.history("GM0363")[-1].position
    page = new_page(browser, live_server)
    open_from_dashboard(page, "GM0363", "Amsterdam", "intrekken")
    open_history(page)
    row = page.locator(f"#positie-{report}")
    assert "melding ontvangen" in row.inner_text()
    shot(page, "intrekken-2-geschiedenis")
    before = event_count(programme)
    row.get_by_role("link", name=f"Positie {report} intrekken").click()
    assert page.locator("h1").inner_text() == "Een feit intrekken"
    # The reason is required: the browser asks for it before sending (the app refuses an
    # empty one too, next to the field).
    assert page.get_by_label("Reden").evaluate("field => field.required")
    shot(page, "intrekken-3-formulier")
    page.get_by_label("Reden").fill("hoort bij Haarlem")
    page.get_by_role("button", name="Verder: controleren en bevestigen").click()
    assert page.locator("h1").inner_text() == "Controleren en bevestigen: een feit intrekken"
    assert "hoort bij Haarlem" in page.locator("#samenvatting").inner_text()
    shot(page, "intrekken-4-bevestigen")
    assert event_count(programme) == before
    page.get_by_role("button", name="Ja, definitief vastleggen").click()
    assert page.locator("#melding-vastgelegd").inner_text() == "Het feit is ingetrokken."
    marked = page.locator(f"#positie-{report} .wijziging").inner_text()
    assert marked.startswith("ingetrokken op positie")
    assert marked.endswith("hoort bij Haarlem")
    shot(page, "intrekken-5-vastgelegd")
    history = programme.history("GM0363")
    fact = next(e for e in history if e.position == report)
    assert fact.retracted_by is not None
    retraction = history[-1]
    assert (retraction.type, retraction.by, retraction.origin) == ("FactRetracted", "Anna", "web")
    assert retraction.amends == report
    assert fact.retracted_by.position == retraction.position
    assert programme.municipality("GM0363").reports_received == 0
    assert page.external == []


def test_correct_a_reports_date(
    browser, live_server: LiveServer, programme: Programme, event_count
) -> None:  # type: ignore[no-untyped-def]
    connect(programme, "GM0363")
    wrong, right = TODAY - timedelta(days=4), TODAY - timedelta(days=3)
    programme.record_report("GM0363", received_on=wrong, category="fraude", reference="R-1", by="m")
    report = programme.history("GM0363")[-1].position
    page = new_page(browser, live_server)
    open_from_dashboard(page, "GM0363", "Amsterdam", "corrigeren")
    open_history(page)
    before = event_count(programme)
    page.locator(f"#positie-{report}").get_by_role(
        "link", name=f"Positie {report} corrigeren"
    ).click()
    assert page.locator("h1").inner_text() == "Een feit corrigeren"
    form = page.locator("form#corrigeren")
    assert form.get_by_label("Ontvangen op").input_value() == wrong.isoformat()
    assert form.get_by_label("Categorie").input_value() == "fraude"
    # A date in the future: the rule, in Dutch, next to the date; nothing written.
    form.get_by_label("Ontvangen op").fill((TODAY + timedelta(days=2)).isoformat())
    form.get_by_label("Reden").fill("datum verkeerd overgenomen")
    form.get_by_role("button", name="Verder: controleren en bevestigen").click()
    assert "toekomst" in page.locator("#corrigeren-received_on-fout").inner_text()
    shot(page, "corrigeren-2-fout")
    assert event_count(programme) == before
    form = page.locator("form#corrigeren")
    assert form.get_by_label("Reden").input_value() == "datum verkeerd overgenomen"
    form.get_by_label("Ontvangen op").fill(right.isoformat())
    shot(page, "corrigeren-3-formulier")
    form.get_by_role("button", name="Verder: controleren en bevestigen").click()
    summary = page.locator("#samenvatting").inner_text()
    assert "Ontvangen op" in summary
    assert "Categorie" not in summary  # only what changes
    shot(page, "corrigeren-4-bevestigen")
    assert event_count(programme) == before
    page.get_by_role("button", name="Ja, definitief vastleggen").click()
    assert page.locator("#melding-vastgelegd").inner_text() == "Het feit is gecorrigeerd."
    marked = page.locator(f"#positie-{report} .wijziging").inner_text()
    assert marked.startswith("gecorrigeerd op positie")
    shot(page, "corrigeren-5-vastgelegd")
    history = programme.history("GM0363")
    fact = next(e for e in history if e.position == report)
    assert fact.corrected_by is not None
    assert fact.corrected_by.reason == "datum verkeerd overgenomen"
    restated = history[-1]
    assert (restated.type, restated.by, restated.origin) == ("FactRestated", "Anna", "web")
    assert (restated.amends, restated.date) == (report, right)
    assert restated.data["data"]["received_on"] == right.isoformat()
    assert [e.type for e in history[-2:]] == ["FactRetracted", "FactRestated"]
    assert event_count(programme) > before
    assert page.external == []
