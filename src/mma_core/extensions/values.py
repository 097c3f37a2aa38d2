"""The values that cross the plugin boundary: what hooks receive and return.

The hook specifications, the plugin manager, the exporting views and the outbox all name these
values; plugins reach them through :mod:`mma_core.plugin_api`. :class:`EventRecord` is the
application's (``Programme.follow`` yields it) and stands here as the hooks see it. (The
:class:`~mma_core.extensions.exporting.Exporter` protocol lives beside the
:class:`~mma_core.extensions.exporting.ExportSource` it reads.)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import attrs

from mma_core.application.events import EventRecord

__all__ = [
    "SETTING_TYPES",
    "Attachment",
    "EventRecord",
    "Notification",
    "Notifier",
    "PluginInfo",
    "Recipient",
    "Setting",
    "api_major",
    "check_name",
]

SETTING_TYPES = ("str", "int", "bool", "decimal", "list", "table")
_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,60}")


@attrs.frozen
class Setting:
    """One key a plugin accepts in its ``[plugins.NAME]`` table of ``mma.toml``.

    ``type`` is one of ``str``, ``int``, ``bool``, ``decimal`` (an amount such as ``"12.50"``,
    read as ``Decimal``), ``list`` (of strings) or ``table`` (string keys to string values).
    ``secret`` keeps the value out of ``mma plugins`` output.
    """

    type: str = "str"
    help: str = ""
    required: bool = False
    default: Any = None
    choices: tuple[str, ...] = ()
    secret: bool = False

    def __attrs_post_init__(self) -> None:
        if self.type not in SETTING_TYPES:
            raise ValueError(f"setting type {self.type!r} is not one of {', '.join(SETTING_TYPES)}")


@attrs.frozen
class PluginInfo:
    """What :func:`mma_plugin_info` returns: who the plugin is and what it accepts."""

    name: str
    api_version: str
    description: str = ""
    config: Mapping[str, Setting] = attrs.field(factory=dict)

    @property
    def api_major(self) -> int:
        return api_major(self.api_version)


def api_major(version: str) -> int:
    """The major number of a hook API version (``"1.0"`` -> 1); ``ValueError`` if malformed."""
    match = re.fullmatch(r"(\d+)(\.\d+)*", str(version).strip())
    if match is None:
        raise ValueError(f"hook API version {version!r} is not a version such as '1.0'")
    return int(match.group(1))


@attrs.frozen(repr=False)
class Recipient:
    """Who a notification is for: a role (``mayor``, ``official``, ``coordinator``,
    ``contact``) of a municipality, and, for an official, their address and name.

    Notifiers map a role to an address through their own configuration; only an official's
    address comes with the notification. ``repr`` never shows the address or the name.
    """

    role: str
    code: str | None = None
    address: str | None = None
    name: str | None = None

    def __repr__(self) -> str:
        return f"Recipient(role={self.role!r}, code={self.code!r})"


@attrs.frozen(repr=False)
class Attachment:
    filename: str
    media_type: str
    data: bytes

    def __repr__(self) -> str:
        return f"Attachment({self.filename!r}, {self.media_type!r}, {len(self.data)} bytes)"


@attrs.frozen(repr=False)
class Notification:
    """A message to send. ``key`` names the rule that produced it (unique per event);
    ``channel`` restricts it to one notifier (``None``: every enabled channel).
    ``delivery_id`` is set by the outbox: stable across retries, so a receiver can drop a copy
    it has seen (use it as a Message-ID or an idempotency key)."""

    key: str
    subject: str
    body: str
    recipient: Recipient
    channel: str | None = None
    attachments: tuple[Attachment, ...] = ()
    delivery_id: str = ""

    def __repr__(self) -> str:
        return (
            f"Notification(key={self.key!r}, recipient={self.recipient!r}, "
            f"channel={self.channel!r}, delivery_id={self.delivery_id!r})"
        )


@runtime_checkable
class Notifier(Protocol):
    """Sends notifications over one channel. ``send`` raises to say it failed: the outbox
    retries later with backoff and, after its last attempt, keeps it in the dead-letter list."""

    channel: str

    def send(self, notification: Notification) -> None: ...


def check_name(kind: str, name: object) -> str:
    """Names of channels, formats and calculators: lowercase letters, digits, ``_ . -``."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(
            f"{kind} name {name!r} must be 1 to 61 lowercase letters, digits or _ . - "
            "(starting with a letter or digit)"
        )
    return name
