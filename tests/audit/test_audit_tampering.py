"""Tampering with an SQLite store by plain SQL is caught, at the right first position, by
``verify`` and, on an export, by the standalone verifier; an untampered store always verifies."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from tempfile import TemporaryDirectory

import pytest
from audit_helpers import OPS, build, export_url, rows, sign_url, sql, sqlite_url, standalone
from audit_helpers import verify_url as verify_store
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mma_core.audit import checkpoint as notes

KEY = notes.generate_key("test-auditor")
EVENTS = "stored_events"
KINDS = (
    "none",
    "state",
    "topic",
    "version",
    "delete",
    "delete-last",
    "insert",
    "swap-states",
    "reorder",
    "truncate",
    "truncate-events",
    "restore-older-copy",
)
ops_strategy = st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 2)), max_size=10)


def tamper(path: Path, kind: str, n: int, p: int, q: int) -> tuple[str, int] | None:
    """Apply one kind of tampering at positions p < q of n; the expected (kind, position)."""
    if kind == "none":
        return None
    if kind == "state":
        sql(path, (f"UPDATE {EVENTS} SET state = state || x'20' WHERE rowid = ?", (p,)))
        return "edited", p
    if kind == "topic":
        sql(path, (f"UPDATE {EVENTS} SET topic = topic || 'X' WHERE rowid = ?", (p,)))
        return "edited", p
    if kind == "version":
        sql(
            path,
            (
                f"UPDATE {EVENTS} SET originator_version = originator_version + 1000 "
                "WHERE rowid = ?",
                (p,),
            ),
        )
        return "edited", p
    if kind == "delete":
        sql(path, (f"DELETE FROM {EVENTS} WHERE rowid = ?", (p,)))
        return "missing", p
    if kind == "delete-last":
        sql(path, (f"DELETE FROM {EVENTS} WHERE rowid = ?", (n,)))
        return "missing", n
    if kind == "insert":
        [(aggregate, version, topic, state)] = rows(
            path,
            f"SELECT originator_id, originator_version, topic, state FROM {EVENTS} WHERE rowid = ?",
            (p,),
        )
        if p % 2:  # a new aggregate
            aggregate, version = uuid.uuid4().hex, 1
        else:  # the next version of an existing one
            [(version,)] = rows(
                path,
                f"SELECT MAX(originator_version) + 1 FROM {EVENTS} WHERE originator_id = ?",
                (aggregate,),
            )
        sql(
            path,
            (f"INSERT INTO {EVENTS} VALUES (?, ?, ?, ?)", (aggregate, version, topic, state)),
        )
        return "inserted", n + 1
    if kind == "swap-states":
        [(a,)] = rows(path, f"SELECT state FROM {EVENTS} WHERE rowid = ?", (p,))
        [(b,)] = rows(path, f"SELECT state FROM {EVENTS} WHERE rowid = ?", (q,))
        assume(a != b)
        sql(
            path,
            (f"UPDATE {EVENTS} SET state = ? WHERE rowid = ?", (b, p)),
            (f"UPDATE {EVENTS} SET state = ? WHERE rowid = ?", (a, q)),
        )
        return "edited", p
    if kind == "reorder":
        sql(
            path,
            (f"UPDATE {EVENTS} SET rowid = -1 WHERE rowid = ?", (p,)),
            (f"UPDATE {EVENTS} SET rowid = ? WHERE rowid = ?", (p, q)),
            (f"UPDATE {EVENTS} SET rowid = ? WHERE rowid = -1", (q,)),
        )
        return "reordered", p
    if kind == "truncate":  # events and their leaves, from p on
        sql(
            path,
            (f"DELETE FROM {EVENTS} WHERE rowid >= ?", (p,)),
            ("DELETE FROM mma_leaves WHERE seq >= ?", (p,)),
        )
        return "truncated", p
    if kind == "truncate-events":
        sql(path, (f"DELETE FROM {EVENTS} WHERE rowid >= ?", (p,)))
        return "missing", p
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=10, deadline=None)
@given(ops=ops_strategy, later=ops_strategy, data=st.data())
def test_tampering_is_found_at_its_first_position(
    kind: str, ops: list[tuple[str, int]], later: list[tuple[str, int]], data: st.DataObject
) -> None:
    with TemporaryDirectory() as tmp:
        path = Path(tmp) / "programme.sqlite"
        url = sqlite_url(path)
        n = build(path, ops)
        # In an untampered store every event sits at the position of its leaf.
        assert rows(path, f"SELECT rowid FROM {EVENTS} ORDER BY rowid") == [
            (i,) for i in range(1, n + 1)
        ]
        assert [r[0] for r in rows(path, "SELECT seq FROM mma_leaves ORDER BY seq")] == list(
            range(1, n + 1)
        )
        kept: list[str] = []
        if kind == "restore-older-copy":
            shutil.copyfile(path, Path(tmp) / "older.sqlite")
            n2 = build(path, [*later, ("nominate", 0)], with_base=False)
            assert n2 > n
            kept.append(sign_url(url, KEY))
            path.unlink()
            shutil.copyfile(Path(tmp) / "older.sqlite", path)
            expected: tuple[str, int] | None = ("truncated", n + 1)
        else:
            p = data.draw(st.integers(1, n - 1), label="p")
            q = data.draw(st.integers(p + 1, n), label="q")
            expected = tamper(path, kind, n, p, q)

        result = verify_store(url, kept, [KEY.verifier()])
        if expected is None:
            assert result.ok, result.problem
            assert result.size == n
        else:
            assert result.problem is not None, f"{kind} was not found"
            assert (result.problem.kind, result.problem.position) == expected, result.problem

        # The standalone verifier, on an export of the same store, says the same.
        export_dir = Path(tmp) / "export"
        export_url(url, export_dir, KEY)
        args = ["--public-key", str(KEY.verifier())]
        for i, note in enumerate(kept):
            (Path(tmp) / f"kept-{i}").write_text(note, encoding="utf-8")
            args += ["--checkpoint", str(Path(tmp) / f"kept-{i}")]
        code, report = standalone(export_dir, *args)
        if expected is None:
            assert code == 0, report
            assert report["size"] == n
        else:
            assert code == 1, report
            assert (report["kind"], report["position"]) == expected, report
