"""The ``mma`` command line: thin on purpose. It parses options, calls :class:`Programme`, prints.

Every rule lives in the Programme; this module only turns its ``DomainError`` into one line on
stderr and exit status 1. Bad input that click can recognise (a malformed date or amount, an
unknown category) is a usage error, exit status 2, raised before the store is even opened.

Heavy imports (the event store, rich, babel) happen inside the commands so that ``mma --help``
stays fast.
"""

from __future__ import annotations

import getpass
import importlib
import json
import os
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from mma_core.domain.errors import DomainError
from mma_core.domain.values import MMA_CATEGORIES
from mma_core.i18n import LANGUAGES, N_, _, long_date, money, set_language
from mma_core.i18n import percent as i18n_percent
from mma_core.jsonable import jsonable
from mma_core.tables import Column

if TYPE_CHECKING:
    from rich.console import Console

    from mma_core.application import Programme
    from mma_core.domain.values import Money
    from mma_core.views.state import MunicipalityView, Overview

    # click 8.2+ makes ParamType generic; older releases do not, so subscript it for mypy only.
    ParamBase = click.ParamType[Any]
else:
    ParamBase = click.ParamType

DEFAULT_STORE = "sqlite:///mma.sqlite"
DEFAULT_REGISTRY = "noord-holland-2019"
ORIGIN = "cli"
RULE_BROKEN = 1  # a DomainError: nothing was written
STORE_UNAVAILABLE = 3  # the store could not be opened or written: nothing was written
DEADLINES_SHOWN = 10  # the status table lists the earliest few; --json lists them all
BAR_WIDTH = 30

CONTEXT_SETTINGS: dict[str, Any] = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


# -- option types: malformed input is a usage error (exit 2), before anything is opened -------


class DateType(ParamBase):
    """A calendar date written YYYY-MM-DD."""

    name = "YYYY-MM-DD"
    _pattern = re.compile(r"\d{4}-\d{2}-\d{2}")

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        text = str(value).strip()
        try:
            if self._pattern.fullmatch(text):
                return date.fromisoformat(text)
        except ValueError:
            pass  # 2019-02-30 and the like: the same usage error as any other bad date
        return self.fail(f"{value!r} is not a date; write YYYY-MM-DD, e.g. 2019-10-18", param, ctx)


class DateTimeType(ParamBase):
    """A date and time written YYYY-MM-DDTHH:MM (a space instead of T works too)."""

    name = "YYYY-MM-DDTHH:MM"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        text = str(value).strip()
        try:
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}.*", text):
                return datetime.fromisoformat(text)
        except ValueError:
            pass  # an impossible day or hour: the same usage error as any other bad time
        return self.fail(
            f"{value!r} is not a date and time; write YYYY-MM-DDTHH:MM, e.g. 2019-11-06T10:00",
            param,
            ctx,
        )


class MoneyType(ParamBase):
    """An amount in euros with a decimal point and at most two decimals."""

    name = "EUROS"
    _pattern = re.compile(r"-?\d+(\.\d{1,2})?")

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Money:
        from mma_core.domain.values import Money

        if isinstance(value, Money):
            return value
        text = str(value).strip()
        if not self._pattern.fullmatch(text):
            self.fail(
                f"{value!r} is not an amount in euros; write digits with a decimal point, "
                "e.g. 1234.50",
                param,
                ctx,
            )
        return Money(Decimal(text))


DATE = DateType()
DATETIME = DateTimeType()
MONEY = MoneyType()


# -- settings and output ------------------------------------------------------------------


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in a bare container: still say something
        return "unknown"


@dataclass
class Settings:
    """The global options, shared by every command through the click context."""

    store: str
    as_json: bool
    actor: str | None

    @property
    def by(self) -> str:
        return self.actor if self.actor is not None else _login_name()

    @contextmanager
    def programme(self) -> Iterator[Programme]:
        # Opened with the plugins' validators and the cost calculators mma.toml selects, so a
        # command from the CLI obeys the same rules as one from an embedding service.
        from mma_core.plugin_cli import programme

        with programme(self.store, origin=ORIGIN) as prog:
            yield prog


pass_settings = click.make_pass_decorator(Settings)


def _stdout() -> Console:
    from rich.console import Console

    # markup=False: a name like "[red]x" or "[link=...]" is text, not an instruction to rich.
    return Console(highlight=False, markup=False)


def _stderr() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False, markup=False)


def safe(text: str) -> str:
    """Text people typed, as a terminal may show it: control characters (an escape sequence
    that clears the screen or retitles the window) and bidirectional overrides written out
    as ``\\x1b``. New input cannot hold them; a store written before may."""
    from mma_core.domain.values import has_control

    if not has_control(text):
        return text
    return "".join(
        c.encode("unicode_escape").decode("ascii") if has_control(c) else c for c in text
    )


def plain(value: Any) -> Any:
    """JSON-ready: the library's one conversion (``mma_core.jsonable``)."""
    return jsonable(value)


def emit_json(data: Any) -> None:
    click.echo(json.dumps(plain(data), ensure_ascii=False, indent=2))


def _stream_history(prog: Programme, code: str, after: int | None, limit: int | None) -> None:
    """The history as one JSON array, written a page at a time: memory stays flat."""
    click.echo("[")
    written = 0
    position = after or 0
    while limit is None or written < limit:
        size = HISTORY_JSON_PAGE if limit is None else min(HISTORY_JSON_PAGE, limit - written)
        page = prog.history(code, after=position, limit=size)
        for entry in page:
            text = json.dumps(plain(entry), ensure_ascii=False, indent=2)
            click.echo(("," if written else "") + text)
            written += 1
        if len(page) < size:
            break
        position = page[-1].position
    click.echo("]")


def euro(amount: Money) -> str:
    """Euros the way of the language: ``€ 1.234,50`` in Dutch, ``€1,234.50`` in English."""
    return money(amount)


def percent(value: Fraction) -> str:
    return i18n_percent(value)


# The words the CLI shows for values stored in English (stages, deadline kinds, outcomes).
STAGE_NAMES = {
    "registered": N_("registered"),
    "invited": N_("invited"),
    "accepted": N_("accepted"),
    "declined": N_("declined"),
    "connected": N_("connected"),
    "stopped": N_("stopped"),
    "merged": N_("merged"),
    "trained": N_("trained"),
}
DEADLINE_NAMES = {
    "answer": N_("answer"),
    "evaluation": N_("evaluation"),
    "termination": N_("termination"),
    "renewal": N_("renewal"),
    "training": N_("training"),
    "capacity": N_("capacity"),
}
OUTCOME_NAMES = {"continue": N_("continue"), "stop": N_("stop")}
PAYER_NAMES = {"province": N_("the province"), "municipality": N_("the municipality")}
PAYERS = {"province": N_("province"), "municipality": N_("municipality")}
CONNECTION_KINDS = {
    "programme": N_("through the programme"),
    "prior": N_("before the programme"),
    "succession": N_("by succession"),
}


def word(names: dict[str, str], value: Any) -> str:
    """A stored value (``connected``, ``stop``) in the current language."""
    key = getattr(value, "value", value)
    return _(names[key]) if key in names else str(key)


def _fail(message: str, status: int = RULE_BROKEN) -> NoReturn:
    """One line on stderr and a non-zero status: the whole of what a coordinator needs to act."""
    prefix = _("error")
    click.echo(f"{prefix}: {' '.join(message.split())}", err=True)
    raise click.exceptions.Exit(status)


# -- the group ----------------------------------------------------------------------------


class MmaGroup(click.Group):
    """Turns a ``DomainError`` raised by any (sub)command into one line and exit status 1, and
    a store that cannot be reached into one line and exit status 3: never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DomainError as error:
            _fail(str(error))
        except Exception as error:
            from eventsourcing.persistence import PersistenceError

            from mma_core.store_errors import StoreUnavailable

            if isinstance(error, StoreUnavailable):
                _fail(str(error), STORE_UNAVAILABLE)
            if not isinstance(error, PersistenceError):
                raise
            from mma_core.storage import describe

            store = ctx.obj.store if isinstance(ctx.obj, Settings) else "?"
            _fail(
                _("the store {store} cannot be used: {error}").format(
                    store=describe(store), error=error
                ),
                STORE_UNAVAILABLE,
            )


@click.group(cls=MmaGroup, context_settings=CONTEXT_SETTINGS)
@click.option(
    "--store",
    envvar="MMA_STORE",
    default=DEFAULT_STORE,
    show_default=True,
    metavar="URL",
    help="Where the programme is stored: sqlite:///PATH, memory:// or postgresql://... "
    "(env MMA_STORE).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout.")
@click.option(
    "--by",
    envvar="MMA_ACTOR",
    default=None,
    metavar="NAME",
    help="Who is doing this, recorded on every event (env MMA_ACTOR; default: your login name).",
)
@click.option(
    "--lang",
    type=click.Choice(LANGUAGES),
    envvar="MMA_LANG",
    default="nl",
    show_default=True,
    help="Language of what mma prints: nl (Dutch) or en (English) (env MMA_LANG).",
)
@click.version_option(package_name="mma-core", prog_name="mma")
@click.pass_context
def cli(ctx: click.Context, store: str, as_json: bool, by: str | None, lang: str) -> None:
    """Run the programme that connects every municipality to Meld Misdaad Anoniem.

    Each command records one fact (with the business date you give and who did it) or
    shows where things stand. A command that breaks a rule prints one line starting with
    "error:" and exits with status 1; bad usage exits with status 2. Neither writes anything.

    \b
    Example, from an empty store:
      mma init
      mma offer --reference 1298348/1298354 --sent-on 2019-10-18
      mma invite --all --on 2019-10-18 --reference 1298348/1298354
      mma accept GM0363 --on 2019-11-01
      mma status
    """
    set_language(lang)
    ctx.obj = Settings(store=store, as_json=as_json, actor=by)


# -- set-up -------------------------------------------------------------------------------


@cli.command()
@click.option(
    "--registry", default=DEFAULT_REGISTRY, show_default=True, help="The shipped registry."
)
@pass_settings
def init(settings: Settings, registry: str) -> None:
    """Register every municipality of a registry, with its validity. Safe to repeat.

    \b
    Example:
      mma init --registry noord-holland-2019
    """
    with settings.programme() as prog:
        codes = prog.register_registry(registry, by=settings.by)
    if settings.as_json:
        emit_json({"registry": registry, "codes": codes})
    else:
        click.echo(
            _("Registry {registry}: {count} municipalities registered.").format(
                registry=registry, count=len(codes)
            )
        )


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
            raise click.UsageError("give the offer's options without a subcommand")
        return
    if reference is None or sent_on is None:
        raise click.UsageError("recording an offer needs --reference and --sent-on")
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


# -- training -----------------------------------------------------------------------------


@cli.group(context_settings=CONTEXT_SETTINGS)
def training() -> None:
    """Schedule training sessions, book officials on them, record attendance."""


@training.command("schedule")
@click.argument("session_id")
@click.option(
    "--starts-at", type=DATETIME, required=True, help="Start, Europe/Amsterdam unless an offset."
)
@click.option("--ends-at", type=DATETIME, required=True, help="End, same convention.")
@click.option("--location", required=True, help="Where the training takes place.")
@click.option("--capacity", type=int, required=True, help="Number of seats.")
@pass_settings
def training_schedule(
    settings: Settings,
    session_id: str,
    starts_at: datetime,
    ends_at: datetime,
    location: str,
    capacity: int,
) -> None:
    """Schedule training session SESSION_ID (letters, digits, . _ -).

    \b
    Example:
      mma training schedule 2019-11-06 --starts-at 2019-11-06T10:00 \\
          --ends-at 2019-11-06T12:30 --location "Provinciehuis, Dreef 3, Haarlem" --capacity 40
    """
    with settings.programme() as prog:
        prog.schedule_training(
            session_id,
            starts_at=starts_at,
            ends_at=ends_at,
            location=location,
            capacity=capacity,
            by=settings.by,
        )
    if settings.as_json:
        emit_json(
            {
                "session_id": session_id,
                "starts_at": starts_at,
                "ends_at": ends_at,
                "location": location,
                "capacity": capacity,
            }
        )
    else:
        click.echo(
            _("Session {session} scheduled: {capacity} seats at {location}.").format(
                session=session_id, capacity=capacity, location=safe(location)
            )
        )


@training.command("book")
@click.argument("code")
@click.option("--official", "official_id", required=True, help="Official id, e.g. GM0363-1.")
@click.option("--session", "session_id", required=True, help="Session id, e.g. 2019-11-06.")
@click.option("--on", type=DATE, help="Day of the booking (default: today).")
@pass_settings
def training_book(
    settings: Settings, code: str, official_id: str, session_id: str, on: date | None
) -> None:
    """Book an official of municipality CODE on a session.

    \b
    Example:
      mma training book GM0363 --official GM0363-1 --session 2019-11-06 --on 2019-11-01
    """
    with settings.programme() as prog:
        prog.book_training(
            code, official_id=official_id, session_id=session_id, on=on, by=settings.by
        )
    if settings.as_json:
        emit_json({"code": code, "official_id": official_id, "session_id": session_id, "on": on})
    else:
        click.echo(
            _("Official {official} booked on session {session}.").format(
                official=official_id, session=session_id
            )
        )


@training.command("attend")
@click.argument("code")
@click.option("--official", "official_id", required=True, help="Official id, e.g. GM0363-1.")
@click.option("--session", "session_id", required=True, help="Session id, e.g. 2019-11-06.")
@click.option("--attended/--missed", default=None, help="Whether the official came (required).")
@pass_settings
def training_attend(
    settings: Settings, code: str, official_id: str, session_id: str, attended: bool | None
) -> None:
    """Record whether an official of CODE attended the session (dated by the session).

    \b
    Example:
      mma training attend GM0363 --official GM0363-1 --session 2019-11-06 --attended
    """
    if attended is None:
        raise click.UsageError("say --attended or --missed")
    with settings.programme() as prog:
        prog.record_attendance(
            code, official_id=official_id, session_id=session_id, attended=attended, by=settings.by
        )
    if settings.as_json:
        emit_json(
            {
                "code": code,
                "official_id": official_id,
                "session_id": session_id,
                "attended": attended,
            }
        )
    else:
        done = (
            _("Official {official} attended {session}.")
            if attended
            else _("Official {official} missed {session}.")
        )
        click.echo(done.format(official=official_id, session=session_id))


@training.command("list")
@pass_settings
def training_list(settings: Settings) -> None:
    """List the training sessions with their seats.

    \b
    Example:
      mma training list
    """
    with settings.programme() as prog:
        sessions = prog.sessions()
    if settings.as_json:
        emit_json([s.to_dict() for s in sessions])
        return
    from rich.table import Table

    table = Table(title=_("Training sessions"))
    for column in (
        _("Session"),
        _("Date"),
        _("Time"),
        _("Location"),
        _("Seats"),
        _("Booked"),
        _("Left"),
    ):
        table.add_column(column)
    for s in sessions:
        start = s.starts_at.astimezone(_amsterdam())
        end = s.ends_at.astimezone(_amsterdam())
        table.add_row(
            s.session_id,
            long_date(start.date()),
            f"{start:%H:%M}–{end:%H:%M}",
            safe(s.location),
            str(s.capacity),
            str(len(s.booked)),
            str(s.seats_left),
        )
    _stdout().print(table)


def _amsterdam() -> Any:
    from mma_core.domain.common import AMSTERDAM

    return AMSTERDAM


# -- the lifecycle ------------------------------------------------------------------------


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
        raise click.UsageError("give one or more CODEs, or --all (not both)")
    with settings.programme() as prog:
        prog.offer_terms(reference, on=on)  # an unknown offer fails here, before any write
        targets = _invitees(prog, codes, on)
        for code in targets:
            prog.invite(code, on=on, reference=reference, by=settings.by)
    if settings.as_json:
        emit_json({"invited": targets, "on": on, "reference": reference})
    else:
        click.echo(
            _("Invited {count} municipalities on {day} (offer {reference}).").format(
                count=len(targets), day=long_date(on), reference=reference
            )
        )


def _invitees(prog: Programme, codes: Sequence[str], on: date) -> list[str]:
    """The codes to invite, checked up front so that a bad one stops the batch before a write."""
    from mma_core.domain.errors import InvalidTransition
    from mma_core.domain.values import Stage

    if not codes:
        views = prog.overview(as_of=on).municipalities
        return [v.code for v in views if v.stage is Stage.REGISTERED]
    checked = []
    for code in codes:
        view = prog.municipality(code, as_of=on)  # unknown or not existing on the day: fails
        if view.stage is not Stage.REGISTERED and len(codes) > 1:
            raise InvalidTransition(
                f"{view.code} {view.name}: cannot invite a municipality that is "
                f"{view.stage.value}; none of the {len(codes)} was invited"
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
    with settings.programme() as prog:
        prog.accept(code, on=on, by=settings.by)
        _done(settings, prog, _("accepted"), code, on=on)


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
    with settings.programme() as prog:
        prog.decline(code, on=on, reason=reason, by=settings.by)
        _done(settings, prog, _("declined"), code, on=on, reason=reason)


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
    with settings.programme() as prog:
        prog.connect(code, on=on, by=settings.by)
        _done(settings, prog, _("connected"), code, on=on)


class ReportGroup(click.Group):
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
    type=click.Choice(MMA_CATEGORIES),
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

    from mma_core.application import ReportRow
    from mma_core.tables import read_table

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
        task = bar.add_task("checking reports" if dry_run else "recording reports", total=len(rows))

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        references = prog.record_reports(rows, by=settings.by, dry_run=dry_run, progress=advance)
    if settings.as_json:
        emit_json({"file": file.name, "dry_run": dry_run, "reports": len(references)})
    elif dry_run:
        click.echo(f"{len(references)} reports in {file.name} are valid; nothing was written.")
    else:
        click.echo(f"{len(references)} reports from {file.name} recorded.")


REPORT_COLUMNS = (
    Column("municipality", ("gemeente", "code", "cbs code", "gemeentecode")),
    Column("received_on", ("ontvangen op", "ontvangen", "datum", "date", "received")),
    Column("category", ("categorie", "soort")),
    Column("reference", ("referentie", "kenmerk", "mma referentie", "mma reference")),
)


def _table_date(text: str, line: int) -> date:
    """A date cell: YYYY-MM-DD, or the Dutch DD-MM-YYYY."""
    from mma_core.domain.errors import InvalidDate

    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
        if re.fullmatch(r"\d{1,2}-\d{1,2}-\d{4}", text):
            day, month, year = (int(part) for part in text.split("-"))
            return date(year, month, day)
    except ValueError:
        pass  # 2020-02-30 and the like: the same error as any other bad date
    raise InvalidDate(f"line {line}: received_on {text!r} is not a date; write YYYY-MM-DD")


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
    with settings.programme() as prog:
        prog.renew(code, on=on, by=settings.by)
        _done(settings, prog, _("renewed"), code, on=on)


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
    with settings.programme() as prog:
        prog.terminate(code, on=on, reason=reason, by=settings.by)
        _done(settings, prog, _("terminated"), code, on=on, reason=reason)


@cli.command()
@click.argument("code")
@click.option("--into", required=True, metavar="CODE", help="The successor municipality.")
@click.option("--on", type=DATE, required=True, help="Day of the merger.")
@pass_settings
def merge(settings: Settings, code: str, into: str, on: date) -> None:
    """Merge municipality CODE into another; a connected one connects its successor.

    \b
    Example:
      mma merge GM0457 --into GM0363 --on 2022-03-24
    """
    with settings.programme() as prog:
        prog.merge(code, into=into, on=on, by=settings.by)
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


# -- officials ----------------------------------------------------------------------------


@cli.group(context_settings=CONTEXT_SETTINGS)
def official() -> None:
    """Nominate, withdraw and erase the (at most two) officials of a municipality."""


@official.command("add")
@click.argument("code")
@click.option("--name", required=True, help="The official's name (stored encrypted).")
@click.option("--email", required=True, help="The official's e-mail (stored encrypted).")
@click.option(
    "--on",
    type=DATE,
    help="Day of the nomination (default: today; when recording a past campaign, give the "
    "real day, or the official cannot book its sessions).",
)
@pass_settings
def official_add(settings: Settings, code: str, name: str, email: str, on: date | None) -> None:
    """Nominate an official of municipality CODE and print the official id.

    \b
    Example:
      mma official add GM0363 --name "A. de Vries" --email a.devries@amsterdam.example
    """
    with settings.programme() as prog:
        official_id = prog.nominate_official(code, name=name, email=email, on=on, by=settings.by)
    if settings.as_json:
        emit_json({"official_id": official_id, "code": code})
    else:
        click.echo(official_id)


@official.command("withdraw")
@click.argument("official_id")
@click.option("--on", type=DATE, help="Day of the withdrawal (default: today).")
@pass_settings
def official_withdraw(settings: Settings, official_id: str, on: date | None) -> None:
    """Withdraw official OFFICIAL_ID; a seat on a session still to come is released.

    \b
    Example:
      mma official withdraw GM0363-1 --on 2021-05-01
    """
    with settings.programme() as prog:
        prog.withdraw_official(official_id, on=on, by=settings.by)
    if settings.as_json:
        emit_json({"official_id": official_id, "withdrawn": True, "on": on})
    else:
        click.echo(_("Official {official} withdrawn.").format(official=official_id))


@official.command("erase")
@click.argument("official_id")
@pass_settings
def official_erase(settings: Settings, official_id: str) -> None:
    """Erase the personal data of OFFICIAL_ID by deleting its key (irreversible).

    The history keeps every event and still verifies; the name and e-mail read [erased].
    Then the key's bytes are removed from the store's files and that is checked; if another
    process holds an old snapshot it says so and exits 1: run 'mma official wipe' later.

    \b
    Example:
      mma official erase GM0363-1
    """
    with settings.programme() as prog:
        prog.erase_official(official_id, by=settings.by)
        check = prog.last_erasure
    _erasure_report(
        settings,
        _("Official {official} erased.").format(official=official_id),
        check,
        official_id=official_id,
    )


@official.command("wipe")
@pass_settings
def official_wipe(settings: Settings) -> None:
    """Remove the bytes of erased officials' keys from the store's files, and check it.

    'mma official erase' does this itself; run it again when erase reported that another
    process held an old snapshot of the store.

    \b
    Example:
      mma official wipe
    """
    with settings.programme() as prog:
        check = prog.wipe_erased_keys()
    _erasure_report(settings, _("Erased keys wiped."), check)


def _erasure_report(settings: Settings, done: str, check: Any, **facts: Any) -> None:
    if settings.as_json:
        emit_json({**facts, "erased": True, "check": check})
        return
    click.echo(done)
    for line in check.verified if check is not None else ():
        click.echo("  " + _("verified: {line}").format(line=line))
    for line in check.not_checked if check is not None else ():
        click.echo("  " + _("not checked: {line}").format(line=line))


# -- queries ------------------------------------------------------------------------------

AS_OF_HELP = "Business date to look at (default: today)."
KNOWN_AT_HELP = "Show what the store knew at this recorded time (UTC unless an offset is given)."


@cli.command()
@click.option("--as-of", type=DATE, help=AS_OF_HELP)
@click.option("--known-at", type=DATETIME, help=KNOWN_AT_HELP)
@pass_settings
def status(settings: Settings, as_of: date | None, known_at: datetime | None) -> None:
    """Where the programme stands: stages, coverage, costs by payer, open deadlines.

    \b
    Examples:
      mma status
      mma status --as-of 2020-12-31
      mma --json status --as-of 2022-06-01
    """
    with settings.programme() as prog:
        # Today's status reads the read models (caught up first); another day replays.
        overview = prog.overview(as_of=as_of, known_at=known_at, cost_lines=False)
        offers = [
            _offer_on(o, overview.as_of) for o in prog.offers() if o.sent_on <= overview.as_of
        ]
        progress = _progress(prog, overview, offers, known_at)
    if settings.as_json:
        data = overview_data(overview)
        data["offers"] = [_offer_data(o) for o in offers]
        data["goal"] = {"connected": overview.total, "progress": progress}
        emit_json(data)
    else:
        console = _stdout()
        print_status(console, overview)
        _print_programme(console, overview, offers, progress)


def _offer_on(o: Any, day: date) -> Any:
    """The offer as it stood on ``day``: a covenant signed later is not shown yet."""
    import attrs

    if o.covenant_on is not None and o.covenant_on > day:
        o = attrs.evolve(o, covenant_on=None, covenant_place="")
    return attrs.evolve(o, terms=tuple((d, t) for d, t in o.terms if d <= day))


def _progress(
    prog: Programme, o: Overview, offers: Sequence[Any], known_at: datetime | None
) -> list[dict[str, Any]]:
    """Connected municipalities at the end of each year since the first offer, and on the day:
    how the programme moves towards its goal (every municipality connected)."""
    if not offers:
        return []
    first = min(offer.sent_on for offer in offers)
    points = []
    if known_at is None:  # one state for every year end, as the HTML report's chart does
        records, _ = prog.views.state_on(o.as_of)
        for year in range(first.year, o.as_of.year):
            end = date(year, 12, 31)
            connected = sum(
                1
                for r in records
                if r.exists_on(end)
                and r.connected_on is not None
                and r.connected_on <= end
                and (r.terminated_on is None or end < r.terminated_on)
            )
            total = sum(1 for r in records if r.exists_on(end))
            points.append({"on": end, "connected": connected, "total": total})
    points.append({"on": o.as_of, "connected": o.connected, "total": o.total})
    return points


def _print_programme(
    console: Console, o: Overview, offers: Sequence[Any], progress: Sequence[dict[str, Any]]
) -> None:
    for offer in offers:
        line = _("Offer {reference} sent on {day}").format(
            reference=offer.reference, day=long_date(offer.sent_on)
        )
        if offer.covenant_on is not None and offer.covenant_on <= o.as_of:
            line += "; " + _("covenant with MMA signed on {day}").format(
                day=long_date(offer.covenant_on)
            )
            if offer.covenant_place:
                line += f" ({offer.covenant_place})"
        console.print(line + ".")
    if not offers:
        return
    console.print(_("Goal: all {total} municipalities connected.").format(total=o.total))
    if progress:
        steps = ", ".join(
            _("{day}: {connected} of {total}").format(
                day=long_date(p["on"]), connected=p["connected"], total=p["total"]
            )
            for p in progress
        )
        console.print(_("Progress: {steps}.").format(steps=steps))


def overview_data(o: Overview) -> dict[str, Any]:
    """The overview as JSON: totals and one summary line per municipality (no personal data)."""
    from mma_core.views.models import funnel

    return {
        "as_of": o.as_of,
        "known_at": o.known_at,
        "total": o.total,
        "connected": o.connected,
        "coverage": o.coverage,
        "by_stage": o.by_stage,
        "funnel": funnel(o),
        "costs_by_payer": o.costs_by_payer,
        "deadlines": o.deadlines,
        "waterbed": o.waterbed,
        "municipalities": [
            {
                "code": m.code,
                "name": m.name,
                "stage": m.stage,
                "connected_on": m.connected_on,
                "connection_kind": m.connection_kind,
                "evaluation_due": m.evaluation_due,
                "reports_received": m.reports_received,
                "costs_province": m.costs_province,
                "costs_municipality": m.costs_municipality,
            }
            for m in o.municipalities
        ],
    }


def print_status(console: Console, o: Overview, title: str | None = None) -> None:
    """The status table: a document for Dutch readers, so Dutch dates and amounts."""
    from rich.progress_bar import ProgressBar
    from rich.table import Table
    from rich.text import Text

    from mma_core.domain.values import Money
    from mma_core.views.models import funnel

    def bar(count: int) -> ProgressBar:
        return ProgressBar(total=max(o.total, 1), completed=count, width=BAR_WIDTH)

    default_title = _("Programme status as of {day}").format(day=long_date(o.as_of))
    table = Table(title=title or default_title)
    table.add_column(_("Stage"))
    table.add_column(_("Municipalities"), justify="right")
    table.add_column("", min_width=BAR_WIDTH)
    for step, count in funnel(o).items():
        name = word(STAGE_NAMES, step)
        table.add_row(
            Text(name, style="bold" if step == "connected" else ""), str(count), bar(count)
        )
    table.add_section()
    for stage, count in o.by_stage.items():
        table.add_row(_("now {stage}").format(stage=word(STAGE_NAMES, stage)), str(count), "")
    table.add_section()
    table.add_row(_("total"), str(o.total), "")
    table.add_row(
        _("coverage"),
        _("{connected} of {total} ({percent})").format(
            connected=o.connected, total=o.total, percent=percent(o.coverage)
        ),
        bar(o.connected),
    )
    table.add_section()
    for payer, amount in o.costs_by_payer.items():
        table.add_row(
            _("costs paid by {payer}").format(payer=word(PAYERS, payer)), euro(amount), ""
        )
    total = sum((amount.amount for amount in o.costs_by_payer.values()), Decimal(0))
    table.add_row(_("costs, all payers"), euro(Money(total)), "")
    console.print(table)
    if o.known_at is not None:
        console.print(_("As the store knew it at {time}.").format(time=o.known_at.isoformat()))
    _print_deadlines(console, o)


def _print_deadlines(console: Console, o: Overview) -> None:
    from rich.table import Table

    if not o.deadlines:
        console.print(_("No open deadlines."))
        return
    overdue = sum(1 for d in o.deadlines if d.overdue)
    shown = o.deadlines[:DEADLINES_SHOWN]
    table = Table(
        title=_("Open deadlines: {count}, of which {overdue} overdue").format(
            count=len(o.deadlines), overdue=overdue
        )
    )
    for column in (_("Due"), _("Municipality"), _("Deadline"), _("Overdue")):
        table.add_column(column)
    for d in shown:
        table.add_row(
            long_date(d.due_on),
            f"{d.code} {safe(d.name)}",
            word(DEADLINE_NAMES, d.kind),
            _("yes") if d.overdue else "",
        )
    console.print(table)
    if len(o.deadlines) > len(shown):
        console.print(
            _("... and {count} more (all of them with --json).").format(
                count=len(o.deadlines) - len(shown)
            )
        )


@cli.command()
@click.argument("code")
@click.option("--as-of", type=DATE, help=AS_OF_HELP)
@click.option("--known-at", type=DATETIME, help=KNOWN_AT_HELP)
@pass_settings
def show(settings: Settings, code: str, as_of: date | None, known_at: datetime | None) -> None:
    """Everything about municipality CODE: stage, dates, officials, reports, costs.

    \b
    Examples:
      mma show GM0363
      mma show GM0398 --as-of 2021-06-01
    """
    with settings.programme() as prog:
        view = prog.municipality(code, as_of=as_of, known_at=known_at)
        evaluations = [
            e for e in prog.evaluations(view.code) if view.as_of is None or e.on <= view.as_of
        ][: view.evaluations]
    if settings.as_json:
        data = plain(view)
        data["evaluation_details"] = plain(evaluations)
        emit_json(data)
    else:
        console = _stdout()
        _print_municipality(console, view)
        if evaluations:
            _print_evaluations(console, evaluations)


def _print_evaluations(console: Console, evaluations: Sequence[Any]) -> None:
    from rich.table import Table

    table = Table(title=_("Evaluations"))
    for column in (
        _("Date"),
        _("Outcome"),
        _("Reports"),
        _("Useful"),
        _("Followed up"),
        _("Satisfaction"),
        _("Recovered"),
        _("Reasons"),
    ):
        table.add_column(column)

    def count(value: int | None) -> str:
        return "-" if value is None else str(value)

    for e in evaluations:
        table.add_row(
            long_date(e.on),
            word(OUTCOME_NAMES, e.outcome),
            count(e.reports),
            count(e.useful),
            count(e.followed_up),
            "-" if e.satisfaction is None else _("{score} of 5").format(score=e.satisfaction),
            euro(e.recovered),
            e.reasons or e.notes or "-",
        )
    console.print(table)


def _print_municipality(console: Console, m: MunicipalityView) -> None:
    from rich.table import Table

    when = " " + _("as of {day}").format(day=long_date(m.as_of)) if m.as_of else ""
    table = Table(title=f"{m.code} {safe(m.name)}{when}", show_header=False)
    table.add_column("field")
    table.add_column("value")
    last = word(OUTCOME_NAMES, m.last_outcome) if m.last_outcome else "-"
    merged = (
        _("{day} into {successor}").format(day=long_date(m.merged_on), successor=m.successor)
        if m.successor
        else "-"
    )
    rows: list[tuple[str, str]] = [
        (_("stage"), word(STAGE_NAMES, m.stage)),
        (_("offer"), m.offer_reference or "-"),
        (_("invited"), long_date(m.invited_on)),
        (_("answered"), long_date(m.answered_on)),
        (_("connected"), _connected(m)),
        (_("evaluation due"), long_date(m.evaluation_due)),
        (
            _("evaluations"),
            _("{count} (last: {outcome})").format(count=m.evaluations, outcome=last),
        ),
        (_("renewals"), ", ".join(long_date(d) for d in m.renewals) or "-"),
        (_("terminated"), long_date(m.terminated_on)),
        (_("merged"), merged),
        (_("predecessors"), ", ".join(m.predecessors) or "-"),
        (_("reports received"), str(m.reports_received)),
        (_("costs for the province"), euro(m.costs_province)),
        (_("costs for the municipality"), euro(m.costs_municipality)),
    ]
    for field, value in rows:
        table.add_row(field, value)
    console.print(table)
    if m.officials:
        _print_officials(console, m)


def _connected(m: MunicipalityView) -> str:
    if m.connected_on is None:
        return "-"
    return f"{long_date(m.connected_on)} ({word(CONNECTION_KINDS, m.connection_kind)})"


def _print_officials(console: Console, m: MunicipalityView) -> None:
    from rich.table import Table

    table = Table(title=_("Officials (OOV)"))
    for column in (_("Id"), _("Name"), _("E-mail"), _("Active"), _("Session"), _("Attended")):
        table.add_column(column)
    for o in m.officials:
        attended = {None: "-", True: _("yes"), False: _("missed")}[o.attended]
        table.add_row(
            o.id,
            safe(o.name),
            safe(o.email),
            _("yes") if o.active else _("no"),
            o.session_id or "-",
            attended,
        )
    console.print(table)


HISTORY_PAGE = 50
HISTORY_JSON_PAGE = 500


@cli.command()
@click.argument("code")
@click.option(
    "--limit",
    type=click.IntRange(0),
    default=None,
    help=f"Show at most N events (default {HISTORY_PAGE}; with --json: all).",
)
@click.option(
    "--after",
    type=click.IntRange(0),
    default=None,
    help="Show the events recorded after position POS (the first column), oldest first.",
)
@pass_settings
def history(settings: Settings, code: str, limit: int | None, after: int | None) -> None:
    """The recorded events of municipality CODE, one line each, in the order recorded.

    Shows the latest 50 events; page forward from a position with --after, change the page
    size with --limit. Columns: position, recorded time (UTC), business date, event type, by,
    origin, data. With --json every event (or --limit of them) is streamed as one JSON array.

    \b
    Examples:
      mma history GM0363
      mma history GM0363 --after 0 --limit 200
      mma --json history GM0363 > gm0363.json
    """
    with settings.programme() as prog:
        if settings.as_json:
            _stream_history(prog, code, after, limit)
            return
        size = HISTORY_PAGE if limit is None else limit
        if after is None:
            entries = prog.history(code, limit=size + 1, latest=True)
            more = len(entries) > size
            entries = entries[1:] if more else entries
        else:
            entries = prog.history(code, after=after, limit=size + 1)
            more = len(entries) > size
            entries = entries[:size]
    if more and after is None:
        first = entries[0].position if entries else 0
        click.echo(
            f"(the latest {len(entries)} events; earlier ones: mma history {code} "
            f"--after 0 --limit {size}, or up to position {first})",
            err=True,
        )
    elif more:
        click.echo(
            f"(more after position {entries[-1].position}: "
            f"mma history {code} --after {entries[-1].position} --limit {size})",
            err=True,
        )
    for e in entries:
        data = json.dumps(plain(e.data), ensure_ascii=False, sort_keys=True)
        day = e.date.isoformat() if e.date else "-"
        click.echo(
            safe(
                f"{e.position:>6}  {e.recorded_at.isoformat()}  {day:<10}  {e.type}  "
                f"by={e.by}  origin={e.origin}  {data}"
            )
        )


# -- read models, deadlines, waterbed -----------------------------------------------------


@cli.group("store", context_settings=CONTEXT_SETTINGS)
def store_group() -> None:
    """The store itself: its schema version and migrations."""


@store_group.command("upgrade")
@pass_settings
def store_upgrade(settings: Settings) -> None:
    """Create or migrate the store's tables to this version of mma_core.

    Opening a store creates what is missing when the role may run DDL; a service that opens
    with create=False (a role without DDL rights) needs this run once, by a role that may.

    \b
    Example:
      mma --store postgresql://owner@db/mma store upgrade
    """
    from mma_core.application import Programme

    before, after = Programme.upgrade_store(settings.store)
    if settings.as_json:
        emit_json({"before": before, "after": after})
    elif before == after:
        click.echo(f"The store is at schema version {after}; nothing to do.")
    else:
        click.echo(f"Upgraded the store from schema version {before or 'none'} to {after}.")


@cli.group(context_settings=CONTEXT_SETTINGS)
def views() -> None:
    """The read models (overview, cost ledger, training roster, deadlines) beside the events."""


@views.command("update")
@click.option("--batch-size", type=click.IntRange(1), default=2000, hidden=True)
@pass_settings
def views_update(settings: Settings, batch_size: int) -> None:
    """Apply the events recorded since the last update to the read models.

    Queries about today do this themselves; run it to keep the views warm.

    \b
    Example:
      mma views update
    """
    _run_views(settings, batch_size, rebuild=False)


@views.command("rebuild")
@click.option("--batch-size", type=click.IntRange(1), default=2000, hidden=True)
@pass_settings
def views_rebuild(settings: Settings, batch_size: int) -> None:
    """Empty the read models and rebuild them from the whole event log, with a progress bar.

    \b
    Example:
      mma views rebuild
    """
    _run_views(settings, batch_size, rebuild=True)


def _run_views(settings: Settings, batch_size: int, rebuild: bool) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from mma_core.views.models import ReadModels

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with settings.programme() as prog:
        models = ReadModels(prog, batch_size=batch_size)
        with Progress(*columns, console=_stderr(), disable=settings.as_json) as bar:
            task = bar.add_task("rebuilding views" if rebuild else "updating views", total=None)

            def advance(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            run = models.rebuild if rebuild else models.catch_up
            applied = run(advance)
        position = models.tracking().position
    if settings.as_json:
        emit_json({"rebuilt": rebuild, "applied": applied, "position": position})
    else:
        done = (
            _("Rebuilt the views: {applied} events applied, now at position {position}.")
            if rebuild
            else _("Updated the views: {applied} events applied, now at position {position}.")
        )
        click.echo(done.format(applied=applied, position=position))


@cli.command()
@click.option("--today", type=DATE, help="The day to count from (default: today).")
@click.option(
    "--within",
    type=click.IntRange(0),
    default=30,
    show_default=True,
    help="List what falls due within this many days (and everything overdue).",
)
@pass_settings
def due(settings: Settings, today: date | None, within: int) -> None:
    """Deadlines, most urgent first: answers outstanding, evaluations due, municipalities
    without a trained official, sessions over or under capacity.

    \b
    Examples:
      mma due
      mma due --today 2020-11-15 --within 30
      mma --json due
    """
    from rich.table import Table
    from rich.text import Text

    with settings.programme() as prog:
        day = today or prog.views.today()
        items = prog.views.due(day, within)
    if settings.as_json:
        emit_json({"today": day, "within": within, "due": [_due_data(d) for d in items]})
        return
    console = _stdout()
    if not items:
        console.print(
            _("Nothing falls due within {days} days of {day}.").format(
                days=within, day=long_date(day)
            )
        )
        return
    table = Table(
        title=_("Due within {days} days of {day}: {count}").format(
            days=within, day=long_date(day), count=len(items)
        )
    )
    for column in (_("Due"), _("Days"), _("Kind"), _("Municipality or session"), _("Detail")):
        table.add_column(column)
    for d in items:
        days = Text(str(d.days_left), style="red" if d.overdue else "")
        who = d.name if d.code is None else f"{d.code} {d.name}"
        if d.code is None and d.session_id is not None:
            who = _("session {id}").format(id=d.session_id)
        table.add_row(
            long_date(d.due_on), days, word(DEADLINE_NAMES, d.kind), safe(who), safe(due_detail(d))
        )
    console.print(table)


def due_detail(d: Any) -> str:
    """A deadline's detail in the current language, from its kind and dates."""
    import re

    detail = str(d.detail)
    if d.kind == "answer":
        found = re.search(r"\d{4}-\d{2}-\d{2}", detail)
        day = date.fromisoformat(found.group()) if found else None
        return _("invited on {day}, no answer yet").format(day=long_date(day))
    if d.kind == "evaluation":
        found = re.search(r"\d{4}-\d{2}-\d{2}", detail)
        day = date.fromisoformat(found.group()) if found else None
        return _("term started {day}").format(day=long_date(day))
    if d.kind == "renewal":
        return _("evaluated with outcome continue; record the next term (mma renew)")
    if d.kind == "termination":
        return _("evaluated with outcome stop; record the termination (mma terminate)")
    if d.kind == "training":
        found = re.match(r"(\d+) of (\d+) officials trained since (\d{4}-\d{2}-\d{2})", detail)
        if found:
            return _("{count} of {needed} officials trained since {day}").format(
                count=found.group(1),
                needed=found.group(2),
                day=long_date(date.fromisoformat(found.group(3))),
            )
    if d.kind == "capacity":
        numbers = [int(n) for n in re.findall(r"\d+", detail)]
        if detail.startswith("only") and len(numbers) == 2:
            return _("only {booked} of {seats} seats booked").format(
                booked=numbers[0], seats=numbers[1]
            )
        if len(numbers) == 2:
            return _("{booked} booked for {seats} seats").format(
                booked=numbers[0], seats=numbers[1]
            )
    return detail


def _due_data(d: Any) -> dict[str, Any]:
    return {
        "kind": d.kind,
        "code": d.code,
        "name": d.name,
        "session_id": d.session_id,
        "due_on": d.due_on,
        "days_left": d.days_left,
        "overdue": d.overdue,
        "detail": d.detail,
    }


@cli.command()
@click.option("--as-of", type=DATE, help=AS_OF_HELP)
@pass_settings
def waterbed(settings: Settings, as_of: date | None) -> None:
    """Unconnected municipalities ranked by how many of their neighbours are connected: where
    crime moves to (the waterbed effect). Borders are carried to successors after mergers.

    \b
    Examples:
      mma waterbed
      mma waterbed --as-of 2019-12-31
    """
    from rich.table import Table
    from rich.text import Text

    with settings.programme() as prog:
        day = as_of or prog.views.today()
        entries = prog.views.waterbed(day)
    if settings.as_json:
        emit_json(
            {
                "as_of": day,
                "waterbed": [
                    {
                        "rank": rank,
                        "code": e.code,
                        "name": e.name,
                        "stage": e.stage,
                        "neighbours": e.neighbours,
                        "connected_neighbours": e.connected_neighbours,
                        "connected": e.connected,
                        "surrounded": e.surrounded,
                    }
                    for rank, e in enumerate(entries, 1)
                ],
            }
        )
        return
    table = Table(title=f"Waterbed as of {long_date(day)}: unconnected, by connected neighbours")
    for column in ("#", "Municipality", "Stage", "Connected neighbours"):
        table.add_column(column)
    for rank, e in enumerate(entries, 1):
        neighbours = Text(f"{e.connected_neighbours} of {e.neighbours}")
        if e.surrounded:
            neighbours.append(" surrounded", style="bold red")
        table.add_row(str(rank), f"{e.code} {safe(e.name)}", e.stage, neighbours)
    _stdout().print(table)


# -- demo ---------------------------------------------------------------------------------


@cli.command()
@click.option(
    "--store",
    "demo_store",
    default="sqlite:///mma-demo.sqlite",
    show_default=True,
    metavar="URL",
    help="Store to play into; an SQLite file is replaced, other stores must be empty.",
)
@click.option("--seed", default=2019, show_default=True, help="Seed of the simulated parts.")
@pass_settings
def demo(settings: Settings, demo_store: str, seed: int) -> None:
    """Play the 2019 Noord-Holland campaign into a fresh store and show its status.

    The offer, the invitations and the trainings are from the letter of 18 October 2019;
    the 2022 mergers are real. Everything else is simulated (recorded by "demo (simulated)").

    \b
    Example:
      mma demo
      mma demo --store sqlite:///campaign.sqlite
    """
    from mma_core.application import Programme

    _fresh_store(demo_store)
    with Programme.open(demo_store, origin="demo") as prog:
        _play_with_progress(prog, seed, quiet=settings.as_json)
        today, end_2020 = prog.overview(), prog.overview(as_of=date(2020, 12, 31))
        events = prog.event_count()
    if settings.as_json:
        emit_json(
            {
                "store": demo_store,
                "seed": seed,
                "events": events,
                "status": {"today": overview_data(today), "2020-12-31": overview_data(end_2020)},
            }
        )
        return
    _print_demo_summary(demo_store, seed, events, today, end_2020)


def _fresh_store(url: str) -> None:
    """Delete a demo SQLite file; refuse to touch a store the demo did not write."""
    from mma_core.application import Programme
    from mma_core.storage import describe, store_env

    path = store_env(url).get("SQLITE_DBNAME")
    if path is None:
        if url.startswith("memory:"):
            return
        with Programme.open(url, origin="demo") as prog:
            if prog.event_count():
                _fail(f"store {describe(url)} is not empty; the demo needs an empty store")
        return
    if os.path.exists(path):
        if not _written_by_demo(url):
            _fail(
                f"store {describe(url)} holds a programme the demo did not write; "
                "it will not replace it, give another --store"
            )
        for suffix in ("", "-wal", "-shm", ".kek"):  # .kek: the officials' key-encryption key
            if os.path.exists(path + suffix):
                os.remove(path + suffix)


def _written_by_demo(url: str) -> bool:
    from mma_core.application import Programme

    with Programme.open(url, origin="demo") as prog:
        codes = prog.codes()
        if not codes:
            return prog.event_count() == 0
        return all(e.origin == "demo" for e in prog.history(codes[0])[:1])


def _play_with_progress(prog: Programme, seed: int, quiet: bool) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from mma_core.demo import play

    columns = (TextColumn("{task.description:<32}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=_stderr(), disable=quiet, transient=False) as bar:
        task = bar.add_task("starting", total=None)

        def advance(done: int, total: int, phase: str) -> None:
            bar.update(task, completed=done, total=total, description=phase)

        play(prog, seed=seed, progress=advance)


def _print_demo_summary(
    store: str, seed: int, events: int, today: Overview, end_2020: Overview
) -> None:
    from rich.table import Table

    from mma_core.demo import SOURCES

    console = _stdout()
    sources = Table(title=f"What the demo played (seed {seed})")
    sources.add_column("Part")
    sources.add_column("Source")
    for part, source in SOURCES:
        sources.add_row(part, source)
    console.print(sources)
    console.print(f"{events} events recorded in {store}.")
    print_status(console, end_2020, f"Programme status as of {long_date(end_2020.as_of)}")
    print_status(console, today, f"Programme status as of today, {long_date(today.as_of)}")
    console.print(
        "Simulated parts are recorded by 'demo (simulated)'; see 'mma history CODE'. The "
        "simulation ends with the 2022 mergers, so evaluations due since late 2021 stay open."
    )


# -- extensions ---------------------------------------------------------------------------

EXTENSIONS = (
    "mma_core.audit.cli",
    "mma_core.plugin_cli",
    "mma_core.cipher_cli",
    "mma_core.letters.cli",
    "mma_core.import_cli",
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


if __name__ == "__main__":
    # ``python -m mma_core.cli`` runs this file as ``__main__``, a second copy of the module.
    # Run the importable copy instead, so that extensions and this command share one group and
    # one Settings class.
    importlib.import_module("mma_core.cli").main()
else:
    _register_extensions(cli)
