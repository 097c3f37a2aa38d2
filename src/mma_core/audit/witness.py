"""A witness (say, the provincial auditor) countersigns a checkpoint only after checking that it
extends the last checkpoint it countersigned: so two different histories can never both carry
its cosignature (C2SP tlog-witness, tlog-cosignature). The last cosigned checkpoint is kept in
the witness's own state file, outside the store."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mma_core.audit import checkpoint as notes
from mma_core.audit.merkle import verify_consistency


class WitnessRefused(ValueError):
    """The witness does not cosign: the checkpoint does not provably extend its last one."""


def _path(proof: dict[str, Any]) -> list[bytes]:
    try:
        path = [base64.b64decode(h, validate=True) for h in proof["consistency_path"]]
    except (KeyError, TypeError, ValueError):
        raise WitnessRefused("the consistency proof has no valid consistency_path") from None
    if any(len(h) != 32 for h in path):
        raise WitnessRefused("the consistency proof's hashes are not 32 bytes")
    return path


def countersign(
    note: str,
    operator_keys: Sequence[notes.VerifierKey],
    witness: notes.SignerKey,
    state: Path,
    now: int,
    proof: dict[str, Any] | None = None,
    prove: Callable[[str, str], dict[str, Any]] | None = None,
) -> str:
    """The checkpoint ``note`` with the witness's cosignature, after checking the operator's
    signature and consistency with the checkpoint in ``state`` (a consistency ``proof``, or
    one made by ``prove(old, new)``); then ``state`` holds ``note``."""
    try:
        new = notes.verify(note, list(operator_keys))
    except notes.CheckpointError as error:
        raise WitnessRefused(f"the checkpoint: {error}") from None
    if state.exists():
        last_text = state.read_bytes().decode("utf-8", "replace")
        try:
            last = notes.parse(last_text)
        except notes.CheckpointError as error:
            raise WitnessRefused(f"the witness state {state}: {error}") from None
        if last.origin != new.origin:
            raise WitnessRefused(
                f"the checkpoint is of log {new.origin!r}; this witness state follows "
                f"{last.origin!r}"
            )
        if new.size < last.size:
            raise WitnessRefused(
                f"the checkpoint covers {new.size} leaves, fewer than the {last.size} this "
                "witness cosigned before: a rollback"
            )
        if new.size == last.size and new.root != last.root:
            raise WitnessRefused(
                f"the checkpoint has another root for the same {new.size} leaves: a fork"
            )
        if new.size > last.size:
            if proof is None:
                if prove is None:
                    raise WitnessRefused("give the consistency proof from the last cosigned one")
                proof = prove(last_text, note)
            sizes = (proof.get("first_size"), proof.get("second_size"))
            if sizes != (last.size, new.size):
                raise WitnessRefused(
                    f"the consistency proof is from {sizes[0]} to {sizes[1]} leaves, not from "
                    f"{last.size} to {new.size}"
                )
            if last.size == 0:
                pass  # every tree extends the empty one
            elif not verify_consistency(last.size, new.size, last.root, new.root, _path(proof)):
                raise WitnessRefused(
                    f"the tree of {new.size} leaves does not extend the tree of {last.size} "
                    "this witness cosigned: the consistency proof fails"
                )
    signed = notes.cosign(note, witness, now)
    partial = state.with_name(state.name + ".partial")
    partial.write_text(note, encoding="utf-8")
    os.replace(partial, state)  # the new state in one step: never half written
    return signed
