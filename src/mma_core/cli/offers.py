"""Setting up the programme: the registry and the offer (with its covenant)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import click

from mma_core.cli.output import PAYER_NAMES, _stdout, emit_json, euro, word
from mma_core.cli.params import DATE, MONEY
from mma_core.cli.root import CONTEXT_SETTINGS, DEFAULT_REGISTRY, Settings, cli, pass_settings
from mma_core.language.i18n import _, long_date

if TYPE_CHECKING:
    from rich.console import Console

    from mma_core.domain.values import Money


@cli.command()
@click.option(
    "--registry", default=DEFAULT_REGISTRY, show_default=True, help="The shipped registry."
)
@click.option(
    "--on",
    "day",
    type=DATE,
    help="Count the municipalities existing on this day (default: the first offer's date, "
    "or the day the registry was drawn up for).",
)
@pass_settings
def init(settings: Settings, registry: str, day: date | None) -> None:
    """Register every municipality of a registry, with its validity. Safe to repeat.

    Says how many of them exist on the offer's date and which stand outside it (ended before,
    or made later by a merger).

    \b
    Example:
      mma init --registry noord-holland-2019
    """
    from mma_core.storage import registries

    with settings.programme() as prog:
        codes = prog.register_registry(registry, by=settings.by)
        sent = sorted(o.sent_on for o in prog.offers())
    counted_on = day or (sent[0] if sent else registries.reference_day(registry))
    entries = registries.load(registry)
    outside: list[dict[str, Any]] = []
    if counted_on is not None:
        for e in entries:
            if e.valid_until is not None and e.valid_until < counted_on:
                outside.append(
                    {
                        "code": e.code.value,
                        "name": e.name,
                        "ended_on": e.valid_until,
                        "successor": e.successor.value if e.successor else None,
                    }
                )
            elif e.valid_from is not None and e.valid_from > counted_on:
                outside.append({"code": e.code.value, "name": e.name, "starts_on": e.valid_from})
    counted = len(entries) - len(outside) if counted_on is not None else None
    if settings.as_json:
        emit_json(
            {
                "registry": registry,
                "codes": codes,
                "counted_on": counted_on,
                "counted": counted,
                "outside": outside,
            }
        )
        return
    click.echo(
        _("Registry {registry}: {count} municipalities registered.").format(
            registry=registry, count=len(codes)
        )
    )
    if counted_on is None:
        return
    click.echo(
        _("On {day}, {counted} of them exist and count.").format(
            day=long_date(counted_on), counted=counted
        )
    )
    names = {e.code.value: e.name for e in entries}
    for o in outside:
        if "ended_on" in o:
            line = _("{code} {name} ended on {day}").format(
                code=o["code"], name=o["name"], day=long_date(o["ended_on"])
            )
            if o["successor"]:
                line += " " + _("(continued by {code} {name})").format(
                    code=o["successor"], name=names.get(o["successor"], "")
                ).replace(" )", ")")
        else:
            line = _("{code} {name} exists from {day} (made by a merger)").format(
                code=o["code"], name=o["name"], day=long_date(o["starts_on"])
            )
        click.echo(_("Outside it: {line}.").format(line=line))


@cli.group(context_settings=CONTEXT_SETTINGS, invoke_without_command=True)
@click.option("--reference", help="The offer's reference, e.g. 1298348/1298354.")
@click.option("--sent-on", type=DATE, help="The day the offer was sent.")
@click.option("--connection-fee", type=MONEY, help="One-off connection fee in euros (default 0).")
@click.option("--report-fee", type=MONEY, help="Fee per report received in euros (default 0).")
@click.pass_context
def offer(
    ctx: click.Context,
    reference: str | None,
    sent_on: date | None,
    connection_fee: Money | None,
    report_fee: Money | None,
) -> None:
    """Record the province's offer as sent (other terms are the 2019 letter's), or with a
    subcommand show it or record the covenant it is part of.

    \b
    Examples:
      mma offer --reference 1298348/1298354 --sent-on 2019-10-18 \\
          --connection-fee 2000.00 --report-fee 22.50
      mma offer covenant 1298348/1298354 --on 2019-10-30 --place burgemeestersconferentie
      mma offer show
    """
    if ctx.invoked_subcommand is not None:
        if reference or sent_on or connection_fee or report_fee:
            raise click.UsageError(_("give the offer's options without a subcommand"))
        return
    if reference is None or sent_on is None:
        raise click.UsageError(_("recording an offer needs --reference and --sent-on"))
    settings = ctx.find_object(Settings)
    assert settings is not None
    from mma_core.domain.values import Money, Terms

    terms = Terms(
        connection_fee=connection_fee or Money.zero(), report_fee=report_fee or Money.zero()
    )
    with settings.programme() as prog:
        prog.make_offer(reference=reference, sent_on=sent_on, terms=terms, by=settings.by)
    if settings.as_json:
        emit_json({"reference": reference, "sent_on": sent_on, "terms": terms.to_dict()})
    else:
        click.echo(
            _(
                "Offer {reference} sent on {day}: connection fee {fee}, fee per report {report}."
            ).format(
                reference=reference,
                day=long_date(sent_on),
                fee=euro(terms.connection_fee),
                report=euro(terms.report_fee),
            )
        )


@offer.command("covenant")
@click.argument("reference")
@click.option("--on", type=DATE, required=True, help="Day the covenant was signed.")
@click.option("--place", default="", help="Where, e.g. the mayors' conference (optional).")
@pass_settings
def offer_covenant(settings: Settings, reference: str, on: date, place: str) -> None:
    """Record that the covenant with MMA, of which offer REFERENCE is part, was signed.

    \b
    Example:
      mma offer covenant 1298348/1298354 --on 2019-10-30 --place burgemeestersconferentie
    """
    with settings.programme() as prog:
        prog.sign_covenant(reference, on=on, place=place, by=settings.by)
    if settings.as_json:
        emit_json({"reference": reference, "covenant_on": on, "place": place})
    else:
        where = f" ({place})" if place else ""
        click.echo(
            _("Offer {reference}: covenant signed on {day}").format(
                reference=reference, day=long_date(on)
            )
            + f"{where}."
        )


@offer.command("show")
@click.argument("reference", required=False)
@pass_settings
def offer_show(settings: Settings, reference: str | None) -> None:
    """The offer REFERENCE (default: every offer): when it was sent, its terms and every change
    of them, and the covenant.

    \b
    Example:
      mma offer show 1298348/1298354
    """
    with settings.programme() as prog:
        offers = [prog.offer(reference)] if reference else prog.offers()
    if settings.as_json:
        emit_json([_offer_data(o) for o in offers])
        return
    if not offers:
        click.echo(_("No offer was made yet ('mma offer --reference ... --sent-on ...')."))
    for o in offers:
        _print_offer(_stdout(), o)


def _offer_data(o: Any) -> dict[str, Any]:
    return {
        "reference": o.reference,
        "sent_on": o.sent_on,
        "covenant_on": o.covenant_on,
        "covenant_place": o.covenant_place,
        "terms": [{"from": day, **terms.to_dict()} for day, terms in o.terms],
    }


def _print_offer(console: Console, o: Any) -> None:
    from rich.table import Table

    console.print(
        _("Offer {reference}, sent on {day}").format(
            reference=o.reference, day=long_date(o.sent_on)
        )
    )
    if o.covenant_on is not None:
        where = f" ({o.covenant_place})" if o.covenant_place else ""
        console.print(
            _("Covenant with MMA signed on {day}").format(day=long_date(o.covenant_on)) + where
        )
    table = Table(title=_("Terms and their history"))
    for column in (
        _("From"),
        _("Connection fee"),
        _("Fee per report"),
        _("Evaluation after"),
        _("Officials"),
        _("Compensation cap"),
    ):
        table.add_column(column)
    for day, terms in o.terms:
        cap = terms.compensation_cap
        table.add_row(
            long_date(day),
            f"{euro(terms.connection_fee)} ({word(PAYER_NAMES, terms.connection_payer)})",
            f"{euro(terms.report_fee)} ({word(PAYER_NAMES, terms.report_fee_payer)})",
            _("{count} months").format(count=terms.evaluation_months),
            str(terms.officials_per_municipality),
            "-" if cap is None else euro(cap),
        )
    console.print(table)
