"""A real SMTP server (aiosmtpd) on the loopback interface that keeps what it receives."""

from __future__ import annotations

import asyncio
import email
import socket
import threading
from email.message import EmailMessage
from email.policy import default
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Inbox:
    """An aiosmtpd handler. ``block_after = n`` holds the (n+1)-th message at RCPT until
    ``release`` is set, and then refuses it (the client is gone by then)."""

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
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def unblock(self) -> None:
        self.block_after = None
        self.release.set()

    @property
    def message_ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.messages]


class Server:
    def __init__(self, port: int, **options: Any) -> None:
        self.port = port
        self.inbox = Inbox()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=port, **options)

    def start(self) -> Server:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.inbox.unblock()
        self.controller.stop()
