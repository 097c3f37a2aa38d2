"""PostgreSQL: the recorder writes leaves in the event's transaction; verify and the export
find tampering there too. Skipped when the server is unreachable (unless MMA_REQUIRE_POSTGRES=1).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest
from audit_helpers import (
    REFERENCE,
    apply,
    audit_cli,
    base,
    export_url,
    standalone,
    verify_url,
)
from eventsourcing.persistence import RecordConflictError
from psycopg import sql

from mma_core import Programme
from mma_core.audit import checkpoint as notes
from mma_core.domain.training import TrainingSession, session_id_to_uuid
from mma_core.storage.leaf_format import HistoryAltered

pytestmark = pytest.mark.postgres
KEY = notes.generate_key("test-auditor")


def _execute(url: str, statement: str, *params: object) -> None:
    schema = parse_qs(urlsplit(url).query)["schema"][0]
    server = url.split("?")[0]
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(
            sql.SQL(statement).format(
                events=sql.Identifier(schema, "programme_events"),
                leaves=sql.Identifier(schema, "programme_leaves"),
            ),
            params,
        )


def test_postgres_leaves_verify_and_tampering_is_found(
    postgres_url: str, open_programme: Callable[[str], Programme], tmp_path: Path
) -> None:
    prog = open_programme(postgres_url)
    base(prog)
    apply(prog, [("invite", 0), ("accept", 0), ("nominate", 0), ("erase", 0), ("invite", 1)])
    n = prog.event_count()
    result = verify_url(postgres_url)
    assert result.ok, result.problem
    assert result.size == n
    checkpoint = notes.sign(KEY, "o", result.size, result.root)

    export_url(postgres_url, tmp_path / "clean", KEY)
    assert standalone(tmp_path / "clean", "--public-key", str(KEY.verifier()))[0] == 0

    _execute(
        postgres_url,
        "UPDATE {events} SET state = state || '\\x20'::bytea WHERE notification_id = %s",
        7,
    )
    result = verify_url(postgres_url, [checkpoint], [KEY.verifier()])
    assert result.problem is not None
    assert (result.problem.kind, result.problem.position) == ("edited", 7)
    export_url(postgres_url, tmp_path / "edited", KEY)
    code, report = standalone(tmp_path / "edited", "--public-key", str(KEY.verifier()))
    assert (code, report["kind"], report["position"]) == (1, "edited", 7)


def test_postgres_leaf_numbers_survive_a_deleted_last_event(
    postgres_url: str, open_programme: Callable[[str], Programme]
) -> None:
    prog = open_programme(postgres_url)
    base(prog)
    n = prog.event_count()
    _execute(postgres_url, "DELETE FROM {events} WHERE notification_id = %s", n)
    _execute(postgres_url, "DELETE FROM {leaves} WHERE seq = %s", n)
    apply(prog, [("invite", 0)])
    result = verify_url(postgres_url)
    assert result.problem is not None
    assert (result.problem.kind, result.problem.position) == ("missing", n)


def test_a_postgres_store_written_before_leaves_gets_them_once(
    postgres_url: str, open_programme: Callable[[str], Programme]
) -> None:
    prog = open_programme(postgres_url)
    base(prog)
    n = prog.event_count()
    _execute(postgres_url, "DELETE FROM {leaves}")
    schema = parse_qs(urlsplit(postgres_url).query)["schema"][0]
    with psycopg.connect(postgres_url.split("?")[0], autocommit=True) as conn:
        conn.execute(
            sql.SQL("UPDATE {} SET last = 0").format(
                sql.Identifier(schema, "programme_leaf_counter")
            )
        )
    assert verify_url(postgres_url).ok  # opening the store backfilled the leaves
    assert verify_url(postgres_url).size == n
    _execute(postgres_url, "DELETE FROM {leaves} WHERE seq = %s", n)
    result = verify_url(postgres_url)  # the counter is not 0: no second backfill
    assert result.problem is not None
    assert (result.problem.kind, result.problem.position) == ("missing", n)


def test_the_audit_commands_work_on_postgres(
    postgres_url: str, open_programme: Callable[[str], Programme], tmp_path: Path
) -> None:
    prog = open_programme(postgres_url)
    base(prog)
    n = prog.event_count()
    keygen = audit_cli(postgres_url, "audit", "keygen", "--key", "k", cwd=tmp_path)
    assert keygen.returncode == 0
    done = audit_cli(postgres_url, "audit", "checkpoint", "--key", "k", "-o", "cp", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    apply(prog, [("invite", 0)])
    # Without the key received from outside, the verifier refuses and names the flag ...
    refused = audit_cli(
        postgres_url, "audit", "verify", "--checkpoint", "cp", "--key", "k", cwd=tmp_path
    )
    assert refused.returncode == 2
    assert "--public-key" in refused.stderr
    # ... the key beside the store is taken only when asked for, with a warning ...
    bundled = audit_cli(
        postgres_url,
        *("audit", "verify", "--checkpoint", "cp", "--key", "k", "--trust-bundled-key"),
        cwd=tmp_path,
    )
    assert bundled.returncode == 0, bundled.stderr
    assert "warning: checked against the public half of k" in bundled.stdout
    ok = audit_cli(
        postgres_url,
        *("audit", "verify", "--checkpoint", "cp", "--public-key", keygen.stdout.strip()),
        cwd=tmp_path,
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith(f"OK: {n + 1} events verified")
    assert "warning" not in ok.stdout


def test_postgres_refuses_to_write_over_a_deleted_event(
    postgres_url: str, open_programme: Callable[[str], Programme]
) -> None:
    prog = open_programme(postgres_url)
    base(prog)
    apply(prog, [("invite", 0)])
    n = prog.event_count()
    _execute(postgres_url, "DELETE FROM {events} WHERE notification_id = %s", n)
    with Programme.open(postgres_url) as fresh:  # no cached aggregate
        with pytest.raises(HistoryAltered):
            fresh.invite(fresh.codes()[0], on=date(2019, 10, 18), reference=REFERENCE, by="t")
        # Nothing was written: neither an event nor a leaf.
        result = verify_url(postgres_url)
        assert result.problem is not None
        assert (result.problem.kind, result.problem.position) == ("missing", n)
        assert result.size == n - 1


def test_postgres_conflicting_writers_get_a_conflict_not_a_tampering_error(
    postgres_url: str, open_programme: Callable[[str], Programme]
) -> None:
    one, two = open_programme(postgres_url), open_programme(postgres_url)
    base(one)
    sid = session_id_to_uuid("2019-11-06")
    a, b = one.repository.get(sid), two.repository.get(sid)
    for session, official in ((a, "GM0363-1"), (b, "GM0363-2")):
        session.trigger_event(
            TrainingSession.SeatBooked,
            timestamp=datetime.now(UTC),
            by="t",
            origin="api",
            on=date(2019, 11, 1),
            official_id=official,
        )
    one.save(a)
    with pytest.raises(RecordConflictError) as caught:
        two.save(b)
    assert not isinstance(caught.value, HistoryAltered)
    assert verify_url(postgres_url).ok


def test_postgres_derived_data_is_checked_and_repaired(
    postgres_url: str, open_programme: Callable[[str], Programme]
) -> None:
    from mma_core.audit.derived import drop_snapshots, verify_derived

    prog = open_programme(postgres_url)
    base(prog)
    apply(prog, [("invite", 0), ("accept", 0), ("connect", 0), ("report", 0), ("report", 0)])
    prog.views.catch_up()
    assert verify_derived(prog) is None
    schema = parse_qs(urlsplit(postgres_url).query)["schema"][0]
    server = postgres_url.split("?")[0]
    with psycopg.connect(server, autocommit=True) as conn:
        changed = conn.execute(
            sql.SQL("UPDATE {} SET amount = '999.00' WHERE idx = 0").format(
                sql.Identifier(schema, "mma_views_ledger")
            )
        ).rowcount
    assert changed >= 1
    problem = verify_derived(prog)
    assert problem is not None
    assert problem.kind == "derived"
    assert "mma_views_ledger (position" in problem.detail
    assert "amount is '999.00'" in problem.detail
    prog.views.rebuild()
    assert drop_snapshots(prog) >= 0
    assert verify_derived(prog) is None
