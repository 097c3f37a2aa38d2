"""Helpers for testing plugins, importable without pytest.

- :func:`fresh_plugins`: a :class:`mma_core.plugins.Plugins` that loads no entry points and no
  built-ins, reads no environment variables and no ``mma.toml``;
- :func:`registered`: ``with registered(plugins, plugin, "name") as record:`` registers a plugin
  for the block and always unregisters it, even when the test fails;
- :class:`HookCallRecorder`: every call of every hook implementation, with its arguments and
  result or error;
- :mod:`mma_core.testing.servers`: a certificate for 127.0.0.1, a loopback SMTP server and a
  loopback HTTP(S) server in a thread, for notifier tests.

The pytest fixtures built on these (``mma_plugins``, ``mma_register``, ``mma_hook_calls``) are in
:mod:`mma_core.testing.fixtures`, registered as the ``mma_core`` pytest plugin (``pytest11``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from mma_core.testing.servers import (
    SmtpInbox,
    SmtpServer,
    free_port,
    self_signed_certificate,
    serving,
    tls_server_context,
)

if TYPE_CHECKING:  # pragma: no cover - imported where used, so pytest starts fast
    from mma_core.plugins import Config, HookCall, PluginRecord, Plugins

__all__ = [
    "HookCallRecorder",
    "SmtpInbox",
    "SmtpServer",
    "free_port",
    "fresh_plugins",
    "registered",
    "self_signed_certificate",
    "serving",
    "tls_server_context",
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
