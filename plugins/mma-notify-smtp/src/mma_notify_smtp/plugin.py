"""The ``mma-notify-smtp`` plugin: registers the ``smtp`` channel once a sender is configured."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mma_core.hookspecs import HOOK_API_VERSION, PluginInfo, Setting, hookimpl
from mma_notify_smtp.notifier import SmtpNotifier, SmtpSettings

NAME = "mma-notify-smtp"
_settings: dict[str, Any] = {}


@hookimpl
def mma_plugin_info() -> PluginInfo:
    return PluginInfo(
        name=NAME,
        api_version=HOOK_API_VERSION,
        description="the smtp channel: e-mail with smtplib, STARTTLS or implicit TLS",
        config={
            "sender": Setting("str", help="From address; the channel is off until it is set"),
            "host": Setting("str", default="localhost"),
            "port": Setting("int", default=25),
            "starttls": Setting("bool", default=False, help="upgrade with STARTTLS (port 587)"),
            "implicit_tls": Setting(
                "bool", default=False, help="TLS from the first byte (port 465)"
            ),
            "cafile": Setting("str", help="CA bundle to verify the server with"),
            "username": Setting("str", help="log in; needs starttls or implicit_tls"),
            "password": Setting("str", secret=True),
            "timeout": Setting("int", default=30, help="seconds"),
            "addresses": Setting(
                "table", default={}, help="role -> address, '{code}' is the municipality code"
            ),
        },
    )


@hookimpl
def mma_configure(config: Any) -> None:
    _settings.clear()
    _settings.update(config.plugin(NAME))


@hookimpl
def mma_register_notifiers(register: Callable[[Any], None]) -> None:
    if not _settings.get("sender"):
        return
    register(SmtpNotifier(SmtpSettings(**{k: v for k, v in _settings.items() if v is not None})))
