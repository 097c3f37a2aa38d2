"""The ASGI application: one ``Programme``, its tokens, the API, the pages and the probes.

Access is decided in one place, :func:`authenticate`, before any route reads its arguments: a
write without a token is 401 and a write with a viewer's token 403 whatever the body holds.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse

from mma_core import Programme
from mma_web import errors
from mma_web.api import build_router
from mma_web.errors import PROBLEM, Forbidden, Unauthorized, problem
from mma_web.links import LinkStore
from mma_web.metrics import Metrics
from mma_web.models import Health, Problem
from mma_web.pages import ROOT, build_pages, redirect
from mma_web.sessions import SESSION_COOKIE, Sessions
from mma_web.tokens import Principal, TokenTable

OPEN_PATHS = frozenset({"/health", "/ready", "/login", "/favicon.ico"})
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
API = "/api/"


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authenticate(request: Request) -> Principal | None:
    """The caller: a bearer token for the API and metrics, the session cookie for pages."""
    tokens: TokenTable = request.app.state.tokens
    token = bearer(request)
    if token is not None:
        return tokens.lookup(token)
    if request.url.path.startswith(API):
        return None
    sessions: Sessions = request.app.state.sessions
    return sessions.principal(request.cookies.get(SESSION_COOKIE))


def create_app(
    programme: Programme,
    tokens: TokenTable,
    *,
    links: LinkStore | None = None,
    secure_cookies: bool = True,
    root_path: str = "",
) -> FastAPI:
    """The app over ``programme``. ``tokens`` decides who may do what (see ``docs/web.md``)."""

    app = FastAPI(
        title="mma_core web API",
        version="1",
        summary="The programme that connects every municipality to Meld Misdaad Anoniem.",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
        root_path=root_path,
    )
    app.state.programme = programme
    app.state.tokens = tokens
    app.state.sessions = Sessions(secure=secure_cookies)
    app.state.links = links if links is not None else LinkStore.for_programme(programme)
    app.state.metrics = Metrics(programme)
    app.state.form_secret = secrets.token_bytes(32)
    errors.install(app)
    app.include_router(build_router())
    app.include_router(build_pages())

    @app.middleware("http")
    async def access(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        ROOT.set(request.scope.get("root_path", ""))
        path = request.scope["path"].removeprefix(ROOT.get()) or "/"
        request.state.principal = None
        if path not in OPEN_PATHS and not path.startswith("/antwoord/"):
            principal = authenticate(request)
            if principal is None:
                if path.startswith(API) or path == "/metrics" or request.method != "GET":
                    app.state.metrics.errors.labels("unauthorized").inc()
                    detail = "give a valid token: 'Authorization: Bearer TOKEN'"
                    return problem(401, "unauthorized", detail)
                return redirect("/login")
            writes = path.startswith(API) and request.method in WRITE_METHODS
            if writes and not principal.can_record:
                app.state.metrics.errors.labels("forbidden").inc()
                detail = f"role {principal.role.value} cannot record; a coordinator can"
                return problem(403, "forbidden", detail)
            request.state.principal = principal
        response = await call_next(request)
        route = request.scope.get("route")
        label = getattr(route, "path", "unmatched")
        app.state.metrics.latency.labels(label, request.method).observe(
            time.perf_counter() - started
        )
        return response

    @app.get("/health", response_model=Health, tags=["probes"])
    def health() -> Health:
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


def new_token() -> str:
    return secrets.token_urlsafe(24)


__all__ = ["PROBLEM", "Forbidden", "Unauthorized", "create_app", "new_token"]
