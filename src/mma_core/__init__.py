"""mma_core: run a programme connecting every municipality to Meld Misdaad Anoniem, with a
complete, verifiable history."""

from mma_core.application.programme import Programme
from mma_core.application.receipts import Receipt
from mma_core.domain.errors import (
    CapacityExceeded,
    ConcurrencyConflict,
    DomainError,
    DuplicateReport,
    InvalidDate,
    InvalidInput,
    InvalidTransition,
    RequestIdReused,
    RuleViolation,
    UnknownMunicipality,
    UnknownOffer,
    UnknownOfficial,
    UnknownSession,
)
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
