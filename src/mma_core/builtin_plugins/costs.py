"""The standard cost calculator: charges what the offer's terms say (``offer-terms``)."""

from __future__ import annotations

from mma_core.plugin_api import (
    HOOK_API_VERSION,
    OfferTermsCalculator,
    PluginInfo,
    RegisterCostCalculator,
    hookimpl,
)


@hookimpl
def mma_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="standard-costs",
        api_version=HOOK_API_VERSION,
        description="offer-terms: the connection fee, report fee and compensation of the offer",
    )


@hookimpl
def mma_register_cost_calculators(register: RegisterCostCalculator) -> None:
    register(OfferTermsCalculator())
