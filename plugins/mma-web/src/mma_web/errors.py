"""Errors as RFC 9457 problem details (``application/problem+json``) with the stable ``code``.

A ``DomainError`` keeps its code and message (messages never hold personal data); the HTTP
status is the one its class gives (``http_status``, the embedding guide's table). A transient
store failure (``StoreUnavailable``, ``StoreBusy``) is 503 with ``Retry-After``; a permanent one
(``StoreMisconfigured``, ``StoreForbidden``) is 500 with its code, for an operator to act on.
Neither says more of the store than its code; anything else is 500 with nothing of the error in
the body (it is logged). A 405 says in ``Allow`` which methods the path has.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from mma_core import DomainError, StoreError
from mma_core.plugin_api import translator

_ = translator("mma_web")
log = logging.getLogger("mma_web")
PROBLEM = "application/problem+json"
TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    410: "Gone",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}
_PROBLEM_SCHEMA = {"$ref": "#/components/schemas/Problem"}
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": TITLES[status], "content": {PROBLEM: {"schema": _PROBLEM_SCHEMA}}}
    for status in (400, 401, 403, 404, 409, 413, 415, 422, 429, 500, 503)
}


class ApiError(Exception):
    """An error the web layer itself raises (not the domain's)."""

    status = 400
    code = "bad_request"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class Unauthorized(ApiError):
    status = 401
    code = "unauthorized"


class NotFound(ApiError):
    status = 404
    code = "not_found"


class Forbidden(ApiError):
    status = 403
    code = "forbidden"


class UnsupportedMediaType(ApiError):
    status = 415
    code = "unsupported_media_type"


RETRY_AFTER = 5  # seconds a client waits before retrying after a transient store failure


class TooManyRequests(ApiError):
    status = 429
    code = "too_many_requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {
        "type": "about:blank",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
        **{k: v for k, v in extra.items() if v is not None},
    }
    headers = dict(headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="mma"'
    if status == 503:
        headers["Retry-After"] = str(RETRY_AFTER)
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def domain_problem(error: DomainError) -> JSONResponse:
    return problem(
        error.http_status,
        error.code,
        str(error),
        municipality=error.municipality,
        details=error.details or None,
    )


def is_store_failure(error: BaseException) -> bool:
    return isinstance(error, StoreError)


def store_problem(error: StoreError) -> JSONResponse:
    """The status of the error's class: 503 with Retry-After for a transient failure, 500 with
    the code for a permanent one."""
    if error.transient:
        detail = _("the store cannot be used for now; try again later")
    else:
        detail = _("the store cannot be used as configured; the operator must act")
    return problem(error.http_status, error.code, detail)


def _leaf_routes(routes: Iterable[Any]) -> Iterator[Any]:
    """Every route with a path and methods, also those of the routers the app includes
    (FastAPI keeps an included router as one entry, its routes under ``original_router``)."""
    for route in routes:
        inner = getattr(getattr(route, "original_router", None), "routes", None)
        if inner is None and not hasattr(route, "path_regex"):
            inner = getattr(route, "routes", None)
        if inner is not None:
            yield from _leaf_routes(inner)
        elif hasattr(route, "path_regex"):
            yield route


def allowed_methods(request: Request, named: str = "") -> str:
    """The methods of every route at the request's path, for a 405's ``Allow``: the router
    names only the first route it found there (``named``), and GET and POST may be two."""
    methods = {m.strip() for m in named.split(",") if m.strip()}
    path, root = request.scope["path"], request.scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]  # the routes' paths are within the root path
    for route in _leaf_routes(request.app.router.routes):
        if route.path_regex.match(path) and getattr(route, "methods", None):
            methods.update(route.methods)
    return ", ".join(sorted(methods))


def validation_detail(errors: list[dict[str, Any]]) -> str:
    """What is wrong with a request, said once: a body that is no JSON, or not an object, gets
    a sentence of its own; else the first field and what is wrong with it."""
    if not errors:
        return _("the request does not fit the API's schema")
    first = errors[0]
    location = tuple(first["loc"])
    if first["type"] == "json_invalid":
        where = location[1] if len(location) > 1 else "?"
        return _("the body is not JSON (at character {where}): {error}").format(
            where=where, error=first["error"] or first["msg"]
        )
    if location == ("body",):
        return _("the body must be a JSON object with the command's arguments by name")
    return f"{'.'.join(location)}: {first['msg']}"


def install(app: FastAPI) -> None:
    """Every error of the API as problem+json."""

    async def on_domain(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, DomainError)
        request.app.state.metrics.errors.labels(error.code).inc()
        return domain_problem(error)

    async def on_api(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, ApiError)
        request.app.state.metrics.errors.labels(error.code).inc()
        retry = getattr(error, "retry_after", None)
        headers = None if retry is None else {"Retry-After": str(retry)}
        return problem(error.status, error.code, error.detail, headers=headers)

    async def on_validation(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        request.app.state.metrics.errors.labels("invalid_request").inc()
        found = [
            {
                "loc": [str(part) for part in e.get("loc", ())],
                "msg": str(e.get("msg", "")),
                "type": str(e.get("type", "")),
                "error": str((e.get("ctx") or {}).get("error", "")),
            }
            for e in error.errors()
        ]
        detail = validation_detail(found)
        errors = [{"loc": e["loc"], "msg": e["msg"]} for e in found]
        return problem(422, "invalid_request", detail, errors=errors)

    async def on_http(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        codes = {
            400: "bad_request",
            404: "not_found",
            405: "method_not_allowed",
            413: "body_too_large",
        }
        code = codes.get(error.status_code, "http_error")
        headers = dict(error.headers or {})
        if error.status_code == 405:
            headers["Allow"] = allowed_methods(request, headers.get("Allow", ""))
        return problem(error.status_code, code, str(error.detail), headers=headers)

    async def on_other(request: Request, error: Exception) -> JSONResponse:
        if isinstance(error, StoreError):
            request.app.state.metrics.errors.labels(error.code).inc()
            log.warning("store failure %s: %s", error.code, type(error).__name__)
            return store_problem(error)
        request.app.state.metrics.errors.labels("internal_error").inc()
        # The path as the route names it: an answer link's token is never written down.
        route = getattr(request.scope.get("route"), "path", "unmatched")
        log.exception("unexpected error in %s %s", request.method, route)
        return problem(500, "internal_error", "an unexpected error; it has been logged")

    app.add_exception_handler(DomainError, on_domain)
    app.add_exception_handler(ApiError, on_api)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_other)
