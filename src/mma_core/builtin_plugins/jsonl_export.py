"""JSON Lines exporter: one JSON object per row; amounts as strings, dates as ISO 8601."""

from __future__ import annotations

import json
from typing import IO

from mma_core.plugin_api import (
    HOOK_API_VERSION,
    VIEWS,
    ExportSource,
    PluginInfo,
    RegisterExporter,
    hookimpl,
    jsonable,
)


class JsonLinesExporter:
    format = "jsonl"
    suffix = ".jsonl"
    views: tuple[str, ...] = VIEWS
    shareable_views: tuple[str | None, ...] = (None, "status", "ledger")

    def export(self, source: ExportSource, view: str | None, out: IO[bytes]) -> None:
        table = source.table(view or "status")
        for row in table.dicts():
            line = json.dumps(jsonable(row), ensure_ascii=False)
            out.write(line.encode("utf-8") + b"\n")


@hookimpl
def mma_plugin_info() -> PluginInfo:
    return PluginInfo(name="jsonl", api_version=HOOK_API_VERSION, description="JSON Lines exports")


@hookimpl
def mma_register_exporters(register: RegisterExporter) -> None:
    register(JsonLinesExporter())
