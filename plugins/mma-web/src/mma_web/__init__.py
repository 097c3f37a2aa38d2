"""The mma_core programme over HTTP: JSON API, server-sent events, metrics and Dutch web pages."""

from mma_web.app import create_app
from mma_web.tokens import Principal, TokenTable

__all__ = ["Principal", "TokenTable", "create_app"]
