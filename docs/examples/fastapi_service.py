"""A FastAPI service embedding mma_core: the worked example of docs/embedding.md.

Run it with ``MMA_STORE=sqlite:///mma.sqlite uvicorn fastapi_service:app`` (``pip install
fastapi uvicorn``). It shows the four things every such service needs:

- errors answered with the HTTP status their class carries (never by parsing the message);
- ``Idempotency-Key`` passed on as ``request_id``: a client that retries after a timeout
  gets the first answer, and nothing is recorded twice;
- read-your-writes: a command answers with the positions it wrote, a query may ask to wait
  until the read models include one (``min_position``);
- a follow endpoint (long polling) over the event log, resumable by position.

The tests (tests/e2e/test_fastapi_example.py) run it, and check it with ``mypy --strict``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Annotated

from fastapi import FastAPI, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from mma_core import DomainError, JSONObject, Programme, StoreUnavailable

MAX_WAIT = 30.0  # seconds a follow request may hold the connection


class Answer(BaseModel):
    on: date
    by: str


class Report(BaseModel):
    received_on: date
    category: str
    reference: str
    by: str


def create_app(url: str) -> FastAPI:
    # One Programme for the whole service: it may be shared by FastAPI's worker threads.
    programme = Programme.open(url, origin="case-system")

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        programme.close()

    app = FastAPI(title="MMA programme", lifespan=lifespan)
    # Routes return to_dict() values (JSON types only). Their JSON Schemas are generated into
    # docs/schemas/results/; response_model=None keeps FastAPI from re-validating them.

    async def broken_rule(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, DomainError)
        # Each error class carries its status (docs/embedding.md's table is made from them).
        return JSONResponse(status_code=error.http_status, content=error.to_dict())

    async def store_unavailable(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StoreUnavailable)
        return JSONResponse(status_code=503, content=error.to_dict(), headers={"Retry-After": "1"})

    app.add_exception_handler(DomainError, broken_rule)
    app.add_exception_handler(StoreUnavailable, store_unavailable)

    def written(result: str, request_id: str | None) -> JSONObject:
        """A command's answer: its result and, with a request id, the positions it wrote."""
        receipt = programme.receipt(request_id) if request_id is not None else None
        if receipt is None:
            return {"result": result, "position": programme.last_position()}
        return {"result": result, "position": receipt.last_position, "receipt": receipt.to_dict()}

    @app.post("/municipalities/{code}/accept", response_model=None)
    def accept(
        code: str,
        answer: Answer,
        idempotency_key: Annotated[str | None, Header()] = None,
    ) -> JSONObject:
        result = programme.accept(code, on=answer.on, by=answer.by, request_id=idempotency_key)
        return written(result, idempotency_key)

    @app.post("/municipalities/{code}/reports", response_model=None)
    def record_report(
        code: str,
        report: Report,
        idempotency_key: Annotated[str | None, Header()] = None,
    ) -> JSONObject:
        result = programme.record_report(
            code,
            received_on=report.received_on,
            category=report.category,
            reference=report.reference,
            by=report.by,
            request_id=idempotency_key,
        )
        return written(result, idempotency_key)

    @app.get("/municipalities/{code}", response_model=None)
    def municipality(code: str, min_position: int | None = None) -> JSONObject:
        if min_position is not None:
            programme.wait_for(min_position, timeout=5.0)  # read this client's own writes
        return programme.municipality(code).to_dict()

    @app.get("/overview", response_model=None)
    def overview(min_position: int | None = None) -> JSONObject:
        if min_position is not None:
            programme.wait_for(min_position, timeout=5.0)
        return programme.overview(cost_lines=False).to_dict()

    @app.get("/events", response_model=None)
    def events(
        after: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        wait: Annotated[float | None, Query(ge=0, le=MAX_WAIT)] = None,
    ) -> JSONObject:
        """Long polling: the events after ``after``; with ``wait``, up to that many seconds
        for new ones. Resume with ``after`` = the last ``position`` received."""
        records = [r.to_dict() for r in programme.follow(after, limit=limit, wait=wait)]
        last: int = programme.last_position()
        return {"events": list(records), "last_position": last}

    @app.get("/health")
    def health() -> JSONResponse:
        report = programme.health()
        return JSONResponse(status_code=200 if report.ok else 503, content=report.to_dict())

    return app


if "MMA_STORE" in os.environ:  # pragma: no cover - for uvicorn
    app = create_app(os.environ["MMA_STORE"])
