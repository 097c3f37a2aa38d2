"""Write the template of a command-line catalog, as the source gives each text (``make i18n``
runs this, then brings the Dutch catalog in step; tests check that each template is current).

- ``mma_cli``: the help of every command and option of mma_core's own command line;
- a plugin's catalog (``--package mma_web``): the help of the commands the plugin registers
  and the messages its source and its page templates mark with ``_("...")``.

Usage: ``python tools/cli_messages.py [--package PACKAGE] OUT.pot``
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

import click
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import write_po


def messages(package: str = "mma_core") -> list[str]:
    """Every help text of ``package``'s commands, and for a plugin its marked messages too."""
    from mma_core.language.cli import commands_of, help_messages

    if package == "mma_core":
        from mma_core.cli import cli, load_all

        load_all()
        found = set(help_messages(cli))
        group = cli
    else:
        found = set(marked(package))
        group = plugin_commands()
    for _, command in commands_of(group):
        module = getattr(command.callback, "__module__", "") or ""
        ours = module.startswith(f"{package}.")
        if ours or (package == "mma_core" and command.callback is None):
            found.update(help_messages(command))
    return sorted(found)


def plugin_commands() -> click.Group:
    """A group holding every command the installed plugins register, as ``mma`` would (through
    the plugin manager, with no environment that could block a plugin)."""
    from mma_core.plugin_api import load_plugins

    group = click.Group("mma")
    failures = load_plugins(env={}).hook.register_commands(group)
    if failures:
        raise SystemExit(f"plugins failed to register their commands: {failures}")
    return group


# Python source, and the Jinja templates a plugin's web pages are made of (``{{ _("...") }}``).
METHODS = [("**.py", "python"), ("**/templates/**.j2", "jinja2")]
TEMPLATE_OPTIONS = {"**/templates/**.j2": {"trim_blocks": "true", "lstrip_blocks": "true"}}


def marked(package: str) -> list[str]:
    """The messages ``package``'s Python source and templates mark with ``_("...")``."""
    folder = Path(importlib.import_module(package).__path__[0])
    return [
        message
        for _, _, message, _, _ in extract_from_dir(
            str(folder),
            method_map=METHODS,
            options_map=TEMPLATE_OPTIONS,
            keywords={"_": None},
        )
        if isinstance(message, str)
    ]


def write(path: Path, package: str = "mma_core") -> None:
    project = "mma-core" if package == "mma_core" else package.replace("_", "-")
    catalog = Catalog(project=project, copyright_holder="mma_core developers", fuzzy=False)
    for message in messages(package):
        catalog.add(message)
    with path.open("wb") as stream:
        write_po(stream, catalog, omit_header=False, sort_output=True, no_location=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", default="mma_core", help="a plugin's package (mma_web)")
    parser.add_argument("out", type=Path, help="the .pot file to write")
    arguments = parser.parse_args()
    write(arguments.out, arguments.package)
