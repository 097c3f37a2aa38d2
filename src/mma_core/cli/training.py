"""Training sessions and the municipalities' officials."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import click

from mma_core.cli.output import _stdout, emit_json, safe
from mma_core.cli.params import DATE, DATETIME
from mma_core.cli.root import CONTEXT_SETTINGS, Settings, cli, pass_settings
from mma_core.language.i18n import _, long_date

if TYPE_CHECKING:
    pass


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
@click.option(
    "--on",
    "planned_on",
    type=DATE,
    help="The day the session was planned (default: today); letters dated earlier leave it out.",
)
@pass_settings
def training_schedule(
    settings: Settings,
    session_id: str,
    starts_at: datetime,
    ends_at: datetime,
    location: str,
    capacity: int,
    planned_on: date | None,
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
            on=planned_on,
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
        raise click.UsageError(_("say --attended or --missed"))
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


# -- officials ----------------------------------------------------------------------------


@cli.group(context_settings=CONTEXT_SETTINGS)
def official() -> None:
    """Nominate, withdraw and erase the (at most two) officials of a municipality."""


@official.command("add")
@click.argument("code")
@click.option(
    "--from",
    "source",
    type=click.File("r", encoding="utf-8"),
    metavar="FILE",
    help="Read 'name: ...' and 'email: ...' lines from FILE ('-': standard input), so the "
    "personal data is not in the command line.",
)
@click.option(
    "--name",
    help="The official's name (stored encrypted); asked for when neither it nor --from is given.",
)
@click.option(
    "--email",
    help="The official's e-mail (stored encrypted); asked for when neither it nor --from is given.",
)
@click.option(
    "--on",
    type=DATE,
    help="Day of the nomination (default: today; when recording a past campaign, give the "
    "real day, or the official cannot book its sessions).",
)
@click.option(
    "--salutation",
    default="",
    help="How letters greet the official, e.g. 'Geachte mevrouw Smit,' (stored encrypted; "
    "default: the neutral 'Geachte heer, mevrouw,').",
)
@pass_settings
def official_add(
    settings: Settings,
    code: str,
    source: Any,
    name: str | None,
    email: str | None,
    on: date | None,
    salutation: str,
) -> None:
    """Nominate an official of municipality CODE and print the official id.

    The name and address are personal data: options put them in the process list and the
    shell's history, so prefer the prompt (leave out --name and --email) or --from FILE.

    \b
    Examples:
      mma official add GM0363 --on 2019-11-01
      mma official add GM0363 --from official.txt
    """
    if source is not None:
        if name is not None or email is not None:
            raise click.UsageError(_("give --from FILE or --name and --email, not both"))
        name, email = _personal_data(source)
    if name is None:
        name = click.prompt(_("Name"), err=True)
    if email is None:
        email = click.prompt(_("E-mail address"), err=True)
    with settings.programme() as prog:
        official_id = prog.nominate_official(
            code, name=name, email=email, on=on, salutation=salutation, by=settings.by
        )
    if settings.as_json:
        emit_json({"official_id": official_id, "code": code})
    else:
        click.echo(official_id)


def _personal_data(source: Any) -> tuple[str, str]:
    """``name: ...`` and ``email: ...`` from a file; a usage error names what is missing (never
    what the file holds)."""
    values: dict[str, str] = {}
    for line in source.read(64 * 1024).splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip().lower() in ("name", "email"):
            values[key.strip().lower()] = value.strip()
    missing = [key for key in ("name", "email") if not values.get(key)]
    if missing:
        raise click.UsageError(
            _("{file} needs a line 'name: ...' and a line 'email: ...'; missing: {keys}").format(
                file=getattr(source, "name", "-"), keys=", ".join(missing)
            )
        )
    return values["name"], values["email"]


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
