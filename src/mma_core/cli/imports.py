"""``mma import answers|officials FILE``: the rows of a CSV or XLSX file, all or none (the
body ``mma address import FILE`` runs too)."""

from __future__ import annotations

import click

from mma_core.language.cli import TranslatedGroup

__all__ = ["register"]


@click.group(
    "import", cls=TranslatedGroup, context_settings={"help_option_names": ["-h", "--help"]}
)
def import_group() -> None:
    """Record what a spreadsheet holds: the municipalities' answers, or their officials.

    Files are CSV (comma, semicolon or tab) or XLSX, with Dutch or English headers. Every row is
    checked first; if any row is wrong, each wrong row is named by line and column and nothing
    is written.
    """


def _run(kind: str, path: str, dry_run: bool) -> None:
    from mma_core.cli.plugin_commands import _emit, actor, programme, store_url, wants_json
    from mma_core.domain.errors import DomainError
    from mma_core.language.i18n import _
    from mma_core.paperwork.imports import (
        ImportRejected,
        import_addresses,
        import_answers,
        import_officials,
    )

    by = actor()
    run = {"answers": import_answers, "officials": import_officials}.get(kind, import_addresses)
    try:
        with programme(store_url()) as prog:
            result = run(prog, path, by=by, dry_run=dry_run, origin="cli")
    except ImportRejected as rejected:
        rows = len({e.line for e in rejected.errors})
        wrong = _("{rows} wrong row(s) in {path}; nothing was written:").format(
            rows=rows, path=path
        )
        click.echo(f"{_('error')}: {wrong}", err=True)
        for error in rejected.errors:
            click.echo(f"  {' '.join(str(error).split())}", err=True)
        raise click.exceptions.Exit(1) from None
    except DomainError as error:
        click.echo(f"{_('error')}: {' '.join(str(error).split())}", err=True)
        raise click.exceptions.Exit(1) from None
    if wants_json():
        _emit(result)  # its fields, by the one JSON conversion
        return
    for line in result.done:
        click.echo(line)
    if result.written:
        done = {
            "answers": _("Imported {rows} answers rows from {path}."),
            "officials": _("Imported {rows} officials rows from {path}."),
        }.get(kind, _("Imported {rows} address rows from {path}."))
        click.echo(done.format(rows=result.rows, path=path))
    else:
        click.echo(
            _("Dry run: all {rows} rows of {path} are valid; nothing was written.").format(
                rows=result.rows, path=path
            )
        )


FILE = click.argument("path", metavar="FILE", type=click.Path(exists=True, dir_okay=False))
DRY_RUN = click.option("--dry-run", is_flag=True, help="Check every row; write nothing.")


@import_group.command("answers")
@FILE
@DRY_RUN
def import_answers_command(path: str, dry_run: bool) -> None:
    """Acceptances and declines. Columns: gemeente/municipality (GM0363), antwoord/answer
    (ja/accept or nee/decline), datum/on, and optionally reden/reason.

    \b
    Example:
      mma import answers antwoorden.xlsx --dry-run
    """
    _run("answers", path, dry_run)


@import_group.command("officials")
@FILE
@DRY_RUN
def import_officials_command(path: str, dry_run: bool) -> None:
    """Officials, each booked on a session. Columns: gemeente/municipality, naam/name,
    e-mail/email, optionally datum/on (the nomination) and training/session (e.g. 2019-11-06).

    Without a date an official is nominated and booked on the day the municipality accepted
    (or the session's day, if it accepted later).

    \b
    Example:
      mma import officials ambtenaren.csv
    """
    _run("officials", path, dry_run)


def register(cli: click.Group) -> None:
    cli.add_command(import_group)
