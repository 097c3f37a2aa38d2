"""The letter tests read the shared demo store (``demo_store`` of ``tests/conftest.py``)."""

from __future__ import annotations

import pytest


@pytest.fixture
def demo_url(demo_store: str) -> str:
    return demo_store
