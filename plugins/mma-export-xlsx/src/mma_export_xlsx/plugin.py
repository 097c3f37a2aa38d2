"""The ``mma-export-xlsx`` plugin: registers the ``xlsx`` export format."""

from __future__ import annotations

from mma_core.plugin_api import HOOK_API_VERSION, PluginInfo, RegisterExporter, hookimpl
from mma_export_xlsx.exporter import XlsxExporter


@hookimpl
def mma_plugin_info() -> PluginInfo:
    return PluginInfo(
        name="mma-export-xlsx",
        api_version=HOOK_API_VERSION,
        description="xlsx: status, ledger and roster sheets with typed cells",
    )


@hookimpl
def mma_register_exporters(register: RegisterExporter) -> None:
    register(XlsxExporter())
