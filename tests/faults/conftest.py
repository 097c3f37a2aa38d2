"""The fixture of a PostgreSQL server of the test's own (see ``pg_server``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pg_server import PrivateServer


@pytest.fixture
def private_postgres() -> Iterator[PrivateServer]:
    server = PrivateServer()
    try:
        server.start()
        yield server
    finally:
        server.close()
