"""Everything ``mma`` prints through click, in the reader's language: the commands' help
(``--help``) and click's own words around it and around a usage error ("Usage:", "Options:",
"Error: Invalid value for ...", "Try 'mma -h' for help.").

Two catalogs beside the messages' own (``mma_core``): ``mma_cli`` holds the help of mma_core's
commands and options, keyed by their English text as written in the source (``make i18n``
derives it from the command tree: ``tools/cli_messages.py``); ``click`` holds click's own
messages, extracted from the installed click.

Click looks its words up with the standard library's ``gettext`` functions, bound in each of its
modules. Those names are replaced once by functions that translate only inside an ``mma``
invocation (:func:`reading`): any other click program in the same process, or another thread,
gets click's behaviour unchanged.
"""

from __future__ import annotations

import gettext
import importlib
import inspect
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import Any, ClassVar

import click

from mma_core.language.i18n import (
    N_,
    check_language,
    current_language,
    language,
    translations,
)

__all__ = [
    "CLICK_DOMAIN",
    "HELP_DOMAIN",
    "TranslatedCommand",
    "TranslatedGroup",
    "choose_language",
    "click_text",
    "help_text",
    "reading",
    "translated_command",
    "translated_group",
]

HELP_DOMAIN = "mma_cli"
CLICK_DOMAIN = "click"
# The click modules that look up words a reader sees.
CLICK_MODULES = (
    "click.core",
    "click.decorators",
    "click.exceptions",
    "click.formatting",
    "click.parser",
    "click.termui",
    "click.types",
    "click.utils",
)

# Inside an ``mma`` invocation: the languages --lang chose, last one wins (a list, so the
# choice outlives the click context: click shows a usage error after the context is closed).
_chosen: ContextVar[list[str] | None] = ContextVar("mma_cli_chosen", default=None)


@contextmanager
def reading() -> Iterator[None]:
    """Click speaks the reader's language meanwhile (``MmaGroup.main`` holds it)."""
    token = _chosen.set([])
    try:
        yield
    finally:
        _chosen.reset(token)


def choose_language(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """The ``--lang`` callback: the language of this invocation, from the moment it is parsed
    (eager, so ``--help`` and usage errors after it speak it too)."""
    if value is None:
        return None
    # For this invocation only: a caller running mma in-process keeps its own language after.
    ctx.with_resource(language(value))
    chosen = _chosen.get()
    if chosen is not None:
        chosen.append(check_language(value))
    return value


def _reader_language() -> str | None:
    chosen = _chosen.get()
    if chosen is None:
        return None  # not inside mma: click as it is
    return chosen[-1] if chosen else current_language()


# Click's words that its source passes to ``_`` through a variable (``_(extra["required"])``),
# so no extraction from click finds them: marked here, they land in mma_core's catalog.
CLICK_WORDS = (N_("required"),)


def click_text(message: str) -> str:
    """One of click's own messages in the reader's language (English outside ``mma``)."""
    lang = _reader_language()
    if lang is None:
        return gettext.gettext(message)
    found = translations(lang, CLICK_DOMAIN).gettext(message)
    if found == message and message in CLICK_WORDS:
        found = translations(lang).gettext(message)
    return found


def _click_ngettext(singular: str, plural: str, n: int) -> str:
    lang = _reader_language()
    if lang is None:
        return gettext.ngettext(singular, plural, n)
    return translations(lang, CLICK_DOMAIN).ngettext(singular, plural, n)


def help_text(text: str, package: str | None = None) -> str:
    """A command's or option's help (its English source text) in the reader's language: from
    ``package``'s own catalog for a plugin's command (:func:`translated_command`), else from
    mma_core's; click's own help texts ("Show this message and exit.") from click's catalog."""
    lang = _reader_language() or current_language()
    if package is not None:
        found = translations(lang, package, package).gettext(text)
        if found != text:
            return found
    found = translations(lang, HELP_DOMAIN).gettext(text)
    if found == text:
        found = translations(lang, CLICK_DOMAIN).gettext(text)
    return found


def _install() -> None:
    for name in CLICK_MODULES:
        module = importlib.import_module(name)
        if getattr(module, "_", None) is gettext.gettext:
            module._ = click_text  # type: ignore[attr-defined]
        if getattr(module, "ngettext", None) is gettext.ngettext:
            module.ngettext = _click_ngettext  # type: ignore[attr-defined]


_install()

# The help option's text: click makes the option once per command, in the language of that
# moment, so its text is looked up here instead of taken from the option.
HELP_OPTION_TEXT = "Show this message and exit."
_HELP_OPTION_STORAGE = "_click_default_help"


def source_help(command: click.Command) -> str:
    """A command's help as its source gives it: cleaned, up to a form feed."""
    return inspect.cleandoc(command.help or "").partition("\f")[0]


def _option_record(
    param: click.Parameter, ctx: click.Context, package: str | None
) -> tuple[str, str] | None:
    record = param.get_help_record(ctx)
    if record is None:
        return None
    names, text = record
    if param.name == _HELP_OPTION_STORAGE or HELP_OPTION_TEXT in (param.help or ""):
        own = param.help or ""
        if text.startswith(own):
            return names, help_text(HELP_OPTION_TEXT, package) + text[len(own) :]
    source: str | None = getattr(param, "help", None)
    if source and text.startswith(source):
        text = help_text(source, package) + text[len(source) :]
    return names, text


def _short(text: str, limit: int) -> str:
    """The first sentence of ``text``'s first paragraph, cut to ``limit`` at a word."""
    paragraph = text.split("\n\n", 1)[0].replace("\b", "").strip()
    sentence = " ".join(paragraph.split())
    # A full stop after a word ends the sentence; a lone "." (as in "letters, digits, . _ -")
    # is a character the text names, not an end.
    end = re.search(r"(?<=[^\s.])\.(?=\s)", sentence)
    if end is not None:
        sentence = sentence[: end.end()]
    if len(sentence) <= limit:
        return sentence
    cut = sentence[: limit - 3].rsplit(" ", 1)[0]
    return cut + "..."


class TranslatedCommand(click.Command):
    """A command whose help, options' help and listing line follow the reader's language."""

    # The package whose catalog translates this command's help first (a plugin's), or None
    # for mma_core's own commands.
    help_package: ClassVar[str | None] = None

    def get_short_help_str(self, limit: int = 45) -> str:
        if self.short_help:
            return help_text(inspect.cleandoc(self.short_help), self.help_package).strip()
        return _short(help_text(source_help(self), self.help_package), limit) if self.help else ""

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        text = help_text(source_help(self), self.help_package) if self.help else ""
        if text:
            formatter.write_paragraph()
            with formatter.indentation():
                formatter.write_text(text)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        _format_params(self, ctx, formatter)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        if self.epilog:
            formatter.write_paragraph()
            with formatter.indentation():
                formatter.write_text(help_text(inspect.cleandoc(self.epilog), self.help_package))


def _format_params(
    command: TranslatedCommand, ctx: click.Context, formatter: click.HelpFormatter
) -> None:
    # Arguments are named in the usage line, as click does; only options are listed here.
    options = [p for p in command.get_params(ctx) if not isinstance(p, click.Argument)]
    rows = [r for r in (_option_record(p, ctx, command.help_package) for p in options) if r]
    if rows:
        with formatter.section(click_text("Options")):
            formatter.write_dl(rows)


class TranslatedGroup(TranslatedCommand, click.Group):
    """A group of translated commands: the commands and groups it makes are translated too."""

    command_class = TranslatedCommand
    group_class = type  # a group made by this group is of this group's class

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        _format_params(self, ctx, formatter)
        self.format_commands(ctx, formatter)


@cache
def translated_command(package: str) -> type[TranslatedCommand]:
    """The command class for a plugin's command whose help ``package`` translates: its catalog
    ``locale/LANG/LC_MESSAGES/PACKAGE.mo``, keyed by the help as the source writes it
    (``@click.command(cls=translated_command("my_plugin"))``)."""

    class Command(TranslatedCommand):
        help_package = package

    Command.__name__ = Command.__qualname__ = f"TranslatedCommand_{package}"
    return Command


@cache
def translated_group(package: str) -> type[TranslatedGroup]:
    """The group class for a plugin's group of commands, translated as
    :func:`translated_command`; the commands it makes are translated the same way."""

    class Group(TranslatedGroup):
        help_package = package
        command_class = translated_command(package)

    Group.__name__ = Group.__qualname__ = f"TranslatedGroup_{package}"
    return Group


def commands_of(group: click.Group, prefix: str = "mma") -> Iterator[tuple[str, click.Command]]:
    """Every command under ``group`` (groups too), with its full name, depth first."""
    for name, command in sorted(group.commands.items()):
        yield f"{prefix} {name}", command
        if isinstance(command, click.Group):
            yield from commands_of(command, f"{prefix} {name}")


def help_messages(command: click.Command) -> list[str]:
    """The texts of ``command``'s help that the ``mma_cli`` catalog translates."""
    found: list[str] = []
    if command.help:
        found.append(source_help(command))
    for text in (command.short_help, command.epilog):
        if text:
            found.append(inspect.cleandoc(text))
    for param in command.params:
        own: Any = getattr(param, "help", None)
        if own and param.name != _HELP_OPTION_STORAGE:
            found.append(own)
    return found
