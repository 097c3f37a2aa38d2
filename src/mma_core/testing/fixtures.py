"""The pytest plugin for plugin authors (registered as ``mma_core`` in ``pytest11``).

Fixtures:

- ``mma_plugins``: a fresh :class:`mma_core.extensions.plugins.Plugins`
  (:func:`mma_core.testing.fresh_plugins`);
- ``mma_register``: a context manager, ``with mma_register(plugin, "name") as record:``, that
  registers a plugin on ``mma_plugins`` and always unregisters it, even when the test fails;
- ``mma_hook_calls``: a :class:`mma_core.testing.HookCallRecorder` attached to ``mma_plugins``.

Only this module imports pytest: :mod:`mma_core.testing` works without it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

from mma_core.testing import HookCallRecorder, fresh_plugins, registered

if TYPE_CHECKING:  # pragma: no cover
    from mma_core.extensions.plugins import PluginRecord, Plugins

__all__ = ["mma_hook_calls", "mma_plugins", "mma_register"]


@pytest.fixture
def mma_plugins() -> Plugins:
    return fresh_plugins()


@pytest.fixture
def mma_register(
    mma_plugins: Plugins,
) -> Callable[[object, str], contextlib.AbstractContextManager[PluginRecord]]:
    def register(plugin: object, name: str) -> contextlib.AbstractContextManager[PluginRecord]:
        return registered(mma_plugins, plugin, name)

    return register


@pytest.fixture
def mma_hook_calls(mma_plugins: Plugins) -> Iterator[HookCallRecorder]:
    recorder = HookCallRecorder(mma_plugins)
    yield recorder
    recorder.close()
