"""A verifier's memory (``--state FILE``): the largest checkpoint it has verified, kept by the
verifier outside the store, as a witness keeps the last checkpoint it cosigned.

On every run the remembered checkpoint is checked like one the auditor passes by hand: signed
by a trusted key, of the pinned origin, and a prefix of the history verified. A store or an
export that is older than it (a truncation with the counter set back, an older copy restored)
or that disagrees with it (a fork) therefore fails, even when only older checkpoints are given.
After a run that holds, the file holds the largest checkpoint seen.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from mma_core.audit import checkpoint as notes


class StateError(ValueError):
    """The state file exists but does not hold a checkpoint."""


def read_state(path: Path) -> str | None:
    """The checkpoint remembered in ``path``, byte for byte; None when there is no file yet."""
    if not path.exists():
        return None
    try:
        text = path.read_bytes().decode("utf-8")
        notes.parse(text)
    except (UnicodeDecodeError, notes.CheckpointError) as error:
        raise StateError(f"the state file {path} does not hold a checkpoint: {error}") from None
    return text


def record_state(path: Path, seen: Sequence[str], current: str | None) -> str | None:
    """Remember the largest of ``seen`` (verified checkpoints) when it is larger than
    ``current``; returns the checkpoint now remembered."""
    best = current
    best_size = -1 if current is None else notes.parse(current).size
    for text in seen:
        size = notes.parse(text).size
        if size > best_size:
            best, best_size = text, size
    if best is not None and best != current:
        partial = path.with_name(path.name + ".partial")
        partial.write_bytes(best.encode("utf-8"))
        os.replace(partial, path)  # one step: never half written
    return best
