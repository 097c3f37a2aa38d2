"""The ASGI application: one ``Programme``, its tokens, the API, the pages and the probes.

Access is decided in one place, :func:`authenticate` in the access middleware, before any route
reads its arguments: a write without a token is 401 and a write with a viewer's token 403
whatever the body holds. The API takes a bearer token only (never the session cookie), under
any root path; pages take the session cookie.

Every response that can carry personal data says ``Cache-Control: no-store``; a request body
over the limit is 413 before it is read whole; answer-link tokens are cut from the logs.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mma_core import Programme
from mma_core.plugin_api import translator
from mma_web import errors
from mma_web.api import build_router
from mma_web.db import Database
from mma_web.errors import PROBLEM, Forbidden, Unauthorized, problem
from mma_web.links import LinkStore
from mma_web.metrics import Metrics
from mma_web.models import Health, Problem
from mma_web.pages import ROOT, build_pages, install_error_pages, redirect, refused_origin
from mma_web.sessions import SESSION_COOKIE, BearerThrottle, Sessions, Throttle, secret_of
from mma_web.streams import STREAMS_PER_CALLER, Broadcaster
from mma_web.tokens import Principal, TokenTable
from mma_web.tokens import new_token as new_token
from mma_web.turns import Turns

_ = translator("mma_web")
OPEN_PATHS = frozenset({"/health", "/ready", "/login", "/favicon.ico"})
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
API = "/api/"
MAX_BODY = 1024 * 1024  # bytes of a request body
_LINK_TOKEN = re.compile(r"(/antwoord/)[^/?#\s\"]+")


def without_link_tokens(text: str) -> str:
    """``text`` with every answer-link token cut off: ``/antwoord/…``."""
    return _LINK_TOKEN.sub(r"\1…", text)


class LinkTokenFilter(logging.Filter):
    """Cuts answer-link tokens from log records (uvicorn's access log passes the path as an
    argument; our own messages as text)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and "/antwoord/" in record.msg:
            record.msg = without_link_tokens(record.msg)
        if isinstance(record.args, tuple) and any(
            isinstance(a, str) and "/antwoord/" in a for a in record.args
        ):
            record.args = tuple(
                without_link_tokens(a) if isinstance(a, str) else a for a in record.args
            )
        return True


LOGGERS = ("uvicorn.access", "uvicorn.error", "uvicorn", "mma_web")


def install_log_filter() -> None:
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, LinkTokenFilter) for f in logger.filters):
            logger.addFilter(LinkTokenFilter())


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authenticate(request: Request, path: str) -> Principal | None:
    """The caller: a bearer token for the API and metrics, the session cookie for pages.
    ``path`` is the path within the app (without the root path)."""
    tokens: TokenTable = request.app.state.tokens
    token = bearer(request)
    if token is not None:
        return tokens.lookup(token)
    if path.startswith(API) or path == "/metrics":
        return None  # bearer only, under any root path
    sessions: Sessions = request.app.state.sessions
    return sessions.principal(request.cookies.get(SESSION_COOKIE))


class BodyLimit:
    """413 for a request body over ``limit`` bytes: at once when its Content-Length says so,
    else as soon as more than that has arrived (the rest is never read)."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    length = 0
                if length > self.limit:
                    response = problem(413, "body_too_large", self.detail())
                    response.headers["Connection"] = "close"
                    await response(scope, receive, send)
                    return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise HTTPException(413, self.detail())
            return message

        await self.app(scope, limited, send)

    def detail(self) -> str:
        return _("the request body is over {limit} bytes").format(limit=self.limit)


async def decide(request: Request, path: str) -> Response | None:
    """``None`` to let the request through (``request.state.principal`` set), else the
    refusal."""
    metrics: Metrics = request.app.state.metrics
    if path in OPEN_PATHS or path == "/antwoord" or path.startswith("/antwoord/"):
        return None
    token = bearer(request)
    if token is None and not (path.startswith(API) or path == "/metrics"):
        # A page: the session is in the store, so it is read in the thread pool.
        principal = await run_in_threadpool(authenticate, request, path)
        if principal is not None and request.method != "GET":
            refusal: Response | None = refused_origin(request)
            if refusal is not None:
                return refusal
    else:
        # As authenticate decides it: the bearer token, looked up once (a SHA-256 of it).
        principal = None if token is None else request.app.state.tokens.lookup(token)
        refusal = await bearer_refusal(request, token, principal)
        if refusal is not None:
            return refusal
    if principal is None:
        if path.startswith(API) or path == "/metrics" or request.method != "GET":
            metrics.errors.labels("unauthorized").inc()
            detail = _("give a valid token: 'Authorization: Bearer TOKEN'")
            return problem(401, "unauthorized", detail)
        return redirect("/login")
    writes = path.startswith(API) and request.method in WRITE_METHODS
    if writes and not principal.can_record:
        metrics.errors.labels("forbidden").inc()
        detail = _("role {role} cannot record; a coordinator can").format(role=principal.role.value)
        return problem(403, "forbidden", detail)
    request.state.principal = principal
    return None


def client_address(request: Request) -> str:
    return request.client.host if request.client is not None else "-"


async def bearer_refusal(
    request: Request, token: str | None, principal: Principal | None
) -> Response | None:
    """429 for a bearer request from an address that sent too many unknown tokens (or failed
    too many logins); an unknown token (``principal`` ``None``: its look-up found no one) is
    counted, and may be the one that refuses it. A known token from an address not refused
    reads nothing from the store."""
    if token is None:
        return None
    throttle: BearerThrottle = request.app.state.bearer_throttle
    if throttle.stale():
        await run_in_threadpool(throttle.read)
    address = client_address(request)
    wait = throttle.retry_after(address)
    if wait is None and principal is None:
        wait = await run_in_threadpool(throttle.failed, address)
    if wait is None:
        return None
    request.app.state.metrics.errors.labels("too_many_requests").inc()
    detail = "too many unknown tokens from this address; try again later"
    return problem(429, "too_many_requests", detail, headers={"Retry-After": str(wait)})


class Access:
    """Who may do what, decided before any route reads its arguments (:func:`decide`); then
    ``Cache-Control: no-store`` on every response that says nothing else, and its latency.
    Plain ASGI: a response is passed on as it is sent, never buffered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        ROOT.set(scope.get("root_path", ""))
        path = scope["path"].removeprefix(ROOT.get()) or "/"
        request = Request(scope, receive)
        request.state.principal = None
        metrics: Metrics = scope["app"].state.metrics

        async def send_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Anything may name people: no cache (a proxy's or the browser's) keeps it.
                headers = MutableHeaders(scope=message)
                if "cache-control" not in headers:
                    headers.append("Cache-Control", "no-store")
                label = getattr(scope.get("route"), "path", "unmatched")
                metrics.latency.labels(label, scope["method"]).observe(
                    time.perf_counter() - started
                )
            await send(message)

        refusal = await decide(request, path)
        if refusal is not None:
            await refusal(scope, receive, send_no_store)
        else:
            await self.app(scope, receive, send_no_store)


def own_origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.headers.get('host', '')}"


def create_app(
    programme: Programme,
    tokens: TokenTable,
    *,
    links: LinkStore | None = None,
    secure_cookies: bool = True,
    root_path: str = "",
    max_body: int = MAX_BODY,
    streams_per_caller: int = STREAMS_PER_CALLER,
    login_failures: int | None = None,
) -> FastAPI:
    """The app over ``programme``. ``tokens`` decides who may do what (see ``docs/web.md``)."""

    broadcaster = Broadcaster(programme, per_caller=streams_per_caller)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        install_log_filter()  # again: the server may have configured logging meanwhile
        yield
        broadcaster.stop()

    app = FastAPI(
        title="mma_core web API",
        version="1",
        summary="The programme that connects every municipality to Meld Misdaad Anoniem.",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
        root_path=root_path,
        lifespan=lifespan,
    )
    install_log_filter()
    database = Database.for_programme(programme)
    secret = secret_of(database)
    app.state.programme = programme
    app.state.tokens = tokens
    app.state.sessions = Sessions(database, tokens, secure=secure_cookies)
    app.state.throttle = (
        Throttle(database, secret)
        if login_failures is None
        else Throttle(database, secret, failures=login_failures)
    )
    app.state.bearer_throttle = BearerThrottle(app.state.throttle)
    app.state.links = links if links is not None else LinkStore(database)
    app.state.metrics = Metrics(programme)
    app.state.form_secret = secret
    app.state.broadcaster = broadcaster
    app.state.turns = Turns(programme)  # the API's commands, per municipality in turns
    errors.install(app)
    install_error_pages(app)  # a page's 404 in Dutch HTML; the API keeps its problem details
    # The API's routes go onto the app's own router, in the place an included router would
    # hold them: FastAPI matches an included router's routes through a wrapper of each, twice a
    # request, which cost a command about a tenth of its CPU in the server. Each route is
    # complete when made (its path with the prefix, its responses, its operation id).
    app.router.routes.extend(build_router(dependency_overrides_provider=app).routes)
    app.include_router(build_pages())
    app.add_middleware(BodyLimit, limit=max_body)

    app.add_middleware(Access)

    @app.get("/health", response_model=Health, tags=["probes"])
    async def health() -> Health:
        """The process answers (no store access, no data)."""
        return Health(status="ok")

    @app.get(
        "/ready",
        response_model=Health,
        tags=["probes"],
        responses={503: {"model": Health, "description": "the store cannot be used"}},
    )
    def ready() -> Any:
        """The store answers at this library's schema version."""
        if not programme.health().ok:
            body = Health(status="unavailable", detail="the store cannot be used")
            return JSONResponse(body.model_dump(), status_code=503)
        return Health(status="ok")

    @app.get("/metrics", tags=["probes"], include_in_schema=False)
    def metrics() -> Response:
        return Response(
            app.state.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8"
        )

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                routes=app.routes,
            )
            schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = (
                Problem.model_json_schema(ref_template="#/components/schemas/{model}")
            )
            schema["components"]["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer"}
            }
            schema["security"] = [{"bearer": []}]
            for path in OPEN_PATHS:  # the probes answer anyone: no token, no 401
                for operation in schema["paths"].get(path, {}).values():
                    operation["security"] = []
            add_links(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def add_links(schema: dict[str, Any]) -> None:
    """OpenAPI links from each command about a municipality to the queries that show its
    effect, so clients (and stateful testing) can follow a write with its read."""
    for item in schema["paths"].values():
        operation = item.get("post")
        if operation is None or "requestBody" not in operation:
            continue
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        body = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
        if "code" not in body.get("properties", {}):
            continue
        operation["responses"]["200"]["links"] = {
            name: {"operationId": name, "parameters": {"code": "$request.body#/code"}}
            for name in ("municipality", "history")
        }


__all__ = ["PROBLEM", "Forbidden", "Unauthorized", "create_app", "new_token"]
