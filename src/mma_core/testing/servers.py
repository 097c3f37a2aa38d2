"""Real servers on the loopback interface for notifier tests: a certificate for ``127.0.0.1``,
a TLS context to serve it with, an SMTP server (aiosmtpd) that keeps what it receives, and any
``socketserver`` server run in a thread.

No test framework is needed. ``cryptography`` (a dependency of ``mma_core``) and ``aiosmtpd``
(install it for SMTP tests) are imported inside the functions that use them.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import ipaddress
import socket
import socketserver
import ssl
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any, TypeVar

__all__ = [
    "SmtpInbox",
    "SmtpServer",
    "free_port",
    "self_signed_certificate",
    "serving",
    "tls_server_context",
]

LOOPBACK = "127.0.0.1"
S = TypeVar("S", bound=socketserver.BaseServer)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def self_signed_certificate(directory: Path, host: str = LOOPBACK) -> tuple[Path, Path]:
    """A certificate for ``host`` (an IP address), its own CA, valid from yesterday to tomorrow:
    written to ``directory`` as ``cert.pem`` and ``key.pem``; returns their paths. A client
    verifies the server with ``cafile=cert``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def tls_server_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A server-side TLS context presenting ``cert`` (from :func:`self_signed_certificate`)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


@contextlib.contextmanager
def serving(server: S) -> Iterator[S]:
    """Run ``server.serve_forever`` in a daemon thread for the block; shut it down after."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


class SmtpInbox:
    """An aiosmtpd handler that keeps every message. ``block_after = n`` holds the (n+1)-th
    message at RCPT until ``release`` is set, and then refuses it (the client is gone by then)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.block_after: int | None = None
        self.blocked = threading.Event()
        self.release = threading.Event()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.block_after is not None and len(self.messages) >= self.block_after:
            self.blocked.set()
            while not self.release.is_set():
                await asyncio.sleep(0.01)
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=default)
        if not isinstance(message, EmailMessage):  # pragma: no cover - the policy makes one
            return "554 5.6.0 unreadable message"
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def unblock(self) -> None:
        self.block_after = None
        self.release.set()

    @property
    def message_ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.messages]


class SmtpServer:
    """An aiosmtpd server on 127.0.0.1:``port``; ``options`` go to its ``Controller``
    (``tls_context=``, ``require_starttls=``, ``authenticator=``, ...)."""

    def __init__(self, port: int | None = None, **options: Any) -> None:
        from aiosmtpd.controller import Controller

        self.port = free_port() if port is None else port
        self.inbox = SmtpInbox()
        self.controller = Controller(self.inbox, hostname=LOOPBACK, port=self.port, **options)

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.inbox.unblock()
        self.controller.stop()
