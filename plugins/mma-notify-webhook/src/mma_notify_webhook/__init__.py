"""Webhook notifications for mma_core."""

from mma_notify_webhook.notifier import WebhookError, WebhookNotifier, payload, sign, verify

__all__ = ["WebhookError", "WebhookNotifier", "payload", "sign", "verify"]
