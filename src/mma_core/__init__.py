"""mma_core: run a programme connecting every municipality to Meld Misdaad Anoniem, with a
complete, verifiable history.

Importing ``mma_core`` loads only the domain's text hook and the catalogs: each name below is
imported when it is first used (``mma --help`` and a service's start-up do not pay for the
event store they may never open). Type checkers see the names through the imports under
``TYPE_CHECKING``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from mma_core.domain.text import translate_with as _translate_with
from mma_core.language.i18n import _ as _in_language

# The domain's messages in the current language from the first import on, so that an error
# raised before the application is loaded (a value checked on its own) reads translated.
_translate_with(_in_language)

if TYPE_CHECKING:
    from mma_core.application.aio import AsyncProgramme
    from mma_core.application.events import EventRecord
    from mma_core.application.health import Health
    from mma_core.application.programme import Programme
    from mma_core.application.projector import Projector
    from mma_core.application.receipts import Receipt
    from mma_core.application.report_rows import ReportRow
    from mma_core.domain.errors import (
        AlreadyRetracted,
        CapacityExceeded,
        ConcurrencyConflict,
        DependsOn,
        DomainError,
        DuplicateReport,
        ErasureIncomplete,
        InvalidDate,
        InvalidInput,
        InvalidTransition,
        MergerNotInRegistry,
        NotCorrectable,
        RequestIdReused,
        RuleViolation,
        UnknownMunicipality,
        UnknownOffer,
        UnknownOfficial,
        UnknownPosition,
        UnknownSession,
    )
    from mma_core.domain.jsontypes import JSONObject, JSONValue
    from mma_core.domain.values import (
        CostLine,
        Money,
        MunicipalityCode,
        Official,
        ReportCategories,
        ReportCategory,
        Stage,
        Terms,
        TrainingSlot,
    )
    from mma_core.paperwork.imports import ImportRejected
    from mma_core.storage.errors import (
        StoreBusy,
        StoreError,
        StoreForbidden,
        StoreMisconfigured,
        StoreUnavailable,
        StoreVersionError,
    )

# Each top-level name and the module it lives in.
_WHERE = {
    "AsyncProgramme": "mma_core.application.aio",
    "EventRecord": "mma_core.application.events",
    "Health": "mma_core.application.health",
    "Programme": "mma_core.application.programme",
    "Projector": "mma_core.application.projector",
    "Receipt": "mma_core.application.receipts",
    "ReportRow": "mma_core.application.report_rows",
    "CapacityExceeded": "mma_core.domain.errors",
    "ConcurrencyConflict": "mma_core.domain.errors",
    "DomainError": "mma_core.domain.errors",
    "DuplicateReport": "mma_core.domain.errors",
    "ErasureIncomplete": "mma_core.domain.errors",
    "AlreadyRetracted": "mma_core.domain.errors",
    "DependsOn": "mma_core.domain.errors",
    "NotCorrectable": "mma_core.domain.errors",
    "UnknownPosition": "mma_core.domain.errors",
    "ImportRejected": "mma_core.paperwork.imports",
    "InvalidDate": "mma_core.domain.errors",
    "InvalidInput": "mma_core.domain.errors",
    "InvalidTransition": "mma_core.domain.errors",
    "MergerNotInRegistry": "mma_core.domain.errors",
    "RequestIdReused": "mma_core.domain.errors",
    "RuleViolation": "mma_core.domain.errors",
    "UnknownMunicipality": "mma_core.domain.errors",
    "UnknownOffer": "mma_core.domain.errors",
    "UnknownOfficial": "mma_core.domain.errors",
    "UnknownSession": "mma_core.domain.errors",
    "JSONObject": "mma_core.domain.jsontypes",
    "JSONValue": "mma_core.domain.jsontypes",
    "CostLine": "mma_core.domain.values",
    "Money": "mma_core.domain.values",
    "MunicipalityCode": "mma_core.domain.values",
    "Official": "mma_core.domain.values",
    "ReportCategories": "mma_core.domain.values",
    "ReportCategory": "mma_core.domain.values",
    "Stage": "mma_core.domain.values",
    "Terms": "mma_core.domain.values",
    "TrainingSlot": "mma_core.domain.values",
    "StoreBusy": "mma_core.storage.errors",
    "StoreError": "mma_core.storage.errors",
    "StoreForbidden": "mma_core.storage.errors",
    "StoreMisconfigured": "mma_core.storage.errors",
    "StoreUnavailable": "mma_core.storage.errors",
    "StoreVersionError": "mma_core.storage.errors",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'mma_core' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # once loaded, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE})


__version__ = "0.1.0"

__all__ = [
    "AlreadyRetracted",
    "AsyncProgramme",
    "CapacityExceeded",
    "ConcurrencyConflict",
    "CostLine",
    "DependsOn",
    "DomainError",
    "DuplicateReport",
    "ErasureIncomplete",
    "EventRecord",
    "Health",
    "ImportRejected",
    "InvalidDate",
    "InvalidInput",
    "InvalidTransition",
    "JSONObject",
    "JSONValue",
    "MergerNotInRegistry",
    "Money",
    "MunicipalityCode",
    "NotCorrectable",
    "Official",
    "Programme",
    "Projector",
    "Receipt",
    "ReportCategories",
    "ReportCategory",
    "ReportRow",
    "RequestIdReused",
    "RuleViolation",
    "Stage",
    "StoreBusy",
    "StoreError",
    "StoreForbidden",
    "StoreMisconfigured",
    "StoreUnavailable",
    "StoreVersionError",
    "Terms",
    "TrainingSlot",
    "UnknownMunicipality",
    "UnknownOffer",
    "UnknownOfficial",
    "UnknownPosition",
    "UnknownSession",
]
