"""``mma letter``: PDF letters filled from the programme, tested by their text (pdftotext)."""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import icalendar
from click.testing import CliRunner
from letter_helpers import pdf_text

from mma_core import Programme
from mma_core.cli import cli
from mma_core.cli import plugin_commands as plugin_cli
from mma_core.domain.common import AMSTERDAM
from mma_core.paperwork.letters import compose, dutch_money
from mma_core.paperwork.letters.render import render_pdf

REFERENCE = "1298348/1298354"
TRAINING_DAYS = ("6 november 2019", "7 november 2019", "13 november 2019")


def run(url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--store", url, *args], catch_exceptions=False)
    return result.exit_code, result.output


def test_invitation_all_writes_one_letter_per_invited_municipality(
    demo_url: str, tmp_path: Path
) -> None:
    status, out = run(demo_url, "letter", "invitation", "--all", "--output", str(tmp_path))
    assert status == 0, out
    pdfs = sorted(tmp_path.glob("*.pdf"))
    assert len(pdfs) == 47
    with Programme.open(demo_url) as prog:
        names = {c: prog.municipality(c).name for c in prog.codes()}
    for pdf in pdfs:
        code = pdf.stem.removeprefix("invitation-")
        text = " ".join(pdf_text(pdf).split())
        assert names[code] in text, pdf.name
        assert REFERENCE in text
        assert "18 oktober 2019" in text
        assert "Betreft: Aansluiting Meld Misdaad Anoniem" in text
        for day in TRAINING_DAYS:
            assert day in text, (pdf.name, day)
        assert "woensdag 6 november 2019, 10:00 - 12:30 uur" in text
        assert "1|2" in text
        assert "2|2" in text
    # PDF/A-2b: the XMP metadata says so.
    assert b"pdfaid:part" in pdfs[0].read_bytes()


def test_invitation_states_the_offer_terms_and_a_prior_connection(demo_url: str) -> None:
    with Programme.open(demo_url) as prog:
        (letter,) = compose(prog, "invitation", ["GM0363"], as_of=date(2019, 10, 18))
        terms = prog.offer_terms(REFERENCE, on=date(2019, 10, 18))
    text = " ".join(" ".join(b.paragraphs) for b in letter.blocks)
    assert dutch_money(terms.connection_fee) in text
    assert dutch_money(terms.report_fee) in text
    assert "sinds 1 juni 2017 aangesloten" in text  # Amsterdam's prior connection in the demo


def test_reminder_goes_only_to_those_who_had_not_answered(demo_url: str, tmp_path: Path) -> None:
    day = date(2019, 11, 1)
    status, out = run(
        demo_url, "letter", "reminder", "--all", "--as-of", day.isoformat(), "-o", str(tmp_path)
    )
    assert status == 0, out
    with Programme.open(demo_url) as prog:
        silent = {
            c
            for c in prog.codes()
            if (m := _on(prog, c, day)) is not None and m.invited_on and m.answered_on is None
        }
    written = {p.stem.removeprefix("reminder-") for p in tmp_path.glob("*.pdf")}
    assert written == silent
    assert 0 < len(written) < 47
    text = " ".join(pdf_text(next(tmp_path.glob("*.pdf"))).split())
    assert "Op 18 oktober 2019" in text
    assert REFERENCE in text
    assert "1 november 2019" in text


def test_reminder_to_a_municipality_that_answered_is_refused_and_writes_nothing(
    demo_url: str, tmp_path: Path
) -> None:
    with Programme.open(demo_url) as prog:
        answered = next(
            c
            for c in prog.codes()
            if (m := _on(prog, c, date(2019, 12, 31))) is not None and m.answered_on
        )
    status, out = run(
        demo_url, "letter", "reminder", answered, "--as-of", "2019-12-31", "-o", str(tmp_path)
    )
    assert status == 1
    assert "answered on" in out
    assert answered in out
    assert list(tmp_path.iterdir()) == []


def test_training_confirmation_has_the_session_and_an_ics_beside_it(
    demo_url: str, tmp_path: Path
) -> None:
    status, out = run(
        demo_url, "letter", "training", "--all", "--as-of", "2019-11-01", "-o", str(tmp_path)
    )
    assert status == 0, out
    pdfs = sorted(tmp_path.glob("training-*.pdf"))
    assert pdfs
    with Programme.open(demo_url) as prog:
        sessions = {s.session_id: s for s in prog.sessions()}
    for pdf in pdfs:
        ics = pdf.with_suffix(".ics")
        assert ics.exists(), pdf.name
        event = next(iter(icalendar.Calendar.from_ical(ics.read_bytes()).walk("VEVENT")))
        start = event.decoded("DTSTART")
        session = next(s for s in sessions.values() if s.starts_at == start)
        local = session.starts_at.astimezone(AMSTERDAM)
        text = " ".join(pdf_text(pdf).split())
        assert f"{local.day} november 2019" in text
        assert local.strftime("%H:%M") in text
        assert session.location in text


def test_statement_totals_equal_mma_costs_for_the_year(demo_url: str, tmp_path: Path) -> None:
    status, out = run(
        demo_url, "letter", "statement", "--all", "--year", "2020", "-o", str(tmp_path)
    )
    assert status == 0, out

    def by_municipality(as_of: str) -> dict[str, dict[str, Decimal]]:
        code, text = run(demo_url, "--json", "costs", "--by-municipality", "--as-of", as_of)
        assert code == 0, text
        return {
            m["code"]: {
                "province": Decimal(m["province"]),
                "municipality": Decimal(m["municipality"]),
            }
            for m in json.loads(text)["municipalities"]
        }

    end, start = by_municipality("2020-12-31"), by_municipality("2019-12-31")
    pdfs = sorted(tmp_path.glob("statement-2020-*.pdf"))
    assert len(pdfs) >= 40
    for pdf in pdfs:
        code = pdf.stem.removeprefix("statement-2020-")
        text = " ".join(pdf_text(pdf, layout=True).split())
        for payer, word in (("province", "provincie"), ("municipality", "gemeente")):
            before = start.get(code, {}).get(payer, Decimal(0))
            expected = end[code][payer] - before
            found = re.search(rf"Totaal betaald door de {word} (€ [\d.]+,\d\d)", text)
            assert found is not None, (pdf.name, text)
            assert found.group(1).replace("\xa0", " ") == dutch_money(expected).replace(
                "\xa0", " "
            ), (pdf.name, payer)


def test_evaluation_letter_counts_the_reports_of_the_term(demo_url: str) -> None:
    day = date(2020, 11, 20)
    with Programme.open(demo_url) as prog:
        letters = compose(prog, "evaluation", as_of=day)
        assert letters
        letter = letters[0]
        m = prog.municipality(letter.code, as_of=day)
        start = m.term_start or m.connected_on
        assert start is not None
        count = sum(
            1
            for e in prog.history(letter.code)
            if e.type == "ReportReceived" and e.date is not None and start <= e.date <= day
        )
    text = " ".join(" ".join(b.paragraphs) for b in letter.blocks)
    assert f"ontving uw gemeente {count} melding" in text
    items = " ".join(letter.blocks[1].items)
    assert "bruikbaar" in items
    assert "opgevolgd" in items
    assert "1 (zeer ontevreden) tot 5" in items


def test_text_from_the_store_is_set_as_text_never_as_markup(demo_url: str, tmp_path: Path) -> None:
    import attrs

    with Programme.open(demo_url) as prog:
        (letter,) = compose(prog, "invitation", ["GM0358"], as_of=date(2019, 10, 18))
    odd = attrs.evolve(letter, recipient=('#set page(paper: "a5") *bold* $x$ \\ <l> @ref',))
    path = tmp_path / "odd.pdf"
    path.write_bytes(render_pdf(odd))
    text = pdf_text(path)
    assert '#set page(paper: "a5") *bold* $x$ \\ <l> @ref' in text


def test_statement_needs_a_year_and_codes_or_all(demo_url: str, tmp_path: Path) -> None:
    status, out = run(demo_url, "letter", "statement", "--all", "-o", str(tmp_path))
    assert status == 2
    assert "--year" in out
    status, out = run(demo_url, "letter", "invitation", "-o", str(tmp_path))
    assert status == 2
    assert "--all" in out
    assert list(tmp_path.iterdir()) == []


def test_letters_are_an_exporter_a_house_style_can_replace(demo_url: str, tmp_path: Path) -> None:
    import zipfile

    target = tmp_path / "reminders.zip"
    status, out = run(
        demo_url,
        "export",
        "letter",
        "--view",
        "reminder",
        "--as-of",
        "2019-11-01",
        "-o",
        str(target),
    )
    assert status == 0, out
    with zipfile.ZipFile(target) as archive:
        names = archive.namelist()
    assert names
    assert all(n.startswith("reminder-GM") and n.endswith(".pdf") for n in names)
    status, out = run(
        demo_url, "letter", "invitation", "--all", "--style", "csv", "-o", str(tmp_path)
    )
    assert status == 1
    assert "house style" in out


def _on(prog: Programme, code: str, day: date):  # type: ignore[no-untyped-def]
    from mma_core.domain.errors import UnknownMunicipality

    try:
        return prog.municipality(code, as_of=day)
    except UnknownMunicipality:
        return None


def test_an_answer_link_from_a_plugin_appears_in_the_invitation(demo_url: str) -> None:
    with Programme.open(demo_url) as prog:
        (letter,) = compose(
            prog,
            "invitation",
            ["GM0358"],
            as_of=date(2019, 10, 18),
            answer_link=lambda code: f"https://example.org/answer/{code}",
        )
        (plain,) = compose(prog, "invitation", ["GM0358"], as_of=date(2019, 10, 18))
    assert letter.answer_link == "https://example.org/answer/GM0358"
    # The link stands on its own line, as a link: not inside a sentence with a full stop.
    assert letter.blocks[-1].link == "https://example.org/answer/GM0358"
    assert "https://example.org" not in " ".join(letter.blocks[-1].paragraphs)
    assert plain.blocks[-1].link == ""
    assert "U kunt ook antwoorden" not in " ".join(plain.blocks[-1].paragraphs)


def test_with_the_web_site_configured_each_invitation_carries_its_own_answer_link(
    demo_copy: str, tmp_path: Path
) -> None:
    store = Path(demo_copy.removeprefix("sqlite:///"))
    (store.parent / "mma.toml").write_text(
        '[plugins.mma-web]\npublic_url = "https://mma.noord-holland.example/"\n'
    )
    plugin_cli._LOADED.clear()
    out = tmp_path / "letters"
    status, output = run(demo_copy, "letter", "invitation", "GM0363", "GM0392", "-o", str(out))
    assert status == 0, output
    links = {}
    for pdf in sorted(out.glob("*.pdf")):
        flat = "".join(pdf_text(pdf).split())  # a long link wraps over two lines
        found = re.findall(r"https://mma\.noord-holland\.example/antwoord/[\w-]+", flat)
        assert len(found) == 1, pdf.name
        links[pdf.stem] = found[0]
    assert sorted(links) == ["invitation-GM0363", "invitation-GM0392"]
    assert len(set(links.values())) == 2  # one link per municipality
    # Without the site's address the letter asks for the answer by e-mail only.
    (store.parent / "mma.toml").write_text("")
    plugin_cli._LOADED.clear()  # as a new process would: read mma.toml again
    plain = tmp_path / "plain"
    status, output = run(demo_copy, "letter", "invitation", "GM0363", "-o", str(plain))
    assert status == 0, output
    assert "antwoord/" not in pdf_text(next(plain.glob("*.pdf")))


def test_letters_to_a_directory_that_cannot_be_made_is_one_error_line(
    demo_url: str, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    for target in ("/proc/x", str(blocker / "below")):
        result = CliRunner().invoke(
            cli,
            ["--store", demo_url, "letter", "invitation", "GM0363", "-o", target],
            catch_exceptions=False,
        )
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output
        assert f"cannot write {target}:" in result.output
