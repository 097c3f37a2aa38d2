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
    "ReportCategory",
    "RuleViolation",
    "Stage",
    "Terms",
    "TrainingSlot",
    "UnknownMunicipality",
    "UnknownOffer",
    "UnknownOfficial",
    "UnknownSession",
]
