"""``mma --help`` and click's own words speak the reader's language; other click programs in
the same process are left as click makes them."""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from babel.messages.pofile import read_po
from click.testing import CliRunner
from test_language import DUTCH, ENGLISH

from cli_runner import invoke
from mma_core.cli import cli
from mma_core.language.cli import (
    CLICK_DOMAIN,
    HELP_DOMAIN,
    commands_of,
    reading,
    translated_command,
)
from mma_core.language.i18n import language, translations, translator

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "src" / "mma_core" / "language" / "locale"
# Each command-line catalog's template: mma_core's commands, and each plugin that speaks Dutch.
TEMPLATES = {
    "mma_core": LOCALE / "mma_cli.pot",
    "mma_web": ROOT / "plugins" / "mma-web" / "src" / "mma_web" / "locale" / "mma_web.pot",
}


def _tool(name: str) -> object:
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _ids(path: Path) -> set[str]:
    with path.open("rb") as stream:
        return {m.id for m in read_po(stream) if m.id and isinstance(m.id, str)}


@pytest.mark.parametrize("package", sorted(TEMPLATES))
def test_the_help_template_holds_every_help_text_of_the_commands(package: str) -> None:
    """A help text or marked message changed or added without ``make i18n`` fails here."""
    derived = set(_tool("cli_messages").messages(package))  # type: ignore[attr-defined]
    assert len(derived) > (100 if package == "mma_core" else 20)
    assert _ids(TEMPLATES[package]) == derived


@pytest.mark.parametrize(
    ("package", "domain"),
    [("mma_core", HELP_DOMAIN), ("mma_core", CLICK_DOMAIN), ("mma_web", "mma_web")],
)
def test_every_text_has_a_dutch_translation_compiled(package: str, domain: str) -> None:
    po = TEMPLATES[package].parent / "nl" / "LC_MESSAGES" / f"{domain}.po"
    assert _tool("i18n_fill").missing(po) == []  # type: ignore[attr-defined]
    with po.open("rb") as stream:
        catalog = read_po(stream)
    catalogs = "mma_core.language" if package == "mma_core" else package
    compiled = translations("nl", domain, catalogs)
    for message in catalog:
        if message.id and isinstance(message.id, str):
            assert compiled.gettext(message.id) == message.string, message.id


# The column headings a file may carry, in either language: names, not prose.
HEADINGS = re.compile(
    r"\b(municipality|received_on|category|reference|gemeente|ontvangen op|datum|categorie|"
    r"referentie|kenmerk|code)\b"
)


def _prose(text: str, name: str) -> str:
    """The help without command lines, command names, options, choices, metavariables, paths
    and identifiers."""
    if "import" in name:
        text = HEADINGS.sub(" ", text)
    text = re.sub(
        r"^\s+mma .*$|^(Gebruik|Usage): .*$|^\s+[\w-]+(?=\s\s)", " ", text, flags=re.MULTILINE
    )
    return re.sub(
        r"'mma [\w -]+'|\S+/\S+|`[^`]*`|\[[\w|-]+\]|\{[^}]*\}|--?[\w-]+|\b[A-Z][A-Z_]{2,}\b|\S+://\S*|\S+\.\w+",
        " ",
        text,
    )


def _commands() -> Iterator[tuple[str, click.Command]]:
    """mma_core's commands, then those the first-party plugins register."""
    for name, command in commands_of(cli):
        module = getattr(command.callback, "__module__", "") or ""
        if command.callback is None or module.startswith("mma_core."):
            yield name, command
    plugins = _tool("cli_messages").plugin_commands()  # type: ignore[attr-defined]
    yield from commands_of(plugins)


def test_every_command_explains_itself_in_dutch_and_in_english() -> None:
    names = []
    for name, command in _commands():
        names.append(name)
        with click.Context(command, info_name=name) as ctx, reading():
            with language("nl"):
                dutch = command.get_help(ctx)
            with language("en"):
                english = command.get_help(ctx)
        assert dutch != english, name
        found = sorted({m.group(0).lower() for m in ENGLISH.finditer(_prose(dutch, name))})
        assert found == [], (name, found, dutch)
        found = sorted({m.group(0).lower() for m in DUTCH.finditer(_prose(english, name))})
        assert found == [], (name, found, english)
        if "Example" in english:
            assert "Voorbeeld" in dutch, name
    assert "mma serve" in names  # a plugin's command, from the plugin's own catalog


def test_mma_help_is_dutch_by_default_and_english_when_asked(tmp_path: Path) -> None:
    # MMA_LANG empty: the default (the suite runs with MMA_LANG=en).
    env = {"MMA_STORE": f"sqlite:///{tmp_path / 'x.sqlite'}", "COLUMNS": "100", "MMA_LANG": ""}
    dutch = invoke(["--help"], env=env, cwd=tmp_path).stdout
    for word in ("Gebruik:", "Opties:", "Commando's:", "Toon deze hulp en stop.", "standaard: nl"):
        assert word in dutch, word
    assert "Record that municipality CODE accepted the offer" not in dutch
    english = invoke(["--lang", "en", "invite", "--help"], env=env, cwd=tmp_path).stdout
    for word in ("Usage: mma invite", "Options:", "Show this message and exit.", "Examples:"):
        assert word in english, word
    also = invoke(["invite", "--help"], env={**env, "MMA_LANG": "en"}, cwd=tmp_path).stdout
    assert also == english


def test_a_usage_error_is_framed_in_the_readers_language(tmp_path: Path) -> None:
    env = {"MMA_STORE": f"sqlite:///{tmp_path / 'x.sqlite'}"}
    dutch = invoke(["--lang", "nl", "status", "--bogus"], env=env, cwd=tmp_path)
    assert dutch.returncode == 2
    assert dutch.stderr.splitlines() == [
        "Gebruik: mma status [OPTIONS]",
        "Probeer 'mma status --help' voor hulp.",
        "",
        "Fout: Onbekende optie '--bogus'.",
    ]
    english = invoke(["--lang", "en", "status", "--bogus"], env=env, cwd=tmp_path)
    assert english.stderr.splitlines()[0] == "Usage: mma status [OPTIONS]"
    assert english.stderr.splitlines()[-1] == "Error: No such option '--bogus'."


def test_another_click_program_in_the_process_is_left_alone(tmp_path: Path) -> None:
    """mma's translation applies inside an mma invocation only, whatever MMA_LANG says."""

    @click.command()
    @click.option("--count", type=int)
    def other(count: int | None) -> None:
        """Someone else's command."""

    invoke(["--lang", "nl", "--help"], env={}, cwd=tmp_path)  # mma has run in this process
    result = CliRunner().invoke(other, ["--count", "x"], env={"MMA_LANG": "nl"})
    assert result.exit_code == 2
    assert "Usage: other [OPTIONS]" in result.output
    assert "Error: Invalid value for '--count': 'x' is not a valid integer." in result.output
    helped = CliRunner().invoke(other, ["--help"], env={"MMA_LANG": "nl"})
    assert "Show this message and exit." in helped.output


def test_a_plugin_without_a_catalog_keeps_its_words_in_the_readers_frame() -> None:
    """``translated_command`` of a package that ships no catalog: its own words, as written,
    inside click's frame in the reader's language; nothing fails."""

    @click.command("hello", cls=translated_command("json"))  # a package with no catalog
    @click.option("--name", help="Who to greet.")
    def hello(name: str | None) -> None:
        """Greet someone."""

    with click.Context(hello, info_name="mma hello") as ctx, reading(), language("nl"):
        text = hello.get_help(ctx)
        message = translator("json")("Greet someone.")
    assert text.startswith("Gebruik: mma hello [OPTIONS]"), text
    assert "Greet someone." in text
    assert "Who to greet." in text
    assert "Toon deze hulp en stop." in text
    assert message == "Greet someone."
    assert translated_command("json") is type(hello)  # one class per package


def test_a_listing_line_ends_at_a_sentence_not_at_a_named_full_stop() -> None:
    """``schedule``'s first sentence names the characters ``. _ -``; its listing line in
    ``mma training --help`` is that whole sentence, not cut at the lone full stop."""
    training = cli.get_command(click.Context(cli), "training")
    assert training is not None
    with click.Context(training, info_name="mma training") as ctx, reading(), language("nl"):
        text = training.get_help(ctx)
    assert "Plan trainingssessie SESSION_ID (letters, cijfers, . _ -)." in text, text
