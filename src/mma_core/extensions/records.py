"""What the plugin manager knows about each plugin and each hook call: the records ``mma plugins``
lists, the failures of hook implementations and the calls a monitor sees. Plain values, so the
manager and the typed hook calls both use them without importing each other."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from mma_core.extensions.values import PluginInfo

__all__ = ["BLOCKED", "BROKEN", "LOADED", "HookCall", "HookFailure", "PluginRecord", "describe"]

LOADED, BLOCKED, BROKEN = "loaded", "blocked", "broken"


@attrs.define
class PluginRecord:
    """One plugin as ``mma plugins`` lists it."""

    name: str
    source: str  # "entry point", "built-in" or "manual"
    package: str | None = None
    version: str | None = None
    status: str = LOADED
    error: str | None = None
    info: PluginInfo | None = None
    hooks: list[str] = attrs.field(factory=list)
    registered: dict[str, list[str]] = attrs.field(factory=dict)
    errors: list[str] = attrs.field(factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "package": self.package,
            "version": self.version,
            "status": self.status,
            "error": self.error,
            "api_version": None if self.info is None else self.info.api_version,
            "description": None if self.info is None else self.info.description,
            "hooks": sorted(self.hooks),
            "registered": {k: sorted(v) for k, v in sorted(self.registered.items()) if v},
            "errors": list(self.errors),
        }


@attrs.frozen
class HookFailure:
    """An implementation that raised; ``error`` holds the exception type only, never its
    message, because a message may carry data that must not be logged."""

    plugin: str
    hook: str
    error: str


@attrs.frozen
class HookCall:
    """One call of one plugin's hook implementation, as a monitor sees it."""

    hook: str
    plugin: str
    arguments: Mapping[str, Any]
    result: Any
    error: BaseException | None


def describe(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text and text[0] else type(error).__name__
