"""The ``mma-notify-webhook`` plugin: registers the ``webhook`` channel once a url is set."""

from __future__ import annotations

from mma_core.plugin_api import (
    HOOK_API_VERSION,
    PluginInfo,
    PluginSettings,
    RegisterNotifier,
    Setting,
    hookimpl,
)
from mma_notify_webhook.notifier import WebhookNotifier

NAME = "mma-notify-webhook"
settings = PluginSettings(NAME)
mma_configure = settings.mma_configure


@hookimpl
def mma_plugin_info() -> PluginInfo:
    return PluginInfo(
        name=NAME,
        api_version=HOOK_API_VERSION,
        description="the webhook channel: JSON POST signed with HMAC-SHA256",
        config={
            "url": Setting("str", help="where to POST; the channel is off until it is set"),
            "secret": Setting("str", secret=True, help="shared HMAC-SHA256 secret"),
            "timeout": Setting("int", default=10, help="seconds"),
            "allow_insecure": Setting(
                "bool", default=False, help="accept an http:// url (personal data unencrypted)"
            ),
            "cafile": Setting("str", help="CA bundle to verify the receiver with"),
        },
    )


@hookimpl
def mma_register_notifiers(register: RegisterNotifier) -> None:
    if not settings.get("url"):
        return
    register(
        WebhookNotifier(
            settings["url"],
            settings.get("secret") or "",
            timeout=settings["timeout"],
            allow_insecure=bool(settings.get("allow_insecure")),
            cafile=settings.get("cafile"),
        )
    )
