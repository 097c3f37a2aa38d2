"""Tariff profiles for mma_core, as data (``tariffs.toml``), priced by cost calculators."""

from mma_costs.profiles import (
    AmsterdamSubscription,
    NoordHollandOffer,
    PopulationBands,
    load_profiles,
)

__all__ = ["AmsterdamSubscription", "NoordHollandOffer", "PopulationBands", "load_profiles"]
