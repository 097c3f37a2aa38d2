"""The ``smtp`` channel: one e-mail per notification, sent with the standard library.

Each message carries ``Message-ID: <DELIVERY-ID@mma-core>``: the outbox's delivery id, stable
across retries, so a mail system can drop the one copy that at-least-once delivery may send
when a process dies between the server's acceptance and the outbox's bookkeeping.

Transport: ``starttls = true`` upgrades a plain connection (port 587 or 25) before anything else
is said; ``implicit_tls = true`` speaks TLS from the first byte (port 465). Both verify the
server's certificate and host name against the system's CAs, or against ``cafile``. A login
(``username``) is refused without one of them: ``AUTH PLAIN`` in the clear hands the password
to anyone on the path. Without a login, plain SMTP to a relay on the same host still works.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate

import attrs

from mma_core import DomainError, Official
from mma_core.plugin_api import Notification


class InsecureTransport(ValueError):
    """A login was asked for over a connection that is not encrypted."""


@attrs.frozen
class SmtpSettings:
    sender: str
    host: str = "localhost"
    port: int = 25
    starttls: bool = False
    implicit_tls: bool = False
    cafile: str | None = None
    username: str | None = None
    password: str | None = attrs.field(default=None, repr=False)
    timeout: int = 30
    addresses: Mapping[str, str] = attrs.field(factory=dict)
    allow_insecure: bool = False

    def __attrs_post_init__(self) -> None:
        if self.starttls and self.implicit_tls:
            raise ValueError(
                "set starttls (a plain connection upgraded, port 587) or implicit_tls (TLS "
                "from the start, port 465), not both"
            )
        if self.username and not self.tls:
            raise InsecureTransport(
                "the SMTP login would send the password in the clear; set starttls = true "
                "(port 587) or implicit_tls = true (port 465)"
            )
        if not self.tls and not self.allow_insecure:
            raise InsecureTransport(
                "the mail, officials' addresses included, would go in the clear; set "
                "starttls = true (port 587) or implicit_tls = true (port 465), or "
                "allow_insecure = true for a relay on this machine"
            )

    @property
    def tls(self) -> bool:
        return self.starttls or self.implicit_tls


def one_address(address: str) -> str:
    """``address`` if it is exactly one e-mail address (the rule of an official's e-mail): a
    list such as ``a@x.nl,alle-medewerkers`` from an old store would mail everyone on it."""
    try:
        Official(name="recipient", email=address)
    except DomainError:
        raise ValueError("the recipient's address is not exactly one e-mail address") from None
    return address


class SmtpNotifier:
    channel = "smtp"

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def address(self, notification: Notification) -> str:
        """The official's own address, or the configured address of the role."""
        recipient = notification.recipient
        if recipient.address:
            return one_address(recipient.address)
        template = self.settings.addresses.get(recipient.role)
        if template is None:
            raise LookupError(
                f"no address for the role {recipient.role!r}; set [plugins.mma-notify-smtp] "
                f'addresses = {{ {recipient.role} = "..." }} (may contain {{code}})'
            )
        return one_address(template.format(code=recipient.code or ""))

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

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if not s.tls:
            return smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        # Verifies the certificate chain and the host name; never switched off.
        context = ssl.create_default_context(cafile=s.cafile)
        if s.implicit_tls:
            return smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
        smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            # Raises when the server offers no STARTTLS: nothing more is said in the clear.
            smtp.starttls(context=context)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, notification: Notification) -> None:
        message = self.message(notification)
        s = self.settings
        with self._connect() as smtp:
            if s.username:
                if not isinstance(smtp.sock, ssl.SSLSocket):  # pragma: no cover - settings check
                    raise InsecureTransport("refusing to log in over an unencrypted connection")
                smtp.login(s.username, s.password or "")
            smtp.send_message(message)
