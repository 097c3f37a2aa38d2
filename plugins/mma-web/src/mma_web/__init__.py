"""The mma_core programme over HTTP: JSON API, server-sent events, metrics and Dutch web pages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from mma_web.app import create_app
    from mma_web.tokens import Principal, TokenTable

__all__ = ["Principal", "TokenTable", "create_app"]


def __getattr__(name: str) -> Any:
    # FastAPI is imported on first use, not when 'mma' loads the plugin for any command.
    if name == "create_app":
        from mma_web.app import create_app

        return create_app
    if name in ("Principal", "TokenTable"):
        from mma_web import tokens

        return getattr(tokens, name)
    raise AttributeError(f"module 'mma_web' has no attribute {name!r}")
