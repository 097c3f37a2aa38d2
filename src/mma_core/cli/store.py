"""The store itself (schema upgrades) and its read models."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from mma_core.cli.output import _fail, _stderr, emit_json
from mma_core.cli.root import CONTEXT_SETTINGS, Settings, cli, pass_settings
from mma_core.language.i18n import _

if TYPE_CHECKING:
    pass


@cli.group("store", context_settings=CONTEXT_SETTINGS)
def store_group() -> None:
    """The store itself: its schema version, copies, backups and restores."""


@store_group.command("upgrade")
@click.option("--dry-run", is_flag=True, help="Show the steps it would take; change nothing.")
@pass_settings
def store_upgrade(settings: Settings, dry_run: bool) -> None:
    """Create or migrate the store's tables to this version of mma_core.

    Opening a store creates what is missing when the role may run DDL; a service that opens
    with create=False (a role without DDL rights) needs this run once, by a role that may.
    Back the store up first (mma store backup); --dry-run shows the steps.

    \b
    Example:
      mma --store postgresql://owner@db/mma store upgrade --dry-run
      mma --store postgresql://owner@db/mma store upgrade
    """
    from mma_core.application.programme import Programme

    if dry_run:
        _upgrade_plan(settings)
        return
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


def _upgrade_plan(settings: Settings) -> None:
    """``mma store upgrade --dry-run``: the store's version and each step that would run."""
    from mma_core.application import migrations
    from mma_core.application.programme import Programme
    from mma_core.storage import describe, store_env
    from mma_core.storage.errors import translated

    env = store_env(settings.store)
    label, secrets = describe(settings.store), (env.get("POSTGRES_PASSWORD", ""),)
    with translated(label, secrets):
        programme = Programme(env, create=False)  # no DDL, no version check
    programme.store_label, programme.store_secrets = label, secrets
    try:
        before, steps = migrations.plan(programme)
    finally:
        programme.close()
    if settings.as_json:
        emit_json(
            {
                "before": before,
                "after": migrations.SCHEMA_VERSION,
                "steps": [{"version": v, "does": _(migrations.STEPS[v])} for v in steps],
                "dry_run": True,
            }
        )
        return
    if not steps:
        click.echo(
            _("The store is at schema version {version}; nothing to do.").format(version=before)
        )
        return
    click.echo(
        _(
            "Would upgrade the store from schema version {before} to {after}, in these steps:"
        ).format(before=before if before is not None else "-", after=migrations.SCHEMA_VERSION)
    )
    for version in steps:
        click.echo(f"  {version}: {_(migrations.STEPS[version])}")
    click.echo(_("Nothing was changed (--dry-run)."))


@contextmanager
def _copy_progress(settings: Settings) -> Iterator[Any]:
    """A progress bar per part of a copy (events, leaves, verifying) on stderr; a copy that
    does not verify is one error line and exit status 1."""
    from mma_core.application.store_copy import CopyNotVerified

    try:
        with _bars(settings) as advance:
            yield advance
    except CopyNotVerified as error:
        if settings.as_json:
            emit_json({"error": error.to_dict()})
        _fail(str(error))


@contextmanager
def _bars(settings: Settings) -> Iterator[Any]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    names = {"events": _("events"), "leaves": _("leaves"), "verifying": _("verifying")}
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=_stderr(), disable=settings.as_json) as bar:
        tasks: dict[str, Any] = {}

        def advance(what: str, done: int, total: int) -> None:
            if what not in tasks:
                tasks[what] = bar.add_task(names.get(what, what), total=total)
            bar.update(tasks[what], completed=done, total=max(total, done))

        yield advance


def _signed(files: tuple[str, ...], values: tuple[str, ...]) -> tuple[list[Any], list[str]]:
    """The public keys (each the key itself or a file) and the checkpoints' exact texts."""
    from pathlib import Path

    from mma_core.audit import checkpoint
    from mma_core.domain.errors import InvalidInput

    if files and not values:
        raise InvalidInput(
            _("--checkpoint needs --public-key: the key the checkpoint is signed with")
        )
    keys = []
    for value in values:
        text = Path(value).read_text(encoding="ascii").strip() if Path(value).is_file() else value
        try:
            if text.startswith("PRIVATE+KEY+"):  # a signing key file: its public half
                keys.append(checkpoint.parse_signer_key(text).verifier())
            else:
                keys.append(checkpoint.parse_verifier_key(text))
        except checkpoint.CheckpointError as error:
            raise InvalidInput(
                _("public key {key}: {error}").format(key=value, error=error)
            ) from None
    notes = [Path(f).read_bytes().decode("utf-8", "replace") for f in files]
    return keys, notes


def _report_copy(settings: Settings, result: Any, done: str) -> None:
    if settings.as_json:
        emit_json(result)
        return
    click.echo(
        done.format(
            destination=result.destination,
            events=result.events,
            keys=result.keys,
            size=result.size,
            root=result.root,
        )
    )


@store_group.command("copy")
@click.argument("source", metavar="SOURCE_URL")
@click.argument("destination", metavar="DEST_URL")
@click.option(
    "--checkpoint",
    "checkpoint_files",
    multiple=True,
    metavar="FILE",
    type=click.Path(exists=True, dir_okay=False),
    help="A checkpoint signed on the source: the copy must verify against it too. Repeatable.",
)
@click.option(
    "--public-key",
    "public_keys",
    multiple=True,
    metavar="KEY|FILE",
    help="The public key the checkpoints are signed with (the key itself or a file).",
)
@pass_settings
def store_copy(
    settings: Settings,
    source: str,
    destination: str,
    checkpoint_files: tuple[str, ...],
    public_keys: tuple[str, ...],
) -> None:
    """Copy a whole store into an empty one, and verify the copy against the source.

    SQLite to PostgreSQL, PostgreSQL to SQLite, or either to itself elsewhere. Every event
    keeps its position and recorded time, every audit leaf is kept (checkpoints signed on
    the source verify on the copy), with the officials' sealed keys, the outbox and the read
    models. A destination that holds a history is refused. The source may be in use.

    \b
    Example:
      mma store copy sqlite:///mma.sqlite postgresql://owner@db/mma
    """
    from mma_core.application.store_copy import copy_store

    keys, notes = _signed(checkpoint_files, public_keys)
    with _copy_progress(settings) as progress:
        result = copy_store(
            source, destination, progress=progress, checkpoints=notes, public_keys=keys
        )
    _report_copy(
        settings,
        result,
        _(
            "Copied {events} events and {keys} officials' keys to {destination}; the copy "
            "verifies: {size} leaves, root {root}."
        ),
    )


@store_group.command("backup")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False))
@pass_settings
def store_backup(settings: Settings, path: str) -> None:
    """Write a consistent copy of the store (--store) to a new SQLite file, mode 0600.

    The store may be in use meanwhile. An SQLite store is copied with SQLite's backup API,
    its officials' key file beside it as FILE.kek (keep the two together); a PostgreSQL
    store is copied into the file as 'mma store copy' does. The backup is verified before
    this says done; an existing FILE is never overwritten.

    \b
    Example:
      mma store backup backups/mma-2024-01-01.sqlite
    """
    from mma_core.application.store_copy import backup_store

    with _copy_progress(settings) as progress:
        result = backup_store(settings.store, path, progress=progress)
    _report_copy(
        settings,
        result,
        _("Backed up {events} events to {destination}; it verifies: {size} leaves, root {root}."),
    )


@store_group.command("restore")
@click.argument("path", metavar="FILE", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--to", "destination", required=True, metavar="URL", help="The empty store to restore into."
)
@pass_settings
def store_restore(settings: Settings, path: str, destination: str) -> None:
    """Restore a backup file (mma store backup) into an empty store, and verify it.

    \b
    Example:
      mma store restore backups/mma-2024-01-01.sqlite --to sqlite:///mma.sqlite
    """
    from mma_core.application.store_copy import restore_store

    with _copy_progress(settings) as progress:
        result = restore_store(path, destination, progress=progress)
    _report_copy(
        settings,
        result,
        _(
            "Restored {events} events and {keys} officials' keys to {destination}; it "
            "verifies: {size} leaves, root {root}."
        ),
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
