"""Least privilege on PostgreSQL, with erasure working: an owner role creates the tables and
rewrites the keys table; a service role may only read and write rows. The service erases an
official (the event is recorded and the key row deleted at once); the owner's
``mma official wipe`` then removes the key's bytes from the table's file, as docs/operations.md
describes."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import date

import pytest

from mma_core import Programme
from mma_core.domain.errors import ErasureIncomplete

pytestmark = pytest.mark.postgres

# The grants docs/operations.md gives a service role (SCHEMA and ROLE filled in).
SERVICE_GRANTS = (
    "GRANT USAGE ON SCHEMA {schema} TO {role}",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}",
    "GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
)


def test_a_row_only_service_erases_and_the_owner_wipes(postgres_url: str) -> None:
    import psycopg
    from psycopg import sql

    server, schema = postgres_url.split("?schema=")
    with Programme.open(postgres_url) as owner:  # the owner creates the tables
        owner.register_registry("noord-holland-2019", by="setup")
        official = owner.nominate_official(
            "GM0363", name="Anna de Vries", email="anna@example.nl", by="setup",
            on=date(2019, 11, 1),
        )  # fmt: skip
    Programme.upgrade_store(postgres_url)  # every table, as 'mma store upgrade' by the owner
    role = f"mma_svc_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        for grant in SERVICE_GRANTS:
            conn.execute(
                sql.SQL(grant).format(schema=sql.Identifier(schema), role=sql.Identifier(role))
            )
    service_url = postgres_url.replace("postgresql://postgres@", f"postgresql://{role}@")
    try:
        with Programme.open(service_url, create=False) as service:
            before = service.event_count()
            # The service may not rewrite the keys table: the erasure is recorded, the key row
            # deleted, and the error names the owner's route.
            with pytest.raises(ErasureIncomplete, match="mma official wipe"):
                service.erase_official(official, by="service")
            assert service.event_count() == before + 1
            names = [o.name for o in service.municipality("GM0363").officials]
            assert names == ["[erased]"]
        with psycopg.connect(server) as conn:
            left = conn.execute(
                sql.SQL("SELECT COUNT(*) FROM {}").format(
                    sql.Identifier(schema, "programme_official_keys")
                )
            ).fetchone()
        assert left == (0,)
        # The owner's wipe rewrites the table: no dead row with the key's bytes is left.
        wiped = subprocess.run(
            [sys.executable, "-m", "mma_core.cli", "--store", postgres_url, "official", "wipe"],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
            env={**os.environ, "MMA_LANG": "en"},
        )
        assert wiped.returncode == 0, wiped.stderr
        assert "VACUUM FULL" in wiped.stdout or "rewritten" in wiped.stdout
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
