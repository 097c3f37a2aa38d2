"""Write the template of the ``mma_cli`` catalog: the help of every command and option of
mma_core's own command line, as the source gives it (``make i18n`` runs this, then brings the
Dutch catalog in step). ``tests/i18n/test_cli_help.py`` checks that the template is current.

Usage: ``python tools/cli_messages.py OUT.pot``
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po


def messages() -> list[str]:
    """Every help text of mma_core's commands (a plugin's commands carry their own)."""
    from mma_core.cli import cli
    from mma_core.cli_language import commands_of, help_messages

    found = set(help_messages(cli))
    for _, command in commands_of(cli):
        module = getattr(command.callback, "__module__", "") or ""
        if command.callback is None or module.startswith("mma_core."):
            found.update(help_messages(command))
    return sorted(found)


def write(path: Path) -> None:
    catalog = Catalog(project="mma-core", copyright_holder="mma_core developers", fuzzy=False)
    for message in messages():
        catalog.add(message)
    with path.open("wb") as stream:
        write_po(stream, catalog, omit_header=False, sort_output=True, no_location=True)


if __name__ == "__main__":
    write(Path(sys.argv[1]))
