"""Every hook a plugin can implement, and the values that pass through them.

A plugin is a module or object with functions marked ``@hookimpl`` and named after the hooks
below. It is found through the ``mma_core`` entry-point group (see ``docs/plugins.md``). pluggy
itself would abort a whole hook call when one implementation raises and types every result as
``Any``; ``mma_core.plugins`` calls the hooks below one implementation at a time, with the types
stated here, so one broken plugin never takes the others down.

The hook API has a version, :data:`HOOK_API_VERSION`. A plugin names the version it was written
for in :func:`mma_plugin_info`; a plugin written for another *major* version is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import IO, TYPE_CHECKING, Any, Protocol, runtime_checkable
from uuid import UUID

import attrs
import pluggy

from mma_core.jsonable import JSONReady

if TYPE_CHECKING:  # pragma: no cover - imported for annotations only
    import click

    from mma_core.commands import Command
    from mma_core.costs import CostCalculator
    from mma_core.exporting import ExportSource
    from mma_core.plugins import Config
    from mma_core.views.state import MunicipalityView, SessionView

PROJECT = "mma_core"
ENTRY_POINT_GROUP = "mma_core"
HOOK_API_VERSION = "1.0"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

__all__ = [
    "ENTRY_POINT_GROUP",
    "HOOK_API_VERSION",
    "Attachment",
    "EventRecord",
    "Exporter",
    "Notification",
    "Notifier",
    "PluginInfo",
    "Recipient",
    "Setting",
    "hookimpl",
    "hookspec",
]

# -- values that cross the plugin boundary ------------------------------------------------

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


@attrs.frozen
class EventRecord(JSONReady):
    """An event as plugins see it: what happened, to which municipality, when.

    ``type`` is the event's name (``Invited``, ``Connected``, ``TrainingBooked``, ...) and
    ``aggregate`` the kind of thing it happened to (``Municipality``, ``TrainingSession``,
    ``Offer``, ``ReportClaim``). Deadlines are events too, made by the outbox on the day they
    fall due: ``EvaluationDue`` and ``AnswerOverdue`` (aggregate ``Deadline``, ``due_on`` set).
    ``data`` holds the event's own fields as plain values, never personal data; ``session``
    is set for events about a training session (``TrainingBooked``). ``to_dict()`` gives it as
    JSON types (``docs/schemas/results/EventRecord.json``).
    """

    id: UUID
    position: int
    aggregate: str
    type: str
    code: str | None
    business_date: date | None
    recorded_at: datetime | None
    by: str
    data: Mapping[str, Any]
    session: SessionView | None = None
    due_on: date | None = None


@runtime_checkable
class Notifier(Protocol):
    """Sends notifications over one channel. ``send`` raises to say it failed: the outbox
    retries later with backoff and, after its last attempt, keeps it in the dead-letter list."""

    channel: str

    def send(self, notification: Notification) -> None: ...


@runtime_checkable
class Exporter(Protocol):
    """Writes a view of the programme in one format. ``views`` lists the views it can write
    (``status``, ``ledger``, ``roster``, ``events``, or its own); ``view=None`` asks for its
    default. It writes bytes to ``out``."""

    format: str
    suffix: str
    views: tuple[str, ...]

    def export(self, source: ExportSource, view: str | None, out: IO[bytes]) -> None: ...


RegisterNotifier = Callable[["Notifier"], None]
RegisterExporter = Callable[["Exporter"], None]
RegisterCostCalculator = Callable[["CostCalculator"], None]


def check_name(kind: str, name: object) -> str:
    """Names of channels, formats and calculators: lowercase letters, digits, ``_ . -``."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(
            f"{kind} name {name!r} must be 1 to 61 lowercase letters, digits or _ . - "
            "(starting with a letter or digit)"
        )
    return name


# -- the hooks ----------------------------------------------------------------------------


@hookspec(historic=True)
def mma_configure(config: Config, pm: pluggy.PluginManager) -> None:
    """Called once per plugin, when the plugin is registered, with the loaded configuration.

    ``config`` is a :class:`mma_core.plugins.Config`: ``config.plugin(NAME)`` is the plugin's
    ``[plugins.NAME]`` table of ``mma.toml``, already validated against the schema it declared
    in :func:`mma_plugin_info` (defaults filled in); ``config.store`` is the store URL.
    ``pm`` is the pluggy plugin manager. The hook is historic: a plugin registered later still
    receives it. Returns nothing.

    If it raises, the plugin is listed as broken with the error and unregistered (with
    ``MMA_STRICT_PLUGINS=1`` the error is fatal); other plugins are not affected.
    """


@hookspec
def mma_plugin_info() -> PluginInfo:
    """Called while discovering plugins, before the plugin is registered.

    Returns a :class:`PluginInfo`: the plugin's name, the hook API version it was written for
    (compare :data:`HOOK_API_VERSION`) and the schema of its configuration table. A plugin
    written for another major API version is refused and listed as broken, saying which version
    it needs. If it raises, the plugin is listed as broken with the error.
    """
    raise NotImplementedError  # a specification: pluggy never calls this body


@hookspec
def mma_register_commands(cli: click.Group) -> None:
    """Called with the root ``click.Group`` of ``mma`` the first time a command is asked for that
    ``mma`` itself does not have (so ``mma --help`` loads no plugin), and by ``mma plugins``
    on a scratch group to list what each plugin adds.

    Add commands with ``cli.add_command(...)`` or the ``@cli.command()`` decorator. Returns
    nothing. If it raises, the commands it added before the error stay, the error is listed
    against the plugin in ``mma plugins``, and the other plugins still add theirs.
    """


@hookspec
def mma_register_notifiers(register: RegisterNotifier) -> None:
    """Called when notifications are delivered (``mma notify``) and by ``mma plugins``.

    Call ``register(notifier)`` once per :class:`Notifier`; its ``channel`` must be unique
    across plugins (a second notifier for a channel is refused and reported). Returns nothing.
    If it raises, the notifiers it registered before the error stay, the error is reported, and
    other plugins' notifiers are unaffected.
    """


@hookspec
def mma_register_exporters(register: RegisterExporter) -> None:
    """Called when ``mma export`` runs and by ``mma plugins``.

    Call ``register(exporter)`` once per :class:`Exporter`; its ``format`` must be unique.
    Returns nothing. If it raises, the exporters it registered before the error stay, the error
    is reported, and other plugins' exporters are unaffected.
    """


@hookspec
def mma_register_cost_calculators(register: RegisterCostCalculator) -> None:
    """Called when a programme is opened through :func:`mma_core.plugins.open_programme`, and
    by ``mma plugins``.

    Call ``register(calculator)`` once per :class:`mma_core.costs.CostCalculator` (a ``name``,
    a ``version`` and ``calculate(context) -> CostLine``). Configuration (the ``[costs]`` table
    of ``mma.toml``) selects one calculator per cost kind; the default is the built-in
    ``offer-terms``. Returns nothing. If it raises, its calculators are missing: a command that
    needs a calculator that is configured but missing is refused, so no cost is ever charged by
    the wrong tariff.
    """


@hookspec
def mma_validate_command(
    command: Command, municipality: MunicipalityView | None
) -> Sequence[str] | None:
    """Called before every command writes anything, once per implementing plugin.

    ``command`` has the command's ``name``, the municipality ``code`` it concerns (or ``None``)
    and its ``arguments`` (personal data redacted). ``municipality`` is its current state, or
    ``None`` when it has no municipality or the municipality is not registered.

    Returns the violations found (sentences a coordinator understands) or an empty sequence or
    ``None``. Any violation rejects the command with ``RuleViolation`` and nothing is written.
    If the hook raises, the command is rejected too: a validator that cannot decide never lets a
    command through. The message names the plugin and the type of the error only.
    """


@hookspec
def mma_notifications_for_event(
    event: EventRecord, municipality: MunicipalityView | None
) -> Sequence[Notification] | None:
    """Called by the notification outbox for every recorded event (and deadline event), after
    the command that recorded it has committed, never during a command; called again at each
    delivery attempt, because notifications are rebuilt from the event and never stored (so an
    official erased since is no longer contacted). Answer the same event the same way.

    ``municipality`` is the municipality the event concerns as it stands now, with its
    officials' contact data, or ``None``. Returns the notifications to send (each ``key``
    unique among this event's notifications), or an empty sequence or ``None``. If it raises,
    the event is asked about again for this plugin with backoff and, after the last attempt,
    kept in the dead-letter list (``mma notify --failed``; ``--retry`` asks again); other
    plugins' notifications for the event still go.
    """
