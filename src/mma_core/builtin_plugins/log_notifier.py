"""The ``log`` channel: writes one line per notification to the ``mma_core.notify`` logger.

The line names the rule, the role and the municipality and the delivery id, never an address,
a name, a subject or a body: those may hold an official's personal data.
"""

from __future__ import annotations

import logging

from mma_core.language.i18n import N_, _, ngettext
from mma_core.plugin_api import (
    HOOK_API_VERSION,
    Notification,
    PluginInfo,
    RegisterNotifier,
    hookimpl,
)

logger = logging.getLogger("mma_core.notify")
# The recipients' roles as the reader calls them; the rule's key stays as the rules name it.
ROLES = {
    "mayor": N_("mayor"),
    "coordinator": N_("coordinator"),
    "contact": N_("contact person"),
    "official": N_("official"),
}


class LogNotifier:
    channel = "log"

    def send(self, notification: Notification) -> None:
        role = notification.recipient.role
        logger.info(
            "%s",
            ngettext(
                "notification {key} for the {role} of {code} (delivery {delivery}, "
                "{count} attachment)",
                "notification {key} for the {role} of {code} (delivery {delivery}, "
                "{count} attachments)",
                len(notification.attachments),
            ).format(
                key=notification.key,
                role=_(ROLES[role]) if role in ROLES else role,
                code=notification.recipient.code or _("the programme"),
                delivery=notification.delivery_id,
                count=len(notification.attachments),
            ),
        )


@hookimpl
def mma_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="log", api_version=HOOK_API_VERSION, description="log channel (no personal data)"
    )


@hookimpl
def mma_register_notifiers(register: RegisterNotifier) -> None:
    register(LogNotifier())
