"""A municipality's way through the programme: invited, answered, connected, evaluated,
renewed or terminated, merged."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import click

from mma_core.cli.output import OUTCOME_NAMES, STAGE_NAMES, emit_json, safe, word
from mma_core.cli.params import DATE, MONEY
from mma_core.cli.root import Settings, cli, pass_settings
from mma_core.language.i18n import _, long_date

if TYPE_CHECKING:
    from mma_core.application.programme import Programme
    from mma_core.domain.values import Money


def _done(
    settings: Settings, prog: Programme, done: str, code: str, dated: bool = True, **facts: Any
) -> None:
    """Confirm a lifecycle command with where the municipality stands now. ``dated=False``:
    the facts' date is not the day of the command, so the line does not say "on" it."""
    view = prog.municipality(code)
    if settings.as_json:
        command = click.get_current_context().command.name
        emit_json(
            {"command": command, "code": view.code, "name": view.name, "stage": view.stage, **facts}
        )
        return
    days = [v for v in facts.values() if isinstance(v, date)] if dated else []
    when = " " + _("on {day}").format(day=long_date(days[0])) if days else ""
    click.echo(
        _("{code} {name}: {done}{when}; now {stage}.").format(
            code=view.code,
            name=safe(view.name),
            done=done,
            when=when,
            stage=word(STAGE_NAMES, view.stage),
        )
    )


def _record(
    settings: Settings,
    write: Callable[[Programme], object],
    done: str,
    code: str,
    **facts: Any,
) -> None:
    """Open the store, record one fact about municipality ``code`` and confirm it."""
    with settings.programme() as prog:
        write(prog)
        _done(settings, prog, done, code, **facts)


@cli.command()
@click.argument("codes", nargs=-1, metavar="[CODE]...")
@click.option("--all", "invite_all", is_flag=True, help="Invite every registered municipality.")
@click.option("--on", type=DATE, required=True, help="Day of the invitation.")
@click.option("--reference", required=True, help="Reference of the offer made with 'mma offer'.")
@pass_settings
def invite(
    settings: Settings, codes: tuple[str, ...], invite_all: bool, on: date, reference: str
) -> None:
    """Invite municipalities (by CODE, or --all not yet invited) to take up the offer.

    All are checked before any is invited: if one cannot be, none is.

    \b
    Examples:
      mma invite --all --on 2019-10-18 --reference 1298348/1298354
      mma invite GM0363 GM0392 --on 2019-10-18 --reference 1298348/1298354
    """
    if invite_all == bool(codes):
        raise click.UsageError(_("give one or more CODEs, or --all (not both)"))
    with settings.programme() as prog:
        targets = invite_batch(prog, codes, on=on, reference=reference, by=settings.by)
    if settings.as_json:
        emit_json({"invited": targets, "on": on, "reference": reference})
    else:
        click.echo(
            _("Invited {count} municipalities on {day} (offer {reference}).").format(
                count=len(targets), day=long_date(on), reference=reference
            )
        )


def invite_batch(
    prog: Programme, codes: Sequence[str], *, on: date, reference: str, by: str
) -> list[str]:
    """Invite ``codes`` (none given: every municipality not yet invited on ``on``, which is
    :meth:`Programme.invite_all`); the codes invited, all in one transaction: if one cannot
    be invited, none is."""
    if not codes:
        return prog.invite_all(on=on, reference=reference, by=by)
    prog.offer_terms(reference, on=on)  # an unknown offer fails here, before any write
    targets = _invitees(prog, codes, on)
    with prog.atomic():
        for code in targets:
            prog.invite(code, on=on, reference=reference, by=by)
    return targets


def _invitees(prog: Programme, codes: Sequence[str], on: date) -> list[str]:
    """The codes to invite, checked up front so that a bad one is named before any write."""
    from mma_core.domain.errors import InvalidTransition
    from mma_core.domain.values import Stage

    checked = []
    for code in codes:
        view = prog.municipality(code, as_of=on)  # unknown or not existing on the day: fails
        if view.stage is not Stage.REGISTERED and len(codes) > 1:
            raise InvalidTransition(
                _(
                    "{code} {name}: cannot invite a municipality that is {stage}; none of the "
                    "{count} was invited"
                ).format(
                    code=view.code,
                    name=view.name,
                    stage=word(STAGE_NAMES, view.stage),
                    count=len(codes),
                )
            )
        checked.append(view.code)
    return checked


@cli.command()
@click.argument("code")
@click.option("--on", type=DATE, required=True, help="Day of the acceptance.")
@pass_settings
def accept(settings: Settings, code: str, on: date) -> None:
    """Record that municipality CODE accepted the offer.

    A municipality with a recorded prior connection is connected at once and owed compensation.

    \b
    Example:
      mma accept GM0363 --on 2019-11-01
    """
    _record(settings, lambda p: p.accept(code, on=on, by=settings.by), _("accepted"), code, on=on)


@cli.command()
@click.argument("code")
@click.option("--on", type=DATE, required=True, help="Day of the refusal.")
@click.option("--reason", default="", help="Why, as the municipality put it (optional).")
@pass_settings
def decline(settings: Settings, code: str, on: date, reason: str) -> None:
    """Record that municipality CODE declined the offer (it may accept later).

    \b
    Example:
      mma decline GM0370 --on 2019-11-04 --reason "no capacity this year"
    """
    _record(
        settings,
        lambda p: p.decline(code, on=on, reason=reason, by=settings.by),
        _("declined"),
        code,
        on=on,
        reason=reason,
    )


@cli.command("prior-connection")
@click.argument("code")
@click.option("--connected-on", type=DATE, required=True, help="When it connected, before.")
@click.option("--costs", type=MONEY, required=True, help="Connection costs it paid, in euros.")
@click.option("--on", type=DATE, help="Day this is recorded (default: the invitation date).")
@pass_settings
def prior_connection(
    settings: Settings, code: str, connected_on: date, costs: Money, on: date | None
) -> None:
    """Record that municipality CODE was connected before it was invited.

    \b
    Example:
      mma prior-connection GM0479 --connected-on 2018-03-01 --costs 2000.00
    """
    with settings.programme() as prog:
        prog.record_prior_connection(
            code, connected_on=connected_on, costs=costs, on=on, by=settings.by
        )
        _done(
            settings,
            prog,
            _("prior connection recorded (connected since {day})").format(
                day=long_date(connected_on)
            ),
            code,
            dated=False,
            connected_on=connected_on,
        )


@cli.command()
@click.argument("code")
@click.option("--on", type=DATE, required=True, help="Day of the connection.")
@pass_settings
def connect(settings: Settings, code: str, on: date) -> None:
    """Record that municipality CODE was connected to MMA (charges the connection fee).

    \b
    Example:
      mma connect GM0363 --on 2019-12-01
    """
    _record(settings, lambda p: p.connect(code, on=on, by=settings.by), _("connected"), code, on=on)


@cli.command()
@click.argument("code")
@click.option("--on", type=DATE, required=True, help="Day of the evaluation.")
@click.option(
    "--outcome", type=click.Choice(["continue", "stop"]), required=True, help="The decision."
)
@click.option("--recovered", type=MONEY, help="Amount recovered thanks to the reports, in euros.")
@click.option("--notes", default="", help="Short notes (no personal data).")
@click.option(
    "--useful", type=click.IntRange(0), help="How many of the term's reports were useful."
)
@click.option("--followed-up", type=click.IntRange(0), help="How many were followed up.")
@click.option(
    "--satisfaction", type=click.IntRange(1, 5), help="Satisfaction, 1 (very low) to 5 (very high)."
)
@click.option("--reasons", default="", help="The reasons for the decision (no personal data).")
@pass_settings
def evaluate(
    settings: Settings,
    code: str,
    on: date,
    outcome: str,
    recovered: Money | None,
    notes: str,
    useful: int | None,
    followed_up: int | None,
    satisfaction: int | None,
    reasons: str,
) -> None:
    """Record the yearly evaluation of municipality CODE. The number of reports received in the
    term is taken from the history; --useful and --followed-up count among them.

    \b
    Example:
      mma evaluate GM0363 --on 2020-12-01 --outcome continue --recovered 12000.00 \\
          --useful 9 --followed-up 6 --satisfaction 4 --reasons "signals on benefit fraud"
    """
    with settings.programme() as prog:
        prog.evaluate(
            code,
            on=on,
            outcome=outcome,
            recovered=recovered,
            notes=notes,
            useful=useful,
            followed_up=followed_up,
            satisfaction=satisfaction,
            reasons=reasons,
            by=settings.by,
        )
        _done(
            settings,
            prog,
            _("evaluated ({outcome})").format(outcome=word(OUTCOME_NAMES, outcome)),
            code,
            on=on,
            outcome=outcome,
        )


@cli.command()
@click.argument("code")
@click.option("--on", type=DATE, required=True, help="Day the next term starts.")
@pass_settings
def renew(settings: Settings, code: str, on: date) -> None:
    """Start the next term of municipality CODE (after an evaluation to continue).

    \b
    Example:
      mma renew GM0363 --on 2020-12-15
    """
    _record(settings, lambda p: p.renew(code, on=on, by=settings.by), _("renewed"), code, on=on)


@cli.command()
@click.argument("code")
@click.option("--on", type=DATE, required=True, help="Day the connection ends.")
@click.option("--reason", default="", help="Why (optional).")
@pass_settings
def terminate(settings: Settings, code: str, on: date, reason: str) -> None:
    """End the connection of municipality CODE.

    \b
    Example:
      mma terminate GM0363 --on 2021-12-15 --reason "too few reports"
    """
    _record(
        settings,
        lambda p: p.terminate(code, on=on, reason=reason, by=settings.by),
        _("terminated"),
        code,
        on=on,
        reason=reason,
    )


@cli.command()
@click.argument("code")
@click.option("--into", required=True, metavar="CODE", help="The successor municipality.")
@click.option("--on", type=DATE, required=True, help="Day of the merger.")
@click.option(
    "--unlisted",
    is_flag=True,
    help="The registry does not list this merger yet; record it all the same (needs --reason).",
)
@click.option("--reason", default="", help="Why the registry does not list it (with --unlisted).")
@pass_settings
def merge(settings: Settings, code: str, into: str, on: date, unlisted: bool, reason: str) -> None:
    """Merge municipality CODE into another; a connected one connects its successor.

    The registry must list the merger; a merger it does not list yet is recorded only with
    --unlisted and a reason.

    \b
    Example:
      mma merge GM0457 --into GM0363 --on 2022-03-24
    """
    with settings.programme() as prog:
        prog.merge(code, into=into, on=on, unlisted=unlisted, reason=reason, by=settings.by)
        successor = prog.municipality(into)
        _done(
            settings,
            prog,
            _("merged into {code} {name}").format(code=successor.code, name=successor.name),
            code,
            on=on,
            successor=successor.code,
            successor_stage=successor.stage,
        )
