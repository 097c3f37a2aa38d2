"""The webhook channel against a real local HTTP server: 200s, 500s and time-outs."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import mma_notify_webhook.plugin
import pytest
from mma_notify_webhook import WebhookError, WebhookNotifier, sign, verify

from mma_core import Programme
from mma_core.delivery import DeliverySettings, Outbox
from mma_core.hookspecs import Attachment, Notification, Recipient
from mma_core.plugins import Config, Plugins, load_plugins

SECRET = "s3cret-for-tests"  # noqa: S105 - a test key


class Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.received: list[dict[str, Any]] = []
        self.answers: list[int] = []  # status codes to give next; then 200
        self.delay = 0.0
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"


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
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


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
    WebhookNotifier(receiver.url, SECRET).send(note())
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


def test_a_500_raises(receiver: Receiver) -> None:
    receiver.answers = [500]
    with pytest.raises(WebhookError, match="HTTP 500"):
        WebhookNotifier(receiver.url, SECRET).send(note())
    assert receiver.received == []


def test_a_time_out_raises(receiver: Receiver) -> None:
    receiver.delay = 1.0
    with pytest.raises(TimeoutError):
        WebhookNotifier(receiver.url, SECRET, timeout=0.2).send(note())


def test_refuses_other_schemes() -> None:
    with pytest.raises(ValueError, match="https://"):
        WebhookNotifier("file:///etc/passwd", SECRET)


def plugins_for(url: str, timeout: int = 5) -> Plugins:
    config = Config(
        data={
            "plugins": {"mma-notify-webhook": {"url": url, "secret": SECRET, "timeout": timeout}},
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
            plugins_for(receiver.url),
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
            prog, plugins_for(receiver.url, timeout=1), settings=DeliverySettings(max_attempts=1)
        )
        outbox.run()
        (dead,) = outbox.dead_letters()
        assert dead.last_error is not None
        assert dead.last_error.startswith("TimeoutError")
