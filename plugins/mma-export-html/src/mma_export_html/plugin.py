"""The ``mma-export-html`` plugin: registers the ``html`` exporter."""

from __future__ import annotations

from mma_core.plugin_api import (
    HOOK_API_VERSION,
    PluginInfo,
    PluginSettings,
    RegisterExporter,
    Setting,
    hookimpl,
)
from mma_export_html.exporter import LANGUAGES, HtmlExporter

NAME = "mma-export-html"
settings = PluginSettings(NAME)
mma_configure = settings.mma_configure


@hookimpl
def mma_plugin_info() -> PluginInfo:
    return PluginInfo(
        name=NAME,
        api_version=HOOK_API_VERSION,
        description="html: one self-contained report (charts, map, tables)",
        config={
            "lang": Setting(
                "str",
                default="nl",
                choices=LANGUAGES,
                help="report language (env MMA_REPORT_LANG overrides)",
            ),
        },
    )


@hookimpl
def mma_register_exporters(register: RegisterExporter) -> None:
    register(HtmlExporter(default_lang=settings.get("lang") or "nl"))
