"""Fixtures for the plugin system's tests (helpers in ``plugin_helpers``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from plugin_helpers import builtins_only, campaign

from mma_core import Programme
from mma_core.extensions.plugins import Plugins


@pytest.fixture
def builtin_plugins() -> Plugins:
    return builtins_only()


@pytest.fixture
def recorded(open_programme: Callable[[str], Programme]) -> Programme:
    prog = open_programme("memory://")
    campaign(prog)
    return prog
