"""How ``mma serve`` runs uvicorn: a header timeout on every connection, and the app made
anew in each worker process when there are several.

uvicorn closes idle keep-alive connections itself (``timeout_keep_alive``) but waits forever
for a request whose headers never finish; :class:`HeaderTimeoutProtocol` closes a connection
whose request line and headers have not all arrived within ``header_timeout`` seconds of the
connection opening (or of the previous response ending).

With ``--workers N`` uvicorn starts N processes, each importing :func:`worker_app`, which
reads what ``mma serve`` decided from the environment (``MMA_WEB_SERVE``, JSON: the store,
the root path and the limits; tokens come from ``MMA_WEB_TOKENS`` and ``mma.toml`` as in the
parent) and opens the store itself. Sessions, the login throttle, answer links and the form
secret are in the store, so it does not matter which worker a request reaches.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import h11
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_TIMEOUT = 10.0  # seconds for a request's line and headers
IDLE_TIMEOUT = 5  # seconds an idle keep-alive connection stays open
SERVE_ENV = "MMA_WEB_SERVE"


class HeaderTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request's headers."""

    def __init__(self, config: Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.header_timeout = header_timeout(config)
        self._header_task: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        if not self.transport.is_closing():
            self._header_task = self.loop.call_later(self.header_timeout, self._headers_late)

    def _disarm(self) -> None:
        if self._header_task is not None:
            self._header_task.cancel()
            self._header_task = None

    def _headers_late(self) -> None:
        self._header_task = None
        # IDLE: no request line and headers complete since the timer was armed.
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


def header_timeout(config: Config) -> float:
    """The config's own (a test's server), else what ``mma serve`` decided, else the default."""
    value = getattr(config, "mma_header_timeout", None)
    if value is None:
        value = json.loads(os.environ.get(SERVE_ENV) or "{}").get("header_timeout")
    return float(value if value is not None else HEADER_TIMEOUT)


def serve_settings(**settings: Any) -> None:
    """Hand the settings to the worker processes (through the environment they inherit)."""
    os.environ[SERVE_ENV] = json.dumps(settings)


def worker_app() -> Any:
    """The app of one worker process (``uvicorn --factory``)."""
    import atexit

    from mma_core.plugin_api import load_config, open_programme
    from mma_web.app import create_app
    from mma_web.tokens import load_tokens

    settings = json.loads(os.environ[SERVE_ENV])
    url = settings["store"]
    config = load_config(url)
    web: Any = config.data.get("web")
    tokens = load_tokens(os.environ, web if isinstance(web, dict) else None)
    programme = open_programme(url, config=config, origin="web")
    atexit.register(programme.close)
    return create_app(
        programme,
        tokens,
        root_path=settings.get("root_path", ""),
        max_body=int(settings["max_body"]),
        streams_per_caller=int(settings["streams_per_caller"]),
    )
