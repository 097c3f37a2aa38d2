"""The coordinator's whole job on the pages (no browser): ending a participation, withdrawing
an official and recording a merger, each confirmed before it is written; the dashboard and the
municipality pages as of a past date; the evaluation's structured answers; an answer "ja"
without a training and with one official; the Dutch 404 page and the Dutch role names.

Every refusal is checked to write nothing: the stored events are counted before and after."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from mma_web.app import create_app
from mma_web.tokens import TokenTable

from conftest import AUDITOR, COORDINATOR, OFFER, SESSION, TOKENS, VIEWER, post_login
from mma_core import Money, Programme
from mma_core.plugin_api import Due

TODAY = date.today()
EventCount = Callable[[Programme], int]


def login(client: TestClient, token: str = COORDINATOR) -> str:
    """Log in; returns the CSRF token of the session's forms."""
    assert post_login(client, token).status_code == 303
    page = client.get("/gemeente/GM0363")
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match is not None
    return match.group(1)


def connect(programme: Programme, code: str, days_ago: int = 20) -> None:
    programme.accept(code, on=TODAY - timedelta(days=days_ago), by="setup")
    programme.connect(code, on=TODAY - timedelta(days=days_ago - 5), by="setup")


def field_error(page: str, form: str, field: str) -> str:
    """The error shown next to ``field`` of ``form`` (fails when there is none)."""
    match = re.search(rf'<p class="error beside" id="{form}-{field}-fout"[^>]*>([^<]*)</p>', page)
    assert match is not None, f"no error next to {form}.{field}"
    return match.group(1)


def hidden_fields(page: str) -> dict[str, str]:
    """The confirmation form's fields, as the browser would post them back."""
    form = page.split('id="bevestigen"', 1)[1].split("</form>", 1)[0]
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))


def confirm(client: TestClient, path: str, values: dict[str, str]) -> httpx.Response:
    """Post the form, check the confirmation page, and confirm."""
    asked = client.post(path, data=values)
    assert asked.status_code == 200, asked.text
    assert "Dit is niet terug te draaien." in asked.text
    carried = hidden_fields(asked.text)
    return client.post(path, data={**carried, "stap": "bevestigen"}, follow_redirects=False)


# -- ending a participation ---------------------------------------------------------------------


def test_ending_a_participation_asks_first_and_then_records(
    client: TestClient, programme: Programme, event_count: EventCount
) -> None:
    connect(programme, "GM0363")
    csrf = login(client)
    before = event_count(programme)
    values = {"csrf": csrf, "datum": TODAY.isoformat(), "reden": "besluit van de raad"}
    asked = client.post("/gemeente/GM0363/beeindigen", data=values)
    assert asked.status_code == 200
    assert "Controleren en bevestigen" in asked.text
    assert "De deelname van Amsterdam eindigt op" in asked.text
    assert "besluit van de raad" in asked.text
    assert event_count(programme) == before  # asking writes nothing
    assert programme.municipality("GM0363").stage.value == "connected"

    back = client.post(
        "/gemeente/GM0363/beeindigen", data={**hidden_fields(asked.text), "stap": "wijzigen"}
    )
    assert back.status_code == 200
    form = back.text.split('id="beeindigen"')[1].split("</form>")[0]
    assert "besluit van de raad" in form  # what was typed is back in the form
    assert event_count(programme) == before

    done = client.post(
        "/gemeente/GM0363/beeindigen",
        data={**hidden_fields(asked.text), "stap": "bevestigen"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    last = programme.history("GM0363")[-1]
    assert (last.type, last.by, last.origin, last.date) == ("Terminated", "Anna", "web", TODAY)
    assert last.data["reason"] == "besluit van de raad"
    page = client.get(done.headers["location"]).text
    assert (
        '<p class="notice" role="status" id="melding-vastgelegd">De deelname is beëindigd.' in page
    )
    assert 'id="fase">gestopt<' in page

    # The same confirmation posted again (the back button, a double click) records nothing:
    # it carries the key of the first (its receipt was written with the termination).
    recorded = event_count(programme)
    again = client.post(
        "/gemeente/GM0363/beeindigen",
        data={**hidden_fields(asked.text), "stap": "bevestigen"},
        follow_redirects=False,
    )
    assert again.status_code == 303
    assert event_count(programme) == recorded
    assert [e.type for e in programme.history("GM0363")].count("Terminated") == 1


def test_ending_refuses_bad_input_next_to_the_field_and_writes_nothing(
    client: TestClient, programme: Programme, event_count: EventCount
) -> None:
    connect(programme, "GM0363")
    programme.record_report(
        "GM0363",
        received_on=TODAY - timedelta(days=2),
        category="fraude",
        reference="MMA-1",
        by="x",
    )
    csrf = login(client)
    before = event_count(programme)
    bad = client.post("/gemeente/GM0363/beeindigen", data={"csrf": csrf, "datum": "gisteren"})
    assert bad.status_code == 422
    assert field_error(bad.text, "beeindigen", "datum") == (
        "Laatste dag van deelname: geen geldige datum (jjjj-mm-dd)"
    )
    assert 'value="gisteren"' in bad.text
    empty = client.post("/gemeente/GM0363/beeindigen", data={"csrf": csrf, "datum": ""})
    assert "vul dit veld in" in field_error(empty.text, "beeindigen", "datum")
    # A rule of the programme, checked before the confirmation is asked: not before the last
    # report. Said in Dutch, next to the date.
    early = client.post(
        "/gemeente/GM0363/beeindigen",
        data={"csrf": csrf, "datum": (TODAY - timedelta(days=5)).isoformat()},
    )
    assert early.status_code == 409
    assert "Dit is niet terug te draaien" not in early.text
    assert "GM0363" in field_error(early.text, "beeindigen", "datum")
    # Not connected: the whole form's error, atop it.
    invited = client.post(
        "/gemeente/GM0392/beeindigen", data={"csrf": csrf, "datum": TODAY.isoformat()}
    )
    assert invited.status_code == 409
    assert 'id="beeindigen-fout"' in invited.text
    assert event_count(programme) == before


@pytest.mark.parametrize("form", ["beeindigen", "afmelden", "fusie"])
def test_only_a_coordinator_with_the_forms_token_records(
    client: TestClient, programme: Programme, event_count: EventCount, form: str
) -> None:
    connect(programme, "GM0363")
    oid = programme.nominate_official("GM0363", name="Eva", email="eva@a.example", by="setup")
    values = {
        "datum": TODAY.isoformat(),
        "functionaris": oid,
        "opvolger": "GM0362",
        "niet-in-register": "ja",
        "reden": "test",
        "stap": "bevestigen",
    }
    before = event_count(programme)
    login(client)
    forged = client.post(f"/gemeente/GM0363/{form}", data={**values, "csrf": "vervalst"})
    assert forged.status_code == 403
    for token in (VIEWER, AUDITOR):
        client.cookies.clear()
        csrf = login(client, token)
        page = client.get("/gemeente/GM0363").text
        assert f'id="{form}"' not in page  # no form to fill in
        refused = client.post(f"/gemeente/GM0363/{form}", data={**values, "csrf": csrf})
        assert refused.status_code == 403
        assert "Alleen een coördinator kan iets vastleggen." in refused.text
    assert event_count(programme) == before


# -- withdrawing an official ----------------------------------------------------------------------


def test_withdrawing_an_official_releases_the_seat_once_confirmed(
    client: TestClient, programme: Programme, event_count: EventCount
) -> None:
    programme.accept("GM0392", on=TODAY - timedelta(days=3), by="setup")
    oid = programme.nominate_official("GM0392", name="Eva de Vries", email="eva@h.example", by="s")
    programme.book_training("GM0392", official_id=oid, session_id=SESSION, by="setup")
    seats = {s.session_id: s.seats_left for s in programme.sessions()}[SESSION]
    csrf = login(client)
    page = client.get("/gemeente/GM0392").text
    assert f'<option value="{oid}" >Eva de Vries ({oid})</option>' in page
    values = {"csrf": csrf, "functionaris": oid, "datum": ""}
    asked = client.post("/gemeente/GM0392/afmelden", data=values)
    assert "Eva de Vries (GM0392-1) is vanaf" in asked.text
    assert "vandaag (" in asked.text  # an empty date is today, and the page says so
    done = confirm(client, "/gemeente/GM0392/afmelden", values)
    assert done.status_code == 303
    withdrawn = [e for e in programme.history("GM0392") if e.type == "OfficialWithdrawn"]
    assert [(e.by, e.origin, e.date) for e in withdrawn] == [("Anna", "web", TODAY)]
    assert {s.session_id: s.seats_left for s in programme.sessions()}[SESSION] == seats + 1
    assert not programme.municipality("GM0392").officials[0].active


def test_withdrawing_refuses_an_official_of_another_municipality_and_writes_nothing(
    client: TestClient, programme: Programme, event_count: EventCount
) -> None:
    other = programme.nominate_official("GM0363", name="Piet", email="piet@a.example", by="s")
    csrf = login(client)
    before = event_count(programme)
    refused = client.post(
        "/gemeente/GM0392/afmelden",
        data={"csrf": csrf, "functionaris": other, "stap": "bevestigen"},
    )
    assert refused.status_code == 422
    assert "kies een van de functionarissen van deze gemeente" in field_error(
        refused.text, "afmelden", "functionaris"
    )
    unknown = client.post("/gemeente/GM0392/afmelden", data={"csrf": csrf, "functionaris": ""})
    assert field_error(unknown.text, "afmelden", "functionaris") == "Functionaris: vul dit veld in"
    assert event_count(programme) == before
    assert programme.municipality("GM0363").officials[0].active


# -- recording a merger -----------------------------------------------------------------------


def test_a_merger_the_registry_lists_is_recorded_once_confirmed(
    client: TestClient, programme: Programme
) -> None:
    csrf = login(client)
    page = client.get("/gemeente/GM0457").text  # Weesp: the registry ends it on 23 March 2022
    assert "Volgens het register bestaat Weesp tot en met 23 maart 2022" in page
    assert 'id="fusie-datum" name="datum" type="date"\n    value="2022-03-24"' in page
    values = {"csrf": csrf, "opvolger": "GM0363", "datum": "2022-03-24"}
    asked = client.post("/gemeente/GM0457/fusie", data=values)
    assert "Weesp gaat op 24 maart 2022 op in Amsterdam (GM0363)" in asked.text
    assert confirm(client, "/gemeente/GM0457/fusie", values).status_code == 303
    merged = programme.history("GM0457")[-1]
    assert (merged.type, merged.by, merged.origin) == ("Merged", "Anna", "web")
    assert merged.data["successor"] == "GM0363"
    assert merged.data["unlisted"] is False
    assert programme.municipality("GM0457").stage.value == "merged"
    page = client.get("/gemeente/GM0457").text
    assert "op 24 maart 2022 opgegaan in" in page
    assert '<a href="/gemeente/GM0363" id="opvolger">Amsterdam (GM0363)</a>' in page


def test_a_merger_the_registry_does_not_list_needs_the_checkbox_and_a_reason(
    client: TestClient, programme: Programme, event_count: EventCount
) -> None:
    csrf = login(client)
    before = event_count(programme)
    values = {"csrf": csrf, "opvolger": "GM0377", "datum": TODAY.isoformat()}
    refused = client.post("/gemeente/GM0392/fusie", data=values)
    assert refused.status_code == 409
    message = field_error(refused.text, "fusie", "opvolger")
    assert message.startswith("Het register kent deze fusie niet, dus er is niets vastgelegd.")
    assert "Deze fusie staat niet in het register" in message  # names the checkbox
    assert "--unlisted" not in refused.text  # not the command line's words
    no_reason = client.post("/gemeente/GM0392/fusie", data={**values, "niet-in-register": "ja"})
    assert no_reason.status_code == 422
    assert field_error(no_reason.text, "fusie", "reden").startswith("Reden: een fusie die niet")
    assert re.search(r'type="checkbox" value="ja" checked[ >]', no_reason.text)  # still ticked
    assert event_count(programme) == before

    unlisted = {
        **values,
        "niet-in-register": "ja",
        "reden": "herindelingsbesluit, register loopt achter",
    }
    asked = client.post("/gemeente/GM0392/fusie", data=unlisted)
    assert "Deze fusie staat niet in het register: zij wordt vastgelegd" in asked.text
    assert event_count(programme) == before
    assert confirm(client, "/gemeente/GM0392/fusie", unlisted).status_code == 303
    merged = programme.history("GM0392")[-1]
    assert merged.type == "Merged"
    assert merged.data["unlisted"] is True
    assert merged.data["reason"] == "herindelingsbesluit, register loopt achter"
    assert [e.type for e in programme.history("GM0377")][-1] == "PredecessorMerged"


# -- as of a past date ----------------------------------------------------------------------


def test_the_dashboard_and_a_municipality_page_show_a_past_date(
    client: TestClient, programme: Programme
) -> None:
    connect(programme, "GM0363", days_ago=20)  # accepted 20 days ago, connected 15 days ago
    login(client)
    past = TODAY - timedelta(days=18)
    today = client.get("/").text
    assert 'id="aangesloten">1 van' in today
    assert 'id="verleden"' not in today
    assert '<input type="date" id="as_of" name="as_of"' in today
    then = client.get(f"/?as_of={past.isoformat()}")
    assert then.status_code == 200
    assert 'id="aangesloten">0 van' in then.text
    assert "Een datum in het verleden." in then.text
    assert f'value="{past.isoformat()}"' in then.text
    assert f'href="/gemeente/GM0363?as_of={past.isoformat()}"' in then.text  # links stay there
    page = client.get(f"/gemeente/GM0363?as_of={past.isoformat()}").text
    assert 'id="fase">akkoord<' in page
    assert 'id="verleden"' in page
    assert 'id="beeindigen"' not in page  # nothing is recorded on a past page
    assert "aangesloten</td>" not in page.split("Alle gebeurtenissen")[1].split("</table>")[0]
    assert 'id="fase">aangesloten<' in client.get("/gemeente/GM0363").text
    # A municipality that did not exist yet on the day: a Dutch page saying so.
    before = client.get("/gemeente/GM1980?as_of=2021-06-30")
    assert before.status_code == 404
    assert "Gemeente bestond niet op 30 juni 2021" in before.text


def test_a_past_date_typed_the_dutch_way_is_read_too(client: TestClient) -> None:
    login(client)
    page = client.get("/?as_of=31-12-2025")
    assert page.status_code == 200
    assert "Deze pagina toont de stand op 31 december 2025" in page.text
    assert 'value="2025-12-31"' in page.text


@pytest.mark.parametrize("path", ["/", "/gemeente/GM0363"])
@pytest.mark.parametrize("typed", ["morgen", "2021-02-30", "9999-12-31", "20210230", "1-1-21"])
def test_a_bad_date_is_a_dutch_error_not_a_500(client: TestClient, path: str, typed: str) -> None:
    login(client)
    page = client.get(path, params={"as_of": typed})
    assert page.status_code == 400
    error = re.search(r'id="as_of-fout" role="alert">([^<]*)<', page.text)
    assert error is not None
    assert error.group(1).startswith("Datum: ")
    assert "ligt in de toekomst" in error.group(1) or "geen geldige datum" in error.group(1)


# -- the evaluation ---------------------------------------------------------------------------


def test_the_evaluation_records_its_structured_answers(
    client: TestClient, programme: Programme, event_count: EventCount
) -> None:
    connect(programme, "GM0363")
    for number in range(4):
        programme.record_report(
            "GM0363",
            received_on=TODAY - timedelta(days=3),
            category="fraude",
            reference=f"MMA-{number}",
            by="mma",
        )
    csrf = login(client)
    before = event_count(programme)
    values = {
        "csrf": csrf,
        "datum": TODAY.isoformat(),
        "uitkomst": "continue",
        "nuttig": "3",
        "opgevolgd": "2",
        "tevredenheid": "4",
        "teruggevorderd": "1.234,50",
        "redenen": "meldingen leidden tot onderzoek",
    }
    wrong = client.post("/gemeente/GM0363/evaluatie", data={**values, "nuttig": "drie"})
    assert wrong.status_code == 422
    assert field_error(wrong.text, "evaluatie", "nuttig") == (
        "Bruikbare meldingen: een geheel getal, 0 of meer"
    )
    too_many = client.post("/gemeente/GM0363/evaluatie", data={**values, "nuttig": "9"})
    assert too_many.status_code == 409
    assert "GM0363" in too_many.text.split('id="evaluatie"')[1].split("</form>")[0]
    assert event_count(programme) == before
    done = client.post("/gemeente/GM0363/evaluatie", data=values, follow_redirects=False)
    assert done.status_code == 303
    evaluated = programme.history("GM0363")[-1]
    assert evaluated.type == "Evaluated"
    assert {k: evaluated.data[k] for k in ("useful", "followed_up", "satisfaction", "reports")} == {
        "useful": 3,
        "followed_up": 2,
        "satisfaction": 4,
        "reports": 4,
    }
    assert evaluated.data["recovered"] == "1234.50"
    assert evaluated.data["reasons"] == "meldingen leidden tot onderzoek"
    [view] = programme.evaluations("GM0363")
    assert view.recovered == Money("1234.50")
    page = client.get("/gemeente/GM0363").text
    table = page.split('id="evaluaties"')[1].split("</table>")[0]
    assert "doorgaan" in table
    assert "€ 1.234,50" in table.replace("\xa0", " ")


# -- the answer: "ja", no training yet, one official ----------------------------------------------


def answer_link(client: TestClient, code: str) -> str:
    csrf = login(client)
    page = client.post(f"/gemeente/{code}/link", data={"csrf": csrf, "dagen": "14"})
    match = re.search(r'id="nieuwe-link">[^<]*/antwoord/([A-Za-z0-9_-]+)<', page.text)
    assert match is not None
    client.cookies.clear()
    return match.group(1)


def test_a_municipality_says_yes_with_one_official_and_no_training_yet(
    client: TestClient, programme: Programme, event_count: EventCount
) -> None:
    token = answer_link(client, "GM0392")
    form = client.get(f"/antwoord/{token}").text
    assert "Nog niet: wij kiezen later een training" in form
    assert "Eén is genoeg om nu te antwoorden" in form
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    before = event_count(programme)
    nobody = client.post(f"/antwoord/{token}", data={"csrf": csrf, "besluit": "akkoord"})
    assert nobody.status_code == 422
    assert 'id="naam1-fout"' in nobody.text
    half = client.post(
        f"/antwoord/{token}",
        data={
            "csrf": csrf,
            "besluit": "akkoord",
            "naam1": "Eva",
            "email1": "eva@h.example",
            "naam2": "Piet",
        },
    )
    assert half.status_code == 422
    assert "Functionaris 2: vul zowel naam als e-mailadres in." in half.text
    assert 'id="email2-fout"' in half.text
    assert event_count(programme) == before

    done = client.post(
        f"/antwoord/{token}",
        data={
            "csrf": csrf,
            "besluit": "akkoord",
            "naam1": "Eva de Vries",
            "email1": "eva@haarlem.example",
            "sessie": "",
        },
    )
    assert done.status_code == 200
    assert "Er is nog geen training gekozen" in done.text
    types = [(e.type, e.by) for e in programme.history("GM0392")[-2:]]
    assert types == [("Accepted", "gemeente GM0392"), ("OfficialNominated", "gemeente GM0392")]
    assert event_count(programme) == before + 2  # nothing booked
    view = programme.municipality("GM0392")
    assert view.stage.value == "accepted"
    assert [(o.id, o.session_id) for o in view.officials] == [("GM0392-1", None)]
    # The coordinator sees it among what is due: its officials are to be trained.
    due: list[Due] = programme.due(within=60)
    assert ("training", "GM0392") in {(d.kind, d.code) for d in due}
    login(client)
    page = client.get("/gemeente/GM0392").text
    assert "Nog geen training geboekt voor: GM0392-1." in page


def test_a_municipality_says_yes_when_no_training_has_seats(tmp_path: Path) -> None:
    # A campaign without any training planned yet: the page says so, and takes the answer.
    with Programme.open(f"sqlite:///{tmp_path / 'none.sqlite'}", origin="test") as programme:
        programme.register_registry("noord-holland-2019", by="setup")
        programme.make_offer(reference=OFFER, sent_on=TODAY - timedelta(days=9), by="setup")
        programme.invite("GM0392", on=TODAY - timedelta(days=9), reference=OFFER, by="setup")
        app = create_app(programme, TokenTable.parse_env(TOKENS))
        with TestClient(app, base_url="https://testserver") as client:
            token = answer_link(client, "GM0392")
            form = client.get(f"/antwoord/{token}").text
            assert 'id="geen-training"' in form
            assert 'name="sessie"' not in form
            csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
            done = client.post(
                f"/antwoord/{token}",
                data={"csrf": csrf, "besluit": "akkoord", "naam1": "Eva", "email1": "e@h.example"},
            )
            assert done.status_code == 200, done.text
        assert programme.municipality("GM0392").stage.value == "accepted"


# -- the 404 page and the role names --------------------------------------------------------------


def test_a_page_that_does_not_exist_is_a_dutch_page_and_the_api_keeps_its_problems(
    client: TestClient,
) -> None:
    for path in ("/antwoord/", "/antwoord"):
        page = client.get(path, follow_redirects=False)  # anonymous, as a mayor opens it
        assert page.status_code == 404
        assert page.headers["content-type"].startswith("text/html")
        assert "Pagina niet gevonden" in page.text
        assert 'lang="nl"' in page.text
    login(client)
    missing = client.get("/bestaat-niet")
    assert missing.status_code == 404
    assert "Pagina niet gevonden" in missing.text
    assert 'href="/">Naar het overzicht' in missing.text
    method = client.get("/gemeente/GM0363/beeindigen")
    assert method.status_code == 405
    assert "Deze pagina werkt zo niet" in method.text
    api = client.get("/api/v1/bestaat-niet", headers={"Authorization": f"Bearer {COORDINATOR}"})
    assert api.status_code == 404
    assert api.headers["content-type"] == "application/problem+json"
    assert api.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("token", "role"),
    [(COORDINATOR, "coördinator"), (VIEWER, "kijker"), (AUDITOR, "auditor")],
)
def test_the_pages_name_the_role_in_dutch(client: TestClient, token: str, role: str) -> None:
    login(client, token)
    for path in ("/", "/gemeente/GM0363", "/bestaat-niet"):
        page = client.get(path).text
        assert f'<span id="rol">({role})</span>' in page, path
        for english in ("(coordinator)", "(viewer)"):
            assert english not in page
