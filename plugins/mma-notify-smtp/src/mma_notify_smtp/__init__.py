"""E-mail notifications for mma_core over SMTP."""

from mma_notify_smtp.notifier import SmtpNotifier, SmtpSettings

__all__ = ["SmtpNotifier", "SmtpSettings"]
