"""Each store error class, met for real: its stable code, its kind (transient or permanent),
its language (Dutch by default, English on request) and advice that fits. A missing folder is
never "try again later"."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from mma_core import (
    Programme,
    StoreBusy,
    StoreError,
    StoreForbidden,
    StoreMisconfigured,
    StoreUnavailable,
    StoreVersionError,
)
from mma_core.application.migrations import SCHEMA_VERSION
from mma_core.language.i18n import language

TRY_AGAIN = ("try again", "probeer het zo opnieuw")


def _met(url: str, lang: str, **options: object) -> StoreError:
    with language(lang), pytest.raises(StoreError) as caught:
        Programme.open(url, **options).close()  # type: ignore[arg-type]
    return caught.value


def test_a_missing_folder_is_misconfigured_never_try_again_later(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'no-such-folder' / 'mma.sqlite'}"
    english = _met(url, "en")
    assert isinstance(english, StoreMisconfigured)
    assert not isinstance(english, StoreUnavailable)
    assert english.to_dict()["code"] == "store_misconfigured"
    assert english.to_dict()["details"]["transient"] is False  # type: ignore[index]
    assert english.reason == "missing_folder"
    assert "folder" in english.advice
    assert "trying again will not help" in str(english)
    assert "try again in a moment" not in str(english)
    dutch = _met(url, "nl")
    assert "map van het opslagbestand bestaat niet" in str(dutch)
    assert "opnieuw proberen helpt niet" in str(dutch)
    assert not (tmp_path / "no-such-folder").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_a_folder_not_ours_to_write_is_forbidden(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    error = _met(f"sqlite:///{locked / 'mma.sqlite'}", "en")
    assert isinstance(error, StoreForbidden)
    assert error.to_dict()["code"] == "store_forbidden"
    assert "rights" in error.advice


def test_a_file_opened_read_only_by_the_system_is_forbidden(tmp_path: Path) -> None:
    # A read-only file: SQLite may not write it, whoever runs mma (root included, since the
    # file is opened through a read-only URI, as a read-only mount would).
    path = tmp_path / "ro.sqlite"
    Programme.open(f"sqlite:///{path}").close()
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        with pytest.raises(sqlite3.OperationalError) as raw:
            conn.execute("CREATE TABLE t (x)")
    finally:
        conn.close()
    from mma_core.storage.errors import store_error

    with language("en"):
        error = store_error(raw.value, "sqlite:///ro.sqlite")
    assert isinstance(error, StoreForbidden)
    assert error.reason == "forbidden"
    with language("nl"):
        dutch = store_error(raw.value, "sqlite:///ro.sqlite")
    assert "rechten" in str(dutch)


def test_tables_missing_under_create_false_are_misconfigured_with_the_command_to_run(
    tmp_path: Path,
) -> None:
    path = tmp_path / "empty.sqlite"
    sqlite3.connect(path).close()
    error = _met(f"sqlite:///{path}", "en", create=False)
    assert isinstance(error, StoreVersionError)
    assert isinstance(error, StoreMisconfigured)
    assert error.to_dict()["code"] == "store_version"
    assert not error.transient
    assert "mma store upgrade" in str(error)


def test_a_newer_schema_is_misconfigured_upgrade_mma_core(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'newer.sqlite'}"
    Programme.open(url).close()
    with sqlite3.connect(tmp_path / "newer.sqlite") as conn:
        conn.execute("UPDATE mma_schema SET version = ?", (SCHEMA_VERSION + 1,))
    error = _met(url, "en")
    assert isinstance(error, StoreMisconfigured)
    assert not any(words in str(error) for words in TRY_AGAIN)
    assert "upgrade mma_core" in str(error)


def test_a_held_lock_is_transient_busy_in_both_languages(tmp_path: Path) -> None:
    path = tmp_path / "busy.sqlite"
    url = f"sqlite:///{path}"
    Programme.open(url).close()
    os.environ["MMA_LOCK_TIMEOUT"] = "1"
    blocker = sqlite3.connect(path, isolation_level=None)
    try:
        with Programme.open(url) as prog:
            blocker.execute("BEGIN IMMEDIATE")
            blocker.execute("CREATE TABLE holder (x)")
            for lang, words in (("en", "try again in a moment"), ("nl", "probeer het zo opnieuw")):
                with language(lang), pytest.raises(StoreBusy) as caught:
                    prog.register_registry("noord-holland-2019", by="t")
                assert caught.value.transient
                assert caught.value.to_dict()["code"] == "store_busy"
                assert words in str(caught.value)
                assert "MMA_LOCK_TIMEOUT" in caught.value.advice
    finally:
        del os.environ["MMA_LOCK_TIMEOUT"]
        blocker.close()


def test_an_unreachable_server_is_transient_and_the_cli_says_so_in_dutch() -> None:
    # Nothing listens on port 1: refused at once.
    done = subprocess.run(
        [sys.executable, "-m", "mma_core.cli", "--json", "status"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={
            **os.environ,
            "MMA_LANG": "nl",
            "MMA_STORE": "postgresql://postgres:pw-123@127.0.0.1:1/test",
        },
    )
    assert done.returncode == 3
    assert '"code": "store_unavailable"' in done.stdout
    assert '"transient": true' in done.stdout
    assert "niet bereikbaar" in done.stderr
    assert "pw-123" not in done.stdout + done.stderr


@pytest.mark.postgres
def test_a_missing_postgresql_database_is_misconfigured(postgres_server: str) -> None:
    url = postgres_server.rsplit("/", 1)[0] + "/no_such_database_mma"
    error = _met(url, "en")
    assert isinstance(error, StoreMisconfigured)
    assert error.reason == "missing_database"
    assert "trying again will not help" in str(error)


@pytest.mark.postgres
def test_a_wrong_password_is_forbidden(postgres_server: str) -> None:
    import uuid

    import psycopg
    from psycopg import sql

    role = f"mma_pw_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD 'right'").format(sql.Identifier(role)))
    try:
        base = postgres_server.split("@", 1)[1]
        error = _met(f"postgresql://{role}:wrong@{base}", "en")
        # A server on trust authentication lets any password in: then the role's missing
        # rights are what it meets, permanent too.
        assert isinstance(error, StoreForbidden | StoreMisconfigured)
        assert not error.transient
        assert "wrong" not in str(error)
    finally:
        with psycopg.connect(postgres_server, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
