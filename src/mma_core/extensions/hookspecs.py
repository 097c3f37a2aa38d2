"""Every hook a plugin can implement.

A plugin is a module or object with functions marked ``@hookimpl`` and named after the hooks
below. It is found through the ``mma_core`` entry-point group (see ``docs/plugins.md``). pluggy
itself would abort a whole hook call when one implementation raises and types every result as
``Any``; ``mma_core.extensions.plugins`` calls the hooks below one implementation at a time, with
the types stated here, so one broken plugin never takes the others down.

The values that pass through the hooks live in :mod:`mma_core.extensions.values` (a leaf module, so
this one, the plugin manager and the exporting views do not import each other; the
:class:`~mma_core.extensions.exporting.Exporter` protocol is beside the source it reads); they are
re-exported here for the modules that have always imported them from here. Every name a hook's
signature uses is imported at runtime, so ``typing.get_type_hints`` resolves every hook. A plugin
imports all of them from :mod:`mma_core.plugin_api`.

The hook API has a version, :data:`HOOK_API_VERSION`. A plugin names the version it was written
for in :func:`mma_plugin_info`; a plugin written for another *major* version is refused
(``docs/plugin-api-changelog.md`` says how the version changes).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import click
import pluggy

from mma_core.application.commands import Command
from mma_core.application.costs import CostCalculator
from mma_core.application.programme import Programme
from mma_core.extensions.config import Config
from mma_core.extensions.exporting import Exporter
from mma_core.extensions.values import (
    SETTING_TYPES,
    Attachment,
    EventRecord,
    Notification,
    Notifier,
    PluginInfo,
    Recipient,
    Setting,
    api_major,
    check_name,
)
from mma_core.views.state import MunicipalityView

PROJECT = "mma_core"
ENTRY_POINT_GROUP = "mma_core"
HOOK_API_VERSION = "1.5"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

__all__ = [
    "ENTRY_POINT_GROUP",
    "HOOK_API_VERSION",
    "SETTING_TYPES",
    "Attachment",
    "EventRecord",
    "Exporter",
    "Notification",
    "Notifier",
    "PluginInfo",
    "Recipient",
    "RegisterCostCalculator",
    "RegisterExporter",
    "RegisterNotifier",
    "Setting",
    "api_major",
    "check_name",
    "hookimpl",
    "hookspec",
]

# What the register hooks receive: call it once per notifier, exporter or calculator.
RegisterNotifier = Callable[[Notifier], None]
RegisterExporter = Callable[[Exporter], None]
RegisterCostCalculator = Callable[[CostCalculator], None]

# -- the hooks ----------------------------------------------------------------------------


@hookspec(historic=True)
def mma_configure(config: Config, pm: pluggy.PluginManager) -> None:
    """Called once per plugin, when the plugin is registered, with the loaded configuration.

    ``config`` is a :class:`mma_core.plugin_api.Config`: ``config.plugin(NAME)`` is the plugin's
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
    """Called when a programme is opened through :func:`mma_core.plugin_api.open_programme`, and
    by ``mma plugins``.

    Call ``register(calculator)`` once per :class:`mma_core.plugin_api.CostCalculator` (a ``name``,
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


@hookspec
def mma_answer_link(programme: Programme, code: str, by: str) -> str | None:
    """Called for each invitation and reminder letter (``mma letter invitation`` and
    ``reminder``), once per municipality ``code``, before the letter is written.

    Returns the address where that municipality answers the invitation online, made for this
    letter (``by`` is who writes the letters; ``programme`` is the open store), or ``None``
    when the plugin offers no such address (say, it is not configured). The first address a
    plugin gives is printed on the letter beside the e-mail address; without one the letter
    asks for an answer by e-mail only. If it raises, the error is reported against the plugin
    and the letter is written without a link. (Since hook API 1.1.)
    """
