"""Under ``MMA_LANG=nl`` every command a coordinator runs speaks Dutch: the help of every command
(with click's markers such as ``[verplicht]``), ``mma report import`` (also ``--dry-run``) and its
errors, ``mma notify``, ``mma plugins``, ``mma costs`` and the store's errors.

The words checked are those the English catalog uses for these outputs; a message left in
English brings at least one of them.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from test_language import ENGLISH

from cli_runner import invoke
from mma_core.cli import cli
from mma_core.language.cli import commands_of, reading
from mma_core.language.i18n import language

# The words of the outputs this file walks, beyond the status words of ``test_language``.
MORE_ENGLISH = re.compile(
    r"\b(required|loaded|blocked|broken|delivered|failed|dead|dropped|planned|retry|retried|"
    r"recorded|valid|written|nothing|unavailable|malformed|try again|folder|file is|"
    r"zip|not a date|received_on|received|write|column|header|cannot|store|scheme|names no|"
    r"missing|restore|backup|key|sealed|tariff|calculator|offer-terms 1,|EUR|default|show|"
    r"message|exit|options?|usage|examples?|commands?)\b",
    re.IGNORECASE,
)


def english_in(text: str) -> list[str]:
    found = {m.group(0).lower() for m in ENGLISH.finditer(text)}
    found |= {m.group(0).lower() for m in MORE_ENGLISH.finditer(text)}
    return sorted(found)


def _dutch(url: str, cwd: Path, *args: str, code: int = 0) -> str:
    result = invoke(["--store", url, *args], env={"MMA_LANG": "nl", "COLUMNS": "250"}, cwd=cwd)
    assert result.returncode == code, (args, result.stdout, result.stderr)
    return result.stdout + result.stderr


def _all_commands() -> Iterator[tuple[str, click.Command]]:
    yield "mma", cli
    yield from commands_of(cli)


def _help_prose(text: str) -> str:
    """The help without what is code: command lines, option names, metavariables, choices,
    URLs, file names and identifiers in quotes or capitals. Click's markers in brackets stay:
    ``[required]`` is a word a reader reads."""
    # Command lines, the usage line, and the names of subcommands and choices in listings.
    text = re.sub(r"^\s+mma .*$|^Gebruik: .*$|^\s+[\w-]+(?=\s\s)", " ", text, flags=re.MULTILINE)
    text = re.sub(
        r"'mma [\w -]+'|`[^`]*`|\S+://\S*|\S+/\S+|--?[\w-]+|\b[A-Z][A-Z_]{2,}\b|\S+\.\w+|"
        r"\[(?:[\w-]+\|)+[\w-]+\]|\{[^}]*\}|'[^']*'|\"[^\"]*\"",
        " ",
        text,
    )
    # The kinds of fault 'mma audit verify' prints, named in its help as it prints them.
    text = re.sub(r"\(edited, missing, [^)]*\)", " ", text)
    # Names of plugins, formats, views and event keys the help quotes as they are typed.
    return re.sub(
        r"\b(status|ledger|roster|events|csv|jsonl|xlsx|html|ics|letter|json|sqlite|memory|"
        r"postgresql|mma|MMA|OOV|hooks?|plug-ins?|UTC|seed|base64|typst|PDF/A-2b|PDF|CBS|"
        r"Europe/Amsterdam|Meld Misdaad Anoniem)\b",
        " ",
        text,
    )


@pytest.mark.parametrize("name", [name for name, _ in _all_commands()])
def test_the_help_of_every_command_has_no_english_word(name: str) -> None:
    command = dict(_all_commands())[name]
    with click.Context(command, info_name=name) as ctx, reading(), language("nl"):
        text = command.get_help(ctx)
    assert "[required]" not in text
    assert english_in(_help_prose(text)) == [], text


def test_a_required_option_says_so_in_dutch(tmp_path: Path) -> None:
    text = _dutch(f"sqlite:///{tmp_path / 'x.sqlite'}", tmp_path, "accept", "--help")
    assert "[verplicht]" in text
    assert "[required]" not in text


def test_report_import_and_its_dry_run_speak_dutch(demo_copy: str, tmp_path: Path) -> None:
    file = tmp_path / "meldingen.csv"
    file.write_text(
        "gemeente,datum,categorie,kenmerk\n"
        "GM0363,2021-03-01,Fraude,MMA-99-1\n"
        "GM0363,02-03-2021,fraude,MMA-99-2\n",
        encoding="utf-8",
    )
    dry = _dutch(demo_copy, tmp_path, "report", "import", str(file), "--dry-run")
    assert "2 meldingen in meldingen.csv zijn in orde; er is niets weggeschreven." in dry
    done = _dutch(demo_copy, tmp_path, "report", "import", str(file))
    assert "2 meldingen uit meldingen.csv vastgelegd." in done
    for text in (dry, done):
        assert english_in(text.replace("meldingen.csv", " ")) == [], text


def test_report_import_errors_speak_dutch_with_dutch_column_names(
    demo_copy: str, tmp_path: Path
) -> None:
    bad_date = tmp_path / "datum.csv"
    bad_date.write_text(
        "gemeente,datum,categorie,kenmerk\nGM0363,2021-13-01,fraude,MMA-98-1\n", encoding="utf-8"
    )
    text = _dutch(demo_copy, tmp_path, "report", "import", str(bad_date), code=1)
    assert "regel 2: ontvangen op '2021-13-01' is geen datum" in text
    missing = tmp_path / "kop.csv"
    missing.write_text("gemeente,categorie\nGM0363,fraude\n", encoding="utf-8")
    text = _dutch(demo_copy, tmp_path, "report", "import", str(missing), code=1)
    assert "ontbreekt kolom 'ontvangen op'" in text
    # The header spellings a file may carry are quoted as they are typed: not prose.
    assert english_in(re.sub(r"\(met als kop een van: [^)]*\)", " ", text)) == [], text
    not_zip = tmp_path / "meldingen.xlsx"
    not_zip.write_text("this is no workbook", encoding="utf-8")
    text = _dutch(demo_copy, tmp_path, "report", "import", str(not_zip), code=1)
    assert "is niet te lezen als XLSX-werkmap" in text
    assert english_in(text.replace("meldingen.xlsx", " ")) == [], text


def test_notify_and_plugins_and_costs_speak_dutch(demo_copy: str, tmp_path: Path) -> None:
    # A real process: the log channel's lines reach stderr as a coordinator sees them.
    env = {**os.environ, "MMA_LANG": "nl", "COLUMNS": "250"}
    result = subprocess.run(
        [sys.executable, "-m", "mma_core.cli", "--store", demo_copy, "notify"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    # stdout is the summary; stderr the log channel's lines, whose level, logger name and
    # rule key are identifiers.
    assert result.stdout.startswith("Bezorgd: "), result.stdout
    assert english_in(result.stdout) == [], result.stdout
    lines = result.stderr.splitlines()
    assert lines
    assert all(line.startswith("INFO mma_core.notify: notificatie ") for line in lines), lines[:3]
    prose = "\n".join(
        re.sub(r"^INFO mma_core\.notify: notificatie \S+", " ", line) for line in lines
    )
    assert english_in(prose) == [], prose[:500]
    plugins = _dutch(demo_copy, tmp_path, "plugins")
    assert "[geladen]" in plugins
    assert "[loaded]" not in plugins
    # A plugin's line names its package, hooks and registrations: identifiers, not words.
    prose = re.sub(
        r"^\S+  \[|\]  \S+ \S+|^\s+(hook-API|hook API|hooks):.*$", " ", plugins, flags=re.M
    )
    prose = re.sub(r":\s.*$", " ", prose, flags=re.MULTILINE)
    assert english_in(prose) == [], plugins
    costs = _dutch(demo_copy, tmp_path, "costs")
    assert "tarief uit het aanbod van 18 oktober 2019" in costs
    assert "offer:" not in costs
    assert english_in(re.sub(r"rekenregel \S+ \d+", " ", costs)) == [], costs


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///{tmp}/missing/folder/x.sqlite", "de map"),
        ("postgresql://[bad", "het opslagadres is onjuist geschreven"),
        ("postgresql://u@127.0.0.1:99999/x", "de poort is geen getal"),
        ("ftp://example/x", "wordt niet ondersteund"),
        ("sqlite://", "noemt geen bestand"),
    ],
)
def test_store_errors_speak_dutch(tmp_path: Path, url: str, expected: str) -> None:
    url = url.format(tmp=tmp_path)
    result = invoke(["--store", url, "status"], env={"MMA_LANG": "nl"}, cwd=tmp_path)
    assert result.returncode != 0
    assert result.stderr.startswith("fout: "), result.stderr
    assert expected in result.stderr
    text = re.sub(r"\S+://\S*|\S*/\S*|--?[\w-]+", " ", result.stderr)
    assert english_in(text) == [], result.stderr
    assert "probeer het later opnieuw" not in result.stderr  # waiting makes no folder
    assert not (tmp_path / "missing").exists()


def test_a_missing_officials_key_file_is_told_in_dutch(demo_copy: str, tmp_path: Path) -> None:
    kek = Path(demo_copy.removeprefix("sqlite:///") + ".kek")
    kek.rename(tmp_path / "elsewhere.kek")
    text = _dutch(demo_copy, tmp_path, "show", "GM0363", code=1)
    assert "ontbreekt; zet het terug uit de reservekopie" in text
    assert english_in(re.sub(r"\S+\.kek|GM0363-\d", " ", text)) == [], text


def test_amounts_and_dates_inside_dutch_sentences_are_dutch(tmp_path: Path) -> None:
    from datetime import date

    from mma_core import InvalidInput, Money, Programme

    with language("nl"), pytest.raises(InvalidInput, match="€\xa0-5,00 is negatief"):
        Money.non_negative("-5", "aansluitkosten")
    with (
        language("nl"),
        Programme.open(f"sqlite:///{tmp_path / 'x.sqlite'}") as prog,
        pytest.raises(InvalidInput) as raised,
    ):
        prog.make_offer(reference="1298348/1298354", sent_on=date(2999, 12, 31), by="c")
    message = str(raised.value)
    assert "31 december 2999" in message, message
    assert "2999-12-31" not in message
    assert "Europe/Amsterdam" not in message


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('[plugins.mma-web]\nlink_days = "veel"\n', "moet een geheel getal zijn, niet 'veel'"),
        ("[plugins.letter]\nkleur = 1\n", "heeft een onbekende sleutel 'kleur'"),
        ("[onzin]\n", "onbekende tabel [onzin]"),
        ('[plugins.letter]\ncontacts = "H. Groot"\n', "moet een lijst van teksten zijn"),
    ],
)
def test_configuration_errors_speak_dutch(
    demo_copy: str, tmp_path: Path, toml: str, expected: str
) -> None:
    store = Path(demo_copy.removeprefix("sqlite:///"))
    (store.parent / "mma.toml").write_text(toml, encoding="utf-8")
    result = invoke(["--store", demo_copy, "plugins"], env={"MMA_LANG": "nl"}, cwd=tmp_path)
    text = result.stdout + result.stderr
    assert expected in text, text
    lines = [line for line in text.splitlines() if expected in line]
    # The class, the tables, keys and values quoted, the file, the tables a file may hold.
    prose = re.sub(
        r"\b\w+Error:|\[[\w.-]+\]|'[^']*'|\"[^\"]*\"|\S+\.toml|verwacht: .*$", " ", lines[0]
    )
    assert english_in(prose) == [], lines[0]


def test_letters_exports_and_imports_report_in_dutch(demo_copy: str, tmp_path: Path) -> None:
    outputs = [
        _dutch(demo_copy, tmp_path, "export", "csv", "--view", "ledger", "-o", "kosten.csv"),
        _dutch(
            demo_copy, tmp_path, "letter", "reminder", "--all", "--as-of", "2019-11-01", "-o", "b"
        ),
        _dutch(
            demo_copy,
            tmp_path,
            "letter",
            "reminder",
            "GM0363",
            "--as-of",
            "2019-12-31",
            "-o",
            "c",
            code=1,
        ),
    ]
    answers = tmp_path / "antwoorden.csv"
    answers.write_text("gemeente,antwoord,datum\nGM0363,ja,2019-11-01\n", encoding="utf-8")
    outputs.append(
        _dutch(demo_copy, tmp_path, "import", "answers", str(answers), "--dry-run", code=1)
    )
    for text in outputs:
        prose = re.sub(r"\S+\.csv|\S*/\S*", " ", text)
        assert english_in(prose) == [], text
    assert "geschreven naar" in outputs[0]
    assert "brieven van soort herinnering" in outputs[1]
    assert "geen brief (herinnering)" in outputs[2]
    assert "regel 2, kolom datum" in outputs[3]
