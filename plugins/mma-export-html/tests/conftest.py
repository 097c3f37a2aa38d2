"""The demo campaign in an SQLite store, played once for the report tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from mma_core import Programme
from mma_core.testing import play


@pytest.fixture(scope="session")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("html-demo") / "demo.sqlite"
    url = f"sqlite:///{path}"
    with Programme.open(url, origin="demo") as prog:
        play(prog, seed=2019)
    return url
