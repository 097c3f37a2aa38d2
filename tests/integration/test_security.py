"""Security hardening: files created private, the officials' keys sealed under a
key-encryption key, erasure that checks what it removed, control characters refused and
escaped, a linear e-mail rule, bad URLs and paths as one error line."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from mma_core import DomainError, InvalidInput, Programme
from mma_core.cli import cli, safe
from mma_core.domain.values import MAX_EMAIL, Official, valid_email
from mma_core.storage.cipher import StoreCipherError, new_key

OFFER = "1298348/1298354"
NAME, EMAIL = "Hendrika Zwanenburg", "h.zwanenburg@gemeente-amsterdam.example"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The usual umask 022, under which a file is created readable by everyone."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def nominate(prog: Programme, name: str = NAME, email: str = EMAIL) -> str:
    if not prog.codes():
        prog.register_registry("noord-holland-2019", by="coordinator")
    return prog.nominate_official(
        "GM0363", name=name, email=email, on=date(2019, 10, 25), by="coordinator"
    )


def stored_key(database: Path, official_id: str) -> bytes:
    with sqlite3.connect(database) as conn:
        row = conn.execute(
            "SELECT key FROM mma_official_keys WHERE official_id=?", (official_id,)
        ).fetchone()
    return bytes(row[0])


# -- at rest ------------------------------------------------------------------------------


def test_the_store_its_wal_and_key_file_are_created_0600(
    tmp_path: Path, open_umask: None, open_programme: Callable[[str], Programme]
) -> None:
    database = tmp_path / "mma.sqlite"
    prog = open_programme(f"sqlite:///{database}")
    nominate(prog)
    wal, shm, kek = (tmp_path / f"mma.sqlite{suffix}" for suffix in ("-wal", "-shm", ".kek"))
    assert wal.exists()
    assert shm.exists()
    assert kek.exists()
    for path in (database, wal, shm, kek):
        assert mode(path) == 0o600, path
    control = tmp_path / "control"
    control.write_text("")
    assert mode(control) == 0o644  # the umask alone would have made them readable


def test_an_export_with_personal_data_is_created_0600(
    tmp_path: Path, open_umask: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'mma.sqlite'}"
    with Programme.open(url) as prog:
        nominate(prog)
    runner = CliRunner()
    for fmt in ("csv", "jsonl"):
        out = tmp_path / f"roster.{fmt}"
        result = runner.invoke(
            cli, ["--store", url, "export", fmt, "--view", "roster", "-o", str(out)]
        )
        assert result.exit_code == 0, result.output
        assert NAME in out.read_text()
        assert mode(out) == 0o600
    for view, expected in (("roster", 0o600), ("events", 0o600), ("status", 0o644)):
        out = tmp_path / f"{view}.xlsx"
        args = ["--store", url, "export", "xlsx", "--view", view, "-o", str(out)]
        assert runner.invoke(cli, args).exit_code == 0
        assert mode(out) == expected, view
    status = tmp_path / "status.csv"  # no personal data: the usual mode, to share
    assert runner.invoke(cli, ["--store", url, "export", "csv", "-o", str(status)]).exit_code == 0
    assert mode(status) == 0o644


def test_a_copied_store_file_alone_reveals_no_name(tmp_path: Path) -> None:
    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    home.mkdir()
    elsewhere.mkdir()
    with Programme.open(f"sqlite:///{home / 'mma.sqlite'}") as prog:
        official = nominate(prog)
    key = stored_key(home / "mma.sqlite", official)
    assert len(key) > 32  # wrapped, not the bare 32-byte key
    shutil.copy(home / "mma.sqlite", elsewhere / "mma.sqlite")
    copy = f"sqlite:///{elsewhere / 'mma.sqlite'}"
    with Programme.open(copy) as prog, pytest.raises(StoreCipherError, match="is missing"):
        prog.municipality("GM0363")
    shutil.copy(home / "mma.sqlite.kek", elsewhere / "mma.sqlite.kek")
    with Programme.open(copy) as prog:
        assert prog.municipality("GM0363").officials[0].name == NAME


def test_with_a_store_cipher_the_keys_are_sealed_under_it(tmp_path: Path) -> None:
    database = tmp_path / "mma.sqlite"
    cipher = new_key()
    with Programme.open(f"sqlite:///{database}", cipher_key=cipher) as prog:
        official = nominate(prog)
    assert not (tmp_path / "mma.sqlite.kek").exists()  # the store cipher is the KEK
    assert stored_key(database, official).startswith(b"MMAC")
    with Programme.open(f"sqlite:///{database}", cipher_key=f"{new_key()},{cipher}") as prog:
        assert prog.municipality("GM0363").officials[0].name == NAME  # after a rotation too


def test_a_store_with_bare_keys_from_before_still_reads(tmp_path: Path) -> None:
    """Stores written before the keys were wrapped hold 32 bare bytes per official."""
    from mma_core.storage import privacy

    database = tmp_path / "mma.sqlite"
    url = f"sqlite:///{database}"
    with Programme.open(url) as prog:
        official = nominate(prog)
        bare = prog.key_wrapper.unwrap(official, stored_key(database, official))
    assert len(bare) == privacy.BARE_KEY
    with sqlite3.connect(database) as conn:
        conn.execute("UPDATE mma_official_keys SET key=? WHERE official_id=?", (bare, official))
    (tmp_path / "mma.sqlite.kek").unlink()  # not needed for bare keys
    with Programme.open(url) as prog:
        assert prog.municipality("GM0363").officials[0].name == NAME


def test_postgres_without_a_store_cipher_keeps_keys_bare_and_says_so(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The documented gap: no key-encryption key without a store cipher on PostgreSQL."""
    with Programme.open(postgres_url) as prog:
        with caplog.at_level("WARNING", logger="mma_core.storage.privacy"):
            official = nominate(prog)
            nominate(prog, "Pieter Bakkenes", "p.bakkenes@gemeente-amsterdam.example")
        assert len(prog.keys.select_official_key(official) or b"") == 32
        warnings = [r for r in caplog.records if r.name == "mma_core.storage.privacy"]
        assert len(warnings) == 1
        assert "MMA_CIPHER_KEY" in warnings[0].getMessage()
        assert NAME not in caplog.text
    with Programme.open(postgres_url, cipher_key=None) as prog:
        assert prog.municipality("GM0363").officials[0].name == NAME


# -- erasure on SQLite ----------------------------------------------------------------------


def test_sqlite_erasure_checks_the_key_bytes_are_gone_from_file_and_wal(tmp_path: Path) -> None:
    database = tmp_path / "mma.sqlite"
    with Programme.open(f"sqlite:///{database}") as prog:
        official = nominate(prog)
        key = stored_key(database, official)
        wal = tmp_path / "mma.sqlite-wal"
        assert key in database.read_bytes() + wal.read_bytes()  # the search does find it
        prog.erase_official(official, by="privacy-officer")
        check = prog.last_erasure
    assert check is not None
    assert check.store == "sqlite"
    assert any("absent" in line for line in check.verified)
    assert any("backups" in line for line in check.not_checked)
    assert key not in database.read_bytes()
    assert not wal.exists() or key not in wal.read_bytes()


def test_sqlite_erasure_with_a_reader_holding_a_snapshot_fails_truthfully(
    tmp_path: Path,
) -> None:
    """The issue's case: another reader in a read transaction. The erase must not claim
    success while the key's bytes are still in the WAL; once the reader is gone, the wipe
    succeeds and the bytes are gone."""
    database = tmp_path / "mma.sqlite"
    url = f"sqlite:///{database}"
    with Programme.open(url) as prog:
        official = nominate(prog)
    key = stored_key(database, official)
    reader = sqlite3.connect(database, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT COUNT(*) FROM mma_official_keys").fetchone()
        runner = CliRunner()
        started = time.monotonic()
        result = runner.invoke(cli, ["--store", url, "--by", "p", "official", "erase", official])
        waited = time.monotonic() - started
        assert result.exit_code == 1, result.output
        assert "erased." not in result.output
        (line,) = result.output.strip().splitlines()
        assert line.startswith("error: ")
        assert "mma official wipe" in line
        assert waited < 25  # reported, not waited out (the issue measured 30.9 s)
    finally:
        reader.rollback()
        reader.close()
    with Programme.open(url) as prog:
        # The erasure itself was recorded: the name reads [erased].
        assert prog.municipality("GM0363").officials[0].name == "[erased]"
    result = CliRunner().invoke(cli, ["--store", url, "official", "wipe"])
    assert result.exit_code == 0, result.output
    assert "verified: the WAL was folded" in result.output
    on_disk = database.read_bytes()
    wal = tmp_path / "mma.sqlite-wal"
    if wal.exists():
        on_disk += wal.read_bytes()
    assert key not in on_disk


def test_the_erase_command_reports_what_it_verified(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'mma.sqlite'}"
    with Programme.open(url) as prog:
        official = nominate(prog)
    result = CliRunner().invoke(cli, ["--store", url, "--by", "p", "official", "erase", official])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"Official {official} erased."
    assert any(line.startswith("  verified: the key's stored bytes are absent") for line in lines)
    assert any(line.startswith("  not checked: copies of the store file") for line in lines)


# -- erasure on PostgreSQL ----------------------------------------------------------------


def test_postgres_erasure_leaves_no_key_bytes_in_the_tables_pages(postgres_url: str) -> None:
    """After the erase, no page of the keys table holds the key's stored bytes, read raw with
    ``pageinspect`` (a plain VACUUM left them in the page's free space).

    What this cannot check: the write-ahead log (the key was written there when the official
    was nominated, and stays until checkpoints recycle the segment), WAL archives and base
    backups, and the blocks of the table's old data file, which the rewrite unlinked but the
    file system may not have reused yet. docs/operations.md says how long each keeps it."""
    import psycopg
    from psycopg import sql

    with Programme.open(postgres_url) as prog:
        first = nominate(prog)
        second = nominate(prog, "Pieter Bakkenes", "p.bakkenes@gemeente-amsterdam.example")
        schema = prog.recorder.datastore.schema  # type: ignore[attr-defined]
        table = prog.recorder.keys_table  # type: ignore[attr-defined]
        # The newest row lies lowest in the page: the one a plain VACUUM does not overwrite.
        key = prog.keys.select_official_key(second)
        assert key is not None
        server = postgres_url.split("?")[0]
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")

        def pages() -> bytes:
            name = sql.Identifier(schema, table).as_string(conn)
            (count,) = conn.execute(
                "SELECT pg_relation_size(%s::regclass) / current_setting('block_size')::int",
                (name,),
            ).fetchone()
            return b"".join(
                bytes(conn.execute("SELECT get_raw_page(%s, %s)", (name, n)).fetchone()[0])
                for n in range(count)
            )

        with psycopg.connect(server, autocommit=True) as conn:
            assert key in pages()  # the search does find it
            prog.erase_official(second, by="privacy-officer")
            assert key not in pages()
            assert prog.keys.select_official_key(first) is not None
        check = prog.last_erasure
        assert check is not None
        assert check.store == "postgresql"
        assert any("VACUUM FULL" in line for line in check.verified)
        assert any("write-ahead log" in line for line in check.not_checked)
        assert prog.municipality("GM0363").officials[0].name == NAME


# -- input ----------------------------------------------------------------------------------


_OLD_RULE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def test_the_email_rule_is_linear_on_the_issues_input() -> None:
    attack = "a@" + "." * 60_000 + " "
    started = time.perf_counter()
    assert not valid_email(attack)
    assert not valid_email("a@" + "." * 60_000)
    elapsed = time.perf_counter() - started
    # The issue asks for a bound in time; the old pattern took 15.7 s here.
    assert elapsed < 0.010, elapsed


@given(st.text(alphabet="ab.@ \t\n", max_size=40))
def test_the_email_rule_accepts_what_the_old_pattern_did(text: str) -> None:
    assert valid_email(text) == bool(_OLD_RULE.fullmatch(text))


@pytest.mark.parametrize(
    "listed",
    [
        "zz@x.nl,alle-medewerkers",
        "zz@x.nl;b@y.nl",
        "Zz <zz@x.nl>",
        "groep: zz@x.nl;",
        '"zz"@x.nl',
        "zz@x.nl,",
        "zz@[127.0.0.1]",
    ],
)
def test_an_email_field_holds_exactly_one_address(listed: str) -> None:
    assert not valid_email(listed)
    with pytest.raises(InvalidInput):
        Official(name="Zz", email=listed)
    assert valid_email("zz.de-vries+mma@x.gemeente.nl")


def test_the_email_limit_is_254() -> None:
    local = "a" * 64
    domain = "b" * (MAX_EMAIL - 64 - 1 - 4) + ".org"
    assert valid_email(f"{local}@{domain}")
    assert not valid_email(f"{local}a@{domain}")
    with pytest.raises(InvalidInput, match="254"):
        Official(name="A", email=f"{local}a@{domain}")


BAD_TEXT = ["a\x1b]0;pwned\x07", "x\x1b[2J", "two\nlines", "car\rriage", "tab\there", "\u202eevil"]


@pytest.mark.parametrize("bad", BAD_TEXT)
def test_control_characters_are_refused_in_every_text_field(
    bad: str, memory_programme: Programme, event_count: Callable[[Programme], int]
) -> None:
    prog = memory_programme
    prog.register_registry("noord-holland-2019", by="coordinator")
    prog.make_offer(reference=OFFER, sent_on=date(2019, 10, 18), by="cdk")
    prog.invite("GM0363", on=date(2019, 10, 18), reference=OFFER, by="cdk")
    prog.invite("GM0358", on=date(2019, 10, 18), reference=OFFER, by="cdk")
    prog.accept("GM0358", on=date(2019, 11, 1), by="b")
    prog.connect("GM0358", on=date(2019, 12, 1), by="c")
    before = event_count(prog)
    control = "control characters"
    attempts: list[tuple[Callable[[], object], str]] = [
        (lambda: nominate(prog, name=bad), control),
        (lambda: nominate(prog, email=f"x{bad}@example.org"), "e-mail address is not valid"),
        (lambda: prog.decline("GM0363", on=date(2019, 11, 1), reason=bad, by="b"), control),
        (
            lambda: prog.evaluate(
                "GM0358", on=date(2020, 12, 1), outcome="continue", notes=bad, by="c"
            ),
            control,
        ),
        (lambda: prog.terminate("GM0358", on=date(2020, 12, 1), reason=bad, by="c"), control),
        (
            lambda: prog.schedule_training(
                "2024-01-10",
                starts_at=datetime(2024, 1, 10, 13),
                ends_at=datetime(2024, 1, 10, 15),
                location=f"Haarlem {bad}",
                capacity=10,
                by="c",
            ),
            control,
        ),
        (lambda: prog.accept("GM0363", on=date(2019, 11, 1), by=bad), control),
    ]
    for attempt, rule in attempts:
        with pytest.raises(DomainError, match=rule) as caught:
            attempt()
        assert bad not in str(caught.value)  # nor echoed
    assert event_count(prog) == before


def test_user_text_is_printed_literally(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'mma.sqlite'}"
    with Programme.open(url) as prog:
        official = nominate(prog, name="[red]R[/red] [link=x:y]k", email="a@b.nl")
    result = CliRunner().invoke(cli, ["--store", url, "show", "GM0363"])
    assert result.exit_code == 0, result.output
    assert "[red]R[/red] [link=x:y]k" in result.output
    assert official in result.output
    # What an older store may hold is written out, not obeyed by the terminal.
    assert safe("Jan\x1b[2J\x1b]0;x\x07 \u202eJansen") == "Jan\\x1b[2J\\x1b]0;x\\x07 \\u202eJansen"


def test_a_carriage_return_cannot_start_an_ics_property() -> None:
    from mma_core.builtin_plugins.rules import session_ics
    from mma_core.views.state import SessionView

    view = SessionView(
        session_id="s",
        starts_at=datetime.fromisoformat("2024-01-10T13:00+00:00"),
        ends_at=datetime.fromisoformat("2024-01-10T15:00+00:00"),
        location="Haarlem\rATTENDEE:mailto:x@evil.example\r\nX:y\nZ",
        capacity=10,
        booked=(),
    )
    ics = session_ics(view, "uid", datetime.fromisoformat("2024-01-01T00:00+00:00")).decode()
    lines = ics.split("\r\n")
    assert "\r" not in "".join(lines)
    assert "\n" not in "".join(lines)
    assert not any(line.startswith(("ATTENDEE", "X:", "Z")) for line in lines)
    assert "LOCATION:Haarlem\\nATTENDEE:mailto:x@evil.example\\nX:y\\nZ" in lines


# -- bad URLs and paths: one error line ----------------------------------------------------

BAD_STORES = [
    "postgresql://u:secret@127.0.0.1:99999/db",
    "postgresql://u:secret@127.0.0.1:abc/db",
    "postgresql://u:secret@[::1/db",
    "sqlite://[::1/x.sqlite",
]


@pytest.mark.parametrize("store", BAD_STORES)
def test_a_bad_store_url_is_one_error_line(store: str) -> None:
    result = CliRunner().invoke(cli, ["--store", store, "status"])
    assert result.exit_code == 1
    (line,) = result.output.strip().splitlines()
    assert line.startswith("error: the store URL is malformed")
    assert "secret" not in line
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_a_bad_output_path_is_one_error_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'mma.sqlite'}"
    with Programme.open(url) as prog:
        prog.register_registry("noord-holland-2019", by="c")
    target = tmp_path / "nodir" / "x.csv"
    result = CliRunner().invoke(cli, ["--store", url, "export", "csv", "-o", str(target)])
    assert result.exit_code == 1
    (line,) = result.output.strip().splitlines()
    assert line == f"error: cannot write {target}: No such file or directory"
    assert not target.parent.exists()


def test_bad_input_in_a_real_process_is_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MMA_")}
    env["MMA_LANG"] = "en"  # the test reads the English prefix; Dutch says "fout:"
    for args in (
        ["--store", "postgresql://u:secret@127.0.0.1:99999/db", "status"],
        ["--store", f"sqlite:///{tmp_path / 'm.sqlite'}", "export", "csv", "-o", "nodir/x.csv"],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "mma_core.cli", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
            check=False,
        )
        assert done.returncode == 1, done.stderr
        assert done.stderr.startswith("error: ")
        assert len(done.stderr.splitlines()) == 1, done.stderr
        assert "Traceback" not in done.stderr
        assert "secret" not in done.stderr


def test_an_export_to_a_terminal_shows_control_characters_as_text(tmp_path: Path) -> None:
    """A store written before the input rules (or altered) may hold an escape sequence; on a
    terminal it is written out, not obeyed. To a pipe or a file the data stays exact."""
    import pty

    database = tmp_path / "mma.sqlite"
    url = f"sqlite:///{database}"
    with Programme.open(url) as prog:
        prog.register_registry("noord-holland-2019", by="cdk")
    with sqlite3.connect(database) as connection:
        connection.execute(
            "UPDATE stored_events SET state = CAST(replace(CAST(state AS TEXT), ?, ?) AS BLOB)",
            ('"by":"cdk"', '"by":"c\\u001b]0;pwned\\u0007\\u001b[2Jk"'),
        )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MMA_")}
    command = [sys.executable, "-m", "mma_core.cli", "--store", url]
    command += ["export", "csv", "--view", "events"]
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(command, stdout=follower, stderr=subprocess.PIPE, env=env)
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the follower side closed: the command ended
                break
            if not chunk:
                break
            shown += chunk
        assert process.wait(timeout=60) == 0, process.stderr.read() if process.stderr else ""
    finally:
        os.close(leader)
    text = shown.decode("utf-8")
    assert "\x1b" not in text
    assert "\x07" not in text
    assert "c\\x1b]0;pwned\\x07\\x1b[2Jk" in text
    assert text.count("Registered") > 40  # the export itself is whole
    piped = subprocess.run(command, capture_output=True, env=env, check=True, timeout=60)
    assert b"c\x1b]0;pwned\x07\x1b[2Jk" in piped.stdout
