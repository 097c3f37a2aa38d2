"""Shared fixtures: a programme on each store, a fixed clock, and an event counter.

PostgreSQL tests need the server on 127.0.0.1:5432 (database ``test``, user ``postgres``). They
skip when it is not reachable, unless ``MMA_REQUIRE_POSTGRES=1`` (as in CI): then they fail.
Each PostgreSQL test gets its own schema, dropped afterwards.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from mma_core import Programme

# Another server can be named for a local run; CI uses the default.
POSTGRES_SERVER = os.environ.get("MMA_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# "Today" for every test, unless a test moves the clock: after the 2022 mergers, so that every
# date of the 2019-2022 campaign lies in the past, and independent of the real date.
TODAY = date(2023, 6, 1)


class Clock:
    """A settable clock for ``Programme.open(url, clock=...)``: the recorded time of events."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, day: date, hour: int = 12) -> None:
        """Move to noon UTC (13:00 or 14:00 in Amsterdam, the same day) of ``day``."""
        self.now = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(TODAY.year, TODAY.month, TODAY.day, 12, tzinfo=UTC))


def stored_events(prog: Programme) -> int:
    """Count the stored events one by one (not trusting the highest position)."""
    count, start = 0, 1
    while True:
        batch = prog.recorder.select_notifications(start, 500)
        count += len(batch)
        if len(batch) < 500:
            return count
        start = batch[-1].id + 1


def count_events(prog: Programme) -> int:
    """The number of stored events; checks ``prog.event_count()`` against a real count."""
    counted = stored_events(prog)
    assert prog.event_count() == counted
    return counted


@pytest.fixture
def event_count() -> Callable[[Programme], int]:
    """``event_count(prog)``: how many events the store holds, counted one by one."""
    return count_events


def _postgres_reachable() -> str | None:
    """``None`` when the server answers, else why not."""
    try:
        import psycopg
    except ImportError as error:  # pragma: no cover - psycopg is a dev dependency
        return f"psycopg is not installed ({error})"
    try:
        with psycopg.connect(POSTGRES_SERVER, connect_timeout=3):
            return None
    except psycopg.Error as error:
        where = POSTGRES_SERVER.split("@")[-1]
        return f"PostgreSQL at {where} is not reachable: {' '.join(str(error).split())}"


@pytest.fixture(scope="session")
def postgres_server() -> str:
    reason = _postgres_reachable()
    if reason is not None:
        if os.environ.get("MMA_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"MMA_REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(f"{reason} (set MMA_REQUIRE_POSTGRES=1 to make this an error)")
    return POSTGRES_SERVER


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A store URL with a fresh schema of its own, dropped after the test."""
    import psycopg
    from psycopg import sql

    schema = f"mma_test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        yield f"{postgres_server}?schema={schema}"
    finally:
        with psycopg.connect(postgres_server, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


STORES = [
    pytest.param("memory", id="memory"),
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]


@pytest.fixture(params=STORES)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty store of each kind."""
    kind: str = request.param
    if kind == "memory":
        return "memory://"
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'programme.sqlite'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def open_programme(clock: Clock) -> Iterator[Callable[[str], Programme]]:
    """Open programmes on the fixed clock; every one opened is closed after the test."""
    opened: list[Programme] = []

    def open_(url: str) -> Programme:
        prog = Programme.open(url, clock=clock)
        opened.append(prog)
        return prog

    yield open_
    for prog in opened:
        prog.close()


@pytest.fixture
def programme(store_url: str, open_programme: Callable[[str], Programme]) -> Programme:
    """An empty programme on each store: memory://, an SQLite file, PostgreSQL."""
    return open_programme(store_url)


@pytest.fixture
def memory_programme(open_programme: Callable[[str], Programme]) -> Programme:
    return open_programme("memory://")


# -- the demo campaign, played once per test process ------------------------------------------


def copy_store(source: Path, target: Path) -> str:
    """Copy a closed SQLite store, with the officials' key file beside it; its URL."""
    shutil.copy(source, target)
    kek = source.with_name(source.name + ".kek")
    if kek.exists():
        shutil.copy(kek, target.with_name(target.name + ".kek"))
    return f"sqlite:///{target}"


@pytest.fixture(scope="session")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``mma demo``'s campaign (the CLI's demo plays exactly this) in an SQLite file: played
    once per test process (each xdist worker builds its own), and never opened again, so that
    a plain file copy of it is a whole store. Use ``demo_store`` or ``demo_copy``, not this."""
    from mma_core.cli.campaign import play

    path: Path = tmp_path_factory.mktemp("demo-pristine") / "demo.sqlite"
    with Programme.open(f"sqlite:///{path}", origin="demo") as prog:
        play(prog, seed=2019)
    # Closed: SQLite has folded its write-ahead log into the file.
    assert not path.with_name(path.name + "-wal").exists()
    return path


@pytest.fixture(scope="session")
def demo_store(demo_file: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL of a demo store shared by the tests that only read it (reading may still bring
    its read models up to date; nothing else may be written)."""
    return copy_store(demo_file, tmp_path_factory.mktemp("demo-shared") / "demo.sqlite")


@pytest.fixture
def demo_copy(demo_file: Path, tmp_path: Path) -> str:
    """The URL of a demo store of this test's own, to write to."""
    return copy_store(demo_file, tmp_path / "demo.sqlite")
