"""Helpers for testing plugins, importable without pytest.

- :func:`fresh_plugins`: a :class:`mma_core.extensions.plugins.Plugins` that loads no entry points
and no
  built-ins, reads no environment variables and no ``mma.toml``;
- :func:`registered`: ``with registered(plugins, plugin, "name") as record:`` registers a plugin
  for the block and always unregisters it, even when the test fails;
- :class:`HookCallRecorder`: every call of every hook implementation, with its arguments and
  result or error;
- :mod:`mma_core.testing.servers`: a certificate for 127.0.0.1, a loopback SMTP server and a
  loopback HTTP(S) server in a thread, for notifier tests;
- what a plugin's integration test drives besides the plugin API, imported on first use so
  that pytest starts fast: :class:`Plugins`, the outbox (:class:`Outbox`,
  :class:`DeliverySettings`), the ``mma`` command group (:data:`cli`), the demo campaign
  (:func:`play`) and the cost summary of ``mma costs`` (:func:`cost_summary`).

The pytest fixtures built on these (``mma_plugins``, ``mma_register``, ``mma_hook_calls``) are in
:mod:`mma_core.testing.fixtures`, registered as the ``mma_core`` pytest plugin (``pytest11``).
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from mma_core.testing.servers import (
    SmtpInbox,
    SmtpServer,
    free_port,
    self_signed_certificate,
    serving,
    tls_server_context,
)

if TYPE_CHECKING:  # pragma: no cover - imported where used, so pytest starts fast
    from mma_core.cli import cli
    from mma_core.cli.campaign import play
    from mma_core.cli.plugin_commands import cost_summary
    from mma_core.extensions.plugins import Config, HookCall, PluginRecord, Plugins
    from mma_core.outbox.delivery import DeliverySettings, Outbox

# Names resolved on first use (module __getattr__), each from the module that holds it.
_LAZY = {
    "DeliverySettings": "mma_core.outbox.delivery",
    "Outbox": "mma_core.outbox.delivery",
    "Plugins": "mma_core.extensions.plugins",
    "cli": "mma_core.cli",
    "cost_summary": "mma_core.cli.plugin_commands",
    "play": "mma_core.cli.campaign",
}

__all__ = [
    "DeliverySettings",
    "HookCallRecorder",
    "Outbox",
    "Plugins",
    "SmtpInbox",
    "SmtpServer",
    "cli",
    "cost_summary",
    "free_port",
    "fresh_plugins",
    "play",
    "registered",
    "self_signed_certificate",
    "serving",
    "tls_server_context",
]


def fresh_plugins(config: Config | None = None, **env: str) -> Plugins:
    """A plugin manager with nothing loaded; ``env`` stands in for the environment."""
    from mma_core.extensions.plugins import Config, Plugins

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


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
