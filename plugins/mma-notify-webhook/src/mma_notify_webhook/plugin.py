"""The ``mma-notify-webhook`` plugin: registers the ``webhook`` channel once a url is set."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mma_core.hookspecs import HOOK_API_VERSION, PluginInfo, Setting, hookimpl
from mma_notify_webhook.notifier import WebhookNotifier

NAME = "mma-notify-webhook"
_settings: dict[str, Any] = {}


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
def mma_configure(config: Any) -> None:
    _settings.clear()
    _settings.update(config.plugin(NAME))


@hookimpl
def mma_register_notifiers(register: Callable[[Any], None]) -> None:
    if not _settings.get("url"):
        return
    register(
        WebhookNotifier(
            _settings["url"],
            _settings.get("secret") or "",
            timeout=_settings["timeout"],
            allow_insecure=bool(_settings.get("allow_insecure")),
            cafile=_settings.get("cafile"),
        )
    )
