"""The store itself (schema upgrades) and its read models."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from mma_core.cli.output import _stderr, emit_json
from mma_core.cli.root import CONTEXT_SETTINGS, Settings, cli, pass_settings
from mma_core.language.i18n import _

if TYPE_CHECKING:
    pass


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
    from mma_core.application.programme import Programme

    before, after = Programme.upgrade_store(settings.store)
    if settings.as_json:
        emit_json({"before": before, "after": after})
    elif before == after:
        click.echo(
            _("The store is at schema version {version}; nothing to do.").format(version=after)
        )
    elif before is None:
        click.echo(
            _("Created the store's tables at schema version {version}.").format(version=after)
        )
    else:
        click.echo(
            _("Upgraded the store from schema version {before} to {after}.").format(
                before=before, after=after
            )
        )


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

    Also drops the stored snapshots, which reads store again from the log: the repair of
    whatever 'mma audit verify' reports as derived.

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
            task = bar.add_task(
                _("rebuilding views") if rebuild else _("updating views"), total=None
            )

            def advance(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            run = models.rebuild if rebuild else models.catch_up
            applied = run(advance)
            if rebuild:
                # Stored snapshots are derived data too: dropped, they are stored again from
                # the log as reads need them (what 'mma audit verify' names is repaired).
                from mma_core.audit.derived import drop_snapshots

                drop_snapshots(prog)
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
