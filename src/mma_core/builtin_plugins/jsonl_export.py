"""JSON Lines exporter: one JSON object per row; amounts as strings, dates as ISO 8601."""

from __future__ import annotations

import json
from typing import IO

from mma_core.exporting import VIEWS, ExportSource
from mma_core.hookspecs import HOOK_API_VERSION, PluginInfo, RegisterExporter, hookimpl
from mma_core.jsonable import jsonable


class JsonLinesExporter:
    format = "jsonl"
    suffix = ".jsonl"
    views: tuple[str, ...] = VIEWS
    shareable_views: tuple[str | None, ...] = (None, "status", "ledger")

    def export(self, source: ExportSource, view: str | None, out: IO[bytes]) -> None:
        table = source.table(view or "status")
        for row in table.dicts():
            line = json.dumps({k: jsonable(v) for k, v in row.items()}, ensure_ascii=False)
            out.write(line.encode("utf-8") + b"\n")


@hookimpl
def mma_plugin_info() -> PluginInfo:
    return PluginInfo(name="jsonl", api_version=HOOK_API_VERSION, description="JSON Lines exports")


@hookimpl
def mma_register_exporters(register: RegisterExporter) -> None:
    register(JsonLinesExporter())
