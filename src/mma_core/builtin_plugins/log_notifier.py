"""The ``log`` channel: writes one line per notification to the ``mma_core.notify`` logger.

The line names the rule, the role and the municipality and the delivery id, never an address,
a name, a subject or a body: those may hold an official's personal data.
"""

from __future__ import annotations

import logging

from mma_core.plugin_api import (
    HOOK_API_VERSION,
    Notification,
    PluginInfo,
    RegisterNotifier,
    hookimpl,
)

logger = logging.getLogger("mma_core.notify")


class LogNotifier:
    channel = "log"

    def send(self, notification: Notification) -> None:
        logger.info(
            "notification %s for the %s of %s (delivery %s, %d attachment(s))",
            notification.key,
            notification.recipient.role,
            notification.recipient.code or "the programme",
            notification.delivery_id,
            len(notification.attachments),
        )


@hookimpl
def mma_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="log", api_version=HOOK_API_VERSION, description="log channel (no personal data)"
    )


@hookimpl
def mma_register_notifiers(register: RegisterNotifier) -> None:
    register(LogNotifier())
