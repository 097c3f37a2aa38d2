"""mma_core: run a programme connecting every municipality to Meld Misdaad Anoniem, with a
complete, verifiable history."""

from mma_core.application.aio import AsyncProgramme
from mma_core.application.events import EventRecord
from mma_core.application.health import Health
from mma_core.application.programme import Programme
from mma_core.application.receipts import Receipt
from mma_core.application.report_rows import ReportRow
from mma_core.domain.errors import (
    CapacityExceeded,
    ConcurrencyConflict,
    DomainError,
    DuplicateReport,
    ErasureIncomplete,
    InvalidDate,
    InvalidInput,
    InvalidTransition,
    MergerNotInRegistry,
    RequestIdReused,
    RuleViolation,
    UnknownMunicipality,
    UnknownOffer,
    UnknownOfficial,
    UnknownSession,
)
from mma_core.domain.jsontypes import JSONObject, JSONValue
from mma_core.domain.values import (
    CostLine,
    Money,
    MunicipalityCode,
    Official,
    ReportCategory,
    Stage,
    Terms,
    TrainingSlot,
)
from mma_core.storage.errors import StoreUnavailable

__version__ = "0.1.0"

__all__ = [
    "AsyncProgramme",
    "CapacityExceeded",
    "ConcurrencyConflict",
    "CostLine",
    "DomainError",
    "DuplicateReport",
    "ErasureIncomplete",
    "EventRecord",
    "Health",
    "InvalidDate",
    "InvalidInput",
    "InvalidTransition",
    "JSONObject",
    "JSONValue",
    "MergerNotInRegistry",
    "Money",
    "MunicipalityCode",
    "Official",
    "Programme",
    "Receipt",
    "ReportCategory",
    "ReportRow",
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
