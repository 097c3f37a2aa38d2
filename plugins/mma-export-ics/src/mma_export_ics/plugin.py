"""The ``mma-export-ics`` plugin: registers the ``ics`` export format."""

from __future__ import annotations

from mma_core.plugin_api import HOOK_API_VERSION, PluginInfo, RegisterExporter, hookimpl
from mma_export_ics.exporter import IcsExporter


@hookimpl
def mma_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="mma-export-ics",
        api_version=HOOK_API_VERSION,
        description="ics: training sessions with attendees, Europe/Amsterdam",
    )


@hookimpl
def mma_register_exporters(register: RegisterExporter) -> None:
    register(IcsExporter())
