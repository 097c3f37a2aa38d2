"""A demo store, played once per session (read-only for the tests that use it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mma_core import Programme
from mma_core.demo import play


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """``mma demo``'s campaign in an SQLite file (the CLI's demo plays exactly this)."""
    path: Path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    url = f"sqlite:///{path}"
    with Programme.open(url, origin="demo") as prog:
        play(prog, seed=2019)
    return url
