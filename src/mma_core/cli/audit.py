"""``mma audit``: keygen, checkpoint, verify, export. Added to the main CLI by ``register``."""

from __future__ import annotations

import base64
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn

import click

from mma_core.audit import checkpoint as notes
from mma_core.language.cli import TranslatedGroup
from mma_core.language.i18n import N_, _, ngettext, number

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
    click.echo(f"{_('error')}: {message}", err=True)
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
        _fail(
            _("no store at {store}: the file {path} does not exist").format(
                store=describe(url), path=path
            )
        )
    with open_recorder(url) as recorder:
        yield recorder


def _signer(key_file: str) -> notes.SignerKey:
    path = Path(key_file)
    if not path.exists():
        _fail(
            _("no signing key at {path}; create one with 'mma audit keygen --key {path}'").format(
                path=path
            )
        )
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
        _fail(_("public key {key}: {error}").format(key=value, error=error))


def _read_note(path: str) -> str:
    """A note's exact text: no newline translation (a CR must not vanish before the checks);
    bytes that are not UTF-8 become U+FFFD, so the signature cannot hold."""
    return Path(path).read_bytes().decode("utf-8", "replace")


@click.group(cls=TranslatedGroup)
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
            _(
                "{path} exists; give --force to replace it (old checkpoints stay valid only "
                "under the old public key)"
            ).format(path=path)
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


@audit.command("public-key")
@KEY_OPTION
@click.option(
    "--witness",
    is_flag=True,
    help="Print the key's cosignature/v1 form (0x04), the one verifiers take with --witness-key.",
)
def public_key_command(key_file: str, witness: bool) -> None:
    """Print the public key of a signing key file: the operator's verifier key (0x01), or with
    --witness the witness key (0x04) under which its cosignatures are checked."""
    key = _signer(key_file)
    click.echo(str(notes.witness_key(key)) if witness else str(key.verifier()))


@contextmanager
def _walk(ctx: click.Context, label: str = N_("verifying")) -> Iterator[tuple[Any, Any]]:
    """A reader over one snapshot of the store, and a progress callback for its walk."""
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

    with _recorder(ctx) as recorder, open_reader(recorder) as reader:
        total = reader.counter()
        with Progress(
            TextColumn(_(label)),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        ) as progress:
            task = progress.add_task(label, total=total)
            yield reader, lambda n: progress.advance(task, n)


def _verify(
    ctx: click.Context,
    checkpoint_texts: list[str],
    keys: list[notes.VerifierKey],
    observe: Any = None,
) -> Any:
    from mma_core.audit.verify import verify

    with _walk(ctx) as (reader, advance):
        return verify(reader, checkpoint_texts, keys, advance, observe=observe)


def _keys(public_keys: tuple[str, ...], key_file: str, needed: bool) -> list[notes.VerifierKey]:
    """The trusted public keys: --public-key, else the public half of --key."""
    keys = [_verifier(value) for value in public_keys]
    if needed and not keys:
        if not Path(key_file).exists():
            _fail(_("give --public-key to check the checkpoints' signatures"))
        keys = [_signer(key_file).verifier()]
    return keys


def _checkpoints(
    public_keys: tuple[str, ...], key_file: str, *paths: str, needed: bool = True
) -> tuple[list[notes.VerifierKey], list[str]]:
    """The keys that check signed checkpoints (``--public-key``, else the public half of
    ``--key``) and the checkpoints read from ``paths``; a missing key or an unreadable file
    fails with a clear message before the store is read."""
    return _keys(public_keys, key_file, needed), [_read_note(path) for path in paths]


def _file_option(
    flag: str, name: str, help_text: str
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """An optional ``FILE`` option naming a file that exists (a checkpoint, a proof)."""
    return click.option(
        flag,
        name,
        metavar="FILE",
        type=click.Path(exists=True, dir_okay=False),
        default=None,
        help=help_text,
    )


def _write_json(data: Any, output: str | None, what: str) -> None:
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(_("{what} written to {output}").format(what=what, output=output), err=True)


PUBLIC_KEY_OPTION = click.option(
    "--public-key",
    "public_keys",
    multiple=True,
    metavar="KEY|FILE",
    help="The public key the checkpoints are signed with (the key itself or a file). "
    "Default: the public half of --key.",
)
OUTPUT_OPTION = click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write to FILE instead of standard output.",
)


ORIGIN_HELP = "The checkpoints' origin: names this programme's log (env MMA_AUDIT_ORIGIN)."
ORIGIN_OPTION = click.option(
    "--origin",
    envvar="MMA_AUDIT_ORIGIN",
    default=notes.DEFAULT_ORIGIN,
    show_default=True,
    help=ORIGIN_HELP,
)
ALSO_KEY_OPTION = click.option(
    "--also-key",
    "also_key_files",
    multiple=True,
    metavar="FILE",
    help="Another signing key that signs too (a key rotation: the old and the new key sign "
    "the same checkpoint while auditors move to the new one). Repeatable.",
)


def _derived_child(opener: Any, conn: Any) -> None:
    """In a child process: open the programme, check its derived data, send the verdict."""
    from mma_core.audit.derived import verify_derived

    try:
        with opener() as source:
            problem = verify_derived(source)
    except Exception as error:  # the programme cannot be opened or read
        conn.send(("error", type(error).__name__))
    else:
        conn.send(("ok", None if problem is None else (problem.kind, problem.detail)))
    finally:
        conn.close()


class _DerivedCheck:
    """The derived-data check (read models, stored snapshots against a replay of the log),
    run in a child process beside the log's walk: both read the whole log, and on two cores
    the full check then takes little longer than the walk alone. The programme comes from the
    command line's settings (``mma`` opens it; the audit package names no application)."""

    def __init__(self, ctx: click.Context, log_only: bool) -> None:
        import multiprocessing

        self.log_only = log_only
        self.opener = None if log_only else getattr(ctx.find_root().obj, "programme", None)
        self.process: Any = None
        if self.opener is not None:
            context = multiprocessing.get_context("spawn")  # nothing of this process shared
            self.conn, child = context.Pipe(duplex=False)
            self.process = context.Process(
                target=_derived_child, args=(self.opener, child), daemon=True
            )
            self.process.start()
            child.close()

    def stop(self) -> None:
        """The log did not verify: the derived data need not be checked."""
        if self.process is not None:
            self.process.terminate()
            self.process.join()

    def result(self) -> dict[str, Any]:
        from mma_core.audit.verify import DERIVED_KIND, Problem

        if self.log_only:
            return {
                "checked": False,
                "problem": None,
                "note": _("log only: read models and snapshots not checked (--log-only)"),
            }
        if self.process is None:
            return {
                "checked": False,
                "problem": None,
                "note": _("read models and snapshots not checked: no programme to replay"),
            }
        try:
            status, value = self.conn.recv()
        except EOFError:  # the child died without a verdict
            status, value = "error", "EOFError"
        self.process.join()
        if status == "error":
            return {
                "checked": False,
                "problem": None,
                "note": _("read models and snapshots not checked: {error}").format(error=value),
            }
        problem = None if value is None else Problem(DERIVED_KIND, None, value[1])
        return {
            "checked": True,
            "problem": problem,
            "note": _("read models and snapshots match the log"),
        }


def _trusted_keys(
    public_keys: tuple[str, ...], key_file: str, trust_bundled_key: bool
) -> tuple[list[notes.VerifierKey], list[str]]:
    """The keys a verifier trusts, from outside the store: every --public-key. Without one the
    verifier refuses (exit 2), unless --trust-bundled-key takes the public half of --key, which
    sits beside the store and so proves nothing against whoever can change both: a warning."""
    if public_keys:
        return [_verifier(value) for value in public_keys], []
    if not trust_bundled_key:
        raise click.UsageError(
            _(
                "give --public-key with the operator's public key as you received it; "
                "--trust-bundled-key uses the key beside the store instead"
            )
        )
    if not Path(key_file).exists():
        raise click.UsageError(_("give --public-key to check the checkpoints' signatures"))
    warning = _(
        "warning: checked against the public half of {key}, not a key received separately "
        "(--trust-bundled-key): whoever can rewrite the store and that file passes"
    ).format(key=key_file)
    return [_signer(key_file).verifier()], [warning]


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
    "--since",
    "since_file",
    metavar="FILE",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="An older signed checkpoint: also build and check the RFC 9162 consistency proof "
    "from it to today's tree.",
)
@click.option(
    "--witness-key",
    "witness_values",
    multiple=True,
    metavar="KEY|FILE",
    help="A witness's public key (or its key file): report whether it cosigned each "
    "checkpoint given; a cosignature under its name that does not hold fails. Repeatable.",
)
@click.option(
    "--state",
    "state_file",
    metavar="FILE",
    type=click.Path(dir_okay=False),
    default=None,
    help="Remember the largest checkpoint verified in FILE (created on first use); a later "
    "run refuses a store older than it or disagreeing with it.",
)
@click.option(
    "--log-only",
    is_flag=True,
    help="Check the event log alone, not the read models and stored snapshots beside it "
    "(the result says so).",
)
@PUBLIC_KEY_OPTION
@click.option(
    "--trust-bundled-key",
    is_flag=True,
    help="Without --public-key, check signatures with the public half of --key (beside the "
    "store: proves little; the result says so).",
)
@ORIGIN_OPTION
@KEY_OPTION
@click.pass_context
def verify_command(
    ctx: click.Context,
    checkpoint_files: tuple[str, ...],
    since_file: str | None,
    witness_values: tuple[str, ...],
    state_file: str | None,
    log_only: bool,
    public_keys: tuple[str, ...],
    trust_bundled_key: bool,
    origin: str,
    key_file: str,
) -> None:
    """Recompute every leaf, chain and the tree from the stored events.

    Prints OK with the size and root, or the first bad position and what is wrong
    (edited, missing, inserted, reordered, truncated, signature invalid, wrong origin,
    cosignature invalid), exit status 1. Checkpoints are checked against --public-key (the
    operator's key as you received it; required when a checkpoint, --since or --state is
    given) and must name --origin. With --witness-key, also names the witnesses (see 'mma
    audit cosign') whose cosignatures on the given checkpoints hold. Then, unless --log-only,
    compares every read-model table and stored snapshot with a replay of the log (kind
    derived; the repair is 'mma views rebuild').
    """
    from mma_core.audit.merkle import RangeRoots, consistency_ranges, verify_consistency
    from mma_core.audit.state import StateError, read_state, record_state

    warnings: list[str] = []
    state_path = None if state_file is None else Path(state_file)
    remembered = None
    if state_path is not None:
        try:
            remembered = read_state(state_path)
        except StateError as error:
            raise click.UsageError(str(error)) from None
    witnesses = _witness_keys(witness_values)
    keys: list[notes.VerifierKey] = []
    if checkpoint_files or since_file or state_path is not None:
        keys, warnings = _trusted_keys(public_keys, key_file, trust_bundled_key)
    elif public_keys:
        keys = [_verifier(value) for value in public_keys]
    texts = [_read_note(path) for path in checkpoint_files]
    labels = list(checkpoint_files)
    since: Any = None
    path: Any = None
    if since_file is not None:
        since_text = _read_note(since_file)
        texts.append(since_text)
        labels.append(since_file)
        try:
            since = notes.parse(since_text)
        except notes.CheckpointError:
            since = None  # the walk reports it as a bad checkpoint
    given = len(texts)
    if remembered is not None:
        texts.append(remembered)
        labels.append(_("the checkpoint remembered in {state}").format(state=state_file))
    from mma_core.audit.verify import COSIGNATURE, Problem, verify

    with _walk(ctx) as (reader, advance):
        # Started once the store is known to exist: opening the programme on a missing
        # SQLite file would create it.
        derived_check = _DerivedCheck(ctx, log_only)
        observe = None
        total = reader.counter()  # in this snapshot: the size today's tree has if it verifies
        if since is not None and 0 < since.size <= total:
            path = RangeRoots(consistency_ranges(since.size, total))

            def observe(i: int, hashed: bytes, data: bytes, row: Any) -> None:
                path.add(i - 1, hashed)

        result = verify(reader, texts, keys, advance, observe=observe, origin=origin, labels=labels)
    consistency: dict[str, Any] | None = None
    if result.ok and since is not None:
        proof = [] if path is None or since.size == 0 else path.roots()
        holds = since.size == 0 or verify_consistency(
            since.size, result.size, since.root, result.root, proof
        )
        if not holds:  # the walk's prefix check passed, so this would be a bug: say so
            _fail(_("the consistency proof does not hold although the prefix root does"))
        consistency = {
            "first_size": since.size,
            "second_size": result.size,
            "consistency_path": [base64.b64encode(h).decode() for h in proof],
        }
    cosigned: list[dict[str, Any]] = []
    if result.ok and witnesses:
        for label, text in zip(labels[:given], texts[:given], strict=True):
            false = notes.false_cosignatures(text, witnesses)
            if false:
                result = replace(
                    result,
                    problem=Problem(
                        COSIGNATURE,
                        None,
                        _(
                            "{checkpoint}: the cosignature of {names} does not verify under "
                            "the witness key given"
                        ).format(checkpoint=label, names=", ".join(false)),
                    ),
                )
                cosigned = []
                break
            signed_by = notes.cosigners(text, witnesses)
            cosigned.append(
                {"checkpoint": label, "witnesses": [{"name": n, "time": t} for n, t in signed_by]}
            )
    if result.ok:
        derived = derived_check.result()
    else:
        derived_check.stop()
        derived = {"checked": False, "problem": None, "note": ""}
    if derived["problem"] is not None:
        result = replace(result, problem=derived["problem"])
    if result.ok and state_path is not None:
        record_state(state_path, texts, remembered)
    root = base64.b64encode(result.root).decode()
    problem = result.problem
    if _as_json(ctx):
        click.echo(
            json.dumps(
                {
                    "ok": result.ok,
                    "size": result.size,
                    "root": root,
                    "origin": origin,
                    "problem": None
                    if problem is None
                    else {
                        "kind": problem.kind,
                        "position": problem.position,
                        "detail": problem.detail,
                    },
                    "seconds": round(result.seconds, 3),
                    "rate": round(result.rate),
                    "since": consistency,
                    "cosigned": cosigned,
                    "derived": {"checked": derived["checked"], "note": derived["note"]},
                    "warnings": warnings,
                }
            )
        )
    elif result.ok:
        checked = (
            ngettext(
                ", {count} checkpoint consistent", ", {count} checkpoints consistent", len(texts)
            ).format(count=len(texts))
            if texts
            else ""
        )
        click.echo(
            # Digits as they are: this line reads like tools/verify_export.py's, for scripts.
            _("OK: {count} events verified, tree size {size}, root {root}").format(
                count=result.size, size=result.size, root=root
            )
            + checked
            + "; "
            + derived["note"]
        )
        for entry in cosigned:
            names = ", ".join(w["name"] for w in entry["witnesses"]) or _(
                "none of the witnesses given"
            )
            click.echo(
                _("{checkpoint}: cosigned by {names}").format(
                    checkpoint=entry["checkpoint"], names=names
                )
            )
        if consistency is not None:
            click.echo(
                _(
                    "consistent since {file}: tree size {first} -> {second}, "
                    "RFC 9162 proof of {hashes} hashes holds"
                ).format(
                    file=since_file,
                    first=consistency["first_size"],
                    second=consistency["second_size"],
                    hashes=len(consistency["consistency_path"]),
                )
            )
        for warning in warnings:
            click.echo(warning)
    else:
        click.echo(_("FAILED: {problem}").format(problem=result.problem))
        for warning in warnings:
            click.echo(warning)
    click.echo(
        _("{count} events in {seconds} s ({rate} events/s)").format(
            count=number(result.size),
            seconds=number(result.seconds, 2),
            rate=number(round(result.rate)),
        ),
        err=True,
    )
    if not result.ok:
        sys.exit(1)


@audit.command("checkpoint")
@KEY_OPTION
@ALSO_KEY_OPTION
@ORIGIN_OPTION
@OUTPUT_OPTION
@click.pass_context
def checkpoint_command(
    ctx: click.Context,
    key_file: str,
    also_key_files: tuple[str, ...],
    origin: str,
    output: str | None,
) -> None:
    """Verify the store, then sign its current tree (size and root) as a checkpoint.

    Keep the checkpoint outside the store: later, 'mma audit verify --checkpoint FILE'
    proves today's history still starts with what it signed.
    """
    key = _signer(key_file)
    also = [_signer(file) for file in also_key_files]
    result = _verify(ctx, [], [])
    if not result.ok:
        _fail(
            _("the store does not verify, nothing signed: {problem}").format(problem=result.problem)
        )
    try:
        note = notes.sign(key, origin, result.size, result.root, *also)
    except notes.CheckpointError as error:
        _fail(str(error))
    if output is None:
        click.echo(note, nl=False)
    else:
        Path(output).write_text(note, encoding="utf-8")
        click.echo(
            _("checkpoint of {count} events written to {output}").format(
                count=result.size, output=output
            ),
            err=True,
        )


@audit.command("export")
@click.argument("directory", type=click.Path(file_okay=False))
@KEY_OPTION
@ALSO_KEY_OPTION
@ORIGIN_OPTION
@click.option("--force", is_flag=True, help="Write into DIRECTORY even if it holds files already.")
@click.pass_context
def export_command(
    ctx: click.Context,
    directory: str,
    key_file: str,
    also_key_files: tuple[str, ...],
    origin: str,
    force: bool,
) -> None:
    """Verify the store, then write an export for auditors into DIRECTORY (new or empty; --force
    to write anyway).

    events.jsonl (the stored rows; officials' data stays encrypted), leaves.jsonl, a
    checkpoint signed now, public-key and manifest.json. A store that does not verify is
    refused and nothing is written. Verify the export without this library:
    python tools/verify_export.py DIRECTORY --public-key KEY
    """
    from mma_core.audit.export import export
    from mma_core.audit.sources import open_reader
    from mma_core.audit.verify import verify

    if not force and Path(directory).is_dir() and any(Path(directory).iterdir()):
        # Files left from another export (or anything else) would sit beside this one's and
        # could be taken for part of it.
        _fail(
            _("{directory} is not empty; give a new or empty folder, or --force").format(
                directory=directory
            )
        )
    key = _signer(key_file)
    also = [_signer(file) for file in also_key_files]
    try:
        notes.body(origin, 0, bytes(32))
    except notes.CheckpointError as error:
        _fail(str(error))
    with _recorder(ctx) as recorder, open_reader(recorder) as reader:
        # The same snapshot is verified and exported: what is signed is what was checked.
        result = verify(reader)
        if not result.ok:
            _fail(
                _("the store does not verify, nothing exported: {problem}").format(
                    problem=result.problem
                )
            )
        try:
            done = export(reader, Path(directory), key, origin, also=also)
        except notes.CheckpointError as error:
            _fail(str(error))
    click.echo(
        _("exported {events} events and {leaves} leaves to {directory}, root {root}").format(
            events=done.events,
            leaves=done.leaves,
            directory=directory,
            root=base64.b64encode(done.root).decode(),
        )
    )


@audit.command("prove")
@click.argument("position", type=click.IntRange(min=1))
@_file_option(
    "--checkpoint",
    "checkpoint_file",
    "Prove inclusion in the tree this signed checkpoint covers. Default: sign today's "
    "tree with --key.",
)
@PUBLIC_KEY_OPTION
@KEY_OPTION
@ORIGIN_OPTION
@OUTPUT_OPTION
@click.pass_context
def prove_command(
    ctx: click.Context,
    position: int,
    checkpoint_file: str | None,
    public_keys: tuple[str, ...],
    key_file: str,
    origin: str,
    output: str | None,
) -> None:
    """Prove that the event at POSITION (1-based, as verify reports) is in a signed tree.

    Writes an RFC 9162 inclusion proof as JSON: tree_size, leaf_index (0-based), leaf_hash,
    audit_path, the checkpoint, the leaf and the event row, so the auditor can check it with
    the public key alone: python tools/verify_proof.py PROOF --public-key KEY. The whole
    store is verified first; a store that does not verify gets no proof.
    """
    from mma_core.audit.proofs import ProofError, inclusion

    signer = None
    checkpoint = None
    if checkpoint_file is None:
        signer = _signer(key_file)
        keys: list[notes.VerifierKey] = []
    else:
        keys, [checkpoint] = _checkpoints(public_keys, key_file, checkpoint_file)
    with _walk(ctx, N_("proving")) as (reader, advance):
        try:
            [proof] = inclusion(
                reader, [position], checkpoint, keys, signer=signer, origin=origin, progress=advance
            )
        except (ProofError, notes.CheckpointError) as error:
            _fail(str(error))
    _write_json(
        proof, output, _("inclusion proof of position {position}").format(position=position)
    )


@audit.command("consistency")
@click.argument("old", type=click.Path(exists=True, dir_okay=False))
@click.argument("new", type=click.Path(exists=True, dir_okay=False))
@PUBLIC_KEY_OPTION
@KEY_OPTION
@OUTPUT_OPTION
@click.pass_context
def consistency_command(
    ctx: click.Context,
    old: str,
    new: str,
    public_keys: tuple[str, ...],
    key_file: str,
    output: str | None,
) -> None:
    """Prove that the tree checkpoint NEW signs extends the one OLD signs.

    Writes an RFC 9162 consistency proof as JSON: first_size, second_size,
    consistency_path, and both checkpoints. Check it with the public key alone:
    python tools/verify_proof.py PROOF --public-key KEY --checkpoint OLD.
    """
    from mma_core.audit.proofs import ProofError, consistency

    keys, [old_note, new_note] = _checkpoints(public_keys, key_file, old, new)
    with _walk(ctx, N_("proving")) as (reader, advance):
        try:
            proof = consistency(reader, old_note, new_note, keys, advance)
        except ProofError as error:
            _fail(str(error))
    _write_json(proof, output, _("consistency proof"))


def _witness_keys(values: tuple[str, ...]) -> list[notes.WitnessKey]:
    keys = []
    for value in values:
        text = Path(value).read_text(encoding="ascii").strip() if Path(value).is_file() else value
        try:
            if text.startswith("PRIVATE+KEY+"):
                keys.append(notes.witness_key(notes.parse_signer_key(text)))
            else:
                keys.append(notes.parse_witness_key(text))
        except notes.CheckpointError as error:
            _fail(_("witness key {key}: {error}").format(key=value, error=error))
    return keys


@audit.command("cosign")
@click.argument(
    "checkpoint_file", metavar="CHECKPOINT", type=click.Path(exists=True, dir_okay=False)
)
@click.option(
    "--witness-key",
    "witness_file",
    required=True,
    metavar="FILE",
    help="The witness's own signing key (made with 'mma audit keygen --name NAME').",
)
@click.option(
    "--state",
    "state_file",
    required=True,
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="The witness's state: the last checkpoint it cosigned (created on first use).",
)
@_file_option(
    "--proof",
    "proof_file",
    "The consistency proof from the last cosigned checkpoint ('mma audit consistency'). "
    "Default: made from the store, which is verified first.",
)
@PUBLIC_KEY_OPTION
@KEY_OPTION
@OUTPUT_OPTION
@click.pass_context
def cosign_command(
    ctx: click.Context,
    checkpoint_file: str,
    witness_file: str,
    state_file: str,
    proof_file: str | None,
    public_keys: tuple[str, ...],
    key_file: str,
    output: str | None,
) -> None:
    """Countersign CHECKPOINT as a witness (C2SP tlog-cosignature).

    Cosigns only when the operator's signature holds and the checkpoint extends the last one
    this witness cosigned (kept in --state): a rollback or a fork is refused and nothing is
    written. Prints the checkpoint with the witness's cosignature line added.
    """
    import time

    from mma_core.audit.proofs import ProofError, consistency
    from mma_core.audit.witness import WitnessRefused, countersign

    keys, [note] = _checkpoints(public_keys, key_file, checkpoint_file)
    witness = _signer(witness_file)
    proof = None
    if proof_file is not None:
        try:
            proof = json.loads(Path(proof_file).read_bytes())
        except ValueError:
            _fail(_("{file} is not a JSON consistency proof").format(file=proof_file))
        if not isinstance(proof, dict):
            _fail(_("{file} is not a JSON consistency proof").format(file=proof_file))

    def prove(old: str, new: str) -> dict[str, Any]:
        with _walk(ctx, N_("proving")) as (reader, advance):
            try:
                return consistency(reader, old, new, keys, advance)
            except ProofError as error:
                raise WitnessRefused(str(error)) from None

    try:
        signed = countersign(
            note, keys, witness, Path(state_file), int(time.time()), proof=proof, prove=prove
        )
    except (WitnessRefused, notes.CheckpointError) as error:
        _fail(_("not cosigned: {error}").format(error=error))
    if output is None:
        click.echo(signed, nl=False)
    else:
        Path(output).write_text(signed, encoding="utf-8")
    click.echo(_("cosigned by {witness}").format(witness=notes.witness_key(witness)), err=True)
