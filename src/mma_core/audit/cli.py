"""``mma audit``: keygen, checkpoint, verify, export. Added to the main CLI by ``register``."""

from __future__ import annotations

import base64
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import click

from mma_core.audit import checkpoint as notes

DEFAULT_KEY_FILE = "mma-audit.key"
KEY_HELP = "The signing key file (env MMA_AUDIT_KEY)."
# One definition for every command that signs or checks signatures, so they cannot drift apart.
KEY_OPTION = click.option(
    "--key",
    "key_file",
    envvar="MMA_AUDIT_KEY",
    default=DEFAULT_KEY_FILE,
    show_default=True,
    metavar="FILE",
    help=KEY_HELP,
)


def register(cli: click.Group) -> None:
    """Add the ``audit`` group to ``cli``."""
    cli.add_command(audit)


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


def _store_url(ctx: click.Context) -> str:
    from mma_core.storage import DEFAULT_STORE

    root = ctx.find_root()
    store = getattr(root.obj, "store", None) or root.params.get("store")
    return str(store or os.environ.get("MMA_STORE") or DEFAULT_STORE)


def _as_json(ctx: click.Context) -> bool:
    root = ctx.find_root()
    return bool(getattr(root.obj, "as_json", False) or root.params.get("as_json"))


@contextmanager
def _recorder(ctx: click.Context) -> Iterator[Any]:
    from mma_core.audit.sources import open_recorder
    from mma_core.domain.errors import DomainError
    from mma_core.storage import describe, store_env

    url = _store_url(ctx)
    try:
        path = store_env(url).get("SQLITE_DBNAME")
    except DomainError as error:
        _fail(str(error))
    if path is not None and not Path(path).exists():
        _fail(f"no store at {describe(url)}: the file {path} does not exist")
    with open_recorder(url) as recorder:
        yield recorder


def _signer(key_file: str) -> notes.SignerKey:
    path = Path(key_file)
    if not path.exists():
        _fail(f"no signing key at {path}; create one with 'mma audit keygen --key {path}'")
    try:
        return notes.parse_signer_key(path.read_text(encoding="ascii"))
    except (notes.CheckpointError, UnicodeDecodeError) as error:
        _fail(f"{path}: {error}")


def _verifier(value: str) -> notes.VerifierKey:
    text = value
    if Path(value).is_file():
        text = Path(value).read_text(encoding="ascii").strip()
    try:
        if text.startswith("PRIVATE+KEY+"):
            return notes.parse_signer_key(text).verifier()
        return notes.parse_verifier_key(text)
    except notes.CheckpointError as error:
        _fail(f"public key {value}: {error}")


@click.group()
def audit() -> None:
    """Prove the history was not altered: sign checkpoints, verify, export for auditors.

    \b
    Every stored event has a leaf, written in the same transaction; the leaves form an
    RFC 6962 Merkle tree. A checkpoint signs the tree's size and root; keep checkpoints
    outside the store. See docs/audit.md.
    """


@audit.command()
@KEY_OPTION
@click.option(
    "--name",
    default=notes.DEFAULT_KEY_NAME,
    show_default=True,
    help="The key's name, shown on every signature.",
)
@click.option("--force", is_flag=True, help="Replace an existing key file.")
def keygen(key_file: str, name: str, force: bool) -> None:
    """Create an Ed25519 signing key (file mode 0600) and print its public key.

    Give the printed public key to the auditors; keep the key file secret.
    """
    path = Path(key_file)
    if path.exists() and not force:
        _fail(
            f"{path} exists; give --force to replace it (old checkpoints stay valid only "
            "under the old public key)"
        )
    try:
        key = notes.generate_key(name)
    except notes.CheckpointError as error:
        _fail(str(error))
    if force and path.exists():
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(f"{key}\n")
    click.echo(str(key.verifier()))


def _verify(ctx: click.Context, checkpoint_texts: list[str], keys: list[notes.VerifierKey]) -> Any:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )

    from mma_core.audit.sources import open_reader
    from mma_core.audit.verify import verify

    with _recorder(ctx) as recorder, open_reader(recorder) as reader:
        total = reader.counter()
        with Progress(
            TextColumn("verifying"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        ) as progress:
            task = progress.add_task("verify", total=total)
            return verify(reader, checkpoint_texts, keys, lambda n: progress.advance(task, n))


@audit.command("verify")
@click.option(
    "--checkpoint",
    "checkpoint_files",
    multiple=True,
    metavar="FILE",
    type=click.Path(exists=True, dir_okay=False),
    help="A signed checkpoint kept outside the store; it must be a prefix of today's "
    "history. Repeatable.",
)
@click.option(
    "--public-key",
    "public_keys",
    multiple=True,
    metavar="KEY|FILE",
    help="The public key the checkpoints are signed with (the key itself or a file). "
    "Default: the public half of --key.",
)
@KEY_OPTION
@click.pass_context
def verify_command(
    ctx: click.Context,
    checkpoint_files: tuple[str, ...],
    public_keys: tuple[str, ...],
    key_file: str,
) -> None:
    """Recompute every leaf, chain and the tree from the stored events.

    Prints OK with the size and root, or the first bad position and what is wrong
    (edited, missing, inserted, reordered, truncated, signature invalid), exit status 1.
    """
    keys = [_verifier(value) for value in public_keys]
    if checkpoint_files and not keys:
        if not Path(key_file).exists():
            _fail("give --public-key to check the checkpoints' signatures")
        keys = [_signer(key_file).verifier()]
    texts = [Path(f).read_text(encoding="utf-8") for f in checkpoint_files]
    result = _verify(ctx, texts, keys)
    root = base64.b64encode(result.root).decode()
    if _as_json(ctx):
        click.echo(
            json.dumps(
                {
                    "ok": result.ok,
                    "size": result.size,
                    "root": root,
                    "problem": None
                    if result.ok
                    else {
                        "kind": result.problem.kind,
                        "position": result.problem.position,
                        "detail": result.problem.detail,
                    },
                    "seconds": round(result.seconds, 3),
                    "rate": round(result.rate),
                }
            )
        )
    elif result.ok:
        checked = f", {len(texts)} checkpoint(s) consistent" if texts else ""
        click.echo(
            f"OK: {result.size} events verified, tree size {result.size}, root {root}{checked}"
        )
    else:
        click.echo(f"FAILED: {result.problem}")
    click.echo(
        f"{result.size} events in {result.seconds:.2f} s ({result.rate:,.0f} events/s)", err=True
    )
    if not result.ok:
        sys.exit(1)


@audit.command("checkpoint")
@KEY_OPTION
@click.option(
    "--origin",
    default=notes.DEFAULT_ORIGIN,
    show_default=True,
    help="The checkpoint's origin line: names this programme's log.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the checkpoint to FILE instead of standard output.",
)
@click.pass_context
def checkpoint_command(ctx: click.Context, key_file: str, origin: str, output: str | None) -> None:
    """Verify the store, then sign its current tree (size and root) as a checkpoint.

    Keep the checkpoint outside the store: later, 'mma audit verify --checkpoint FILE'
    proves today's history still starts with what it signed.
    """
    key = _signer(key_file)
    result = _verify(ctx, [], [])
    if not result.ok:
        _fail(f"the store does not verify, nothing signed: {result.problem}")
    try:
        note = notes.sign(key, origin, result.size, result.root)
    except notes.CheckpointError as error:
        _fail(str(error))
    if output is None:
        click.echo(note, nl=False)
    else:
        Path(output).write_text(note, encoding="utf-8")
        click.echo(f"checkpoint of {result.size} events written to {output}", err=True)


@audit.command("export")
@click.argument("directory", type=click.Path(file_okay=False))
@KEY_OPTION
@click.option(
    "--origin",
    default=notes.DEFAULT_ORIGIN,
    show_default=True,
    help="The checkpoint's origin line.",
)
@click.option("--force", is_flag=True, help="Write into DIRECTORY even if it holds files already.")
@click.pass_context
def export_command(
    ctx: click.Context, directory: str, key_file: str, origin: str, force: bool
) -> None:
    """Write an export for auditors into DIRECTORY (new or empty; --force to write anyway).

    events.jsonl (the stored rows; officials' data stays encrypted), leaves.jsonl, a
    checkpoint signed now, public-key and manifest.json. Verify it without this library:
    python tools/verify_export.py DIRECTORY
    """
    from mma_core.audit.export import export
    from mma_core.audit.sources import open_reader

    if not force and Path(directory).is_dir() and any(Path(directory).iterdir()):
        # Files left from another export (or anything else) would sit beside this one's and
        # could be taken for part of it.
        _fail(f"{directory} is not empty; give a new or empty folder, or --force")
    key = _signer(key_file)
    with _recorder(ctx) as recorder, open_reader(recorder) as reader:
        try:
            done = export(reader, Path(directory), key, origin)
        except notes.CheckpointError as error:
            _fail(str(error))
    click.echo(
        f"exported {done.events} events and {done.leaves} leaves to {directory}, "
        f"root {base64.b64encode(done.root).decode()}"
    )
