"""The ``mma-notify-smtp`` plugin: registers the ``smtp`` channel once a sender is configured."""

from __future__ import annotations

from mma_core.plugin_api import (
    HOOK_API_VERSION,
    PluginInfo,
    PluginSettings,
    RegisterNotifier,
    Setting,
    hookimpl,
)
from mma_notify_smtp.notifier import SmtpNotifier, SmtpSettings

NAME = "mma-notify-smtp"
settings = PluginSettings(NAME)
mma_configure = settings.mma_configure


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
            "allow_insecure": Setting(
                "bool",
                default=False,
                help="send without TLS (a relay on this machine only); never with a login",
            ),
            "addresses": Setting(
                "table", default={}, help="role -> address, '{code}' is the municipality code"
            ),
        },
    )


@hookimpl
def mma_register_notifiers(register: RegisterNotifier) -> None:
    if not settings.get("sender"):
        return
    register(SmtpNotifier(SmtpSettings(**{k: v for k, v in settings.items() if v is not None})))
