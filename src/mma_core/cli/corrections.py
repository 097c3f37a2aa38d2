"""Corrections: retract a fact that was never true, or correct fields of one recorded wrong.

Both name the fact by its position (the first column of ``mma history``), show it as it stands
and, for a correction, each field's old and new value, and ask before writing unless ``--yes``.
Every check the Programme makes is made before the question: what is refused is never asked.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import click

from mma_core.cli.output import emit_json, safe
from mma_core.cli.root import Settings, cli, pass_settings
from mma_core.domain.jsonable import jsonable
from mma_core.language.i18n import _

if TYPE_CHECKING:
    from mma_core.application.corrections import AmendableFact
    from mma_core.application.programme import Programme


class _Trial(Exception):
    """Raised at the end of a trial run inside ``atomic()``: what it staged is discarded."""


def _try_first(prog: Programme, run: Callable[[], object]) -> None:
    """Run the command once in an ``atomic()`` block that is then discarded (nothing is
    written): a refusal by any rule (``depends_on``, a plugin's validator, ...) is raised here,
    before the question."""
    try:
        with prog.atomic():
            run()
            raise _Trial
    except _Trial:
        pass


def _shown(value: Any) -> str:
    """A field's value as one line of text."""
    plain = jsonable(value)
    if isinstance(plain, str):
        return safe(plain)
    return safe(json.dumps(plain, ensure_ascii=False))


def _describe(fact: AmendableFact, changes: Mapping[str, Any], err: bool) -> None:
    click.echo(
        _("Position {position}: {fact} of {code} {name}").format(
            position=fact.position, fact=fact.fact, code=fact.code, name=safe(fact.name)
        ),
        err=err,
    )
    for field in sorted(fact.fields):
        if field in changes:
            continue
        click.echo(f"  {field}: {_shown(fact.fields[field])}", err=err)
    for field in sorted(changes):
        old = _shown(fact.fields.get(field))
        click.echo(f"  {field}: {old} → {_shown(changes[field])}", err=err)


def _parse_sets(values: Sequence[str]) -> dict[str, str]:
    changes: dict[str, str] = {}
    for value in values:
        field, sep, text = value.partition("=")
        field = field.strip()
        if not sep or not field:
            raise click.BadParameter(
                _("{value!r} is not FIELD=VALUE").format(value=value), param_hint="--set"
            )
        if field in changes:
            raise click.BadParameter(
                _("{field} is given more than once").format(field=field), param_hint="--set"
            )
        changes[field] = text
    return changes


def _confirm(question: str, yes: bool, err: bool) -> None:
    """Ask, in the reader's language (click's own confirm knows only y and n); anything but
    yes, or no answer at all, aborts with nothing written."""
    if yes:
        return
    choices = _("y/N")
    answer = click.prompt(
        f"{question} [{choices}]", default="", show_default=False, err=err, prompt_suffix=" "
    )
    if answer.strip().lower() not in {"y", "yes", _("y"), _("yes")}:
        raise click.Abort


@cli.command()
@click.argument("position", type=click.IntRange(min=1))
@click.option("--reason", required=True, help="Why the fact was never true (required).")
@click.option("--yes", "-y", is_flag=True, help="Do not ask before retracting.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout.")
@pass_settings
def retract(settings: Settings, position: int, reason: str, yes: bool, as_json: bool) -> None:
    """Retract the fact recorded at POSITION: it was never true.

    POSITION is the first column of 'mma history'. Nothing is deleted: the retraction is
    recorded with its reason, its costs are taken back by a reversal line, and a retracted
    report frees its reference. Refused when later facts rest on it: retract those first.

    \b
    Example:
      mma retract 1234 --reason "recorded for the wrong municipality"
    """
    as_json = as_json or settings.as_json
    with settings.programme() as prog:
        fact = prog.amendable(position)
        if not yes:
            _try_first(prog, lambda: prog.retract(position, reason=reason, by=settings.by))
        _describe(fact, {}, err=as_json)
        _confirm(_("Retract this fact?"), yes, err=as_json)
        code = prog.retract(position, reason=reason, by=settings.by)
        if as_json:
            emit_json(
                {
                    "command": "retract",
                    "position": position,
                    "code": code,
                    "fact": fact.fact,
                    "reason": reason.strip(),
                    "last_position": prog.last_position(),
                }
            )
            return
        click.echo(
            _("{code} {name}: the {fact} at position {position} is retracted.").format(
                code=fact.code, name=safe(fact.name), fact=fact.fact, position=position
            )
        )


@cli.command()
@click.argument("position", type=click.IntRange(min=1))
@click.option("--reason", required=True, help="Why the fact was recorded wrong (required).")
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="FIELD=VALUE",
    help="A field and its right value; repeat for more fields (at least one).",
)
@click.option("--yes", "-y", is_flag=True, help="Do not ask before correcting.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout.")
@pass_settings
def correct(
    settings: Settings,
    position: int,
    reason: str,
    sets: tuple[str, ...],
    yes: bool,
    as_json: bool,
) -> None:
    """Correct fields of the fact recorded at POSITION: it was recorded wrong.

    POSITION is the first column of 'mma history'. Dates are YYYY-MM-DD, amounts 1234.50.
    The corrected history must obey every rule the commands check; a moved date is priced
    again on its new date.

    \b
    Examples:
      mma correct 1234 --set received_on=2020-03-02 --reason "date misread"
      mma correct 1240 --set "category=sociale zekerheid" --set reference=MMA-20-00042 \\
          --reason "typing error"
    """
    from mma_core.application.corrections import check_changes

    as_json = as_json or settings.as_json
    if not sets:
        raise click.UsageError(_("say what to correct with --set FIELD=VALUE"))
    texts = _parse_sets(sets)
    with settings.programme() as prog:
        fact = prog.amendable(position)
        changes = check_changes(fact.fact, fact.position, texts)
        # --set reason=... is the fact's own reason; --reason says why it is corrected.
        fields = {("fact_reason" if k == "reason" else k): v for k, v in texts.items()}
        if not yes:
            _try_first(
                prog, lambda: prog.correct(position, reason=reason, by=settings.by, **fields)
            )
        _describe(fact, changes, err=as_json)
        _confirm(_("Correct this fact?"), yes, err=as_json)
        code = prog.correct(position, reason=reason, by=settings.by, **fields)
        if as_json:
            emit_json(
                {
                    "command": "correct",
                    "position": position,
                    "code": code,
                    "fact": fact.fact,
                    "reason": reason.strip(),
                    "changes": {
                        field: {"old": fact.fields.get(field), "new": value}
                        for field, value in changes.items()
                    },
                    "last_position": prog.last_position(),
                }
            )
            return
        click.echo(
            _("{code} {name}: the {fact} at position {position} is corrected.").format(
                code=fact.code, name=safe(fact.name), fact=fact.fact, position=position
            )
        )
