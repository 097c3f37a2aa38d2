"""Fixtures: a real SMTP server on 127.0.0.1 (``mma_core.testing.SmtpServer``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mma_core.testing import SmtpServer


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()
