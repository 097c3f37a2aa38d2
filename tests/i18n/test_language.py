"""Dutch first: the catalogs are complete, and status, due, costs and show speak one language.

The suite runs in English (the root conftest sets ``MMA_LANG=en``); these tests ask for Dutch.
"""

from __future__ import annotations

import gettext
import io
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from click.testing import CliRunner

from mma_core import Programme
from mma_core.cli import cli
from mma_core.language.i18n import language, long_date, money

SRC = Path(__file__).resolve().parents[2] / "src" / "mma_core"
PO = SRC / "language" / "locale" / "nl" / "LC_MESSAGES" / "mma_core.po"
MO = PO.with_suffix(".mo")
KEYWORDS = {"_": None, "_t": None, "N_": None, "ngettext": (1, 2)}

# Words an English reader would see that a Dutch reader would not expect, and the reverse.
ENGLISH = re.compile(
    r"\b(the|and|as of|due|days|stage|total|coverage|costs|paid|connected|invited|accepted|"
    r"declined|registered|stopped|merged|trained|evaluation|answer|offer sent|deadlines?|"
    r"overdue|yes|no|none|province|municipality|municipalities|reports?|officials?|session|"
    r"within|more|goal|progress|error|verified|tree|neighbours|latest|earlier|built|"
    r"exporters|notifiers|calculators)\b",
    re.IGNORECASE,
)
DUTCH = re.compile(
    r"\b(de|het|van|een|en|op|tot|aangesloten|uitgenodigd|akkoord|afgewezen|gestopt|"
    r"gefuseerd|getraind|geregistreerd|gemeenten?|provincie|kosten|betaald|dagen|termijnen?|"
    r"verlopen|evaluatie|antwoord|aanbod|doel|voortgang|ja|nee|fout|januari|februari|maart|"
    r"mei|juni|juli|augustus|oktober)\b",
    re.IGNORECASE,
)


def source_messages() -> set[str]:
    found = set()
    for _, _, message, _, _ in extract_from_dir(str(SRC), keywords=KEYWORDS):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_in_the_source_has_a_dutch_translation() -> None:
    with PO.open("rb") as stream:
        catalog = read_po(stream)
    # A plural message is keyed by its singular and needs every plural form.
    translated = {
        m.id if isinstance(m.id, str) else m.id[0]
        for m in catalog
        if m.id and not m.fuzzy and (m.string if isinstance(m.string, str) else all(m.string))
    }
    missing = sorted(source_messages() - translated)
    assert missing == [], "run 'make i18n' and translate: " + "; ".join(missing)


def test_the_shipped_mo_is_compiled_from_the_po() -> None:
    with PO.open("rb") as stream:
        catalog = read_po(stream)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    fresh = gettext.GNUTranslations(buffer)
    with MO.open("rb") as stream:
        shipped = gettext.GNUTranslations(stream)
    for message in source_messages():
        assert shipped.gettext(message) == fresh.gettext(message), message


def test_money_and_dates_have_one_form_per_language() -> None:
    with language("nl"):
        assert money("12202.50") == "€\xa012.202,50"
        assert long_date(__import__("datetime").date(2019, 10, 18)) == "18 oktober 2019"
    with language("en"):
        assert money("12202.50") == "€12,202.50"
        assert long_date(__import__("datetime").date(2019, 10, 18)) == "18 October 2019"


@pytest.fixture(scope="module")
def demo(demo_store: str) -> tuple[str, set[str]]:
    with Programme.open(demo_store) as prog:
        names = {prog.municipality(c).name for c in prog.codes()}
    return demo_store, names


COMMANDS = (
    ("status",),
    ("status", "--as-of", "2020-06-30"),
    ("due", "--today", "2020-11-15"),
    ("costs",),
    ("costs", "--by-municipality", "--as-of", "2020-12-31"),
    ("show", "GM0363"),
    ("show", "GM0398", "--as-of", "2021-06-01"),
    ("waterbed",),
    ("waterbed", "--as-of", "2019-12-31"),
    ("history", "GM0363", "--limit", "3"),
    ("history", "GM0363", "--after", "0", "--limit", "3"),
    ("audit", "verify"),
    ("plugins",),
    ("training", "list"),
    ("store", "upgrade"),
    ("show", "GM0393"),  # ended in 2018: its end and successor
    ("offer", "show"),
    ("due",),
    ("notify", "--failed"),
    ("views", "update"),
)


def output(url: str, lang: str, *args: str) -> str:
    result = CliRunner().invoke(
        cli, ["--store", url, "--lang", lang, *args], env={"COLUMNS": "250"}
    )
    assert result.exit_code == 0, result.output
    return result.output


def scrub(text: str, names: set[str]) -> str:
    """Leave out what is a name, not language: municipalities, the demo's officials and
    simulated notes, MMA, e-mail addresses, the calculators' and tariffs' identifiers."""
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, " ")
    text = re.sub(r"Ambtenaar \d+ \S+|\S+@\S+|simulated:[^│\n]*", " ", text)
    text = re.sub(r"offer-terms|offer:\S+|Meld Misdaad Anoniem|\bMMA\b|\bOOV\b", " ", text)
    text = re.sub(
        r"burgemeestersconferentie Weerbare Overheid & Maatschappelijke Veerkracht", " ", text
    )
    # An event's line in the history is data (its type, actor and fields), a tree's root is
    # base64, and a plugin's line starts with its name, status, package and version: identifiers.
    text = re.sub(
        r"^\s*\d+  \d{4}-.*$|(?:(?<=root )|(?<=wortel ))\S+|^\S+  \[\w+\]  \S+ \S+",
        " ",
        text,
        flags=re.MULTILINE,
    )
    return re.sub(r"mma \w+|--json|--\w[\w-]*", " ", text)


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a))
def test_dutch_output_has_no_english_words(
    demo: tuple[str, set[str]], args: tuple[str, ...]
) -> None:
    url, names = demo
    text = scrub(output(url, "nl", *args), names)
    found = sorted({m.group(0).lower() for m in ENGLISH.finditer(text)})
    assert found == [], text


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a))
def test_english_output_has_no_dutch_words(
    demo: tuple[str, set[str]], args: tuple[str, ...]
) -> None:
    url, names = demo
    text = scrub(output(url, "en", *args), names)
    found = sorted({m.group(0).lower() for m in DUTCH.finditer(text)})
    assert found == [], text


def test_mma_lang_chooses_the_language_and_dutch_is_the_default(demo: tuple[str, set[str]]) -> None:
    url, _ = demo
    runner = CliRunner()
    dutch = runner.invoke(cli, ["--store", url, "costs"], env={"MMA_LANG": "nl"}).output
    english = runner.invoke(cli, ["--store", url, "costs"], env={"MMA_LANG": "en"}).output
    default = runner.invoke(cli, ["--store", url, "costs"], env={"MMA_LANG": ""}).output
    assert dutch.startswith("Kosten: €\xa0")
    assert english.startswith("Costs: €")
    assert default == dutch
    bad = runner.invoke(cli, ["--store", url, "--lang", "fr", "costs"])
    assert bad.exit_code == 2


def test_an_error_says_error_in_the_language(demo: tuple[str, set[str]]) -> None:
    url, _ = demo
    runner = CliRunner()
    nl = runner.invoke(
        cli, ["--store", url, "--lang", "nl", "accept", "GM0363", "--on", "2019-11-01"]
    )
    en = runner.invoke(
        cli, ["--store", url, "--lang", "en", "accept", "GM0363", "--on", "2019-11-01"]
    )
    assert nl.exit_code == en.exit_code == 1
    assert nl.stderr.startswith("fout: ")
    assert en.stderr.startswith("error: ")


def test_a_rule_broken_reads_in_dutch(demo: tuple[str, set[str]]) -> None:
    url, names = demo
    runner = CliRunner()
    args = ["--store", url, "--lang", "nl", "accept", "GM0363", "--on", "2019-11-01"]
    done = runner.invoke(cli, args)
    assert done.exit_code == 1
    assert done.stderr.startswith("fout: GM0363 Amsterdam: het aanbod aanvaarden kan niet")
    text = scrub(done.stderr, names)
    assert sorted({m.group(0).lower() for m in ENGLISH.finditer(text)}) == []
    evaluate = ["evaluate", "GM0363", "--on", "2999-01-01", "--outcome", "continue"]
    future = runner.invoke(cli, ["--store", url, "--lang", "nl", *evaluate])
    assert future.exit_code == 1
    assert "ligt in de toekomst" in future.stderr
    unknown = runner.invoke(cli, ["--store", url, "--lang", "nl", "show", "GM0999"])
    assert "zo'n gemeente is niet geregistreerd" in unknown.stderr


def test_the_api_errors_follow_the_language(demo: tuple[str, set[str]]) -> None:
    from mma_core import DomainError

    url, _ = demo
    with Programme.open(url) as prog:
        with language("nl"), pytest.raises(DomainError, match="ligt in de toekomst"):
            prog.evaluate(
                "GM0363", on=__import__("datetime").date(2999, 1, 1), outcome="stop", by="t"
            )
        with language("en"), pytest.raises(DomainError, match="lies in the future"):
            prog.evaluate(
                "GM0363", on=__import__("datetime").date(2999, 1, 1), outcome="stop", by="t"
            )
