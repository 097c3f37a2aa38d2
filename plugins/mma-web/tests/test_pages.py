"""The Dutch pages through the app (no browser): login cookie, CSRF, forms that refuse and keep
what was typed, and the answer links."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from babel.dates import format_date
from babel.numbers import format_currency
from fastapi.testclient import TestClient

from conftest import COORDINATOR, FULL_SESSION, SESSION, VIEWER, auth, post_login
from mma_core import Programme


def login(client: TestClient, token: str) -> str:
    """Log in; returns the CSRF token of the dashboard's forms."""
    response = post_login(client, token)
    assert response.status_code == 303, response.text
    page = client.get("/gemeente/GM0363")
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match is not None
    return match.group(1)


def test_login_sets_a_secure_httponly_samesite_cookie(
    client: TestClient, programme: Programme
) -> None:
    refused = post_login(client, "wrong-token-wrong-token")
    assert refused.status_code == 401
    assert "onbekend" in refused.text
    response = post_login(client, COORDINATOR)
    cookie = response.headers["set-cookie"]
    assert "mma_session=" in cookie
    assert COORDINATOR not in cookie
    for flag in ("HttpOnly", "Secure", "SameSite=strict"):
        assert flag.lower() in cookie.lower(), flag
    dashboard = client.get("/")
    assert dashboard.status_code == 200
    total = programme.overview().total  # 47 in 2019, fewer after the 2022 mergers
    assert f"0 van {total}" in dashboard.text
    assert f"alle {total} aangesloten" in dashboard.text
    assert 'lang="nl"' in dashboard.text
    assert "http://" not in dashboard.text.replace("http://www.w3.org", "")  # nothing external


def test_a_form_records_as_the_coordinator_and_shows_on_the_dashboard(
    client: TestClient, programme: Programme
) -> None:
    csrf = login(client, COORDINATOR)
    today = date.today().isoformat()
    done = client.post(
        "/gemeente/GM0363/antwoord",
        data={"csrf": csrf, "besluit": "akkoord", "datum": today},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    last = programme.history("GM0363")[-1]
    assert (last.type, last.by, last.origin) == ("Accepted", "Anna", "web")
    client.post("/gemeente/GM0363/aansluiting", data={"csrf": csrf, "datum": today})
    page = client.get("/gemeente/GM0363").text
    # Dutch dates, money and event names.
    assert format_date(date.today(), "long", locale="nl_NL") in page
    assert format_currency(0, "EUR", locale="nl_NL") in page  # € 0,00
    assert "aanbod aanvaard" in page
    assert f"1 van {programme.overview().total}" in client.get("/").text


def test_a_refused_form_shows_the_error_keeps_the_input_and_writes_nothing(
    client: TestClient, programme: Programme, event_count
) -> None:
    csrf = login(client, COORDINATOR)
    before = event_count(programme)
    refused = client.post(
        "/gemeente/GM0363/melding",
        data={"csrf": csrf, "ontvangen": "2020-01-05", "categorie": "fraude", "kenmerk": "MMA-77"},
    )
    assert refused.status_code == 409
    form = refused.text.split('id="melding"')[1].split("</form>")[0]
    assert 'class="error"' in form
    assert "GM0363" in form
    assert 'value="MMA-77"' in form
    assert 'value="2020-01-05"' in form
    bad_date = client.post("/gemeente/GM0363/aansluiting", data={"csrf": csrf, "datum": "morgen"})
    assert bad_date.status_code == 422
    assert "geen geldige datum" in bad_date.text
    assert event_count(programme) == before


def test_forms_need_the_csrf_token_and_a_coordinator(
    client: TestClient, programme: Programme, event_count
) -> None:
    before = event_count(programme)
    login(client, COORDINATOR)
    today = date.today().isoformat()
    forged = client.post("/gemeente/GM0363/aansluiting", data={"datum": today, "csrf": "x"})
    assert forged.status_code == 403
    client.cookies.clear()
    csrf = login(client, VIEWER)
    page = client.get("/gemeente/GM0363")
    assert "Vastleggen" not in page.text
    viewer = client.post(
        "/gemeente/GM0363/antwoord", data={"csrf": csrf, "besluit": "akkoord", "datum": today}
    )
    assert viewer.status_code == 403
    assert event_count(programme) == before


def make_link(client: TestClient, code: str) -> str:
    csrf = login(client, COORDINATOR)
    page = client.post(f"/gemeente/{code}/link", data={"csrf": csrf, "dagen": "14"})
    assert page.status_code == 201, page.text
    match = re.search(r'id="nieuwe-link">[^<]*/antwoord/([A-Za-z0-9_-]+)<', page.text)
    assert match is not None
    return match.group(1)


def test_an_answer_link_records_by_the_municipality_once(
    client: TestClient, programme: Programme, app
) -> None:  # type: ignore[no-untyped-def]
    token = make_link(client, "GM0392")
    assert token not in str(app.state.links.links())  # only the digest is stored
    client.cookies.clear()
    form = client.get(f"/antwoord/{token}")
    assert form.status_code == 200
    assert "Haarlem" in form.text
    assert "Amsterdam" not in form.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    answer = {
        "csrf": csrf,
        "besluit": "akkoord",
        "naam1": "Eva de Vries",
        "email1": "eva@haarlem.example",
        "naam2": "Piet Bakker",
        "email2": "piet@haarlem.example",
        "sessie": SESSION,
    }
    done = client.post(f"/antwoord/{token}", data=answer)
    assert done.status_code == 200
    assert "Dank u wel" in done.text
    view = programme.municipality("GM0392")
    assert view.stage.value == "accepted"
    assert [o.session_id for o in view.officials] == [SESSION, SESSION]
    kinds = {(e.type, e.by, e.origin) for e in programme.history("GM0392")[-5:]}
    assert kinds == {
        ("Accepted", "gemeente GM0392", "web"),
        ("OfficialNominated", "gemeente GM0392", "web"),
        ("TrainingBooked", "gemeente GM0392", "web"),
    }
    assert client.get(f"/antwoord/{token}").status_code == 410  # one time only
    assert client.post(f"/antwoord/{token}", data=answer).status_code == 410


def test_a_link_reads_nothing_else_and_can_be_revoked(
    client: TestClient, app, event_count, programme: Programme
) -> None:  # type: ignore[no-untyped-def]
    token = make_link(client, "GM0392")
    client.cookies.clear()
    assert client.get("/gemeente/GM0363", follow_redirects=False).status_code == 303
    assert client.get("/api/v1/municipalities/GM0363", headers=auth(token)).status_code == 401
    assert client.get("/", headers=auth(token), follow_redirects=False).status_code == 303
    link = app.state.links.links("GM0392")[0]
    assert app.state.links.revoke(link.link_id)
    before = event_count(programme)
    assert client.get(f"/antwoord/{token}").status_code == 410
    assert client.post(f"/antwoord/{token}", data={"besluit": "afgewezen"}).status_code == 410
    assert event_count(programme) == before


def test_an_answer_that_cannot_be_recorded_writes_nothing_and_keeps_the_link(
    client: TestClient, programme: Programme, event_count
) -> None:
    token = make_link(client, "GM0392")
    client.cookies.clear()
    form = client.get(f"/antwoord/{token}").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    before = event_count(programme)
    answer = {
        "csrf": csrf,
        "besluit": "akkoord",
        "naam1": "Eva de Vries",
        "email1": "eva@haarlem.example",
        "naam2": "Piet Bakker",
        "email2": "geen-adres",
        "sessie": SESSION,
    }
    bad_email = client.post(f"/antwoord/{token}", data=answer)
    assert bad_email.status_code == 422
    assert "Functionaris 2" in bad_email.text
    assert 'value="Piet Bakker"' in bad_email.text  # what was typed stays
    full = client.post(
        f"/antwoord/{token}", data={**answer, "email2": "piet@h.example", "sessie": FULL_SESSION}
    )
    assert full.status_code == 422
    assert "niet genoeg plaatsen" in full.text
    assert event_count(programme) == before
    assert client.get(f"/antwoord/{token}").status_code == 200  # still usable


def test_behind_a_proxy_links_and_redirects_keep_the_root_path(app) -> None:  # type: ignore[no-untyped-def]
    with TestClient(app, base_url="https://testserver", root_path="/mma") as proxied:
        anonymous = proxied.get("/", follow_redirects=False)
        assert anonymous.headers["location"] == "/mma/login"
        done = post_login(proxied, COORDINATOR)
        assert done.headers["location"] == "/mma/"
        page = proxied.get("/gemeente/GM0363")
        assert 'action="/mma/gemeente/GM0363/antwoord"' in page.text
        assert 'href="/gemeente/' not in page.text


def test_an_answer_refused_halfway_writes_none_of_its_commands(
    client: TestClient, programme: Programme, event_count
) -> None:
    # A session that took place already: the acceptance and the nominations would pass, the
    # booking is refused (officials nominated today cannot have been trained then).
    start = datetime.combine(date.today() - timedelta(days=10), datetime.min.time())
    programme.schedule_training(
        "voorbij-1",
        starts_at=start.replace(hour=10),
        ends_at=start.replace(hour=12),
        location="Provinciehuis, Haarlem",
        capacity=20,
        by="setup",
    )
    token = make_link(client, "GM0392")
    client.cookies.clear()
    form = client.get(f"/antwoord/{token}").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    before = event_count(programme)
    answer = {
        "csrf": csrf,
        "besluit": "akkoord",
        "naam1": "Eva de Vries",
        "email1": "eva@haarlem.example",
        "naam2": "Piet Bakker",
        "email2": "piet@haarlem.example",
        "sessie": "voorbij-1",
    }
    refused = client.post(f"/antwoord/{token}", data=answer)
    assert refused.status_code == 409
    assert event_count(programme) == before  # not the acceptance, not the nominations
    assert programme.municipality("GM0392").accepted_on is None
    assert client.get(f"/antwoord/{token}").status_code == 200  # the link stays usable
