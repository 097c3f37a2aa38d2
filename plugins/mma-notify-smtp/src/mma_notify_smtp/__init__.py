"""E-mail notifications for mma_core over SMTP."""

from mma_notify_smtp.notifier import InsecureTransport, SmtpNotifier, SmtpSettings

__all__ = ["InsecureTransport", "SmtpNotifier", "SmtpSettings"]
