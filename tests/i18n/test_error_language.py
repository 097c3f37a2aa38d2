"""Every error speaks the language asked for: an error of each lifecycle, training, report, offer
and query command, provoked on the demo store, reads in Dutch with ``--lang nl`` and in English
with ``--lang en``.

Each command fails, so nothing is written to the shared demo store. What click itself prints
around a usage error ("Gebruik:"/"Usage:", "Probeer ... voor hulp."/"Try ... for help.",
"Fout: Ongeldige waarde voor ..."/"Error: Invalid value for ...") is checked with the message.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_language import DUTCH, ENGLISH

from cli_runner import invoke
from mma_core import Programme

OFFER = "1298348/1298354"

# (command..., arguments): each must fail on the demo store with an error of our own.
ERRORS: tuple[tuple[str, ...], ...] = (
    # lifecycle
    ("invite", "GM0363", "--on", "2019-10-18", "--reference", OFFER),
    ("invite", "GM0363", "GM0393", "--on", "2019-10-18", "--reference", OFFER),
    ("invite", "--all", "GM0363", "--on", "2019-10-18", "--reference", OFFER),
    ("prior-connection", "GM0363", "--connected-on", "2017-01-01", "--costs", "10"),
    ("accept", "GM0363", "--on", "2019-11-01"),
    ("decline", "GM0361", "--on", "2019-11-01", "--reason", "x"),
    ("connect", "GM0385", "--on", "2020-01-01"),
    ("evaluate", "GM0363", "--on", "2999-01-01", "--outcome", "continue"),
    ("evaluate", "GM0385", "--on", "2021-01-01", "--outcome", "stop"),
    ("renew", "GM0397", "--on", "2021-01-01"),
    ("terminate", "GM0393", "--on", "2021-01-01", "--reason", "x"),
    ("merge", "GM0363", "--into", "GM0363", "--on", "2021-01-01"),
    ("merge", "GM0398", "--into", "GM0363", "--on", "2023-01-01"),
    ("official", "add", "GM0398", "--name", "A", "--email", "a@example.org"),
    ("official", "add", "GM0363", "--name", "A", "--email", "a@example.org"),
    ("official", "withdraw", "GM0363-9"),
    ("official", "erase", "GM0363-9"),
    # training
    (
        "training",
        "schedule",
        "2019-11-06",
        "--starts-at",
        "2019-11-06T10:00",
        "--ends-at",
        "2019-11-06T12:00",
        "--location",
        "Haarlem",
        "--capacity",
        "10",
    ),
    (
        "training",
        "schedule",
        "later",
        "--starts-at",
        "2019-11-06T12:00",
        "--ends-at",
        "2019-11-06T10:00",
        "--location",
        "Haarlem",
        "--capacity",
        "10",
    ),
    ("training", "book", "GM0363", "--official", "GM0363-1", "--session", "2019-11-06"),
    ("training", "book", "GM0363", "--official", "GM0363-1", "--session", "nope"),
    ("training", "attend", "GM0363", "--official", "GM0363-1", "--session", "2019-11-06"),
    (
        "training",
        "attend",
        "GM0363",
        "--official",
        "GM0363-1",
        "--session",
        "2019-11-06",
        "--attended",
    ),
    # reports
    (
        "report",
        "record",
        "GM0393",
        "--received-on",
        "2020-01-01",
        "--category",
        "woonfraude",
        "--reference",
        "MMA-1",
    ),
    ("report", "import", "{files}/reports.csv"),
    # offers
    ("offer", "--reference", OFFER, "--sent-on", "2019-10-18"),
    ("offer", "--reference", OFFER),
    ("offer", "covenant", OFFER, "--on", "2019-10-30", "--place", "Haarlem"),
    ("offer", "covenant", "nope", "--on", "2019-10-30", "--place", "Haarlem"),
    ("offer", "show", "nope"),
    # queries
    ("status", "--as-of", "2019-13-01"),
    ("due", "--today", "tomorrow"),
    ("costs", "--as-of", "2019-02-30"),
    ("show", "GM0999"),
    ("show", "GM0398", "--as-of", "2023-01-01"),
    ("show", "Amsterdam"),
    ("history", "GM0999"),
    ("waterbed", "--as-of", "2019-02-30"),
    ("export", "pdfx"),
    ("letter", "statement", "GM0363", "--output", "{files}/out"),
    ("letter", "reminder", "GM0363", "--output", "{files}/out"),
    ("letter", "evaluation", "GM0363", "GM0385", "--output", "{files}/out"),
    # imports and the registry
    ("import", "answers", "{files}/answers.csv"),
    ("import", "officials", "{files}/officials.csv"),
    ("init", "--registry", "nope"),
    # audit
    ("audit", "checkpoint", "--key", "{files}/x.key"),
    ("audit", "keygen", "--key", "{files}/answers.csv"),
    ("audit", "export", "{files}", "--key", "{files}/x.key"),
)


@pytest.fixture(scope="module")
def names(demo_store: str) -> list[str]:
    with Programme.open(demo_store) as prog:
        found = {prog.municipality(c).name for c in prog.codes()}
    return sorted(found, key=len, reverse=True)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bad-files")
    (folder / "answers.csv").write_text(
        "gemeente,antwoord,datum\nGM9999,misschien,32-13-2019\nGM0363,ja,\n", encoding="utf-8"
    )
    (folder / "officials.csv").write_text(
        "gemeente,naam,e-mail,training\nGM0363,Jan,geen-adres,2030-01-01\n", encoding="utf-8"
    )
    (folder / "reports.csv").write_text(
        "gemeente,ontvangen op,categorie,kenmerk\nGM0363,gisteren,woonfraude,MMA-1\n",
        encoding="utf-8",
    )
    return folder


def stderr(url: str, files: Path, lang: str, args: tuple[str, ...]) -> str:
    argv = [a.replace("{files}", str(files)) for a in args]
    env = {"MMA_STORE": url, "MMA_ACTOR": "tester", "COLUMNS": "200"}
    result = invoke(["--lang", lang, *argv], env=env, cwd=files)
    assert result.returncode in (1, 2), (argv, result.stdout)
    assert result.stderr.strip(), argv
    assert "Traceback" not in result.stderr
    return result.stderr


def scrub(text: str, names: list[str], files: Path) -> str:
    """Leave out what is not language: names, paths, quoted values, options, command lines,
    the choices a usage line offers (values typed as they are) and identifiers."""
    text = text.replace(str(files), " ")
    for name in names:
        text = text.replace(name, " ")
    text = re.sub(
        r"\{[\w|-]+\}|'mma [\w ]+'|'[^'\s]*'|\S*\.csv|Europe/Amsterdam|--[\w-]+|\bmma \w+( \w+)?",
        " ",
        text,
    )
    return re.sub(r"\b(MMA|OOV|CBS|UTF-8|CSV|XLSX)\b", " ", text)


def words(pattern: re.Pattern[str], text: str) -> list[str]:
    return sorted({m.group(0).lower() for m in pattern.finditer(text)})


@pytest.mark.parametrize("args", ERRORS, ids=lambda a: " ".join(a[:3]))
def test_an_error_in_dutch_has_no_english_words(
    demo_store: str, names: list[str], files: Path, args: tuple[str, ...]
) -> None:
    text = stderr(demo_store, files, "nl", args)
    assert words(ENGLISH, scrub(text, names, files)) == [], text


@pytest.mark.parametrize("args", ERRORS, ids=lambda a: " ".join(a[:3]))
def test_an_error_in_english_has_no_dutch_words(
    demo_store: str, names: list[str], files: Path, args: tuple[str, ...]
) -> None:
    text = stderr(demo_store, files, "en", args)
    assert words(DUTCH, scrub(text, names, files)) == [], text


def test_the_errors_are_about_every_kind_of_command() -> None:
    commands = {a[0] for a in ERRORS} | {" ".join(a[:2]) for a in ERRORS}
    lifecycle = {"invite", "prior-connection", "accept", "decline", "connect", "evaluate"}
    lifecycle |= {"renew", "terminate", "merge", "official add", "official withdraw"}
    training = {"training schedule", "training book", "training attend"}
    reports = {"report record", "report import"}
    offers = {"offer", "offer covenant", "offer show"}
    queries = {"status", "due", "costs", "show", "history", "waterbed", "export", "letter"}
    assert lifecycle | training | reports | offers | queries <= commands


def test_a_dutch_error_is_the_dutch_message_not_the_english_one(
    demo_store: str, files: Path
) -> None:
    """Not only free of English words: the messages differ, and each names the same thing."""
    args = ("training", "book", "GM0363", "--official", "GM0363-1", "--session", "2019-11-06")
    nl = stderr(demo_store, files, "nl", args)
    en = stderr(demo_store, files, "en", args)
    assert nl.startswith("fout: GM0363 Amsterdam: ambtenaar GM0363-1 heeft sessie 2019-11-13")
    assert en.startswith("error: GM0363 Amsterdam: official GM0363-1 attended session 2019-11-13")


def test_an_error_gives_its_message_in_either_language_per_call() -> None:
    """``to_dict(lang=...)`` writes the message again in the language asked for, whatever
    language was in force where the error was raised; the code and fields stay the same."""
    import pickle
    from datetime import date

    from mma_core import DomainError, Programme
    from mma_core.language.i18n import language

    with language("nl"), Programme.open("memory://") as prog:
        prog.register_registry("noord-holland-2019", by="t")
        with pytest.raises(DomainError) as caught:
            prog.accept("GM0363", on=date(2019, 11, 1), by="b")
        with pytest.raises(DomainError) as prefixed:
            prog.book_training("GM0363", official_id="GM0363-1", session_id="?", by="c")
    error = caught.value
    assert "aanbod aanvaarden kan niet" in error.to_dict()["message"]  # as raised
    english = error.to_dict(lang="en")
    assert str(english["message"]).startswith("GM0363 Amsterdam: cannot accept the offer")
    assert error.to_dict(lang="nl")["message"] == error.to_dict()["message"]
    assert {k: v for k, v in english.items() if k != "message"} == {
        k: v for k, v in error.to_dict().items() if k != "message"
    }
    assert pickle.loads(pickle.dumps(error)).to_dict(lang="en") == english
    message = prefixed.value.to_dict(lang="en")["message"]
    assert (
        message
        == "GM0363: '?' is not a session id: 1 to 60 letters, digits or . _ -, e.g. 2019-11-06"
    )
    with pytest.raises(ValueError, match="language"):
        error.to_dict(lang="de")
