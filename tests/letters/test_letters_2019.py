"""The letters as the province's letter of 18 October 2019 has them: two contacts, the covenant
and its day, an answer-by date, the signatory, the recipient's address, only the sessions open
on the letter's date, a clickable answer link on its own line; training letters dated on the
booking; no letter dated in the future by accident; private files; PDF/A as far as checked."""

from __future__ import annotations

import re
import shutil
import stat
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from letter_helpers import pdf_text

from mma_core import InvalidInput, Programme
from mma_core.cli import cli
from mma_core.cli import plugin_commands as plugin_cli
from mma_core.paperwork.letters import compose
from mma_core.paperwork.letters.model import Letterhead

REFERENCE = "1298348/1298354"


def run(url: str, *args: str) -> tuple[int, str]:
    plugin_cli._LOADED.clear()  # as a new process would: mma.toml read again
    result = CliRunner().invoke(
        cli, ["--store", url, "--lang", "nl", *args], catch_exceptions=False
    )
    return result.exit_code, result.output


def flat(pdf: Path) -> str:
    return " ".join(pdf_text(pdf).split())


def test_the_invitation_names_both_contacts_the_covenant_and_the_three_2019_sessions(
    demo_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "brieven" / "2019"
    status, output = run(demo_url, "letter", "invitation", "GM0363", "-o", str(out))
    assert status == 0, output
    pdf = out / "invitation-GM0363.pdf"
    text = flat(pdf)
    assert "H. Groot" in text
    assert "M. le Clercq" in text
    assert "kunt u hen bereiken" in text
    assert "hem of haar" not in text
    assert "convenant" in text
    assert "Op 30 oktober 2019 onderteken ik" in text
    assert text.rstrip().count("Ik zie u graag op 30 oktober.") == 1
    assert "uiterlijk 8 november 2019" in text  # three weeks after 18 October
    sessions = re.findall(r"• (\w+dag \d+ \w+ \d{4}), \d\d:\d\d - \d\d:\d\d uur", pdf_text(pdf))
    assert sessions == [
        "woensdag 6 november 2019",
        "donderdag 7 november 2019",
        "woensdag 13 november 2019",
    ]
    # Private: the letter 0600, the folders made for it 0700.
    assert stat.S_IMODE(pdf.stat().st_mode) == 0o600
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert stat.S_IMODE(out.parent.stat().st_mode) == 0o700


def test_a_session_planned_later_or_full_by_then_is_not_offered(
    memory_programme: Programme,
) -> None:
    prog = memory_programme
    prog.register_registry("noord-holland-2019", by="c")
    prog.make_offer(reference=REFERENCE, sent_on=date(2019, 10, 18), by="c")

    def schedule(session_id: str, day: date, capacity: int, planned: date) -> None:
        prog.schedule_training(
            session_id,
            starts_at=datetime(day.year, day.month, day.day, 10),
            ends_at=datetime(day.year, day.month, day.day, 12),
            location="Provinciehuis, Dreef 3, Haarlem",
            capacity=capacity,
            by="c",
            on=planned,
        )

    schedule("2019-11-06", date(2019, 11, 6), 1, date(2019, 10, 1))
    schedule("2019-11-13", date(2019, 11, 13), 40, date(2019, 10, 1))
    schedule("2020-01-15", date(2020, 1, 15), 40, date(2019, 12, 1))
    for code in ("GM0363", "GM0358"):
        prog.invite(code, on=date(2019, 10, 18), reference=REFERENCE, by="c")
    prog.accept("GM0358", on=date(2019, 10, 25), by="b")
    official = prog.nominate_official(
        "GM0358", name="A. Smit", email="a.smit@example.nl", on=date(2019, 10, 25), by="c"
    )
    prog.book_training(
        "GM0358", official_id=official, session_id="2019-11-06", on=date(2019, 10, 25), by="c"
    )

    def offered(letter: object) -> list[str]:
        return [item for b in letter.blocks for item in b.items]  # type: ignore[attr-defined]

    (invitation,) = compose(prog, "invitation", ["GM0363"], as_of=date(2019, 10, 18))
    assert len(offered(invitation)) == 2  # not the session planned in December
    assert not any("januari 2020" in item for item in offered(invitation))
    (early,) = compose(prog, "reminder", ["GM0363"], as_of=date(2019, 10, 20))
    assert [i[:27] for i in offered(early)] == [
        "woensdag 6 november 2019, 1",
        "woensdag 13 november 2019, ",
    ]
    (late,) = compose(prog, "reminder", ["GM0363"], as_of=date(2019, 11, 1))
    assert len(offered(late)) == 1  # 6 November was full by then
    assert "13 november 2019" in offered(late)[0]
    (december,) = compose(prog, "reminder", ["GM0363"], as_of=date(2019, 12, 2))
    assert len(offered(december)) == 1
    assert "15 januari 2020" in offered(december)[0]


def test_contacts_pronouns_signatory_and_address_come_from_the_configuration(
    demo_copy: str, tmp_path: Path
) -> None:
    store = Path(demo_copy.removeprefix("sqlite:///"))
    (store.parent / "mma.toml").write_text(
        "[plugins.letter]\n"
        'contacts = ["mevr M. le Clercq | clercq@example.nl | haar"]\n'
        'signatory_name = "J. Jansen"\n'
        "[plugins.letter.addresses]\n"
        'GM0363 = "Postbus 202; 1000 AE Amsterdam"\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    status, output = run(demo_copy, "letter", "invitation", "GM0363", "-o", str(out))
    assert status == 0, output
    text = flat(out / "invitation-GM0363.pdf")
    assert "mevr M. le Clercq (clercq@example.nl), die dit namens de provincie coördineert" in text
    assert "kunt u haar bereiken" in text
    assert "Aan de burgemeester van de gemeente Amsterdam Postbus 202 1000 AE Amsterdam" in text
    assert "J. Jansen De commissaris van de Koning" in text
    # A contact written wrong: a Dutch error, and nothing written.
    (store.parent / "mma.toml").write_text(
        '[plugins.letter]\ncontacts = ["H. Groot | groot@example.nl | zij"]\n', encoding="utf-8"
    )
    bad = tmp_path / "bad"
    status, output = run(demo_copy, "letter", "invitation", "GM0363", "-o", str(bad))
    assert status == 1
    assert "voornaamwoord 'zij' is niet hem, haar of leeg" in output
    assert not bad.exists()


def test_one_contact_without_a_pronoun_reads_in_the_neutral_form(demo_url: str) -> None:
    head = Letterhead(contacts=("H. Groot | groot@example.nl |",))
    with Programme.open(demo_url) as prog:
        (letter,) = compose(
            prog, "invitation", ["GM0363"], as_of=date(2019, 10, 18), letterhead=head
        )
    text = " ".join(p for b in letter.blocks for p in b.paragraphs)
    assert "kunt u H. Groot bereiken" in text
    assert " hem " not in text
    with pytest.raises(InvalidInput):
        Letterhead(contacts=("| x@example.nl |",)).contact_list()


def test_a_training_letter_is_dated_on_its_booking_and_greets_neutrally(
    demo_url: str, tmp_path: Path
) -> None:
    from mma_core.paperwork.letters.composer import SessionHistory, dutch_date

    status, output = run(demo_url, "letter", "training", "GM0363", "-o", str(tmp_path))
    assert status == 0, output
    with Programme.open(demo_url) as prog:
        history = SessionHistory(prog, prog.sessions())
        officials = [o for o in prog.municipality("GM0363").officials if o.active and o.session_id]
        booked = {o.id: history.booked_on(o.session_id or "", o.id) for o in officials}
    assert booked
    for official, day in booked.items():
        assert day is not None
        text = flat(tmp_path / f"training-{official}.pdf")
        assert "Geachte heer, mevrouw," in text
        assert f"Datum {dutch_date(day)}" in text  # the booking's day, not today
        assert dutch_date(date.today()) not in text


def test_a_letter_dated_after_today_is_refused_unless_future_is_given(
    demo_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "later"
    status, output = run(
        demo_url, "letter", "evaluation", "--all", "--as-of", "2999-01-01", "-o", str(out)
    )
    assert status == 2
    assert "--as-of 1 januari 2999 ligt na vandaag" in output
    assert "--future" in output
    assert not out.exists()
    status, output = run(
        demo_url, "letter", "reminder", "--all", "--as-of", "2019-02-30", "-o", str(out)
    )
    assert status == 2
    assert "is geen datum" in output
    assert not out.exists()
    status, output = run(
        demo_url,
        "letter",
        "evaluation",
        "--all",
        "--as-of",
        "2999-01-01",
        "--future",
        "-o",
        str(out),
    )
    assert status == 0, output


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (Debian packages qpdf, poppler-utils)")
    return found


def test_pdf_a_parts_creation_time_and_a_clickable_answer_link(
    demo_copy: str, tmp_path: Path
) -> None:
    store = Path(demo_copy.removeprefix("sqlite:///"))
    (store.parent / "mma.toml").write_text(
        '[plugins.mma-web]\npublic_url = "https://mma.noord-holland.example/"\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    before = datetime.now(UTC).replace(microsecond=0)
    status, output = run(demo_copy, "letter", "invitation", "GM0363", "-o", str(out))
    assert status == 0, output
    pdf = out / "invitation-GM0363.pdf"
    qpdf = _tool("qpdf")
    checked = subprocess.run([qpdf, "--check", str(pdf)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "No syntax or stream encoding errors" in checked.stdout
    fonts = subprocess.run(
        [_tool("pdffonts"), str(pdf)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    assert fonts
    assert all(line.split()[-5] == "yes" for line in fonts), fonts  # the "emb" column
    plain = tmp_path / "plain.pdf"
    subprocess.run([qpdf, "--qdf", "--object-streams=disable", str(pdf), str(plain)], check=True)
    raw = plain.read_bytes().decode("latin-1")
    assert "<pdfaid:part>2</pdfaid:part>" in raw
    assert re.search(r"pdfaid:conformance>B<", raw)
    assert "/OutputIntents" in raw
    assert "/GTS_PDFA1" in raw
    created = re.search(r"/CreationDate \(D:(\d{14})", raw)
    assert created is not None
    made = datetime.strptime(created.group(1), "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    assert before <= made <= datetime.now(UTC)  # the time of making, not 18 October 2019
    assert "18 oktober 2019" in flat(pdf)  # the letter's own date, in its text
    links = re.findall(r"/URI \((https://mma\.noord-holland\.example/antwoord/[^)]+)\)", raw)
    assert len(links) == 1
    # On its own line, whole, and nothing after it.
    lines = [line.strip() for line in pdf_text(pdf).splitlines()]
    assert links[0] in lines


def test_the_officials_record_can_set_the_salutation_sealed_with_the_name(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'mma.sqlite'}"
    with Programme.open(url) as prog:
        prog.register_registry("noord-holland-2019", by="c")
        prog.make_offer(reference=REFERENCE, sent_on=date(2019, 10, 18), by="c")
        prog.schedule_training(
            "2019-11-13",
            starts_at=datetime(2019, 11, 13, 13),
            ends_at=datetime(2019, 11, 13, 15, 30),
            location="Provinciehuis, Dreef 3, Haarlem",
            capacity=40,
            by="c",
            on=date(2019, 10, 1),
        )
        prog.invite("GM0358", on=date(2019, 10, 18), reference=REFERENCE, by="c")
        prog.accept("GM0358", on=date(2019, 11, 1), by="b")
    status, output = run(
        url,
        "official",
        "add",
        "GM0358",
        "--name",
        "A. Smit",
        "--email",
        "a.smit@aalsmeer.example",
        "--salutation",
        "Geachte mevrouw Smit,",
        "--on",
        "2019-11-01",
    )
    assert status == 0, output
    official = output.strip().splitlines()[-1]
    other = (
        run(
            url,
            "official",
            "add",
            "GM0358",
            "--name",
            "B. Bos",
            "--email",
            "b@x.example",
            "--on",
            "2019-11-01",
        )[1]
        .strip()
        .splitlines()[-1]
    )
    for who in (official, other):
        status, output = run(
            url,
            "training",
            "book",
            "GM0358",
            "--official",
            who,
            "--session",
            "2019-11-13",
            "--on",
            "2019-11-02",
        )
        assert status == 0, output
    out = tmp_path / "out"
    status, output = run(url, "letter", "training", "GM0358", "-o", str(out))
    assert status == 0, output
    text = flat(out / f"training-{official}.pdf")
    assert "Geachte mevrouw Smit," in text
    assert "Datum 2 november 2019" in text
    assert "Geachte heer, mevrouw," in flat(out / f"training-{other}.pdf")
    # Personal data: sealed with the name, never in the store's plain bytes.
    for file in tmp_path.glob("mma.sqlite*"):
        assert b"mevrouw Smit" not in file.read_bytes()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            (
                "training",
                "schedule",
                "2030-01-15",
                "--starts-at",
                "2030-01-15T10:00",
                "--ends-at",
                "2030-01-15T12:00",
                "--location",
                "Haarlem",
                "--capacity",
                "10",
                "--on",
                "2999-01-01",
            ),
            "ligt in de toekomst",
        ),
        (
            (
                "training",
                "schedule",
                "2030-01-16",
                "--starts-at",
                "2030-01-16T10:00",
                "--ends-at",
                "2030-01-16T12:00",
                "--location",
                "Haarlem",
                "--capacity",
                "10",
                "--on",
                "morgen",
            ),
            "is geen datum",
        ),
        (
            (
                "official",
                "add",
                "GM0358",
                "--name",
                "A. Smit",
                "--email",
                "a@x.example",
                "--salutation",
                "Geachte\nmevrouw",
            ),
            "aanhef van een functionaris",
        ),
    ],
)
def test_bad_input_on_the_new_options_is_refused_in_dutch_and_writes_nothing(
    demo_copy: str, args: tuple[str, ...], expected: str, event_count: object
) -> None:
    with Programme.open(demo_copy) as prog:
        before = event_count(prog)  # type: ignore[operator]
    status, output = run(demo_copy, *args)
    assert status in (1, 2), output
    assert expected in output, output
    with Programme.open(demo_copy) as prog:
        assert event_count(prog) == before  # type: ignore[operator]


def test_an_evaluation_letter_never_asks_for_an_answer_by_a_day_already_past(
    demo_url: str,
) -> None:
    from mma_core.paperwork.letters.composer import dutch_date

    day = date(2020, 11, 20)
    with Programme.open(demo_url) as prog:
        letters = compose(prog, "evaluation", as_of=day)
        assert letters
        for letter in letters:
            m = prog.municipality(letter.code, as_of=day)
            assert m.evaluation_due is not None
            text = " ".join(p for b in letter.blocks for p in b.paragraphs)
            asked = re.search(r"vóór (\d+ \w+ \d{4})", text)
            assert asked is not None
            if m.evaluation_due > day:
                assert asked.group(1) == dutch_date(m.evaluation_due)
            else:  # overdue on the letter's date: three weeks from it
                assert asked.group(1) == dutch_date(date(2020, 12, 11))


def test_an_email_address_is_never_broken_over_two_lines(demo_url: str, tmp_path: Path) -> None:
    status, output = run(
        demo_url, "letter", "evaluation", "--all", "--as-of", "2020-11-20", "-o", str(tmp_path)
    )
    assert status == 0, output
    pdfs = sorted(tmp_path.glob("*.pdf"))
    assert pdfs
    for pdf in pdfs:
        text = pdf_text(pdf)
        # The sender's column and the closing sentence both name it, each whole on a line.
        assert text.count("grooth@noord-holland.nl") >= 2, pdf.name
        assert "grooth@noord-\n" not in text


def test_answer_days_outside_a_year_is_refused_in_dutch_and_writes_nothing(
    demo_copy: str, tmp_path: Path
) -> None:
    store = Path(demo_copy.removeprefix("sqlite:///"))
    (store.parent / "mma.toml").write_text("[plugins.letter]\nanswer_days = 0\n", encoding="utf-8")
    out = tmp_path / "out"
    status, output = run(demo_copy, "letter", "invitation", "GM0363", "-o", str(out))
    assert status == 1
    assert "geef een aantal dagen van 1 tot en met 366" in output
    assert not out.exists()
