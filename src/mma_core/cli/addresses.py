"""``mma address import FILE``: the municipalities' postal addresses, for the letters."""

from __future__ import annotations

import click

from mma_core.cli.imports import DRY_RUN, FILE, _run
from mma_core.language.cli import TranslatedGroup

__all__ = ["register"]


@click.group(
    "address", cls=TranslatedGroup, context_settings={"help_option_names": ["-h", "--help"]}
)
def address_group() -> None:
    """The municipalities' postal addresses, printed in the letters' recipient block.

    An address in mma.toml ([plugins.letter.addresses]) comes first, then one recorded here,
    then one the registry ships.
    """


@address_group.command("import")
@FILE
@DRY_RUN
def address_import_command(path: str, dry_run: bool) -> None:
    """Record the postal addresses in a CSV or XLSX file. Columns: gemeente/municipality
    (GM0363), straat/street (a street and number or a PO box), postcode (1000 AE),
    plaats/place, and optionally aan/body (the addressee, e.g. the college of mayor and
    aldermen) and datum/on (the day the address takes effect; default: today).

    Every row is checked first; if any row is wrong, each wrong row is named by line and
    column and nothing is written. A row whose address is already in effect is left as it is.

    \b
    Example:
      mma address import adressen.xlsx --dry-run
    """
    _run("addresses", path, dry_run)


def register(cli: click.Group) -> None:
    cli.add_command(address_group)
