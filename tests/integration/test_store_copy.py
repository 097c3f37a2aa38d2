"""``mma store copy``, ``backup`` and ``restore``: a store moved between SQLite and PostgreSQL
keeps its evidence (events, positions, recorded times, leaves, signed checkpoints), its
officials' keys, its outbox and its read models; a non-empty destination is refused."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from mma_core import InvalidInput, Programme
from mma_core.application.migrations import SCHEMA_VERSION
from mma_core.application.store_copy import backup_store, copy_store, restore_store

MMA = [sys.executable, "-m", "mma_core.cli"]


def mma(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MMA, *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=180,
        cwd=cwd,
        env={**os.environ, "MMA_LANG": "en", **env},
    )


def _event_rows(url: str) -> list[tuple[int, str, int, str, bytes]]:
    """Every event as (position, aggregate id, version, topic, state), store-neutral."""
    from mma_core.audit.sources import open_reader, open_recorder

    with open_recorder(url) as recorder, open_reader(recorder) as reader:
        return list(reader.event_rows())


def _leaf_rows(url: str) -> list[tuple[Any, ...]]:
    from mma_core.audit.sources import open_reader, open_recorder

    with open_recorder(url) as recorder, open_reader(recorder) as reader:
        return [tuple(row) for row in reader.leaf_rows()]


def _officials(url: str) -> list[tuple[str, str, str]]:
    with Programme.open(url) as prog:
        return [
            (o.id, o.name, o.email)
            for code in prog.codes()
            for o in prog.municipality(code).officials
        ]


def _positions_of(url: str) -> list[int]:
    return [row[0] for row in _event_rows(url)]


@pytest.mark.postgres
def test_the_demo_store_copied_to_postgresql_verifies_against_a_checkpoint_signed_on_the_source(
    demo_copy: str, postgres_url: str, tmp_path: Path
) -> None:
    # A checkpoint signed on the source, kept outside the store.
    assert mma("audit", "keygen", "--key", "k", cwd=tmp_path, MMA_STORE=demo_copy).returncode == 0
    signed = mma("audit", "checkpoint", "--key", "k", "-o", "cp", cwd=tmp_path, MMA_STORE=demo_copy)
    assert signed.returncode == 0, signed.stderr

    done = mma(
        "store", "copy", demo_copy, postgres_url, "--checkpoint", "cp", "--public-key", "k",
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "the copy verifies" in done.stdout
    assert "leaves" in done.stderr  # the progress bars

    verified = mma(
        "audit",
        "verify",
        "--checkpoint",
        "cp",
        "--public-key",
        "k",
        cwd=tmp_path,
        MMA_STORE=postgres_url,
    )
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("OK: 1446 events verified")

    # The same events at the same positions, the same leaves with their recorded times.
    assert _event_rows(postgres_url) == _event_rows(demo_copy)
    assert _leaf_rows(postgres_url) == _leaf_rows(demo_copy)
    # The officials' keys were opened and sealed again: names read the same on both.
    officials = _officials(demo_copy)
    assert len(officials) > 10
    assert not any(name == "[erased]" for _, name, _ in officials[:3])
    assert _officials(postgres_url) == officials

    status = [
        mma("--json", "--store", url, "status", "--as-of", "2024-01-01", cwd=tmp_path)
        for url in (demo_copy, postgres_url)
    ]
    assert status[0].returncode == status[1].returncode == 0
    assert status[0].stdout == status[1].stdout
    assert '"municipalities"' in status[0].stdout or len(status[0].stdout) > 1000


@pytest.mark.postgres
def test_postgresql_to_sqlite_and_back_keeps_positions_and_goes_on_numbering(
    demo_copy: str, postgres_url: str, tmp_path: Path
) -> None:
    import psycopg

    copy_store(demo_copy, postgres_url)
    # A gap in PostgreSQL's positions, as a rolled-back transaction leaves one, is kept.
    server, schema = postgres_url.split("?schema=")
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"SELECT nextval('{schema}.programme_events_notification_id_seq')")
    with Programme.open(postgres_url) as prog:
        prog.make_offer(reference="R-GAP", sent_on=date(2024, 1, 15), by="t")
        before = prog.last_position()
    assert before == 1448  # 1446 copied, 1447 burnt
    back = tmp_path / "back.sqlite"
    result = copy_store(postgres_url, f"sqlite:///{back}")
    assert result.events == len(_event_rows(postgres_url))
    assert _event_rows(f"sqlite:///{back}") == _event_rows(postgres_url)
    assert stat.S_IMODE(back.stat().st_mode) == 0o600
    assert stat.S_IMODE(Path(f"{back}.kek").stat().st_mode) == 0o600
    # Both copies number the next event after the last copied position.
    for url in (postgres_url, f"sqlite:///{back}"):
        with Programme.open(url) as prog:
            prog.make_offer(reference="R-COPY", sent_on=date(2024, 2, 1), by="t")
            assert prog.last_position() > before
            assert _positions_of(url) == sorted(_positions_of(url))
        assert mma("audit", "verify", cwd=tmp_path, MMA_STORE=url).returncode == 0


def test_sqlite_to_sqlite_keeps_the_outbox_with_its_delivery_state_and_the_read_models(
    demo_copy: str, tmp_path: Path
) -> None:
    source = Path(demo_copy.removeprefix("sqlite:///"))
    with Programme.open(demo_copy) as prog:
        from mma_core.storage.outbox import outbox_store

        outbox_store(prog.env, prog.recorder)  # the outbox tables
        prog.views.catch_up()
    with sqlite3.connect(source) as conn:
        conn.execute(
            "INSERT INTO mma_delivery_outbox VALUES "
            "('e-1', 'smtp', 'r', 7, 'Invited', 'GM0363', NULL, 'sent', 1, NULL, NULL, "
            "'2024-01-02')"
        )
        conn.execute(
            "INSERT INTO mma_delivery_outbox VALUES "
            "('e-2', 'smtp', 'r', 8, 'Invited', 'GM0363', NULL, 'failed', 3, '2024-01-03', "
            "'refused', NULL)"
        )
        conn.execute("INSERT INTO mma_delivery_tracking VALUES ('outbox', 8)")
    target = tmp_path / "copy.sqlite"
    result = Programme.copy_store(demo_copy, f"sqlite:///{target}")  # the library's door
    assert result.derived_rows > 2
    tables = ("mma_delivery_outbox", "mma_delivery_tracking", "mma_views_municipalities")
    for table in tables:
        with sqlite3.connect(source) as a, sqlite3.connect(target) as b:
            query = f"SELECT * FROM {table} ORDER BY 1, 2"
            assert a.execute(query).fetchall() == b.execute(query).fetchall(), table
    with sqlite3.connect(target) as b:
        assert b.execute("SELECT version FROM mma_schema").fetchone() == (SCHEMA_VERSION,)


def test_a_destination_that_holds_a_history_is_refused_and_left_alone(
    demo_copy: str, tmp_path: Path
) -> None:
    other = f"sqlite:///{tmp_path / 'other.sqlite'}"
    with Programme.open(other) as prog:
        prog.make_offer(reference="R-OTHER", sent_on=date(2024, 2, 1), by="t")
        before = prog.event_count()
    with pytest.raises(InvalidInput, match="not empty"):
        copy_store(demo_copy, other)
    with Programme.open(other) as prog:
        assert prog.event_count() == before
    done = mma("store", "copy", demo_copy, other, cwd=tmp_path)
    assert done.returncode == 1
    assert "not empty" in done.stderr
    with pytest.raises(InvalidInput, match="same store"):
        copy_store(demo_copy, demo_copy)


def test_a_missing_source_is_a_permanent_error_and_creates_nothing(tmp_path: Path) -> None:
    from mma_core import StoreMisconfigured

    missing = tmp_path / "missing.sqlite"
    with pytest.raises(StoreMisconfigured) as caught:
        copy_store(f"sqlite:///{missing}", f"sqlite:///{tmp_path / 'to.sqlite'}")
    assert caught.value.to_dict()["code"] == "store_misconfigured"
    assert not caught.value.transient
    assert not missing.exists()


def test_backup_writes_a_private_file_that_verifies_against_the_same_checkpoint(
    demo_copy: str, tmp_path: Path
) -> None:
    assert mma("audit", "keygen", "--key", "k", cwd=tmp_path, MMA_STORE=demo_copy).returncode == 0
    signed = mma("audit", "checkpoint", "--key", "k", "-o", "cp", cwd=tmp_path, MMA_STORE=demo_copy)
    assert signed.returncode == 0, signed.stderr
    # The store is in use meanwhile: a programme holds it open.
    with Programme.open(demo_copy):
        done = mma("--store", demo_copy, "store", "backup", "b.sqlite", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "it verifies" in done.stdout
    backup = tmp_path / "b.sqlite"
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert stat.S_IMODE(Path(f"{backup}.kek").stat().st_mode) == 0o600
    verified = mma(
        "audit", "verify", "--checkpoint", "cp", "--public-key", "k", cwd=tmp_path,
        MMA_STORE=f"sqlite:///{backup}",
    )  # fmt: skip
    assert verified.returncode == 0, verified.stderr
    assert _officials(f"sqlite:///{backup}") == _officials(demo_copy)
    # Never over an existing file.
    again = mma("--store", demo_copy, "store", "backup", "b.sqlite", cwd=tmp_path)
    assert again.returncode == 1
    assert "exists already" in again.stderr
    # Restored into a new store, it holds the same history.
    restored = tmp_path / "restored.sqlite"
    back = mma("store", "restore", "b.sqlite", "--to", f"sqlite:///{restored}", cwd=tmp_path)
    assert back.returncode == 0, back.stderr
    assert _event_rows(f"sqlite:///{restored}") == _event_rows(demo_copy)


@pytest.mark.postgres
def test_a_postgresql_backup_is_an_sqlite_file_restored_to_postgresql(
    demo_copy: str, postgres_url: str, tmp_path: Path
) -> None:
    copy_store(demo_copy, postgres_url)
    backup = tmp_path / "pg-backup.sqlite"
    result = backup_store(postgres_url, backup)
    assert result.events == 1446
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert _event_rows(f"sqlite:///{backup}") == _event_rows(postgres_url)
    again = tmp_path / "again.sqlite"
    restore_store(backup, f"sqlite:///{again}")
    assert _leaf_rows(f"sqlite:///{again}") == _leaf_rows(demo_copy)


def test_an_encrypted_store_copies_sealed_and_opens_with_its_key(tmp_path: Path) -> None:
    from mma_core.storage.cipher import new_key

    key = new_key()
    source = f"sqlite:///{tmp_path / 'sealed.sqlite'}"
    with Programme.open(source, cipher_key=key) as prog:
        prog.register_registry("noord-holland-2019", by="t")
        official = prog.nominate_official(
            "GM0363", name="Anna de Vries", email="anna@example.nl", by="t", on=date(2019, 11, 1)
        )
    target = f"sqlite:///{tmp_path / 'copy.sqlite'}"
    copy_store(source, target, cipher_key=key)
    assert _event_rows(target) == _event_rows(source)  # still sealed, byte for byte
    with Programme.open(target, cipher_key=key) as prog:
        names = {o.id: o.name for o in prog.municipality("GM0363").officials}
    assert names[official] == "Anna de Vries"
    # Sealed under the store cipher, not a key file: none was made beside the copy.
    assert not (tmp_path / "copy.sqlite.kek").exists()


def test_a_source_whose_history_was_altered_is_not_reported_copied(
    demo_copy: str, tmp_path: Path
) -> None:
    path = Path(demo_copy.removeprefix("sqlite:///"))
    with sqlite3.connect(path) as conn:  # an edited event, as an attacker would
        conn.execute("UPDATE stored_events SET state = CAST('{}' AS BLOB) WHERE rowid = 100")
    target = tmp_path / "copy.sqlite"
    done = mma("store", "copy", demo_copy, f"sqlite:///{target}", cwd=tmp_path)
    assert done.returncode == 1
    assert "does not verify" in done.stderr
    assert "position 100" in done.stderr
    assert "Traceback" not in done.stderr
    # Not left for anyone to use: the destination is empty again, and takes a good copy.
    with sqlite3.connect(target) as conn:
        for table in ("stored_events", "mma_leaves", "mma_official_keys", "sqlite_sequence"):
            assert conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone() == (0,), table


def test_a_checkpoint_the_copy_does_not_extend_fails_the_copy(
    demo_copy: str, tmp_path: Path
) -> None:
    assert mma("audit", "keygen", "--key", "k", cwd=tmp_path, MMA_STORE=demo_copy).returncode == 0
    other = f"sqlite:///{tmp_path / 'other.sqlite'}"
    with Programme.open(other) as prog:
        prog.make_offer(reference="R-OTHER", sent_on=date(2024, 2, 1), by="t")
    signed = mma("audit", "checkpoint", "--key", "k", "-o", "cp", cwd=tmp_path, MMA_STORE=other)
    assert signed.returncode == 0, signed.stderr
    done = mma(
        "--json", "store", "copy", demo_copy, f"sqlite:///{tmp_path / 'copy.sqlite'}",
        "--checkpoint", "cp", "--public-key", "k", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1
    assert '"code": "copy_not_verified"' in done.stdout


@pytest.mark.postgres
def test_a_postgresql_copy_that_does_not_verify_is_undone_and_the_next_one_goes_in(
    demo_copy: str, postgres_url: str, tmp_path: Path
) -> None:
    from mma_core.application.store_copy import CopyNotVerified
    from mma_core.audit import checkpoint

    key = checkpoint.generate_key("elsewhere")
    foreign = checkpoint.sign(key, "elsewhere", 3, b"\x01" * 32)  # a history not the source's
    with pytest.raises(CopyNotVerified):
        copy_store(demo_copy, postgres_url, checkpoints=[foreign], public_keys=[key.verifier()])
    with Programme.open(postgres_url) as prog:
        assert prog.event_count() == 0
    result = copy_store(demo_copy, postgres_url)
    assert result.events == 1446
    assert _event_rows(postgres_url) == _event_rows(demo_copy)
    with Programme.open(postgres_url) as prog:
        prog.make_offer(reference="R-NEXT", sent_on=date(2024, 2, 1), by="t")
        assert prog.last_position() == 1447
