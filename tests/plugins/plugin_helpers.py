"""Helpers for the plugin system's tests: plugin managers with only the built-ins, and a small
2019 campaign recorded on a programme (an invitation, three trainings, a booking, a connection).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from mma_core import Programme
from mma_core.extensions.hookspecs import Notification, hookimpl
from mma_core.extensions.plugins import Config, Plugins, load_plugins

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
OFFER = "1298348/1298354"
LETTER = date(2019, 10, 18)
LOCATION = "Provinciehuis, Dreef 3, Haarlem"
SESSIONS = (
    ("2019-11-06", datetime(2019, 11, 6, 10, 0), datetime(2019, 11, 6, 12, 30)),
    ("2019-11-07", datetime(2019, 11, 7, 13, 0), datetime(2019, 11, 7, 15, 30)),
    ("2019-11-13", datetime(2019, 11, 13, 13, 0), datetime(2019, 11, 13, 15, 30)),
)
OFFICIAL_NAME = "Jan Jansen"
OFFICIAL_EMAIL = "jan.jansen@gemeente.example"


def builtins_only(config: Config | None = None, **env: str) -> Plugins:
    """The built-in plugins, no entry points, no environment."""
    return load_plugins(config, env=env, entry_points=[])


def campaign(prog: Programme) -> str:
    """Record the start of the 2019 campaign; returns the official's id.

    Events: registry, offer, three sessions, Amsterdam and Aalsmeer invited, Amsterdam accepts,
    an Amsterdam official nominated and booked on 6 November, Amsterdam connected.
    """
    prog.register_registry("noord-holland-2019", by="coordinator")
    prog.make_offer(reference=OFFER, sent_on=LETTER, by="cdk")
    for session_id, starts, ends in SESSIONS:
        prog.schedule_training(
            session_id,
            starts_at=starts,
            ends_at=ends,
            location=LOCATION,
            capacity=60,
            by="coordinator",
        )
    prog.invite("GM0363", on=LETTER, reference=OFFER, by="cdk")
    prog.invite("GM0358", on=LETTER, reference=OFFER, by="cdk")
    prog.accept("GM0363", on=date(2019, 11, 1), by="burgemeester")
    official = prog.nominate_official(
        "GM0363", name=OFFICIAL_NAME, email=OFFICIAL_EMAIL, by="coordinator", on=date(2019, 11, 1)
    )
    prog.book_training(
        "GM0363",
        official_id=official,
        session_id="2019-11-06",
        by="coordinator",
        on=date(2019, 11, 2),
    )
    prog.connect("GM0363", on=date(2019, 12, 1), by="coordinator")
    return official


class Collect:
    """A notifier that keeps what it was given."""

    def __init__(self, channel: str = "collect") -> None:
        self.channel = channel
        self.sent: list[Notification] = []

    def send(self, notification: Notification) -> None:
        self.sent.append(notification)


class AlwaysFails:
    """A notifier that always raises, with the recipient's address in its message, as smtplib
    does when a server refuses a recipient."""

    def __init__(self, channel: str = "broken") -> None:
        self.channel = channel
        self.attempts = 0

    def send(self, notification: Notification) -> None:
        self.attempts += 1
        recipient = notification.recipient
        raise ConnectionError(f"refused {recipient.address} ({recipient.name})")


class NotifierPlugin:
    """A plugin registering the given notifiers."""

    def __init__(self, *notifiers: object) -> None:
        self.notifiers = notifiers

    @hookimpl
    def mma_register_notifiers(self, register: Callable[[object], None]) -> None:
        for notifier in self.notifiers:
            register(notifier)
