"""Retracting and correcting a fact from a municipality's history (no browser): the history
marks amended facts and names what each amendment amends; "Intrekken" and "Corrigeren" next to
each fact a coordinator can amend; each tried first and confirmed before it is written, once.

Every refusal is checked to write nothing: the stored events are counted before and after."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient

from conftest import AUDITOR, COORDINATOR, VIEWER, post_login
from mma_core import Programme

TODAY = date.today()
EventCount = Callable[[Programme], int]


def login(client: TestClient, token: str = COORDINATOR) -> str:
    assert post_login(client, token).status_code == 303
    page = client.get("/gemeente/GM0363")
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match is not None
    return match.group(1)


def connected_with_a_report(programme: Programme) -> tuple[int, int]:
    """Amsterdam connected, one report; returns the positions of the connection and report."""
    programme.accept("GM0363", on=TODAY - timedelta(days=20), by="setup")
    programme.connect("GM0363", on=TODAY - timedelta(days=15), by="setup")
    programme.record_report(
        "GM0363", received_on=TODAY - timedelta(days=4), category="fraude", reference="M-1", by="s"
    )
    history = programme.history("GM0363")
    connected = next(e.position for e in history if e.type == "Connected")
    report = next(e.position for e in history if e.type == "ReportReceived")
    return connected, report


def hidden_fields(page: str) -> dict[str, str]:
    form = page.split('id="bevestigen"', 1)[1].split("</form>", 1)[0]
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))


def field_error(page: str, form: str, field: str) -> str:
    match = re.search(rf'<p class="error beside" id="{form}-{field}-fout"[^>]*>([^<]*)</p>', page)
    assert match is not None, f"no error next to {form}.{field}"
    return match.group(1)


def test_the_history_offers_retract_and_correct_next_to_each_fact(
    client: TestClient, programme: Programme
) -> None:
    connected, report = connected_with_a_report(programme)
    login(client)
    page = client.get("/gemeente/GM0363").text
    row = page.split(f'id="positie-{report}"', 1)[1].split("</tr>", 1)[0]
    assert f'href="/gemeente/GM0363/feit/{report}/intrekken"' in row
    assert f'href="/gemeente/GM0363/feit/{report}/corrigeren"' in row
    registered = next(e.position for e in programme.history("GM0363") if e.type == "Registered")
    row = page.split(f'id="positie-{registered}"', 1)[1].split("</tr>", 1)[0]
    assert "feit/" not in row  # a registration is not the coordinator's to amend
    # Not on a past page, and not for a viewer or an auditor.
    past = client.get(f"/gemeente/GM0363?as_of={(TODAY - timedelta(days=1)).isoformat()}").text
    assert "/intrekken" not in past
    for token in (VIEWER, AUDITOR):
        client.cookies.clear()
        login(client, token)
        assert "/intrekken" not in client.get("/gemeente/GM0363").text
        assert "/corrigeren" not in client.get("/gemeente/GM0363").text
        assert client.get(f"/gemeente/GM0363/feit/{report}/intrekken").status_code == 403
    assert connected < report


def test_retracting_a_report_asks_first_records_once_and_marks_the_history(
    client: TestClient, programme: Programme, event_count: EventCount
) -> None:
    _connected, report = connected_with_a_report(programme)
    csrf = login(client)
    path = f"/gemeente/GM0363/feit/{report}/intrekken"
    form = client.get(path)
    assert form.status_code == 200
    assert "Een feit intrekken" in form.text
    assert "melding ontvangen" in form.text
    before = event_count(programme)
    empty = client.post(path, data={"csrf": csrf, "reden": " "})
    assert empty.status_code == 422
    assert field_error(empty.text, "intrekken", "reden") == "Reden: vul dit veld in"
    asked = client.post(path, data={"csrf": csrf, "reden": "bij de verkeerde gemeente"})
    assert asked.status_code == 200
    assert "Controleren en bevestigen: een feit intrekken" in asked.text
    assert "bij de verkeerde gemeente" in asked.text
    assert event_count(programme) == before  # asking writes nothing
    back = client.post(path, data={**hidden_fields(asked.text), "stap": "wijzigen"})
    assert 'value="bij de verkeerde gemeente"' in back.text
    assert event_count(programme) == before
    confirm = {**hidden_fields(asked.text), "stap": "bevestigen"}
    done = client.post(path, data=confirm, follow_redirects=False)
    assert done.status_code == 303
    assert programme.municipality("GM0363").reports_received == 0
    recorded = event_count(programme)
    # A double click: the same confirmation again records nothing.
    again = client.post(path, data=confirm, follow_redirects=False)
    assert again.status_code == 303
    assert event_count(programme) == recorded
    history = programme.history("GM0363")
    fact = next(e for e in history if e.position == report)
    assert fact.retracted_by is not None
    assert fact.retracted_by.reason == "bij de verkeerde gemeente"
    retraction = next(e for e in history if e.amends == report)
    assert (retraction.type, retraction.by, retraction.origin) == ("FactRetracted", "Anna", "web")
    assert fact.retracted_by.position == retraction.position
    page = client.get(done.headers["location"]).text
    assert "Het feit is ingetrokken." in page
    row = page.split(f'id="positie-{report}"', 1)[1].split("</tr>", 1)[0]
    assert f"ingetrokken op positie {retraction.position}</a>: bij de verkeerde gemeente" in row
    assert "/intrekken" not in row  # retracted once
    amendment = page.split(f'id="positie-{retraction.position}"', 1)[1].split("</tr>", 1)[0]
    assert f"positie {report}</a>" in amendment
    # Retracted already: a new retraction is refused, and writes nothing.
    twice = client.get(path)
    assert twice.status_code == 409
    assert "al ingetrokken" in twice.text
    refused = client.post(path, data={"csrf": csrf, "reden": "nog eens"})
    assert refused.status_code == 409
    assert event_count(programme) == recorded


def test_a_fact_others_rest_on_is_refused_naming_them_and_nothing_is_written(
    client: TestClient, programme: Programme, event_count: EventCount
) -> None:
    connected, report = connected_with_a_report(programme)
    csrf = login(client)
    before = event_count(programme)
    refused = client.post(
        f"/gemeente/GM0363/feit/{connected}/intrekken", data={"csrf": csrf, "reden": "fout"}
    )
    assert refused.status_code == 409
    error = refused.text.split('id="intrekken-fout"', 1)[1].split("</div>", 1)[0]
    assert "berusten op dit feit" in error
    assert f'href="/gemeente/GM0363?geschiedenis=open#positie-{report}"' in error
    assert event_count(programme) == before
    # Another municipality's fact through this one's address: not found.
    other = client.get(f"/gemeente/GM0392/feit/{report}/intrekken")
    assert other.status_code == 404
    assert client.get("/gemeente/GM0363/feit/999999/intrekken").status_code == 404
    assert client.get(f"/gemeente/GM0363/feit/{report}/weggooien").status_code == 404
    forged = client.post(
        f"/gemeente/GM0363/feit/{report}/intrekken",
        data={"csrf": "vervalst", "reden": "x", "stap": "bevestigen"},
    )
    assert forged.status_code == 403
    assert event_count(programme) == before


def test_correcting_a_reports_date_shows_old_and_new_and_sends_only_what_changed(
    client: TestClient, programme: Programme, event_count: EventCount
) -> None:
    _connected, report = connected_with_a_report(programme)
    csrf = login(client)
    path = f"/gemeente/GM0363/feit/{report}/corrigeren"
    form = client.get(path).text
    old = (TODAY - timedelta(days=4)).isoformat()
    assert f'name="received_on" type="date"\n    value="{old}"' in form
    assert '<option value="fraude" selected>fraude</option>' in form
    assert len(re.findall(r'<option value="[^"]+"', form)) == 17  # the categories
    current = {"csrf": csrf, "received_on": old, "category": "fraude", "reference": "M-1"}
    before = event_count(programme)
    refusals = {
        "no change": {**current, "reden": "typefout"},
        "no reason": {**current, "received_on": TODAY.isoformat()},
        "bad date": {**current, "received_on": "morgen", "reden": "typefout"},
        "future": {
            **current,
            "received_on": (TODAY + timedelta(days=3)).isoformat(),
            "reden": "typefout",
        },
        "before the connection": {
            **current,
            "received_on": (TODAY - timedelta(days=30)).isoformat(),
            "reden": "typefout",
        },
        "bad category": {**current, "category": "kattenkwaad", "reden": "typefout"},
    }
    pages = {k: client.post(path, data=v) for k, v in refusals.items()}
    assert event_count(programme) == before
    assert "Er is niets gewijzigd" in pages["no change"].text
    assert field_error(pages["no reason"].text, "corrigeren", "reden") == "Reden: vul dit veld in"
    assert field_error(pages["bad date"].text, "corrigeren", "received_on").startswith(
        "Ontvangen op: geen geldige datum"
    )
    assert 'value="morgen"' in pages["bad date"].text  # what was typed stays
    future = field_error(pages["future"].text, "corrigeren", "received_on")
    assert "received_on" not in future  # the field is named as the form labels it
    assert pages["future"].status_code == 422
    assert pages["before the connection"].status_code in (409, 422)
    assert "Categorie: kies een van" in field_error(
        pages["bad category"].text, "corrigeren", "category"
    )
    new = TODAY - timedelta(days=3)
    asked = client.post(path, data={**current, "received_on": new.isoformat(), "reden": "typefout"})
    assert asked.status_code == 200
    carried = hidden_fields(asked.text)
    assert set(carried) == {"csrf", "verzoek", "reden", "received_on"}  # only what changed
    assert "<ins>" in asked.text
    assert "<del>" in asked.text
    assert event_count(programme) == before
    confirm = {**carried, "stap": "bevestigen"}
    done = client.post(path, data=confirm, follow_redirects=False)
    assert done.status_code == 303
    recorded = event_count(programme)
    assert client.post(path, data=confirm, follow_redirects=False).status_code == 303
    assert event_count(programme) == recorded  # a double click records once
    history = programme.history("GM0363")
    fact = next(e for e in history if e.position == report)
    assert fact.corrected_by is not None
    assert fact.corrected_by.reason == "typefout"
    restated = next(e for e in history if e.type == "FactRestated")
    assert (restated.amends, restated.by, restated.origin) == (report, "Anna", "web")
    assert restated.data["data"]["received_on"] == new.isoformat()
    assert restated.data["data"]["category"] == "fraude"
    page = client.get(done.headers["location"]).text
    assert "Het feit is gecorrigeerd." in page
    assert f"gecorrigeerd op positie {restated.position}</a>: typefout" in page


@pytest.mark.parametrize("action", ["intrekken", "corrigeren"])
def test_only_a_coordinator_amends(
    client: TestClient, programme: Programme, event_count: EventCount, action: str
) -> None:
    _connected, report = connected_with_a_report(programme)
    before = event_count(programme)
    values = {"reden": "x", "category": "drugsdelicten", "stap": "bevestigen"}
    for token in (VIEWER, AUDITOR):
        client.cookies.clear()
        csrf = login(client, token)
        refused = client.post(
            f"/gemeente/GM0363/feit/{report}/{action}", data={**values, "csrf": csrf}
        )
        assert refused.status_code == 403
        assert "Alleen een coördinator kan iets vastleggen." in refused.text
    assert event_count(programme) == before
