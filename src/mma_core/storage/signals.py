"""The signal a programme raises after each write, which wakes its followers at once
(``mma_core.application.follow``) instead of at their next poll."""

from __future__ import annotations

import threading


class Signal:
    """Wakes the followers of one Programme when it has written events."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._count = 0

    def notify(self) -> None:
        with self._condition:
            self._count += 1
            self._condition.notify_all()

    def count(self) -> int:
        with self._condition:
            return self._count

    def wait(self, seen: int, timeout: float) -> None:
        """Return when a write happened after ``seen`` was read, or after ``timeout``."""
        with self._condition:
            self._condition.wait_for(lambda: self._count != seen, timeout)
