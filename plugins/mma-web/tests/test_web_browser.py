"""The web pages in headless Chromium (Debian's ``chromium``) through Playwright, against a
real uvicorn on loopback: log in, record through the forms, answer through a municipality's
link, refused forms, a viewer. Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from conftest import COORDINATOR, SESSION, VIEWER, LiveServer
from mma_core import Programme

pytestmark = pytest.mark.slow
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TODAY = date.today().isoformat()


def chromium() -> str | None:
    for candidate in (os.environ.get("MMA_CHROMIUM"), "/usr/bin/chromium", "chromium"):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    return None


@pytest.fixture
def browser() -> Iterator[object]:
    binary = chromium()
    if binary is None:
        pytest.skip("Chromium is not installed (Debian package 'chromium', or set MMA_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=binary, args=FLAGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


def new_page(browser, server: LiveServer):  # type: ignore[no-untyped-def]
    context = browser.new_context(
        base_url=server.url, locale="nl-NL", viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    external: list[str] = []
    page.on(
        "request",
        lambda request: (
            external.append(request.url)
            if not request.url.startswith(server.url) and not request.url.startswith("data:")
            else None
        ),
    )
    page.external = external
    return page


def log_in(page, token: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/")
    assert page.url.endswith("/login")
    page.get_by_label("Toegangscode").fill(token)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(re.compile(r"/$"))


def test_record_an_acceptance_and_a_connection_and_see_the_dashboard_change(
    browser, live_server: LiveServer, programme: Programme
) -> None:  # type: ignore[no-untyped-def]
    page = new_page(browser, live_server)
    log_in(page, COORDINATOR)
    total = programme.overview().total
    assert page.locator("#aangesloten").inner_text() == f"0 van {total}"
    page.locator("#rij-GM0363").get_by_role("link", name="Amsterdam").click()
    form = page.locator("form#antwoord")
    form.get_by_label("Besluit").select_option("akkoord")
    form.get_by_label("Datum").fill(TODAY)
    form.get_by_role("button", name="Antwoord vastleggen").click()
    assert page.locator("#fase").inner_text() == "akkoord"
    connect = page.locator("form#aansluiting")
    connect.get_by_label("Datum van aansluiting").fill(TODAY)
    connect.get_by_role("button").click()
    assert page.locator("#fase").inner_text() == "aangesloten"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "web-municipality.png"), full_page=True)
    page.get_by_role("link", name="MMA-programma").click()
    assert page.locator("#aangesloten").inner_text() == f"1 van {total}"
    assert page.locator("#rij-GM0363 .stage").inner_text() == "aangesloten"
    page.screenshot(path=str(ARTIFACTS / "web-dashboard.png"), full_page=True)
    history = programme.history("GM0363")
    assert [(e.type, e.by, e.origin) for e in history[-2:]] == [
        ("Accepted", "Anna", "web"),
        ("Connected", "Anna", "web"),
    ]
    assert page.external == []


def test_answer_through_a_municipality_link_and_see_it_on_the_dashboard(
    browser, live_server: LiveServer, programme: Programme
) -> None:  # type: ignore[no-untyped-def]
    coordinator = new_page(browser, live_server)
    log_in(coordinator, COORDINATOR)
    coordinator.goto("/gemeente/GM0392")
    coordinator.get_by_role("button", name="Nieuwe antwoordlink maken").click()
    link = coordinator.locator("#nieuwe-link").inner_text()
    token = link.rsplit("/", 1)[1]

    mayor = new_page(browser, live_server)  # a browser of its own: no coordinator cookie
    mayor.goto(link)
    assert "Haarlem" in mayor.locator("h1").inner_text()
    mayor.get_by_label("Ja, wij nemen deel").check()
    mayor.get_by_label("Naam functionaris 1").fill("Eva de Vries")
    mayor.get_by_label("E-mailadres functionaris 1").fill("eva@haarlem.example")
    mayor.get_by_label("Naam functionaris 2").fill("Piet Bakker")
    mayor.get_by_label("E-mailadres functionaris 2").fill("piet@haarlem.example")
    mayor.locator(f"input[name=sessie][value='{SESSION}']").check()
    ARTIFACTS.mkdir(exist_ok=True)
    mayor.screenshot(path=str(ARTIFACTS / "web-answer.png"), full_page=True)
    mayor.get_by_role("button", name="Antwoord versturen").click()
    assert mayor.locator("h1").inner_text() == "Dank u wel"

    # The link reads nothing else: no other municipality, no dashboard, no API.
    mayor.goto("/gemeente/GM0363")
    assert mayor.url.endswith("/login")
    api = mayor.request.get(
        "/api/v1/municipalities/GM0363", headers={"Authorization": f"Bearer {token}"}
    )
    assert api.status == 401
    assert mayor.request.get(link).status == 410

    coordinator.goto("/")
    assert coordinator.locator("#rij-GM0392 .stage").inner_text() == "akkoord"
    assert coordinator.locator("#trechter-3 td.num").inner_text() == "1"
    officials = programme.municipality("GM0392").officials
    assert [o.session_id for o in officials] == [SESSION, SESSION]
    assert {e.by for e in programme.history("GM0392")[-5:]} == {"gemeente GM0392"}


def test_a_refused_form_shows_its_error_and_writes_nothing(
    browser, live_server: LiveServer, programme: Programme, event_count
) -> None:  # type: ignore[no-untyped-def]
    page = new_page(browser, live_server)
    log_in(page, COORDINATOR)
    before = event_count(programme)
    page.goto("/gemeente/GM0363")
    report = page.locator("form#melding")
    report.get_by_label("Ontvangen op").fill("2021-03-04")
    report.get_by_label("Categorie").select_option("fraude")
    report.get_by_label("MMA-kenmerk").fill("MMA-2021-0042")
    report.get_by_role("button").click()
    error = page.locator("form#melding .error")
    assert "GM0363" in error.inner_text()
    assert page.locator("form#melding").get_by_label("MMA-kenmerk").input_value() == "MMA-2021-0042"
    assert event_count(programme) == before


def test_a_viewer_cannot_record(
    browser, live_server: LiveServer, programme: Programme, event_count
) -> None:  # type: ignore[no-untyped-def]
    page = new_page(browser, live_server)
    log_in(page, VIEWER)
    before = event_count(programme)
    page.goto("/gemeente/GM0363")
    assert page.locator("form.record").count() == 0
    csrf = page.locator("header input[name=csrf]").input_value()
    # The page's Content-Security-Policy forbids scripts and fetch: post as a forged form
    # would, with the session cookie of this browser and a valid CSRF token.
    status = page.request.post(
        "/gemeente/GM0363/antwoord",
        form={"csrf": csrf, "besluit": "akkoord", "datum": TODAY},
    ).status
    assert status == 403
    api = page.request.post(
        "/api/v1/commands/accept",
        data={"code": "GM0363", "on": TODAY},
        headers={"Authorization": f"Bearer {VIEWER}"},
    )
    assert api.status == 403
    assert event_count(programme) == before
