"""``mma demo``: the 2019 campaign played into a fresh store."""

from __future__ import annotations

import os
from datetime import date
from typing import TYPE_CHECKING

import click

from mma_core.cli.output import _fail, _stderr, _stdout, emit_json
from mma_core.cli.queries import overview_data, print_status
from mma_core.cli.root import Settings, cli, pass_settings
from mma_core.language.i18n import _, long_date, number

if TYPE_CHECKING:
    from mma_core.application.programme import Programme
    from mma_core.views.state import Overview


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
    from mma_core.application.programme import Programme

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
    from mma_core.application.programme import Programme
    from mma_core.storage import describe, store_env

    path = store_env(url).get("SQLITE_DBNAME")
    if path is None:
        if url.startswith("memory:"):
            return
        with Programme.open(url, origin="demo") as prog:
            if prog.event_count():
                _fail(
                    _("store {store} is not empty; the demo needs an empty store").format(
                        store=describe(url)
                    )
                )
        return
    if os.path.exists(path):
        if not _written_by_demo(url):
            _fail(
                _(
                    "store {store} holds a programme the demo did not write; it will not replace "
                    "it, give another --store"
                ).format(store=describe(url))
            )
        for suffix in ("", "-wal", "-shm", ".kek"):  # .kek: the officials' key-encryption key
            if os.path.exists(path + suffix):
                os.remove(path + suffix)


def _written_by_demo(url: str) -> bool:
    from mma_core.application.programme import Programme

    with Programme.open(url, origin="demo") as prog:
        codes = prog.codes()
        if not codes:
            return prog.event_count() == 0
        return all(e.origin == "demo" for e in prog.history(codes[0])[:1])


def _play_with_progress(prog: Programme, seed: int, quiet: bool) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from mma_core.cli.campaign import play

    columns = (TextColumn("{task.description:<32}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=_stderr(), disable=quiet, transient=False) as bar:
        task = bar.add_task(_("starting"), total=None)

        def advance(done: int, total: int, phase: str) -> None:
            bar.update(task, completed=done, total=total, description=_(phase))

        play(prog, seed=seed, progress=advance)


def _print_demo_summary(
    store: str, seed: int, events: int, today: Overview, end_2020: Overview
) -> None:
    from rich.table import Table

    from mma_core.cli.campaign import SOURCES

    console = _stdout()
    sources = Table(title=_("What the demo played (seed {seed})").format(seed=seed))
    sources.add_column(_("Part"))
    sources.add_column(_("Source"))
    for part, source in SOURCES:
        sources.add_row(_(part), _(source))
    console.print(sources)
    console.print(
        _("{count} events recorded in {store}.").format(count=number(events), store=store)
    )
    print_status(
        console,
        end_2020,
        _("Programme status as of {day}").format(day=long_date(end_2020.as_of)),
    )
    print_status(
        console,
        today,
        _("Programme status as of today, {day}").format(day=long_date(today.as_of)),
    )
    console.print(
        _(
            "Simulated parts are recorded by 'demo (simulated)'; see 'mma history CODE'. The "
            "simulation ends with the 2022 mergers, so evaluations due since late 2021 stay open."
        )
    )
