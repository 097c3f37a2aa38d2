"""Store encryption: sealed states bound to their rows, a swap detected, key rotation, and a
missing or wrong key refused with a clear error (SQLite with a plain connection, and PostgreSQL)."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from mma_core import Programme
from mma_core.domain.errors import DomainError, InvalidInput
from mma_core.domain.municipality import municipality_id
from mma_core.storage.cipher import MAGIC, StoreCipherError, key_id, new_key

ROOT = Path(__file__).resolve().parents[2]
KEY_A = new_key()
KEY_B = new_key()


def _key_bytes(text: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def campaign(prog: Programme, codes: tuple[str, ...] = ("GM0363", "GM0358")) -> None:
    prog.register_registry("noord-holland-2019", by="setup")
    prog.make_offer(reference="R-2019", sent_on=date(2019, 10, 18), by="setup")
    for code in codes:
        prog.invite(code, on=date(2019, 10, 18), reference="R-2019", by="setup")
        prog.accept(code, on=date(2019, 11, 1), by="setup")
        prog.connect(code, on=date(2019, 12, 1), by="setup")
    prog.nominate_official(
        "GM0363", name="Anna Jansen", email="anna@example.nl", on=date(2020, 1, 1), by="setup"
    )


def rows(path: Path) -> list[tuple[int, str, int, bytes]]:
    conn = sqlite3.connect(path)
    try:
        return [
            (int(r[0]), str(r[1]), int(r[2]), bytes(r[3]))
            for r in conn.execute(
                "SELECT rowid, originator_id, originator_version, state FROM stored_events "
                "ORDER BY rowid"
            )
        ]
    finally:
        conn.close()


def verify(url: str, key: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MMA_")}
    if key is not None:
        env["MMA_CIPHER_KEY"] = key
    return subprocess.run(
        [sys.executable, "-m", "mma_core.cli", "--store", url, "--json", "audit", "verify"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


@pytest.fixture(autouse=True)
def _no_stray_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MMA_CIPHER_KEY", raising=False)
    monkeypatch.delenv("MMA_CIPHER_KEY_FILE", raising=False)


def test_every_state_is_sealed_and_the_store_verifies(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite"
    url = f"sqlite:///{path}"
    with Programme.open(url, cipher_key=KEY_A) as prog:
        campaign(prog)
        before = prog.municipality("GM0363")
    stored = rows(path)
    assert stored
    for _, _, _, state in stored:
        assert state.startswith(MAGIC)
        assert state[5:9] == key_id(_key_bytes(KEY_A))
        assert b"GM0363" not in state
        assert b"R-2019" not in state
    with Programme.open(url, cipher_key=KEY_A) as prog:
        assert prog.municipality("GM0363") == before
        assert prog.municipality("GM0363").officials[0].name == "Anna Jansen"
    # The leaves hash the sealed bytes, so verify needs no key at all.
    conn = sqlite3.connect(path)
    leaves = {
        (r[0], r[1]): r[2]
        for r in conn.execute("SELECT aggregate_id, version, state_sha256 FROM mma_leaves")
    }
    conn.close()
    for _, aggregate_id, version, state in stored:
        assert leaves[(str(UUID(aggregate_id)), version)] == hashlib.sha256(state).hexdigest()
    done = verify(url, KEY_A)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["size"] == len(stored)


def test_swapped_ciphertexts_fail_to_load_and_fail_verify(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite"
    url = f"sqlite:///{path}"
    with Programme.open(url, cipher_key=KEY_A) as prog:
        campaign(prog)
    a, b = municipality_id("GM0363").hex, municipality_id("GM0358").hex
    stored = rows(path)
    row_a = next(r for r in stored if r[1] == a and r[2] == 3)
    row_b = next(r for r in stored if r[1] == b and r[2] == 3)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (row_b[3], row_a[0]))
    conn.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (row_a[3], row_b[0]))
    conn.commit()
    conn.close()

    with Programme.open(url, cipher_key=KEY_A) as prog:
        for code in ("GM0363", "GM0358"):
            with pytest.raises(StoreCipherError) as caught:
                prog.municipality(code)
            message = str(caught.value)
            assert "moved from another row" in message
            assert "version 3" in message
            assert isinstance(caught.value, DomainError)
            # A command on either aggregate is refused too, and writes nothing.
            with pytest.raises(StoreCipherError):
                prog.terminate(code, on=date(2021, 1, 1), by="x")
        prog.municipality("GM0362")  # the others still load

    done = verify(url, KEY_A)
    assert done.returncode == 1
    problem = json.loads(done.stdout)["problem"]
    assert problem["kind"] == "edited"
    assert problem["position"] == min(row_a[0], row_b[0])


def test_rotation_new_rows_with_the_new_key_old_rows_still_open(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite"
    url = f"sqlite:///{path}"
    with Programme.open(url, cipher_key=KEY_A) as prog:
        campaign(prog, ("GM0363",))
    first = len(rows(path))
    with Programme.open(url, cipher_key=f"{KEY_B},{KEY_A}") as prog:
        prog.invite("GM0358", on=date(2019, 10, 18), reference="R-2019", by="setup")
        prog.record_report(
            "GM0363", received_on=date(2020, 2, 1), category="fraude", reference="X1", by="t"
        )
        assert prog.municipality("GM0363").reports_received == 1
        assert prog.municipality("GM0363").officials[0].email == "anna@example.nl"
    stored = rows(path)
    ids = [state[5:9] for _, _, _, state in stored]
    assert set(ids[:first]) == {key_id(_key_bytes(KEY_A))}
    assert set(ids[first:]) == {key_id(_key_bytes(KEY_B))}
    assert verify(url, f"{KEY_B},{KEY_A}").returncode == 0
    # Dropping the old key too early is refused when the store opens, naming the key id only.
    with pytest.raises(StoreCipherError) as caught:
        Programme.open(url, cipher_key=KEY_B)
    assert key_id(_key_bytes(KEY_A)).hex() in str(caught.value)
    assert KEY_A not in str(caught.value)
    assert KEY_B not in str(caught.value)


def test_a_missing_or_wrong_key_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sealed = f"sqlite:///{tmp_path / 'sealed.sqlite'}"
    plain = f"sqlite:///{tmp_path / 'plain.sqlite'}"
    with Programme.open(sealed, cipher_key=KEY_A) as prog:
        campaign(prog, ())
    with Programme.open(plain) as prog:
        campaign(prog, ())

    with pytest.raises(StoreCipherError, match="the store is encrypted; set MMA_CIPHER_KEY"):
        Programme.open(sealed)
    with pytest.raises(StoreCipherError, match="which the cipher keyring"):
        Programme.open(sealed, cipher_key=KEY_B)
    with pytest.raises(StoreCipherError, match="not encrypted, but a cipher key is set"):
        Programme.open(plain, cipher_key=KEY_A)
    with pytest.raises(InvalidInput, match="key 2 is not a 256-bit key") as caught:
        Programme.open(sealed, cipher_key=f"{KEY_A},not-a-key")
    assert KEY_A not in str(caught.value)

    # The environment, read by Programme.open only: the key itself, or a key file.
    monkeypatch.setenv("MMA_CIPHER_KEY", KEY_A)
    with Programme.open(sealed) as prog:
        assert prog.codes()
    monkeypatch.delenv("MMA_CIPHER_KEY")
    key_file = tmp_path / "cipher.key"
    key_file.write_text(f"{KEY_B},{KEY_A}\n")
    key_file.chmod(0o644)
    monkeypatch.setenv("MMA_CIPHER_KEY_FILE", str(key_file))
    with pytest.raises(InvalidInput, match="chmod 600") as refused:
        Programme.open(sealed)  # a key every local account may read protects nothing
    assert KEY_A not in str(refused.value)
    key_file.chmod(0o600)
    with Programme.open(sealed) as prog:
        assert prog.codes()

    # The command line says the same in one line, without a traceback.
    env = {k: v for k, v in os.environ.items() if not k.startswith("MMA_")}
    env["MMA_LANG"] = "en"  # the words below are the English catalog's
    done = subprocess.run(
        [sys.executable, "-m", "mma_core.cli", "--store", sealed, "status"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "set MMA_CIPHER_KEY" in done.stderr
    assert "Traceback" not in done.stderr


def test_new_key_command_prints_a_usable_key() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mma_core.cli", "cipher", "new-key"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    key = done.stdout.strip()
    assert len(_key_bytes(key)) == 32
    assert 'MMA_CIPHER_KEY="<new key>,<current key(s)>"' in done.stderr
    with Programme.open("memory://", cipher_key=key) as prog:
        prog.register_registry("noord-holland-2019", by="t")


@pytest.mark.postgres
def test_postgres_rows_are_sealed_and_a_swap_is_caught(postgres_url: str) -> None:
    import psycopg

    with Programme.open(postgres_url, cipher_key=KEY_A) as prog:
        campaign(prog)
    schema = postgres_url.rsplit("schema=", 1)[1]
    server = postgres_url.split("?", 1)[0]
    a, b = municipality_id("GM0363"), municipality_id("GM0358")
    with psycopg.connect(server, autocommit=True) as conn:
        table = f"{schema}.programme_events"
        states: dict[Any, bytes] = {}
        for row in conn.execute(
            f"SELECT originator_id, state FROM {table} WHERE originator_version = 3"
        ):
            states[row[0]] = bytes(row[1])
        assert all(state.startswith(MAGIC) for state in states.values())
        for mine, theirs in ((a, b), (b, a)):
            conn.execute(
                f"UPDATE {table} SET state = %s "
                "WHERE originator_id = %s AND originator_version = 3",
                (states[theirs], mine),
            )
    with Programme.open(postgres_url, cipher_key=KEY_A) as prog:
        for code in ("GM0363", "GM0358"):
            with pytest.raises(StoreCipherError, match="moved from another row"):
                prog.municipality(code)
    done = verify(postgres_url, KEY_A)
    assert done.returncode == 1
    assert json.loads(done.stdout)["problem"]["kind"] == "edited"
