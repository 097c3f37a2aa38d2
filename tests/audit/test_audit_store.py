"""Leaves on every store: written with the events, never renumbered, green after erasure."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from audit_helpers import (
    REFERENCE,
    apply,
    base,
    build,
    export_url,
    rows,
    sql,
    sqlite_url,
    standalone,
    verify_url,
)

from mma_core import Programme
from mma_core.audit import checkpoint as notes
from mma_core.audit import sources
from mma_core.audit.sources import open_reader
from mma_core.audit.verify import verify
from mma_core.storage.leaf_format import HistoryAltered

KEY = notes.generate_key("test-auditor")
SOME = [("invite", 0), ("accept", 0), ("nominate", 0), ("nominate", 1), ("book", 0)]


def test_every_store_writes_a_leaf_per_event_and_verifies(
    store_url: str, open_programme: Callable[[str], Programme]
) -> None:
    prog = open_programme(store_url)
    base(prog)
    apply(prog, [*SOME, ("invite", 1), ("erase", 0)])
    with open_reader(prog.recorder) as reader:
        result = verify(reader)
        assert reader.counter() == prog.event_count()
        leaves = [leaf for leaf, _ in reader.leaves()]
    assert result.ok, result.problem
    assert result.size == prog.event_count() == len(leaves)
    assert [leaf.seq for leaf in leaves] == list(range(1, result.size + 1))
    # Each aggregate's leaves form a chain.
    last: dict[str, str] = {}
    for leaf in leaves:
        assert leaf.prev == last.get(leaf.aggregate_id)
        last[leaf.aggregate_id] = leaf.hash().hex()


def test_erasing_an_officials_key_keeps_the_history_verifying(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite"
    build(path, SOME)
    before = verify_url(sqlite_url(path))
    checkpoint = notes.sign(KEY, notes.DEFAULT_ORIGIN, before.size, before.root)
    with Programme.open(sqlite_url(path)) as prog:
        prog.erase_official(f"{prog.codes()[0]}-1", by="test")
        assert prog.keys.select_official_key(f"{prog.codes()[0]}-1") is None
    after = verify_url(sqlite_url(path), [checkpoint], [KEY.verifier()])
    assert after.ok, after.problem
    assert after.size > before.size


def test_a_deleted_last_event_is_not_hidden_by_the_next_one(tmp_path: Path) -> None:
    """SQLite hands a deleted last rowid out again; the leaf sequence does not."""
    path = tmp_path / "p.sqlite"
    n = build(path, SOME)
    sql(path, ("DELETE FROM stored_events WHERE rowid = ?", (n,)))
    with Programme.open(sqlite_url(path)) as prog:
        apply(prog, [("invite", 2)])
    assert rows(path, "SELECT MAX(rowid) FROM stored_events") == [(n,)]  # the rowid came back
    assert rows(path, "SELECT MAX(seq) FROM mma_leaves") == [(n + 1,)]  # the leaf number did not
    result = verify_url(sqlite_url(path))
    assert result.problem is not None
    assert (result.problem.kind, result.problem.position) == ("missing", n)


def test_deleting_the_last_leaf_too_is_seen_as_truncation(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite"
    n = build(path, SOME)
    sql(
        path,
        ("DELETE FROM stored_events WHERE rowid = ?", (n,)),
        ("DELETE FROM mma_leaves WHERE seq = ?", (n,)),
    )
    result = verify_url(sqlite_url(path))
    assert result.problem is not None
    assert (result.problem.kind, result.problem.position) == ("truncated", n)


def test_a_checkpoint_of_another_history_is_refused(tmp_path: Path) -> None:
    """A rewritten store that verifies on its own still fails against an older checkpoint."""
    path = tmp_path / "p.sqlite"
    build(path, SOME)
    checkpoint = notes.sign(KEY, "o", *_size_root(path))
    # Rewrite the history consistently (events and leaves): only the checkpoint can tell.
    path.unlink()
    build(path, [("invite", 1), *SOME])
    assert verify_url(sqlite_url(path)).ok
    result = verify_url(sqlite_url(path), [checkpoint], [KEY.verifier()])
    assert result.problem is not None
    assert result.problem.kind == "edited"
    assert "checkpoint" in result.problem.detail


def test_a_forged_or_foreign_checkpoint_is_a_signature_failure(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite"
    build(path, SOME)
    size, root = _size_root(path)
    forged = notes.sign(KEY, "o", size, root).replace(f"\n{size}\n", f"\n{size - 1}\n")
    other = notes.sign(notes.generate_key("someone"), "o", size, root)
    for note in (forged, other):
        result = verify_url(sqlite_url(path), [note], [KEY.verifier()])
        assert result.problem is not None
        assert result.problem.kind == "signature invalid"


def test_verify_streams_in_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Memory is bounded by the batch size (rows are fetched a batch at a time) and by the
    tree's frontier; a batch far smaller than the store gives the same answer."""
    path = tmp_path / "p.sqlite"
    n = build(path, SOME)
    whole = verify_url(sqlite_url(path))
    monkeypatch.setattr(sources, "BATCH", 7)
    assert n > 5 * sources.BATCH
    small = verify_url(sqlite_url(path))
    assert (small.size, small.root, small.problem) == (whole.size, whole.root, None)
    sql(path, ("UPDATE stored_events SET state = x'00' WHERE rowid = ?", (n - 3,)))
    tampered = verify_url(sqlite_url(path))
    assert tampered.problem is not None
    assert tampered.problem.position == n - 3


def test_a_store_written_before_leaves_gets_them_once(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite"
    n = build(path, SOME)
    sql(path, ("DROP TABLE mma_leaves", ()), ("DELETE FROM sqlite_sequence", ()))
    result = verify_url(sqlite_url(path))  # opening the store backfills the leaves
    assert result.ok
    assert result.size == n


def _size_root(path: Path) -> tuple[int, bytes]:
    result = verify_url(sqlite_url(path))
    assert result.ok
    return result.size, result.root


def test_leaves_edited_into_nonsense_are_reported_not_crashed_on(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite"
    build(path, SOME)
    sql(
        path,
        ("UPDATE mma_leaves SET aggregate_id = 'not-a-uuid', version = 'x' WHERE seq = 4", ()),
    )
    result = verify_url(sqlite_url(path))
    assert result.problem is not None
    assert (result.problem.kind, result.problem.position) == ("edited", 4)
    export_url(sqlite_url(path), tmp_path / "export", KEY)
    code, report = standalone(tmp_path / "export", "--public-key", str(KEY.verifier()))
    assert (code, report["kind"], report["position"]) == (1, "edited", 4)


def test_the_library_refuses_to_write_over_a_deleted_event(tmp_path: Path) -> None:
    """Deleting an aggregate's last event would let the next command reuse its version; the
    recorder sees the leaf of that version and refuses, naming the cause."""
    path = tmp_path / "p.sqlite"
    n = build(path, [("invite", 0)])
    sql(path, ("DELETE FROM stored_events WHERE rowid = ?", (n,)))  # the invitation
    with Programme.open(sqlite_url(path)) as prog:
        code = prog.codes()[0]
        with pytest.raises(HistoryAltered, match="mma audit verify"):
            prog.invite(code, on=date(2019, 10, 18), reference=REFERENCE, by="test")
        assert prog.event_count() == n - 1


@pytest.mark.parametrize(
    "edit",
    [
        "state = CAST(state AS TEXT)",
        "topic = CAST(topic AS BLOB)",
        "originator_id = upper(originator_id)",
        "originator_id = CAST(originator_id AS BLOB)",
    ],
)
def test_a_value_stored_in_another_form_is_an_edit(tmp_path: Path, edit: str) -> None:
    """Same characters, other type or case: the library would no longer read the event as it
    was, so both verifiers call it edited."""
    path = tmp_path / "p.sqlite"
    build(path, SOME)
    sql(path, (f"UPDATE stored_events SET {edit} WHERE rowid = 5", ()))
    result = verify_url(sqlite_url(path))
    assert result.problem is not None
    assert (result.problem.kind, result.problem.position) == ("edited", 5)
    export_url(sqlite_url(path), tmp_path / "export", KEY)
    code, report = standalone(tmp_path / "export", "--public-key", str(KEY.verifier()))
    assert (code, report["kind"], report["position"]) == (1, "edited", 5)


def test_an_encrypted_store_verifies_without_its_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The leaves hash the stored bytes (the ciphertext): the auditor needs no key."""
    from mma_core.storage.cipher import new_key

    monkeypatch.delenv("MMA_CIPHER_KEY", raising=False)
    monkeypatch.delenv("MMA_CIPHER_KEY_FILE", raising=False)
    path = tmp_path / "p.sqlite"
    with Programme.open(sqlite_url(path), cipher_key=new_key()) as prog:
        base(prog)
        apply(prog, SOME)
        n = prog.event_count()
    [(state,)] = rows(path, "SELECT state FROM stored_events WHERE rowid = 1")
    assert b"noord-holland" not in state  # encrypted at rest
    result = verify_url(sqlite_url(path))
    assert result.ok, result.problem
    assert result.size == n
    # Concatenation makes TEXT, here not even UTF-8: still read, and an edit.
    sql(path, ("UPDATE stored_events SET state = state || x'00' WHERE rowid = 2", ()))
    result = verify_url(sqlite_url(path))
    assert result.problem is not None
    assert (result.problem.kind, result.problem.position) == ("edited", 2)
    export_url(sqlite_url(path), tmp_path / "export", KEY)
    code, report = standalone(tmp_path / "export", "--public-key", str(KEY.verifier()))
    assert (code, report["kind"], report["position"]) == (1, "edited", 2)
