"""mma_core: run a programme connecting every municipality to Meld Misdaad Anoniem, with a
complete, verifiable history."""

from mma_core.application import Programme
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
from mma_core.receipts import Receipt
from mma_core.store_errors import (
    StoreBusy,
    StoreError,
    StoreForbidden,
    StoreMisconfigured,
    StoreUnavailable,
    StoreVersionError,
)

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
    "UnknownSession",
]
