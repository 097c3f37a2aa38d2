"""``mma report``: one report, or a file of them."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from mma_core.cli.lifecycle import _done
from mma_core.cli.output import _stderr, emit_json
from mma_core.cli.params import DATE
from mma_core.cli.root import CONTEXT_SETTINGS, Settings, cli, pass_settings
from mma_core.domain.values import MMA_CATEGORIES
from mma_core.language.cli import TranslatedGroup
from mma_core.language.i18n import _, ngettext
from mma_core.paperwork.tables import Column, column_label

if TYPE_CHECKING:
    pass


class ReportGroup(TranslatedGroup):
    """``mma report CODE ...`` records one report (``record`` may be left out);
    ``mma report import FILE`` records a file of them."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["record", *args]
        return super().parse_args(ctx, args)


@cli.group(cls=ReportGroup, context_settings=CONTEXT_SETTINGS)
def report() -> None:
    """Record reports forwarded to municipalities: one, or a CSV/XLSX file of them.

    \b
    Examples:
      mma report GM0363 --received-on 2020-02-03 --category fraude --reference MMA-20-00001
      mma report import meldingen.xlsx --dry-run
    """


@report.command("record")
@click.argument("code")
@click.option("--received-on", type=DATE, required=True, help="Day MMA forwarded the report.")
@click.option(
    "--category",
    type=click.Choice(MMA_CATEGORIES, case_sensitive=False),
    required=True,
    help="The MMA category, e.g. 'sociale zekerheid'.",
)
@click.option("--reference", required=True, help="MMA's opaque reference, e.g. MMA-20-00001.")
@pass_settings
def report_record(
    settings: Settings, code: str, received_on: date, category: str, reference: str
) -> None:
    """Record a report forwarded to municipality CODE. Nothing about the reporter is stored.

    \b
    Example:
      mma report GM0363 --received-on 2020-02-03 --category "sociale zekerheid" \\
          --reference MMA-20-00001
    """
    with settings.programme() as prog:
        prog.record_report(
            code, received_on=received_on, category=category, reference=reference, by=settings.by
        )
        _done(
            settings, prog, _("report recorded"), code, received_on=received_on, reference=reference
        )


@report.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row against every rule; write nothing.")
@click.option(
    "--format",
    "table_format",
    type=click.Choice(["csv", "xlsx"]),
    help="The file's format (default: from its name).",
)
@pass_settings
def report_import(settings: Settings, file: Path, dry_run: bool, table_format: str | None) -> None:
    """Record every report in FILE (CSV or XLSX), all or nothing.

    FILE has a header line naming four columns, in Dutch or English: municipality (gemeente,
    code), received_on (ontvangen op, datum; YYYY-MM-DD or DD-MM-YYYY), category (categorie)
    and reference (referentie, kenmerk). Every row is checked by every rule of 'mma report';
    if any row breaks one, the error names its line and nothing is written. CSV may use
    commas or semicolons. XLSX needs the 'xlsx' extra (pip install 'mma-core[xlsx]').

    \b
    Examples:
      mma report import meldingen.csv --dry-run
      mma report import meldingen.xlsx
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from mma_core.application.report_rows import ReportRow
    from mma_core.paperwork.tables import read_table

    rows = []
    for row in read_table(file, REPORT_COLUMNS, format=table_format):
        rows.append(
            ReportRow(
                code=row["municipality"],
                received_on=_table_date(row["received_on"], row.line),
                category=row["category"],
                reference=row["reference"],
                line=row.line,
            )
        )
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with (
        settings.programme() as prog,
        Progress(*columns, console=_stderr(), disable=settings.as_json) as bar,
    ):
        task = bar.add_task(
            _("checking reports") if dry_run else _("recording reports"), total=len(rows)
        )

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        references = prog.record_reports(rows, by=settings.by, dry_run=dry_run, progress=advance)
    if settings.as_json:
        emit_json({"file": file.name, "dry_run": dry_run, "reports": len(references)})
    elif dry_run:
        click.echo(
            ngettext(
                "{count} report in {file} is valid; nothing was written.",
                "{count} reports in {file} are valid; nothing was written.",
                len(references),
            ).format(count=len(references), file=file.name)
        )
    else:
        click.echo(
            ngettext(
                "{count} report from {file} recorded.",
                "{count} reports from {file} recorded.",
                len(references),
            ).format(count=len(references), file=file.name)
        )


REPORT_COLUMNS = (
    Column("municipality", ("gemeente", "code", "cbs code", "gemeentecode")),
    Column("received_on", ("ontvangen op", "ontvangen", "datum", "date", "received")),
    Column("category", ("categorie", "soort")),
    Column("reference", ("referentie", "kenmerk", "mma referentie", "mma reference")),
)


def _table_date(text: str, line: int) -> date:
    """A date cell: YYYY-MM-DD, or the Dutch DD-MM-YYYY (the imports' one date reader)."""
    from mma_core.domain.errors import InvalidDate, InvalidInput
    from mma_core.paperwork.imports import parse_date

    try:
        return parse_date(text)
    except InvalidInput:
        raise InvalidDate(
            _("line {line}: {column} {text} is not a date; write YYYY-MM-DD or DD-MM-YYYY").format(
                line=line, column=column_label("received_on"), text=repr(text)
            )
        ) from None
