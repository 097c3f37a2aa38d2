"""How ``mma serve`` runs uvicorn: a header timeout on every connection, and the app made
anew in each worker process when there are several.

uvicorn closes idle keep-alive connections itself (``timeout_keep_alive``) but waits forever
for a request whose headers never finish; :class:`HeaderTimeoutProtocol` closes a connection
whose request line and headers have not all arrived within ``header_timeout`` seconds of the
connection opening (or of the previous response ending). It is uvicorn's httptools protocol
(a C parser: the protocol's own CPU per request is about a fifth of h11's, 0.02 ms against
0.10); h11's limit on the size of a request's line and headers, which httptools lacks, it
keeps: over :data:`MAX_HEADER_BYTES` is 400 and the connection closed, as h11 answered.

With ``--workers N`` uvicorn starts N processes, each importing :func:`worker_app`, which
reads what ``mma serve`` decided from the environment (``MMA_WEB_SERVE``, JSON: the store,
the root path and the limits; tokens come from ``MMA_WEB_TOKENS`` and ``mma.toml`` as in the
parent) and opens the store itself. Sessions, the login throttle, answer links and the form
secret are in the store, so it does not matter which worker a request reaches.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import os
from typing import Any

from uvicorn.config import LOGGING_CONFIG, Config
from uvicorn.logging import AccessFormatter as UvicornAccessFormatter
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEADER_TIMEOUT = 10.0  # seconds for a request's line and headers
IDLE_TIMEOUT = 5  # seconds an idle keep-alive connection stays open
MAX_HEADER_BYTES = 16 * 1024  # a request's line and headers, as h11 allowed them
SERVE_ENV = "MMA_WEB_SERVE"


class HeadersTooLarge(Exception):
    """A request's line and headers are over :data:`MAX_HEADER_BYTES` (the parser's callback
    raises it; uvicorn answers 400 and closes)."""


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline for each request's headers, and a limit
    on their size.

    The deadline is armed when the connection opens and again when a response ends. When it
    passes, the connection is closed unless a request whose headers have all arrived is being
    answered (``self.cycle``: uvicorn's current request, the latest whose headers arrived).
    One timer at a time: a response that ends moves the deadline, and the timer, when it
    fires early, waits for the deadline it finds (cheaper than a new timer per request)."""

    def __init__(self, config: Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self.header_timeout = header_timeout(config)
        self._deadline = 0.0
        self._header_timer: asyncio.TimerHandle | None = None
        self._header_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def handle_websocket_upgrade(self) -> None:
        self._disarm()  # another protocol now has the connection
        super().handle_websocket_upgrade()

    # Parser callbacks: count the request line's target and the headers.
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_bytes = 0

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)  # ": " and CRLF
        super().on_header(name, value)

    def _count(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > MAX_HEADER_BYTES:
            raise HeadersTooLarge

    def _arm(self) -> None:
        if self.transport.is_closing():
            return
        self._deadline = self.loop.time() + self.header_timeout
        if self._header_timer is None:
            self._header_timer = self.loop.call_at(self._deadline, self._headers_late)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        if self._deadline - self.loop.time() > 0.001:  # armed again since: a later deadline
            self._header_timer = self.loop.call_at(self._deadline, self._headers_late)
            return
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a request is being answered: its response's end arms the deadline
        self.transport.close()


ACCESS_FORMAT = LOGGING_CONFIG["formatters"]["access"]["fmt"]


class AccessFormatter(UvicornAccessFormatter):
    """uvicorn's access log line, the same text, made in one step: uvicorn's copies the record
    twice and formats it through a dict (7 µs a request here, this one 2). With colours (a
    terminal) or another format, uvicorn's own."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        if self.use_colors or self._fmt != ACCESS_FORMAT or not isinstance(record.args, tuple):
            return super().formatMessage(record)
        client_addr, method, full_path, http_version, status_code = record.args
        level = record.levelname
        return (
            f"{level}:{' ' * (8 - len(level))} {client_addr} - "
            f'"{method} {full_path} HTTP/{http_version}" '
            f"{self.get_status_code(int(status_code))}"  # type: ignore[call-overload]
        )


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration, with :class:`AccessFormatter` for the access log."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["access"]["()"] = f"{__name__}.AccessFormatter"
    return config


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
