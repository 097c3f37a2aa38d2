"""The public names stay where their users import them, whatever moves behind them.

The lists below are the contract as it stood before the package's folders became its layers
(DESIGN section 4, ``mma_core.__all__`` and ``mma_core.plugin_api.__all__``), written out here
so that a name dropped from ``__all__`` fails too, plus the names that services import and that
got a top-level home with the move. Internal module paths are not part of it.
"""

from __future__ import annotations

import importlib

import pytest

TOP_LEVEL = [
    "CapacityExceeded",
    "ConcurrencyConflict",
    "CostLine",
    "DomainError",
    "DuplicateReport",
    "InvalidDate",
    "InvalidInput",
    "InvalidTransition",
    "Money",
    "MunicipalityCode",
    "Official",
    "Programme",
    "Receipt",
    "ReportCategory",
    "RequestIdReused",
    "RuleViolation",
    "Stage",
    "StoreUnavailable",
    "Terms",
    "TrainingSlot",
    "UnknownMunicipality",
    "UnknownOffer",
    "UnknownOfficial",
    "UnknownSession",
]
GIVEN_A_TOP_LEVEL_HOME = [
    "AsyncProgramme",
    "EventRecord",
    "Health",
    "ReportRow",
    "ErasureIncomplete",
    "AlreadyRetracted",
    "DependsOn",
    "NotCorrectable",
    "UnknownPosition",
    "ImportRejected",
    "JSONObject",
    "JSONValue",
]
PLUGIN_API = [
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
    "ENTRY_POINT_GROUP",
    "EventRecord",
    "ExportSource",
    "Exporter",
    "FUNNEL",
    "Group",
    "HOOK_API_VERSION",
    "HistoryEntry",
    "JSONReady",
    "LedgerLine",
    "MMA",
    "MMA_CATEGORIES",
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
    "VIEWS",
    "Validator",
    "WaterbedEntry",
    "add_months",
    "borders_on",
    "centroids",
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
    "current_language",
]


@pytest.mark.parametrize(
    ("module", "names"),
    [
        ("mma_core", TOP_LEVEL + GIVEN_A_TOP_LEVEL_HOME),
        ("mma_core.plugin_api", PLUGIN_API),
    ],
)
def test_every_public_name_imports_from_where_it_did(module: str, names: list[str]) -> None:
    imported = importlib.import_module(module)
    missing = [name for name in names if not hasattr(imported, name)]
    assert missing == []
    assert set(names) <= set(imported.__all__)


def test_a_name_at_the_top_is_the_one_behind_it() -> None:
    import mma_core
    from mma_core import plugin_api

    # One class per name: the top level and the plugin API hand out the same objects.
    assert mma_core.EventRecord is plugin_api.EventRecord
    assert mma_core.Programme is plugin_api.Programme
    assert mma_core.Money is plugin_api.Money
    assert mma_core.AsyncProgramme.open.__qualname__.startswith("AsyncProgramme")
