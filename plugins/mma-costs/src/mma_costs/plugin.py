"""The ``mma-costs`` plugin: registers the tariff calculators and checks the Fryslân
condition that a subsidised municipality stays connected at least 24 months."""

from __future__ import annotations

from mma_core.plugin_api import (
    HOOK_API_VERSION,
    Command,
    MunicipalityView,
    PluginInfo,
    PluginSettings,
    RegisterCostCalculator,
    Setting,
    add_months,
    hookimpl,
    validates,
)
from mma_costs.profiles import (
    AmsterdamSubscription,
    NoordHollandOffer,
    PopulationBands,
    load_profiles,
)

NAME = "mma-costs"
settings = PluginSettings(NAME)
mma_configure = settings.mma_configure


@hookimpl
def mma_plugin_info() -> PluginInfo:
    return PluginInfo(
        name=NAME,
        api_version=HOOK_API_VERSION,
        description="tariffs: noord-holland-2019, fryslan-2022, amsterdam-2017",
        config={
            "noord_holland_connection_fee": Setting(
                "decimal", help="connection fee paid by the province, e.g. '1250.00'"
            ),
            "noord_holland_report_fee": Setting(
                "decimal", help="fee per report paid by the municipality"
            ),
            "noord_holland_compensation_cap": Setting(
                "decimal", help="most compensated for a prior connection (default: no cap)"
            ),
        },
    )


@hookimpl
def mma_register_cost_calculators(register: RegisterCostCalculator) -> None:
    profiles = load_profiles()
    register(
        NoordHollandOffer(
            settings.get("noord_holland_connection_fee"),
            settings.get("noord_holland_report_fee"),
            settings.get("noord_holland_compensation_cap"),
        )
    )
    register(PopulationBands(profiles["fryslan-2022"]))
    register(AmsterdamSubscription(profiles["amsterdam-2017"]))


@hookimpl
@validates("terminate")
def mma_validate_command(command: Command, municipality: MunicipalityView | None) -> list[str]:
    """A municipality whose connection the Fryslân scheme paid stays connected 24 months."""
    if command.name != "terminate" or municipality is None:
        return []
    subsidised = [
        entry
        for entry in municipality.costs
        if entry.line.calculator == PopulationBands.name and entry.line.kind.value == "connection"
    ]
    if not subsidised or municipality.connected_on is None:
        return []
    months = int(load_profiles()["fryslan-2022"]["minimum_months"])
    earliest = add_months(municipality.connected_on, months)
    on = command.arguments.get("on")
    if on is not None and on < earliest:
        return [
            f"{municipality.name} ({municipality.code}) was connected with the Fryslân 2022 "
            f"subsidy on {municipality.connected_on.isoformat()} and must stay connected at "
            f"least {months} months; terminate on {earliest.isoformat()} or later"
        ]
    return []
