"""The ``mma`` command line: thin on purpose. It parses options, calls :class:`Programme`, prints.

Every rule lives in the Programme; this package only turns its ``DomainError`` into one line on
stderr and exit status 1. Bad input that click can recognise (a malformed date or amount, an
unknown category) is a usage error, exit status 2, raised before the store is even opened.

Heavy imports (the event store, rich, babel) happen inside the commands so that ``mma --help``
stays fast.

The modules: ``root`` (the group, its global options and settings), ``params`` (option types),
``output`` (consoles, JSON, words and amounts), one module per group of commands (``offers``,
``lifecycle``, ``training``, ``reports``, ``queries``, ``store``, ``demo``, ``imports``,
``cipher``), and here the extensions other packages add.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

import click

# Importing a command module adds its commands to ``cli``.
from mma_core.cli import demo, lifecycle, offers, queries, reports, store, training  # noqa: F401
from mma_core.cli.output import safe
from mma_core.cli.reports import REPORT_COLUMNS
from mma_core.cli.root import Settings, cli

__all__ = ["REPORT_COLUMNS", "Settings", "cli", "main", "safe"]

EXTENSIONS = (
    "mma_core.cli.audit",
    "mma_core.cli.plugin_commands",
    "mma_core.cli.cipher",
    "mma_core.cli.letters",
    "mma_core.cli.imports",
)


def _register_extensions(group: click.Group) -> None:
    """Let the audit and plugin modules add their commands, when they are installed.

    Each module defines ``register(cli: click.Group) -> None``. A module that is not there is
    skipped; a module that is there but fails to import is a bug and is not hidden.
    """
    for name in EXTENSIONS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            # Only the module itself (or its package) being absent is expected; a missing
            # dependency inside it must surface.
            if error.name is None or not (name == error.name or name.startswith(error.name + ".")):
                raise
            continue
        register: Callable[[click.Group], None] = module.register
        register(group)


def main() -> None:
    """Entry point of the ``mma`` console script."""
    cli(prog_name="mma")


_register_extensions(cli)
