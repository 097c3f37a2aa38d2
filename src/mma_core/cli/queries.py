"""Where things stand: status, show, history, due, waterbed and costs."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import click

from mma_core.cli.offers import _offer_data
from mma_core.cli.output import (
    BAR_WIDTH,
    CONNECTION_KINDS,
    DEADLINE_NAMES,
    DEADLINES_SHOWN,
    OUTCOME_NAMES,
    PAYERS,
    STAGE_NAMES,
    _stdout,
    emit_json,
    euro,
    percent,
    safe,
    word,
)
from mma_core.cli.params import DATE, DATETIME
from mma_core.cli.root import Settings, cli, pass_settings
from mma_core.domain.jsonable import jsonable
from mma_core.language.i18n import _, long_date

if TYPE_CHECKING:
    from rich.console import Console

    from mma_core.application.programme import Programme
    from mma_core.views.state import HistoryEntry, MunicipalityView, Overview


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
        "merged_away": o.merged_away,
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
            # The merged ones too (stage "merged"): the costs by payer are the sum of this list.
            for m in (*o.municipalities, *o.merged)
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
        if stage == "merged":
            # Merged municipalities no longer exist, so they are not in the total: say so.
            label = _("now merged (not in the total)")
            table.add_row(label, str(o.merged_away), "")
            continue
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
        ended = _ended(prog, view, view.as_of or prog.views.today())
    if settings.as_json:
        data = jsonable(view)
        assert isinstance(data, dict)  # a view is an object
        data["evaluation_details"] = jsonable(evaluations)
        data["ended"] = jsonable(ended)
        emit_json(data)
    else:
        console = _stdout()
        _print_municipality(console, view, ended)
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


def _ended(prog: Programme, m: MunicipalityView, day: date) -> dict[str, Any] | None:
    """A municipality whose registry validity ended before ``day`` without a recorded merger:
    the day it ended and its successor (code and name) from the registry, when it names one."""
    from mma_core.storage import registries

    if m.valid_until is None or day <= m.valid_until or m.merged_on is not None:
        return None
    successor: str | None = None
    try:
        entries = {e.code.value: e for e in registries.load(m.registry)}
    except Exception:  # a registry not shipped (any more): the end is still known
        entries = {}
    entry = entries.get(m.code)
    if entry is not None and entry.successor is not None:
        successor = entry.successor.value
    successor_name = None
    if successor is not None:
        named = entries.get(successor)
        successor_name = named.name if named is not None else None
        if successor_name is None and successor in prog.codes():
            successor_name = prog.municipality(successor).name
    return {"on": m.valid_until, "successor": successor, "successor_name": successor_name}


def _print_municipality(
    console: Console, m: MunicipalityView, ended: dict[str, Any] | None = None
) -> None:
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
    stage = word(STAGE_NAMES, m.stage)
    if ended is not None:
        stage = _("ended on {day}").format(day=long_date(ended["on"]))
        if ended["successor"]:
            stage += ", " + _("continued by {successor}").format(
                successor=f"{ended['successor']} {safe(ended['successor_name'] or '')}".strip()
            )
    rows: list[tuple[str, str]] = [
        (_("stage"), stage),
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
@click.argument("code", required=False)
@click.option(
    "--session",
    "session_id",
    default=None,
    help="Show the events of this training session instead of a municipality's, e.g. 2019-11-06.",
)
@click.option(
    "--limit",
    type=click.IntRange(0),
    default=None,
    help=f"Show at most N events (default {HISTORY_PAGE}; with --json: all, or a page of N "
    "with the position of the next).",
)
@click.option(
    "--after",
    type=click.IntRange(0),
    default=None,
    help="Show the events recorded after position POS (the first column), oldest first.",
)
@pass_settings
def history(
    settings: Settings,
    code: str | None,
    session_id: str | None,
    limit: int | None,
    after: int | None,
) -> None:
    """The recorded events of municipality CODE, one line each, in the order recorded.

    With --session SESSION_ID instead of CODE: the events of that training session (its
    schedule, the seats booked and released, the schedule's corrections and retraction).
    Shows the latest 50 events; page forward from a position with --after, change the page
    size with --limit. Columns: position, recorded time (UTC), business date, event type, by,
    origin, data. With --json every event is streamed as one JSON array; with --json and
    --limit one page: {"events": [...], "next": POS}, where --after POS reads the next page
    (null: none left).

    \b
    Examples:
      mma history GM0363
      mma history GM0363 --after 0 --limit 200
      mma history --session 2019-11-06
      mma --json history GM0363 > gm0363.json
      mma --json history GM0363 --limit 500 --after 0
    """
    if (code is None) == (session_id is None):
        raise click.UsageError(_("give a municipality CODE or --session SESSION_ID (not both)"))
    with settings.programme() as prog:
        reader = _HistoryReader(prog, code, session_id)
        if settings.as_json and limit is not None:
            _history_page(reader, after, limit)
            return
        if settings.as_json:
            _stream_history(reader, after, None)
            return
        size = HISTORY_PAGE if limit is None else limit
        if after is None:
            entries = reader.page(limit=size + 1, latest=True)
            more = len(entries) > size
            entries = entries[1:] if more else entries
        else:
            entries = reader.page(after=after, limit=size + 1)
            more = len(entries) > size
            entries = entries[:size]
    if more and after is None:
        first = entries[0].position if entries else 0
        click.echo(
            _(
                "(the latest {count} events; earlier ones: mma history {code} "
                "--after 0 --limit {size}, or up to position {first})"
            ).format(count=len(entries), code=reader.argument, size=size, first=first),
            err=True,
        )
    elif more:
        click.echo(
            _(
                "(more after position {position}: "
                "mma history {code} --after {position} --limit {size})"
            ).format(position=entries[-1].position, code=reader.argument, size=size),
            err=True,
        )
    for e in entries:
        data = json.dumps(jsonable(e.data), ensure_ascii=False, sort_keys=True)
        day = e.date.isoformat() if e.date else "-"
        click.echo(
            safe(
                f"{e.position:>6}  {e.recorded_at.isoformat()}  {day:<10}  {e.type}  "
                f"by={e.by}  origin={e.origin}  {data}{_amended(e)}"
            )
        )


class _HistoryReader:
    """The history ``mma history`` reads: a municipality's (``code``) or a training
    session's (``session_id``), with the argument that names it on the command line."""

    def __init__(self, prog: Programme, code: str | None, session_id: str | None) -> None:
        self.prog = prog
        self.code = code
        self.session_id = session_id
        self.argument = f"--session {session_id}" if session_id is not None else str(code)

    def page(
        self, *, after: int | None = None, limit: int | None = None, latest: bool = False
    ) -> list[HistoryEntry]:
        if self.session_id is not None:
            return self.prog.session_history(
                self.session_id, after=after, limit=limit, latest=latest
            )
        assert self.code is not None
        return self.prog.history(self.code, after=after, limit=limit, latest=latest)

    def label(self) -> dict[str, str]:
        """What a JSON page says it is the history of."""
        if self.session_id is not None:
            return {"session": self.session_id}
        assert self.code is not None
        return {"code": self.code.upper()}


def _amended(e: HistoryEntry) -> str:
    """What the history line adds about a correction: what amended this fact since, or
    which fact this amendment amends."""
    notes = []
    if e.amends is not None:
        notes.append(_("amends position {position}").format(position=e.amends))
    if e.retracted_by is not None:
        notes.append(
            _("retracted at position {position}: {reason}").format(
                position=e.retracted_by.position, reason=e.retracted_by.reason
            )
        )
    if e.corrected_by is not None:
        notes.append(
            _("corrected at position {position}: {reason}").format(
                position=e.corrected_by.position, reason=e.corrected_by.reason
            )
        )
    return "".join(f"  [{note}]" for note in notes)


def _history_page(reader: _HistoryReader, after: int | None, limit: int) -> None:
    """One page of the history as JSON, with the cursor of the next page: ``next`` is the
    position to pass as ``--after`` (``null`` when no event follows the page)."""
    page = reader.page(after=after or 0, limit=limit + 1)
    more = len(page) > limit
    page = page[:limit]
    emit_json(
        {
            **reader.label(),
            "after": after or 0,
            "events": [jsonable(entry) for entry in page],
            "next": page[-1].position if more and page else None,
        }
    )


def _stream_history(reader: _HistoryReader, after: int | None, limit: int | None) -> None:
    """The history as one JSON array, written a page at a time: memory stays flat."""
    click.echo("[")
    written = 0
    position = after or 0
    while limit is None or written < limit:
        size = HISTORY_JSON_PAGE if limit is None else min(HISTORY_JSON_PAGE, limit - written)
        page = reader.page(after=position, limit=size)
        for entry in page:
            text = json.dumps(jsonable(entry), ensure_ascii=False, indent=2)
            click.echo(("," if written else "") + text)
            written += 1
        if len(page) < size:
            break
        position = page[-1].position
    click.echo("]")


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
    table = Table(
        title=_("Waterbed as of {day}: unconnected, by connected neighbours").format(
            day=long_date(day)
        )
    )
    for column in ("#", _("Municipality"), _("Stage"), _("Connected neighbours")):
        table.add_column(column)
    for rank, e in enumerate(entries, 1):
        neighbours = Text(
            _("{connected} of {neighbours}").format(
                connected=e.connected_neighbours, neighbours=e.neighbours
            )
        )
        if e.surrounded:
            neighbours.append(" " + _("surrounded"), style="bold red")
        table.add_row(str(rank), f"{e.code} {safe(e.name)}", word(STAGE_NAMES, e.stage), neighbours)
    _stdout().print(table)
