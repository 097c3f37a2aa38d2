"""The ``smtp`` channel: one e-mail per notification, sent with the standard library.

Each message carries ``Message-ID: <DELIVERY-ID@mma-core>``: the outbox's delivery id, stable
across retries, so a mail system can drop the one copy that at-least-once delivery may send
when a process dies between the server's acceptance and the outbox's bookkeeping.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate

import attrs

from mma_core.hookspecs import Notification


@attrs.frozen
class SmtpSettings:
    sender: str
    host: str = "localhost"
    port: int = 25
    starttls: bool = False
    cafile: str | None = None
    username: str | None = None
    password: str | None = attrs.field(default=None, repr=False)
    timeout: int = 30
    addresses: Mapping[str, str] = attrs.field(factory=dict)


class SmtpNotifier:
    channel = "smtp"

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def address(self, notification: Notification) -> str:
        """The official's own address, or the configured address of the role."""
        recipient = notification.recipient
        if recipient.address:
            return recipient.address
        template = self.settings.addresses.get(recipient.role)
        if template is None:
            raise LookupError(
                f"no address for the role {recipient.role!r}; set [plugins.mma-notify-smtp] "
                f'addresses = {{ {recipient.role} = "..." }} (may contain {{code}})'
            )
        return template.format(code=recipient.code or "")

    def message(self, notification: Notification) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.settings.sender
        message["To"] = self.address(notification)
        message["Subject"] = notification.subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = f"<{notification.delivery_id or 'no-id'}@mma-core>"
        message["X-MMA-Rule"] = notification.key
        message.set_content(notification.body)
        for attachment in notification.attachments:
            maintype, _, subtype = attachment.media_type.partition("/")
            message.add_attachment(
                attachment.data,
                maintype=maintype,
                subtype=subtype or "octet-stream",
                filename=attachment.filename,
            )
        return message

    def send(self, notification: Notification) -> None:
        message = self.message(notification)
        s = self.settings
        with smtplib.SMTP(s.host, s.port, timeout=s.timeout) as smtp:
            if s.starttls:
                context = ssl.create_default_context(cafile=s.cafile)
                smtp.starttls(context=context)
            if s.username:
                smtp.login(s.username, s.password or "")
            smtp.send_message(message)
