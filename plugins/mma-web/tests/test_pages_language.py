"""The pages speak Dutch to every role: no English word in what a person reads on the
dashboard, a municipality page, the confirmation pages, the refused forms, the past-date pages,
the error pages and the answer page, as coordinator, viewer, auditor and municipality.

The suite runs with ``MMA_LANG=en`` (the root conftest): the pages are Dutch all the same, and
so is a rule of the programme shown on them. The English words are those of the command line's
language test (``tests/i18n/test_language.py``), and the pages' own."""

from __future__ import annotations

import html
import importlib.util
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conftest import AUDITOR, COORDINATOR, SESSION, VIEWER, post_login
from mma_core import Programme

TODAY = date.today()
PAST = TODAY - timedelta(days=12)


def _command_line_words() -> re.Pattern[str]:
    path = Path(__file__).resolve().parents[3] / "tests" / "i18n" / "test_language.py"
    spec = importlib.util.spec_from_file_location("_mma_cli_language_words", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    pattern: re.Pattern[str] = module.ENGLISH
    return pattern


ENGLISH = _command_line_words()
# What the pages say that the command line does not.
PAGE_ENGLISH = re.compile(
    r"\b(confirm|record(ed)?|merger|merges|withdraw(n)?|reason|date|today|back|form|page|"
    r"found|participation|useful|followed|satisfaction|recovered|outcome|continue|optional|"
    r"choose|free|seats?|coordinator|viewer|show|past|undone|registry|listed|successor|name|"
    r"address|not|this|that|your|we|expired|sent|training booked)\b",
    re.IGNORECASE,
)


def readable(page: str) -> str:
    """What a person reads: the text, the titles and the labels read out; not the styles,
    the values of fields or the names of things."""
    page = re.sub(r"<style.*?</style>|<!--.*?-->", " ", page, flags=re.DOTALL)
    said = re.findall(r'(?:aria-label|title|placeholder)="([^"]*)"', page)
    text = re.sub(r"<[^>]+>", " ", page)
    return html.unescape(" ".join([text, *said]))


def scrub(text: str, names: set[str]) -> str:
    """Leave out names: municipalities, officials, who recorded what, through what."""
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, " ")
    return re.sub(r"\S+@\S+|GM\d{4}(-\d+)?|Meld Misdaad Anoniem|\bMMA\b|\bOOV\b", " ", text)


def english_in(page: str, names: set[str]) -> list[str]:
    text = scrub(readable(page), names)
    found = {m.group(0).lower() for m in ENGLISH.finditer(text)}
    found |= {m.group(0).lower() for m in PAGE_ENGLISH.finditer(text)}
    return sorted(found)


@pytest.fixture
def names(programme: Programme) -> set[str]:
    found = {programme.municipality(code).name for code in programme.codes()}
    return found | {
        "Anna",
        "Victor",
        "Audrey",
        "setup",
        "test",
        "web",
        "Eva de Vries",
        "Provinciehuis, Haarlem",
    }


@pytest.fixture
def campaign(programme: Programme) -> Programme:
    """Amsterdam connected with a report, an official booked and an evaluation; Haarlem
    invited; so that every part of the pages shows."""
    programme.accept("GM0363", on=TODAY - timedelta(days=20), by="setup")
    programme.connect("GM0363", on=TODAY - timedelta(days=15), by="setup")
    programme.record_report(
        "GM0363", received_on=TODAY - timedelta(days=4), category="fraude", reference="M-1", by="s"
    )
    oid = programme.nominate_official("GM0363", name="Eva de Vries", email="eva@a.example", by="s")
    programme.book_training("GM0363", official_id=oid, session_id=SESSION, by="setup")
    programme.evaluate("GM0363", on=TODAY, outcome="continue", useful=1, satisfaction=4, by="s")
    return programme


def pages_of(client: TestClient, token: str, csrf: str) -> Iterator[tuple[str, str]]:
    """Every page a staff member of the role reaches: reading, and trying to record."""
    for path in (
        "/",
        f"/?as_of={PAST.isoformat()}",
        "/?as_of=morgen",
        "/?as_of=2999-01-01",
        "/gemeente/GM0363",
        f"/gemeente/GM0363?as_of={PAST.isoformat()}",
        "/gemeente/GM0363?as_of=30-02-2020",
        "/gemeente/GM0392",
        "/gemeente/GM0457",
        "/gemeente/GM1980?as_of=2020-01-01",
        "/gemeente/GM9999",
        "/bestaat-niet",
        "/gemeente/GM0363/fusie",
    ):
        yield path, client.get(path).text
    posts = {
        "beeindigen": {"datum": TODAY.isoformat(), "reden": "besluit"},
        "afmelden": {"functionaris": "GM0363-1"},
        "fusie": {"opvolger": "GM0377", "datum": TODAY.isoformat()},
    }
    for form, values in posts.items():
        # The confirmation page (a coordinator) or the refusal (any other role).
        yield (
            f"POST {form}",
            client.post(f"/gemeente/GM0363/{form}", data={**values, "csrf": csrf}).text,
        )
    if token != COORDINATOR:
        return
    refused = {
        "beeindigen": {"datum": "gisteren"},
        "afmelden": {"functionaris": "GM0392-1"},
        "fusie": {"opvolger": "GM0377", "datum": TODAY.isoformat()},
        "fusie-reden": {"opvolger": "GM0377", "datum": TODAY.isoformat(), "niet-in-register": "ja"},
        "evaluatie": {"datum": TODAY.isoformat(), "uitkomst": "stop", "nuttig": "veel"},
    }
    for key, values in refused.items():
        form = key.split("-")[0]
        yield (
            f"POST {key} (refused)",
            client.post(f"/gemeente/GM0392/{form}", data={**values, "csrf": csrf}).text,
        )
    yield from amending_pages(client, csrf)
    asked = client.post("/gemeente/GM0363/beeindigen", data={**posts["beeindigen"], "csrf": csrf})
    back = {"csrf": csrf, "datum": TODAY.isoformat(), "stap": "wijzigen"}
    yield "back from the confirmation", client.post("/gemeente/GM0363/beeindigen", data=back).text
    assert asked.status_code == 200


def amending_pages(client: TestClient, csrf: str) -> Iterator[tuple[str, str]]:
    """Retracting and correcting a fact: the forms, their refusals and confirmations, the
    history after each."""
    history = client.app.state.programme.history("GM0363")  # type: ignore[attr-defined]
    at = {e.type: e.position for e in history}
    report, evaluation, connected = at["ReportReceived"], at["Evaluated"], at["Connected"]
    retract = f"/gemeente/GM0363/feit/{report}/intrekken"
    correct = f"/gemeente/GM0363/feit/{evaluation}/corrigeren"
    yield "retract form", client.get(retract).text
    yield "correct form", client.get(correct).text
    yield "retract: no reason", client.post(retract, data={"csrf": csrf}).text
    yield (
        "retract: others rest on it",
        client.post(
            f"/gemeente/GM0363/feit/{connected}/intrekken", data={"csrf": csrf, "reden": "fout"}
        ).text,
    )
    yield (
        "correct: nothing changed",
        client.post(correct, data={"csrf": csrf, "reden": "fout", "outcome": "continue"}).text,
    )
    yield (
        "correct: bad value",
        client.post(correct, data={"csrf": csrf, "reden": "fout", "useful": "veel"}).text,
    )
    yield (
        "correct: future",
        client.post(
            correct,
            data={"csrf": csrf, "reden": "fout", "on": (TODAY + timedelta(days=2)).isoformat()},
        ).text,
    )
    yield (
        "correct: confirmation",
        client.post(
            correct, data={"csrf": csrf, "reden": "fout", "outcome": "stop", "satisfaction": "2"}
        ).text,
    )
    yield "retract: confirmation", client.post(retract, data={"csrf": csrf, "reden": "fout"}).text
    yield "not this municipality's", client.get(f"/gemeente/GM0392/feit/{report}/intrekken").text
    yield "no fact there", client.get("/gemeente/GM0363/feit/999999/intrekken").text
    done = client.post(
        retract, data={"csrf": csrf, "reden": "fout", "stap": "bevestigen", "verzoek": "taal-1"}
    )
    if done.status_code == 303:  # a coordinator: the history with the retraction, marked
        yield "history with a retraction", client.get("/gemeente/GM0363?geschiedenis=open").text
        yield "retracted already", client.get(retract).text


@pytest.mark.parametrize(
    ("token", "role"), [(COORDINATOR, "coordinator"), (VIEWER, "viewer"), (AUDITOR, "auditor")]
)
def test_every_page_of_a_role_is_dutch(
    client: TestClient, campaign: Programme, names: set[str], token: str, role: str
) -> None:
    assert post_login(client, token).status_code == 303
    page = client.get("/gemeente/GM0363").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    checked = 0
    for where, text in pages_of(client, token, csrf):
        assert 'lang="nl"' in text, where
        assert english_in(text, names) == [], (role, where, scrub(readable(text), names))
        assert "'mma " not in text, (role, where)  # no command line to type on a page
        checked += 1
    assert checked >= 16


def test_the_answer_page_is_dutch_for_the_municipality(
    client: TestClient, campaign: Programme, names: set[str]
) -> None:
    assert post_login(client, COORDINATOR).status_code == 303
    page = client.get("/gemeente/GM0392").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    made = client.post("/gemeente/GM0392/link", data={"csrf": csrf, "dagen": "7"}).text
    link = re.search(r'id="nieuwe-link">[^<]*(/antwoord/[A-Za-z0-9_-]+)<', made).group(1)  # type: ignore[union-attr]
    client.cookies.clear()
    form = client.get(link).text
    token = re.search(r'name="csrf" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    seen = {
        "the form": form,
        "no official": client.post(link, data={"csrf": token, "besluit": "akkoord"}).text,
        "half an official": client.post(
            link, data={"csrf": token, "besluit": "akkoord", "naam1": "Eva de Vries"}
        ).text,
        "expired form": client.post(link, data={"csrf": "oud", "besluit": "akkoord"}).text,
        "thanks": client.post(
            link,
            data={
                "csrf": token,
                "besluit": "akkoord",
                "naam1": "Eva de Vries",
                "email1": "e@h.example",
            },
        ).text,
        "used up": client.get(link).text,
        "no token": client.get("/antwoord/").text,
    }
    for where, text in seen.items():
        assert english_in(text, names) == [], (where, scrub(readable(text), names))
