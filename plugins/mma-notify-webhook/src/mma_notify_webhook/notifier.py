"""The ``webhook`` channel: each notification as a JSON POST, signed with HMAC-SHA256.

Headers: ``X-MMA-Delivery`` (the outbox's delivery id, stable across retries: use it to drop a
copy), ``X-MMA-Timestamp`` (Unix seconds) and ``X-MMA-Signature: sha256=HEX``, the HMAC-SHA256
under the shared secret of ``TIMESTAMP.BODY``. Any answer other than 2xx, a time-out or a
connection error raises, and the outbox retries with backoff.

The body carries an official's name and address, so the url must be ``https://``: a plain
``http://`` url is refused unless ``allow_insecure`` is set (a receiver on the same host, a
test). The server's certificate and host name are always verified, against the system's CAs or
against ``cafile``.

Replay window: a receiver accepts a signed request whose timestamp is at most ``max_age``
seconds old (default 300) and at most ``max_skew`` seconds ahead of its own clock (default 60),
and drops a ``X-MMA-Delivery`` it has seen within that window.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from mma_core.plugin_api import Notification

SIGNATURE = "X-MMA-Signature"
TIMESTAMP = "X-MMA-Timestamp"
DELIVERY = "X-MMA-Delivery"
MAX_AGE = 300.0  # seconds a signed request stays acceptable
MAX_SKEW = 60.0  # seconds a timestamp may lie ahead of the receiver's clock


class WebhookError(RuntimeError):
    """The receiver answered, but not with 2xx."""


def payload(notification: Notification) -> dict[str, Any]:
    recipient = notification.recipient
    return {
        "delivery_id": notification.delivery_id,
        "rule": notification.key,
        "subject": notification.subject,
        "body": notification.body,
        "recipient": {
            "role": recipient.role,
            "code": recipient.code,
            "address": recipient.address,
            "name": recipient.name,
        },
        "attachments": [
            {
                "filename": a.filename,
                "media_type": a.media_type,
                "data": base64.b64encode(a.data).decode("ascii"),
            }
            for a in notification.attachments
        ],
    }


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    tolerance: float = MAX_AGE,
    max_skew: float = MAX_SKEW,
    now: float | None = None,
) -> bool:
    """What a receiver checks: the signature, in constant time, and a timestamp at most
    ``tolerance`` seconds old and at most ``max_skew`` seconds in the future (clock skew).

    Within that window a captured request can be sent again: drop a repeated
    ``X-MMA-Delivery`` id too."""
    try:
        age = (time.time() if now is None else now) - float(timestamp)
    except ValueError:
        return False
    if not -max_skew <= age <= tolerance:  # NaN fails both comparisons
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


class WebhookNotifier:
    channel = "webhook"

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
        allow_insecure: bool = False,
        cafile: str | None = None,
    ) -> None:
        if not url.startswith(("https://", "http://")):
            raise ValueError("the webhook url must start with https:// or http://")
        if url.startswith("http://") and not allow_insecure:
            raise ValueError(
                "the webhook url is http://: its body (an official's name and address) would "
                "travel unencrypted; use https://, or set allow_insecure = true for a receiver "
                "on the same host"
            )
        if not secret:
            raise ValueError("the webhook needs a secret to sign with")
        self.url = url
        # Verifies the certificate chain and host name; never switched off.
        self.context = ssl.create_default_context(cafile=cafile)
        self._secret = secret
        self.timeout = timeout
        self.clock = clock

    def request(self, notification: Notification) -> urllib.request.Request:
        body = json.dumps(payload(notification), ensure_ascii=False).encode("utf-8")
        timestamp = str(int(self.clock()))
        return urllib.request.Request(  # noqa: S310 - the scheme is checked in __init__
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "mma-notify-webhook/0.1",
                DELIVERY: notification.delivery_id,
                TIMESTAMP: timestamp,
                SIGNATURE: sign(self._secret, timestamp, body),
            },
        )

    def send(self, notification: Notification) -> None:
        try:
            with urllib.request.urlopen(  # noqa: S310 - the scheme is checked in __init__
                self.request(notification), timeout=self.timeout, context=self.context
            ) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            raise WebhookError(f"the webhook answered HTTP {error.code}") from None
        if not 200 <= status < 300:
            raise WebhookError(f"the webhook answered HTTP {status}")
