"""The smtp channel against a real aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import smtplib
import ssl
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import mma_notify_smtp.plugin
import pytest
from mma_notify_smtp import InsecureTransport, SmtpNotifier, SmtpSettings

from mma_core import Programme
from mma_core.plugin_api import Attachment, Config, Notification, Recipient, load_plugins
from mma_core.testing import (
    DeliverySettings,
    Outbox,
    SmtpServer,
    free_port,
    self_signed_certificate,
    tls_server_context,
)

OFFER = "1298348/1298354"
PASSWORD = "geheim"  # noqa: S105 - a test server's
LETTER = date(2019, 10, 18)
ADDRESSES = {"mayor": "burgemeester.{code}@example.org", "coordinator": "mma@example.org"}
CODES = [
    "GM0358", "GM0361", "GM0362", "GM0363", "GM0373", "GM0375",
    "GM0376", "GM0377", "GM0383", "GM0384", "GM0385", "GM0388",
]  # fmt: skip


def fixed(at: datetime) -> Callable[[], datetime]:
    return lambda: at


def settings(port: int, **extra: object) -> SmtpSettings:
    # A loopback test server speaks plain SMTP unless the test asks for TLS.
    extra.setdefault("allow_insecure", not (extra.get("starttls") or extra.get("implicit_tls")))
    return SmtpSettings(
        sender="mma@provincie.example",
        host="127.0.0.1",
        port=port,
        timeout=5,
        addresses=ADDRESSES,
        **extra,  # type: ignore[arg-type]
    )


def note(**extra: object) -> Notification:
    fields: dict[str, object] = {
        "key": "invitation",
        "subject": "Uitnodiging",
        "body": "Tekst",
        "recipient": Recipient("mayor", "GM0363"),
        "delivery_id": "d-1",
    }
    fields.update(extra)
    return Notification(**fields)  # type: ignore[arg-type]


def test_sends_one_mail_with_its_attachment(smtp_server: SmtpServer) -> None:
    ics = Attachment("training.ics", "text/calendar", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")
    SmtpNotifier(settings(smtp_server.port)).send(note(attachments=(ics,)))
    (message,) = smtp_server.inbox.messages
    assert message["To"] == "burgemeester.GM0363@example.org"
    assert message["Subject"] == "Uitnodiging"
    assert message["Message-ID"] == "<d-1@mma-core>"
    (part,) = list(message.iter_attachments())
    assert part.get_filename() == "training.ics"
    assert part.get_content_type() == "text/calendar"


def test_an_official_gets_mail_at_their_own_address(smtp_server: SmtpServer) -> None:
    official = Recipient("official", "GM0363", "a.b@gemeente.example", "A B")
    SmtpNotifier(settings(smtp_server.port)).send(note(recipient=official))
    assert smtp_server.inbox.messages[0]["To"] == "a.b@gemeente.example"


def test_an_address_list_from_an_old_store_is_refused(smtp_server: SmtpServer) -> None:
    listed = Recipient("official", "GM0363", "zz@x.nl,alle-medewerkers@x.nl", "Zz")
    with pytest.raises(ValueError, match="exactly one e-mail address"):
        SmtpNotifier(settings(smtp_server.port)).send(note(recipient=listed))
    assert smtp_server.inbox.messages == []


def test_a_role_without_address_fails() -> None:
    with pytest.raises(LookupError, match="no address for the role 'contact'"):
        SmtpNotifier(settings(1)).address(note(recipient=Recipient("contact", "GM0363")))


def test_starttls(tmp_path: Path) -> None:
    cert, key = self_signed_certificate(tmp_path)
    context = tls_server_context(cert, key)
    server = SmtpServer(tls_context=context, require_starttls=True).start()
    try:
        with pytest.raises(Exception, match="STARTTLS"):
            SmtpNotifier(settings(server.port)).send(note())  # refused in the clear
        SmtpNotifier(settings(server.port, starttls=True, cafile=str(cert))).send(note())
        assert len(server.inbox.messages) == 1
    finally:
        server.stop()


class Logins:
    """An aiosmtpd authenticator that records every login attempt it sees."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, bool]] = []

    def __call__(
        self, server: object, session: object, envelope: object, mechanism: str, data: object
    ) -> object:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        assert isinstance(data, LoginPassword)
        tls = server.transport.get_extra_info("sslcontext") is not None  # type: ignore[attr-defined]
        self.seen.append((data.login.decode(), tls))
        return AuthResult(success=data.password == PASSWORD.encode())


def tls_context(directory: Path) -> tuple[object, Path]:
    cert, key = self_signed_certificate(directory)
    context = tls_server_context(cert, key)
    return context, cert


def test_a_login_without_tls_is_refused(tmp_path: Path) -> None:
    logins = Logins()
    # A server that would take AUTH in the clear: the client must not offer it one.
    server = SmtpServer(
        authenticator=logins, auth_require_tls=False, auth_exclude_mechanism=[]
    ).start()
    try:
        with pytest.raises(InsecureTransport, match="starttls = true"):
            SmtpNotifier(settings(server.port, username="mma", password=PASSWORD)).send(note())
        # Asked for STARTTLS, the server offers none: the connection ends before any AUTH.
        upgraded = settings(server.port, starttls=True, username="mma", password=PASSWORD)
        with pytest.raises(smtplib.SMTPNotSupportedError):
            SmtpNotifier(upgraded).send(note())
        assert logins.seen == []
        assert server.inbox.messages == []
    finally:
        server.stop()
    with pytest.raises(ValueError, match="not both"):
        settings(25, starttls=True, implicit_tls=True)


def test_plain_smtp_is_refused_unless_allowed(smtp_server: SmtpServer) -> None:
    """Officials' addresses never cross the network in the clear by default."""
    with pytest.raises(InsecureTransport, match="allow_insecure"):
        settings(smtp_server.port, allow_insecure=False)
    plugins: Any = plugins_for(smtp_server.port, allow_insecure=False)
    assert "smtp" not in plugins.hook.notifiers()
    assert smtp_server.inbox.messages == []
    assert "smtp" in plugins_for(smtp_server.port).hook.notifiers()  # type: ignore[attr-defined]


def test_a_server_without_starttls_gets_no_mail_by_default(smtp_server: SmtpServer) -> None:
    """The settings a province writes first (host and port, nothing about TLS) send nothing to a
    server that offers no STARTTLS: no official's name or address goes out in the clear."""
    official = Recipient("official", "GM0363", "a.b@gemeente.example", "A B")
    refused: InsecureTransport | None = None
    try:
        plain = SmtpSettings(
            sender="mma@provincie.example", host="127.0.0.1", port=smtp_server.port, timeout=5
        )
        SmtpNotifier(plain).send(note(recipient=official))
    except InsecureTransport as error:
        refused = error
    assert smtp_server.inbox.messages == []  # nothing reached the server in the clear
    assert refused is not None
    assert "allow_insecure" in str(refused)


def test_a_plugin_with_a_login_and_no_tls_registers_no_channel() -> None:
    plugins: Any = plugins_for(25, username="mma", password=PASSWORD)
    assert "smtp" not in plugins.hook.notifiers()
    assert "in the clear" in plugins.records["mma-notify-smtp"].errors[0]


def test_a_login_over_starttls(tmp_path: Path) -> None:
    context, cert = tls_context(tmp_path)
    logins = Logins()
    server = SmtpServer(tls_context=context, require_starttls=True, authenticator=logins).start()
    try:
        secure = settings(
            server.port, starttls=True, cafile=str(cert), username="mma", password=PASSWORD
        )
        SmtpNotifier(secure).send(note())
        assert logins.seen == [("mma", True)]
        assert len(server.inbox.messages) == 1
    finally:
        server.stop()


def test_a_login_over_implicit_tls(tmp_path: Path) -> None:
    context, cert = tls_context(tmp_path)
    logins = Logins()
    # aiosmtpd offers AUTH over implicit TLS only when told it need not wait for STARTTLS.
    server = SmtpServer(ssl_context=context, authenticator=logins, auth_require_tls=False).start()
    try:
        secure = settings(
            server.port, implicit_tls=True, cafile=str(cert), username="mma", password=PASSWORD
        )
        SmtpNotifier(secure).send(note())
        assert logins.seen == [("mma", True)]
        assert len(server.inbox.messages) == 1
        # The certificate is verified: without the cafile the self-signed server is refused.
        untrusted = settings(server.port, implicit_tls=True, username="mma", password=PASSWORD)
        with pytest.raises(ssl.SSLCertVerificationError):
            SmtpNotifier(untrusted).send(note())
        assert len(logins.seen) == 1
    finally:
        server.stop()


def record_invitations(url: str) -> None:
    with Programme.open(url, clock=fixed(datetime(2023, 6, 1, 12, tzinfo=UTC))) as prog:
        prog.register_registry("noord-holland-2019", by="coordinator")
        prog.make_offer(reference=OFFER, sent_on=LETTER, by="cdk")
        for code in CODES:
            prog.invite(code, on=LETTER, reference=OFFER, by="cdk")


def plugins_for(port: int, **extra: object) -> object:
    config = Config(
        data={
            "plugins": {
                "mma-notify-smtp": {
                    "sender": "mma@provincie.example",
                    "host": "127.0.0.1",
                    "port": port,
                    "timeout": 5,
                    "addresses": ADDRESSES,
                    "allow_insecure": True,
                    **extra,
                }
            },
            "delivery": {"channels": ["smtp"]},
        }
    )
    plugins = load_plugins(config, env={}, entry_points=[])
    assert plugins.register(mma_notify_smtp.plugin, "mma-notify-smtp").status == "loaded"
    return plugins


def test_the_server_down_and_coming_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'mma.sqlite'}"
    record_invitations(url)
    port = free_port()  # nothing listens there yet
    now = datetime(2023, 6, 1, 12, tzinfo=UTC)
    with Programme.open(url) as prog:
        outbox = Outbox(
            prog,
            plugins_for(port),  # type: ignore[arg-type]
            settings=DeliverySettings(backoff_seconds=30),
            clock=lambda: now,
        )
        down = outbox.run()
        assert (down.delivered, down.failed) == (0, 2 * len(CODES))
        assert outbox.pending()[0].last_error is not None
        assert outbox.pending()[0].last_error.startswith("ConnectionRefusedError")
        server = SmtpServer(port).start()
        try:
            assert outbox.run().delivered == 0  # not due yet: backoff
            now += timedelta(seconds=31)
            assert outbox.run().delivered == 2 * len(CODES)
            assert len(server.inbox.messages) == 2 * len(CODES)
        finally:
            server.stop()


def test_killed_in_the_middle_of_a_batch_every_mail_arrives_once(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    url = f"sqlite:///{tmp_path / 'mma.sqlite'}"
    record_invitations(url)
    (tmp_path / "mma.toml").write_text(
        "[delivery]\n"
        'channels = ["smtp"]\n'
        "[plugins.mma-notify-smtp]\n"
        'sender = "mma@provincie.example"\n'
        'host = "127.0.0.1"\n'
        f"port = {smtp_server.port}\n"
        "timeout = 5\n"
        "allow_insecure = true\n"
        'addresses = { mayor = "burgemeester.{code}@example.org" }\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MMA_")}
    env.update(MMA_STORE=url, MMA_LOAD_PLUGINS="mma-notify-smtp")
    command = [sys.executable, "-m", "mma_core.cli", "notify"]
    expected = 2 * len(CODES)  # an invitation and an answer reminder each

    smtp_server.inbox.block_after = 7
    process = subprocess.Popen(command, env=env, cwd=tmp_path)  # noqa: S603
    try:
        assert smtp_server.inbox.blocked.wait(60), "the delivery never reached the 8th mail"
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL
    assert len(smtp_server.inbox.messages) == 7
    smtp_server.inbox.unblock()

    again = subprocess.run(command, env=env, cwd=tmp_path, timeout=120, check=False)  # noqa: S603
    assert again.returncode == 0
    ids = smtp_server.inbox.message_ids
    assert len(ids) == expected  # every notification arrived
    assert len(set(ids)) == expected  # none twice
    subjects = sorted(str(m["Subject"]) for m in smtp_server.inbox.messages)
    assert subjects.count("Uitnodiging: aansluiting op Meld Misdaad Anoniem") == len(CODES)


def test_registered_only_once_configured() -> None:
    plugins = load_plugins(Config(), env={}, entry_points=[])
    plugins.register(mma_notify_smtp.plugin, "mma-notify-smtp")
    assert "smtp" not in plugins.hook.notifiers()
    assert "smtp" in plugins_for(25).hook.notifiers()  # type: ignore[attr-defined]
