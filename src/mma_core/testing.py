"""A pytest plugin for plugin authors (registered as ``mma_core`` in ``pytest11``).

Fixtures:

- ``mma_plugins``: a fresh :class:`mma_core.plugins.Plugins` that loads no entry points and no
  built-ins, reads no environment variables and no ``mma.toml``;
- ``mma_register``: a context manager, ``with mma_register(plugin, "name") as record:``, that
  registers a plugin on ``mma_plugins`` and always unregisters it, even when the test fails;
- ``mma_hook_calls``: a :class:`HookCallRecorder` attached to ``mma_plugins``: every call of
  every hook implementation, with its arguments and result or error.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # pragma: no cover - imported where used, so pytest starts fast
    from mma_core.plugins import Config, HookCall, PluginRecord, Plugins

__all__ = [
    "HookCallRecorder",
    "fresh_plugins",
    "mma_hook_calls",
    "mma_plugins",
    "mma_register",
    "registered",
]


def fresh_plugins(config: Config | None = None, **env: str) -> Plugins:
    """A plugin manager with nothing loaded; ``env`` stands in for the environment."""
    from mma_core.plugins import Config, Plugins

    return Plugins(config or Config(), env=dict(env))


@contextlib.contextmanager
def registered(plugins: Plugins, plugin: object, name: str) -> Iterator[PluginRecord]:
    """Register ``plugin`` as ``name`` for the block; always unregister it afterwards."""
    record = plugins.register(plugin, name)
    try:
        yield record
    finally:
        plugins.unregister(name)


class HookCallRecorder:
    """Records every hook implementation call on a :class:`Plugins`."""

    def __init__(self, plugins: Plugins) -> None:
        self.calls: list[HookCall] = []
        self._plugins = plugins
        plugins.monitors.append(self.calls.append)

    def of(self, hook: str) -> list[HookCall]:
        return [call for call in self.calls if call.hook == hook]

    def plugins_called(self, hook: str) -> list[str]:
        return [call.plugin for call in self.of(hook)]

    def close(self) -> None:
        if self.calls.append in self._plugins.monitors:
            self._plugins.monitors.remove(self.calls.append)


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
