"""Fixtures: a real SMTP server on 127.0.0.1 (see ``smtp_helpers``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from smtp_helpers import Server, free_port


@pytest.fixture
def smtp_server() -> Iterator[Server]:
    server = Server(free_port()).start()
    yield server
    server.stop()
