"""``mma letter KIND (CODE... | --all) --output DIR``: the programme's letters as PDF files."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import click

from mma_core.cli.params import DATE
from mma_core.language.cli import TranslatedCommand
from mma_core.paperwork.letters.model import KINDS

__all__ = ["letter_command", "register"]


@click.command("letter", cls=TranslatedCommand)
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("codes", nargs=-1, metavar="[CODE]...")
@click.option("--all", "every", is_flag=True, help="Every municipality the letter applies to.")
@click.option(
    "--output",
    "-o",
    required=True,
    type=click.Path(file_okay=False),
    help="Directory to write the PDF files to (made if missing).",
)
@click.option(
    "--as-of",
    type=DATE,
    help="Fill the letters from the state on this day and date them so (default: today; "
    "training letters: the day of the booking).",
)
@click.option(
    "--future",
    is_flag=True,
    help="Allow an --as-of after today (letters dated in the future).",
)
@click.option("--year", type=click.IntRange(2000, 2100), help="The year of a statement.")
@click.option(
    "--style",
    default="letter",
    show_default=True,
    help="The house style: an exporter with letters (a plugin may add its own).",
)
def letter_command(
    kind: str,
    codes: Sequence[str],
    every: bool,
    output: str,
    as_of: date | None,
    future: bool,
    year: int | None,
    style: str,
) -> None:
    """Write letters of KIND as PDF (PDF/A-2b), one per municipality or official.

    \b
    KIND is one of:
      invitation  the offer with its terms and the trainings (dated the invitation day)
      reminder    to those invited who had not answered on --as-of
      training    confirmation to each booked official, with an .ics beside it
      evaluation  the invitation to evaluate, to those whose evaluation falls due
      statement   a year's costs by quarter with their provenance (needs --year)

    \b
    Examples:
      mma letter invitation --all --output letters/
      mma letter reminder --all --as-of 2019-11-01 -o letters/
      mma letter statement GM0363 --year 2020 -o letters/
    """
    from mma_core.cli.plugin_commands import _emit, _fail, _open, actor, load, store_url, wants_json
    from mma_core.domain.errors import DomainError
    from mma_core.language.i18n import _
    from mma_core.paperwork.letters.composer import compose

    if bool(codes) == every:
        raise click.UsageError(_("name municipality codes or give --all, not both"))
    if kind == "statement" and year is None:
        raise click.UsageError(_("a statement is for one year: give --year, e.g. --year 2020"))
    if as_of is not None and as_of > date.today() and not future:
        from mma_core.language.i18n import long_date

        raise click.UsageError(
            _(
                "--as-of {day} lies after today: a letter would carry a date still to come; "
                "give --future if that is meant"
            ).format(day=long_date(as_of))
        )
    store = store_url()
    plugins = load(store)
    exporter = plugins.hook.exporters().get(style)
    if exporter is None or not callable(getattr(exporter, "write_letter", None)):
        _fail(
            _("no house style {style} for letters; the built-in one is 'letter'").format(
                style=repr(style)
            )
        )
    letterhead = getattr(exporter, "letterhead", None)
    day = as_of if as_of is not None else date.today()
    by = actor()
    with _open(store) as prog:

        def answer_link(code: str) -> str | None:
            # A plugin (mma-web, once its public_url is set) gives each letter its own link.
            return plugins.hook.answer_link(prog, code, by)

        try:
            letters = compose(
                prog,
                kind,
                [c.upper() for c in codes],
                as_of=day,
                year=year,
                letterhead=letterhead() if callable(letterhead) else None,
                answer_link=answer_link,
                training_on_booking=as_of is None,
            )
        except DomainError as error:
            _fail(str(error))
    try:
        written = _write_all(exporter, letters, Path(output))
    except OSError as error:  # not a directory one can write in (/proc/x, a file, no rights)
        _fail(
            _("cannot write {target}: {error}").format(
                target=output, error=error.strerror or type(error).__name__
            )
        )
    if wants_json():
        _emit({"kind": kind, "as_of": day.isoformat(), "letters": len(letters), "files": written})
        return
    from mma_core.language.i18n import long_date, ngettext
    from mma_core.paperwork.letters.composer import LETTER_NAMES

    kind_name = _(LETTER_NAMES[kind])
    if not letters:
        click.echo(
            _("No letters of kind {kind} to write on {day}.").format(
                kind=kind_name, day=long_date(day)
            )
        )
        return
    click.echo(
        ngettext(
            "Wrote {count} letter of kind {kind} to {output}.",
            "Wrote {count} letters of kind {kind} to {output}.",
            len(letters),
        ).format(count=len(letters), kind=kind_name, output=output)
    )


def _private(path: Path) -> Any:
    """A new file only its owner may read and write (0600), whatever the umask: a letter holds
    a live answer link or an official's name."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")


def _write_all(exporter: Any, letters: Sequence[Any], directory: Path) -> list[str]:
    """Render every letter first, into a scratch directory, then move them in: a failure
    halfway leaves no half set of letters behind. A folder made here is 0700 and every file
    0600, as the store's files with personal data are."""
    if not letters:
        return []
    missing = [p for p in (directory, *directory.parents) if not p.exists()]
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    for made in missing:
        made.chmod(0o700)  # mkdir's mode is masked by the umask; parents get 0777 & ~umask
    written: list[str] = []
    with tempfile.TemporaryDirectory(dir=directory, prefix=".letters-") as scratch:
        staged: list[tuple[Path, Path]] = []
        for letter in letters:
            pdf = Path(scratch) / f"{letter.name}.pdf"
            with _private(pdf) as out:
                exporter.write_letter(letter, out)
            staged.append((pdf, directory / pdf.name))
            for attachment in letter.attachments:
                extra = Path(scratch) / attachment.filename
                with _private(extra) as out:
                    out.write(attachment.data)
                staged.append((extra, directory / attachment.filename))
        for source, target in staged:
            os.replace(source, target)
            written.append(str(target))
    return written


def register(cli: click.Group) -> None:
    cli.add_command(letter_command)
