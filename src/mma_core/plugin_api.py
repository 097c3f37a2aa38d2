"""Everything a plugin imports from ``mma_core``, in one module.

A plugin imports this module and the top-level names of :mod:`mma_core` (``Programme``,
``Money``, the errors), nothing else: the modules behind these names may move or merge, this
surface changes only as ``docs/plugin-api-changelog.md`` says (a deprecated name keeps working
for the rest of its major hook API version). ``typing.get_type_hints`` resolves every hook
specification, and every type a hook's signature names is here.

Groups, in the order of ``__all__``:

- the hook machinery: :data:`hookimpl`, :data:`HOOK_API_VERSION`, :class:`PluginSettings`,
  :func:`validates` (the commands a validator checks);
- what hooks receive and return: :class:`PluginInfo`, :class:`Setting`, :class:`Config`,
  :class:`Command`, :class:`MunicipalityView`, :class:`EventRecord`, :class:`Notification`,
  :class:`Recipient`, :class:`Attachment`, the :class:`Notifier`, :class:`Exporter` and
  :class:`CostCalculator` protocols and the callables the register hooks receive;
- what exporters read: :class:`ExportSource` and its typed :class:`Table`, :func:`spreadsheet_text`;
- what cost calculators read and return: :class:`CostContext`, ``CostLine``, :class:`CostKind`,
  :class:`Payer`;
- the read models exporters and pages show (overview, sessions, deadlines, ledger, waterbed,
  the map's areas and the outlines they come from), and :data:`CORRECTABLE`, the fields a
  correction of each fact can change;
- for a plugin's own command: :func:`store_url`, :func:`load_config`, :func:`open_programme`;
  in the reader's language: :func:`translated_command`, :func:`translated_group` (its help)
  and :func:`translator` (its messages), from a catalog the plugin ships.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from click import Group
from pluggy import PluginManager

from mma_core.application.commands import Command, Validator, validates
from mma_core.application.costs import MMA, CostCalculator, CostContext, OfferTermsCalculator
from mma_core.application.programme import Programme
from mma_core.cli.plugin_commands import store_url
from mma_core.domain.corrections import CORRECTABLE
from mma_core.domain.jsonable import JSONReady, jsonable
from mma_core.domain.values import (
    MMA_CATEGORIES,
    CostKind,
    CostLine,
    Money,
    Official,
    OfficialId,
    Payer,
    Stage,
    Terms,
    add_months,
)
from mma_core.extensions.config import Config, ConfigError, load_config
from mma_core.extensions.exporting import (
    VIEWS,
    Column,
    Exporter,
    ExportSource,
    Table,
    spreadsheet_text,
)
from mma_core.extensions.hookspecs import (
    ENTRY_POINT_GROUP,
    HOOK_API_VERSION,
    RegisterCostCalculator,
    RegisterExporter,
    RegisterNotifier,
    hookimpl,
)
from mma_core.extensions.manager import load_plugins, open_programme
from mma_core.extensions.values import (
    Attachment,
    EventRecord,
    Notification,
    Notifier,
    PluginInfo,
    Recipient,
    Setting,
)
from mma_core.language.cli import translated_command, translated_group
from mma_core.language.i18n import current_language, translator

# The read models. This block is the only place a plugin's names reach into mma_core.views, so
# when the views change shape only these lines follow them.
from mma_core.views.deadlines import Due, due_items, trained
from mma_core.views.geo import MapArea, Outlines, map_areas, outlines
from mma_core.views.models import FUNNEL, funnel, overview_from_records
from mma_core.views.records import LedgerLine, MunicipalityRecord, SessionRecord
from mma_core.views.state import (
    CostEntry,
    HistoryEntry,
    MunicipalityView,
    OfficialView,
    Overview,
    SessionView,
)
from mma_core.views.waterbed import WaterbedEntry, borders_on, centroids

__all__ = [
    "CORRECTABLE",
    "ENTRY_POINT_GROUP",
    "FUNNEL",
    "HOOK_API_VERSION",
    "MMA",
    "MMA_CATEGORIES",
    "VIEWS",
    "Attachment",
    "Column",
    "Command",
    "Config",
    "ConfigError",
    "CostCalculator",
    "CostContext",
    "CostEntry",
    "CostKind",
    "CostLine",
    "Due",
    "EventRecord",
    "ExportSource",
    "Exporter",
    "Group",
    "HistoryEntry",
    "JSONReady",
    "LedgerLine",
    "MapArea",
    "Money",
    "MunicipalityRecord",
    "MunicipalityView",
    "Notification",
    "Notifier",
    "OfferTermsCalculator",
    "Official",
    "OfficialId",
    "OfficialView",
    "Outlines",
    "Overview",
    "Payer",
    "PluginInfo",
    "PluginManager",
    "PluginSettings",
    "Programme",
    "Recipient",
    "RegisterCostCalculator",
    "RegisterExporter",
    "RegisterNotifier",
    "SessionRecord",
    "SessionView",
    "Setting",
    "Stage",
    "Table",
    "Terms",
    "Validator",
    "WaterbedEntry",
    "add_months",
    "borders_on",
    "centroids",
    "current_language",
    "due_items",
    "funnel",
    "hookimpl",
    "jsonable",
    "load_config",
    "load_plugins",
    "map_areas",
    "open_programme",
    "outlines",
    "overview_from_records",
    "spreadsheet_text",
    "store_url",
    "trained",
    "translated_command",
    "translated_group",
    "translator",
    "validates",
]


class PluginSettings(Mapping[str, Any]):
    """A plugin's ``[plugins.NAME]`` table of ``mma.toml``, validated against the schema its
    :class:`PluginInfo` declares, with the defaults filled in.

    It carries the plugin's ``mma_configure`` hook, so a plugin writes no configuration code::

        settings = PluginSettings("mma-notify-smtp")
        mma_configure = settings.mma_configure

        @hookimpl
        def mma_register_notifiers(register: RegisterNotifier) -> None:
            if settings.get("sender"):
                register(SmtpNotifier(settings["sender"], ...))

    Until the plugin is configured (registered by hand in a test, without ``mma.toml``) it is
    empty, so ``settings.get(key)`` gives ``None``.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._values: dict[str, Any] = {}

    @hookimpl
    def mma_configure(self, config: Config) -> None:
        """Keep the plugin's validated table (pluggy calls this as the plugin's hook)."""
        self._values = config.plugin(self.name)

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"PluginSettings({self.name!r}, keys={sorted(self._values)})"
