"""Schema versions and migrations, health(), wait_for(): what a service operator relies on."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from mma_core import Programme, StoreForbidden, StoreMisconfigured, StoreUnavailable
from mma_core.application.migrations import SCHEMA_VERSION, read_version
from mma_core.cli import cli
from mma_core.storage.errors import StoreVersionError


def test_a_new_store_records_the_schema_version(store_url: str) -> None:
    with Programme.open(store_url) as prog:
        assert read_version(prog) == SCHEMA_VERSION
        health = prog.health()
        assert health.ok
        assert health.schema_version == SCHEMA_VERSION
        assert health.error is None


def test_a_store_of_a_newer_version_is_refused_clearly(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'newer.sqlite'}"
    Programme.open(url).close()
    with sqlite3.connect(tmp_path / "newer.sqlite") as conn:
        conn.execute("UPDATE mma_schema SET version = ?", (SCHEMA_VERSION + 1,))
    for create in (True, False):
        with pytest.raises(StoreVersionError) as caught:
            Programme.open(url, create=create)
        message = str(caught.value)
        assert f"schema version {SCHEMA_VERSION + 1}" in message
        assert "newer mma_core" in message
        # Permanent: trying again will not help, upgrading mma_core will.
        assert isinstance(caught.value, StoreMisconfigured)
        assert not isinstance(caught.value, StoreUnavailable)
        assert not caught.value.transient
        assert caught.value.to_dict()["code"] == "store_version"
    result = CliRunner().invoke(cli, ["--store", url, "store", "upgrade"])
    assert result.exit_code == 3
    assert "newer mma_core" in result.output


def test_create_false_runs_no_ddl_and_mma_store_upgrade_does(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite"
    sqlite3.connect(path).close()
    url = f"sqlite:///{path}"
    with pytest.raises(StoreVersionError, match="mma store upgrade"):
        Programme.open(url, create=False)
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)
    result = CliRunner().invoke(cli, ["--json", "--store", url, "store", "upgrade"])
    assert result.exit_code == 0, result.output
    assert f'"after": {SCHEMA_VERSION}' in result.output
    with sqlite3.connect(path) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert {"mma_schema", "stored_events", "mma_leaves", "mma_views_tracking"} <= tables
    assert "mma_delivery_outbox" in tables
    with Programme.open(url, create=False) as prog:
        prog.register_registry("noord-holland-2019", by="coordinator")
        assert prog.health().ok
        assert prog.overview(as_of=date(2020, 1, 1)).total == 47
    again = CliRunner().invoke(cli, ["--store", url, "store", "upgrade"])
    assert "nothing to do" in again.output


@pytest.mark.postgres
def test_a_role_without_ddl_rights_opens_with_create_false(postgres_url: str) -> None:
    import psycopg
    from psycopg import sql

    server, schema = postgres_url.split("?schema=")
    with Programme.open(postgres_url) as owner:
        owner.register_registry("noord-holland-2019", by="coordinator")
        owner.views.catch_up()
    role = f"mma_rw_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        conn.execute(
            sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(
                sql.Identifier(schema), sql.Identifier(role)
            )
        )
        conn.execute(
            sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}").format(
                sql.Identifier(schema), sql.Identifier(role)
            )
        )
        conn.execute(
            sql.SQL("GRANT USAGE ON ALL SEQUENCES IN SCHEMA {} TO {}").format(
                sql.Identifier(schema), sql.Identifier(role)
            )
        )
    try:
        url = postgres_url.replace("postgresql://postgres@", f"postgresql://{role}@")
        with Programme.open(url, create=False) as prog:
            prog.make_offer(reference="R-1", sent_on=date(2019, 10, 18), by="cdk")
            assert prog.municipality("GM0363").name == "Amsterdam"
            assert prog.overview().total == 44  # after the 2022 mergers
            assert prog.health().ok
        # Opened with create=True the same role meets what it lacks, the right to run DDL:
        # a permission that waiting will not bring (never "try again later").
        with pytest.raises(StoreForbidden) as forbidden:
            Programme.open(url, create=True)
        assert not forbidden.value.transient
        assert forbidden.value.to_dict()["code"] == "store_forbidden"
        # A schema that does not exist is a configuration to correct, not a wait either.
        with pytest.raises(StoreMisconfigured) as missing:
            Programme.open(url.replace(schema, "public_" + schema[:8]), create=True)
        assert missing.value.reason == "missing_database"
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_health_reports_view_lag_and_outbox_backlog(memory_programme: Programme) -> None:
    prog = memory_programme
    prog.register_registry("noord-holland-2019", by="coordinator")
    health = prog.health()
    assert health.last_position == 49
    assert health.view_lag == 49 - (health.view_position or 0)
    assert health.outbox_backlog is not None
    assert health.outbox_backlog >= 49
    prog.views.catch_up()
    assert prog.health().view_lag == 0
    assert set(health.to_dict()) >= {"ok", "schema_version", "view_lag", "outbox_backlog"}


def test_health_of_an_unreachable_store_says_so_without_raising(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'gone.sqlite'}"
    prog = Programme.open(url)
    (tmp_path / "gone.sqlite").unlink()
    (tmp_path / "gone.sqlite").mkdir()  # the path is now a directory: no database there
    prog.close()
    health = prog.health()
    assert not health.ok
    assert health.error


def test_wait_for_returns_once_the_read_models_include_the_position(
    programme: Programme,
) -> None:
    prog = programme
    prog.register_registry("noord-holland-2019", by="coordinator")
    prog.make_offer(reference="R-1", sent_on=date(2019, 10, 18), by="cdk", request_id="w-1")
    receipt = prog.receipt("w-1")
    assert receipt is not None
    prog.wait_for(receipt.last_position, timeout=5)
    assert prog.views.tracking().position >= receipt.last_position
    with pytest.raises(TimeoutError):
        prog.wait_for(receipt.last_position + 1000, timeout=0.3)


def test_wait_for_waits_for_a_write_still_to_come(programme: Programme) -> None:
    prog = programme
    prog.register_registry("noord-holland-2019", by="coordinator")
    target = prog.last_position() + 1
    threading.Timer(
        0.3, lambda: prog.make_offer(reference="R-1", sent_on=date(2019, 10, 18), by="c")
    ).start()
    prog.wait_for(target, timeout=5)
    assert prog.views.tracking().position >= target


def test_upgrading_a_version_1_store_derives_the_cost_chunks_from_its_ledger(
    tmp_path: Path,
) -> None:
    """Version 2 keeps the views' cost lines in chunks too: ``mma store upgrade`` of a
    version-1 store (ledger, no chunks) derives them, and every municipality's costs read the
    same."""
    path = tmp_path / "v1.sqlite"
    url = f"sqlite:///{path}"
    codes = ("GM0363", "GM0358")
    with Programme.open(url) as prog:
        prog.register_registry("noord-holland-2019", by="coordinator")
        prog.make_offer(reference="R-1", sent_on=date(2019, 10, 18), by="cdk")
        for code in codes:
            prog.invite(code, on=date(2019, 10, 18), reference="R-1", by="cdk")
            prog.accept(code, on=date(2019, 11, 1), by="cdk")
            prog.connect(code, on=date(2019, 12, 1), by="cdk")
            prog.record_reports(
                [(code, date(2020, 1, 1 + n // 30), "fraude", f"{code}-{n}") for n in range(300)],
                by="cdk",
            )
        before = {code: prog.municipality(code, cost_lines=True).costs for code in codes}
    assert all(len(costs) == 301 for costs in before.values())
    query = "SELECT code, chunk, lines, doc FROM mma_views_cost_chunks ORDER BY code, chunk"
    with sqlite3.connect(path) as conn:  # as version 1 left it
        chunks = conn.execute(query).fetchall()
        assert [(code, n, lines) for code, n, lines, _ in chunks] == [
            ("GM0358", 0, 256),
            ("GM0358", 1, 45),
            ("GM0363", 0, 256),
            ("GM0363", 1, 45),
        ]
        conn.execute("DROP TABLE mma_views_cost_chunks")
        conn.execute("UPDATE mma_schema SET version = 1")
    with pytest.raises(StoreVersionError, match="mma store upgrade"):
        Programme.open(url)
    result = CliRunner().invoke(cli, ["--json", "--store", url, "store", "upgrade"])
    assert result.exit_code == 0, result.output
    assert '"before": 1' in result.output
    with sqlite3.connect(path) as conn:
        assert conn.execute(query).fetchall() == chunks
    with Programme.open(url, create=False) as prog:
        assert {code: prog.municipality(code, cost_lines=True).costs for code in codes} == before


def test_upgrading_a_version_2_store_rebuilds_the_views_with_the_as_of_index(
    tmp_path: Path,
) -> None:
    """Version 3 adds the as-of index (and the offers' references): ``mma store upgrade`` of
    a version-2 store empties its read models, the next catch-up rebuilds them with the
    index, and a row-only programme (``create=False``) then answers as before, from it."""
    path = tmp_path / "v2.sqlite"
    url = f"sqlite:///{path}"
    with Programme.open(url) as prog:
        prog.register_registry("noord-holland-2019", by="coordinator")
        prog.make_offer(reference="R-1", sent_on=date(2019, 10, 18), by="cdk")
        prog.invite("GM0363", on=date(2019, 10, 18), reference="R-1", by="cdk")
        prog.accept("GM0363", on=date(2019, 11, 1), by="cdk")
        prog.connect("GM0363", on=date(2019, 12, 1), by="cdk")
        prog.record_reports(
            [("GM0363", date(2020, 1, 1 + n // 10), "fraude", f"R-{n}") for n in range(200)],
            by="cdk",
        )
        end_2019 = prog.overview(as_of=date(2019, 12, 31))
        mid_january = prog.municipality("GM0363", as_of=date(2020, 1, 15))
    with sqlite3.connect(path) as conn:  # as version 2 left it
        conn.execute("DROP TABLE mma_views_asof")
        conn.execute("DROP TABLE mma_views_offers")
        conn.execute("UPDATE mma_schema SET version = 2")
    with pytest.raises(StoreVersionError, match="mma store upgrade"):
        Programme.open(url)
    result = CliRunner().invoke(cli, ["--json", "--store", url, "store", "upgrade"])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT position FROM mma_views_tracking").fetchone() == (0,)
    with Programme.open(url, create=False) as prog:
        assert prog.overview(as_of=date(2019, 12, 31)) == end_2019
        assert prog.municipality("GM0363", as_of=date(2020, 1, 15)) == mid_january
        assert [o.reference for o in prog.offers()] == ["R-1"]
    with sqlite3.connect(path) as conn:
        (states,) = conn.execute("SELECT count(*) FROM mma_views_asof").fetchone()
    assert states >= 3  # the month ends of GM0363's history, at least
