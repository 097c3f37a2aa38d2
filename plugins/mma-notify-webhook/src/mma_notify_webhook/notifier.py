"""The ``webhook`` channel: each notification as a JSON POST, signed with HMAC-SHA256.

Headers: ``X-MMA-Delivery`` (the outbox's delivery id, stable across retries: use it to drop a
copy), ``X-MMA-Timestamp`` (Unix seconds) and ``X-MMA-Signature: sha256=HEX``, the HMAC-SHA256
under the shared secret of ``TIMESTAMP.BODY``. Any answer other than 2xx, a time-out or a
connection error raises, and the outbox retries with backoff.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from mma_core.hookspecs import Notification

SIGNATURE = "X-MMA-Signature"
TIMESTAMP = "X-MMA-Timestamp"
DELIVERY = "X-MMA-Delivery"


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
    secret: str, timestamp: str, body: bytes, signature: str, *, tolerance: float = 300.0
) -> bool:
    """What a receiver checks: the signature, in constant time, and a recent timestamp."""
    try:
        age = abs(time.time() - float(timestamp))
    except ValueError:
        return False
    return age <= tolerance and hmac.compare_digest(sign(secret, timestamp, body), signature)


class WebhookNotifier:
    channel = "webhook"

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not url.startswith(("https://", "http://")):
            raise ValueError("the webhook url must start with https:// or http://")
        if not secret:
            raise ValueError("the webhook needs a secret to sign with")
        self.url = url
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
                self.request(notification), timeout=self.timeout
            ) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            raise WebhookError(f"the webhook answered HTTP {error.code}") from None
        if not 200 <= status < 300:
            raise WebhookError(f"the webhook answered HTTP {status}")
