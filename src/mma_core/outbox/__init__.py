"""The notification outbox: follows the event log with its own position and delivers what the
plugins want sent, at least once, with retries and dead letters."""
