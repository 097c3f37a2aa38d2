"""The webhook channel against a real local HTTP(S) server: 200s, 500s, time-outs, TLS."""

from __future__ import annotations

import base64
import json
import ssl
import threading
import time
import urllib.error
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import mma_notify_webhook.plugin
import pytest
from mma_notify_webhook import WebhookError, WebhookNotifier, sign, verify

from mma_core import Programme
from mma_core.plugin_api import Attachment, Config, Notification, Recipient, load_plugins
from mma_core.testing import (
    DeliverySettings,
    Outbox,
    Plugins,
    self_signed_certificate,
    serving,
    tls_server_context,
)

SECRET = "s3cret-for-tests"  # noqa: S105 - a test key


class Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self.scheme = "http" if tls is None else "https"
        self.received: list[dict[str, Any]] = []
        self.answers: list[int] = []  # status codes to give next; then 200
        self.delay = 0.0
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server_address[1]}/hook"


class Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.server.delay:
            time.sleep(self.server.delay)
        with self.server.lock:
            status = self.server.answers.pop(0) if self.server.answers else 200
            if status == 200:
                self.server.received.append(
                    {
                        "headers": self.headers,
                        "body": body,
                        "valid": verify(
                            SECRET,
                            self.headers["X-MMA-Timestamp"],
                            body,
                            self.headers["X-MMA-Signature"],
                        ),
                    }
                )
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serving(Receiver()) as server:
        yield server


@pytest.fixture
def tls_receiver(tmp_path: Path) -> Iterator[tuple[Receiver, Path]]:
    cert, key = self_signed_certificate(tmp_path)
    context = tls_server_context(cert, key)
    with serving(Receiver(context)) as server:
        yield server, cert


def note() -> Notification:
    return Notification(
        key="training-booked",
        subject="Training",
        body="Tot dan",
        recipient=Recipient("official", "GM0363", "a.b@gemeente.example", "A B"),
        attachments=(Attachment("training.ics", "text/calendar", b"BEGIN:VCALENDAR"),),
        delivery_id="delivery-1",
    )


def test_posts_signed_json(receiver: Receiver) -> None:
    WebhookNotifier(receiver.url, SECRET, allow_insecure=True).send(note())
    (got,) = receiver.received
    assert got["valid"] is True
    assert got["headers"]["X-MMA-Delivery"] == "delivery-1"
    assert got["headers"]["Content-Type"] == "application/json; charset=utf-8"
    data = json.loads(got["body"])
    assert data["rule"] == "training-booked"
    assert data["recipient"]["role"] == "official"
    assert base64.b64decode(data["attachments"][0]["data"]) == b"BEGIN:VCALENDAR"


def test_signature_covers_timestamp_and_body() -> None:
    signature = sign(SECRET, "1700000000", b"{}")
    assert signature.startswith("sha256=")
    assert not verify(SECRET, "1700000000", b"{}", signature)  # too old
    now = str(int(time.time()))
    assert verify(SECRET, now, b"{}", sign(SECRET, now, b"{}"))
    assert not verify(SECRET, now, b"{ }", sign(SECRET, now, b"{}"))
    assert not verify("other", now, b"{}", sign(SECRET, now, b"{}"))


def test_the_replay_window_is_300_seconds_back_and_60_ahead_and_configurable() -> None:
    sent = "1700000000"
    signature = sign(SECRET, sent, b"{}")

    def accepted(now: float, **window: float) -> bool:
        return verify(SECRET, sent, b"{}", signature, now=now, **window)

    assert accepted(1700000000 + 300)
    assert not accepted(1700000000 + 301)
    assert accepted(1700000000 - 60)  # the sender's clock a minute ahead
    assert not accepted(1700000000 - 61)
    assert not accepted(1700000000 + 31, tolerance=30)
    assert accepted(1700000000 - 100, max_skew=120)
    assert not verify(SECRET, "nan", b"{}", sign(SECRET, "nan", b"{}"))


def test_an_http_url_is_refused_unless_allowed(receiver: Receiver) -> None:
    with pytest.raises(ValueError, match="allow_insecure"):
        WebhookNotifier(receiver.url, SECRET)
    plugins = plugins_for(receiver.url)
    assert "webhook" not in plugins.hook.notifiers()
    assert "allow_insecure" in plugins.records["mma-notify-webhook"].errors[0]
    assert receiver.received == []
    assert "webhook" in plugins_for(receiver.url, allow_insecure=True).hook.notifiers()


def test_https_verifies_the_receiver_against_cafile(tls_receiver: tuple[Receiver, Path]) -> None:
    server, cert = tls_receiver
    assert server.url.startswith("https://")
    # A self-signed certificate is not trusted by default: verification is never off.
    with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
        WebhookNotifier(server.url, SECRET).send(note())
    assert server.received == []
    WebhookNotifier(server.url, SECRET, cafile=str(cert)).send(note())
    (got,) = server.received
    assert got["valid"]
    plugins = plugins_for(server.url, cafile=str(cert))
    plugins.hook.notifiers()["webhook"].send(note())
    assert len(server.received) == 2


def test_a_500_raises(receiver: Receiver) -> None:
    receiver.answers = [500]
    with pytest.raises(WebhookError, match="HTTP 500"):
        WebhookNotifier(receiver.url, SECRET, allow_insecure=True).send(note())
    assert receiver.received == []


def test_a_time_out_raises(receiver: Receiver) -> None:
    receiver.delay = 1.0
    with pytest.raises(TimeoutError):
        WebhookNotifier(receiver.url, SECRET, timeout=0.2, allow_insecure=True).send(note())


def test_refuses_other_schemes() -> None:
    with pytest.raises(ValueError, match="https://"):
        WebhookNotifier("file:///etc/passwd", SECRET)


def plugins_for(url: str, timeout: int = 5, **extra: Any) -> Plugins:
    settings = {"url": url, "secret": SECRET, "timeout": timeout, **extra}
    config = Config(
        data={
            "plugins": {"mma-notify-webhook": settings},
            "delivery": {"channels": ["webhook"]},
        }
    )
    plugins = load_plugins(config, env={}, entry_points=[])
    assert plugins.register(mma_notify_webhook.plugin, "mma-notify-webhook").status == "loaded"
    return plugins


def test_through_the_outbox_500s_are_retried_until_they_pass(receiver: Receiver) -> None:
    now = datetime(2023, 6, 1, 12, tzinfo=UTC)
    with Programme.open("memory://", clock=lambda: now) as prog:
        prog.register_registry("noord-holland-2019", by="c")
        prog.make_offer(reference="1298348/1298354", sent_on=date(2019, 10, 18), by="cdk")
        prog.invite("GM0363", on=date(2019, 10, 18), reference="1298348/1298354", by="cdk")
        prog.accept("GM0363", on=date(2019, 11, 1), by="b")
        clock = {"now": now}
        outbox = Outbox(
            prog,
            plugins_for(receiver.url, allow_insecure=True),
            settings=DeliverySettings(backoff_seconds=10),
            clock=lambda: clock["now"],
        )
        receiver.answers = [500, 500]  # the invitation's first two tries
        first = outbox.run()
        assert (first.delivered, first.failed) == (0, 1)
        clock["now"] += timedelta(seconds=11)
        assert outbox.run().failed == 1  # second 500
        clock["now"] += timedelta(seconds=21)
        assert outbox.run().delivered == 1
        (got,) = receiver.received
        assert got["valid"]
        assert json.loads(got["body"])["rule"] == "invitation"
        assert outbox.delivered()[0].attempts == 3


def test_through_the_outbox_a_time_out_ends_in_dead_letters(receiver: Receiver) -> None:
    receiver.delay = 1.5
    with Programme.open("memory://") as prog:
        prog.register_registry("noord-holland-2019", by="c")
        prog.make_offer(reference="1298348/1298354", sent_on=date(2019, 10, 18), by="cdk")
        prog.invite("GM0363", on=date(2019, 10, 18), reference="1298348/1298354", by="cdk")
        prog.accept("GM0363", on=date(2019, 11, 1), by="b")
        outbox = Outbox(
            prog,
            plugins_for(receiver.url, timeout=1, allow_insecure=True),
            settings=DeliverySettings(max_attempts=1),
        )
        outbox.run()
        (dead,) = outbox.dead_letters()
        assert dead.last_error is not None
        assert dead.last_error.startswith("TimeoutError")
