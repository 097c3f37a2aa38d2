"""The JSON API under ``/api/v1/``: every command of ``Programme`` as a POST, every query as a
GET, and the event log as server-sent events.

Annotations here are evaluated when each route is made (no ``from __future__ import
annotations``): FastAPI reads them to build the request models of the generated routes.
"""

import hashlib
import json
import re
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

import attrs
from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse
from fastapi.routing import APIRoute

from mma_core import RequestIdReused
from mma_core.plugin_api import MunicipalityView, Overview, jsonable, translator
from mma_web.deps import BroadcasterDep, Caller, Links, ProgrammeDep, caller_of, programme_of
from mma_web.errors import (
    PROBLEM_RESPONSES,
    ApiError,
    Forbidden,
    NotFound,
    TooManyRequests,
    UnsupportedMediaType,
)
from mma_web.links import Link
from mma_web.models import (
    CODE_PATTERN,
    MAX_PAGE_LIMIT,
    OFFER_REFERENCE_PATTERN,
    PAGE_LIMIT,
    CommandResult,
    CommandSpec,
    CostLinesPageModel,
    EventCount,
    HistoryPage,
    IsoDate,
    IsoDateTime,
    LinkModel,
    LinkRequest,
    MunicipalityModel,
    OverviewModel,
    Revoked,
    SessionModel,
    TermsModel,
    commands,
)
from mma_web.streams import HEARTBEAT_SECONDS, MAX_POSITION, TooManyStreams, event_stream
from mma_web.tokens import Principal
from mma_web.turns import Turns, alone

_ = translator("mma_web")

ORIGIN = "web"
HIDDEN = "[verborgen]"
PERSONAL = "[personal data]"

# Visible ASCII (no spaces, no control characters), as a header carries it.
IDEMPOTENCY_KEY_PATTERN = r"^[!-~]{1,128}$"
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=IDEMPOTENCY_KEY_PATTERN,
        description="1 to 128 visible ASCII characters (a UUID, say): a retry with the same key "
        "and body returns the first result, writing nothing. Keys are the caller's own: the "
        "same key from another caller is another command",
    ),
]
CodePath = Annotated[
    str, Path(pattern=CODE_PATTERN, description="CBS code, e.g. GM0363", examples=["GM0363"])
]
AsOf = Annotated[
    IsoDate | None,
    Query(description="the business date to look at, YYYY-MM-DD (default today)"),
]
KnownAt = Annotated[
    IsoDateTime | None,
    Query(
        description="as the store knew it at this time: an ISO 8601 date and time with its "
        "offset from UTC (RFC 3339), e.g. 2020-01-01T12:00:00Z or 2020-01-01T13:00:00+01:00"
    ),
]
Limit = Annotated[
    int,
    Query(
        ge=1, le=MAX_PAGE_LIMIT, description=f"the most entries of the page (1 to {MAX_PAGE_LIMIT})"
    ),
]


def without_names(view: MunicipalityView, principal: Principal) -> MunicipalityView:
    """Officials' names and addresses only for coordinators."""
    if principal.sees_names:
        return view
    officials = tuple(attrs.evolve(o, name=HIDDEN, email=HIDDEN) for o in view.officials)
    return attrs.evolve(view, officials=officials)


async def run_command(
    request: Request, spec: CommandSpec, arguments: dict[str, Any], key: str | None
) -> CommandResult:
    """Run one command as the caller, record the metrics, and say where the log stands. The
    command runs on its municipality's thread (:mod:`mma_web.turns`), or, without a
    municipality, in the thread pool: never on the event loop."""
    programme = programme_of(request)
    principal = caller_of(request)
    if not principal.can_record:
        raise Forbidden(
            _("role {role} cannot record; a coordinator can").format(role=principal.role.value)
        )
    arguments = {**arguments, "by": principal.by, "origin": ORIGIN}
    request_id = None if key is None else scoped_request_id(principal, key)
    if request_id is not None:
        arguments["request_id"] = request_id
    method = getattr(programme, spec.name)
    code = arguments.get("code")
    try:
        if isinstance(code, str):
            turns: Turns = request.app.state.turns
            together = request_id is None
            done = await turns.run_command(code, lambda: method(**arguments), together=together)
        else:
            done = await run_in_threadpool(alone, programme, lambda: method(**arguments))
    except RequestIdReused as error:
        raise RequestIdReused(
            _(
                "Idempotency-Key {key} was used before for another command or body; a retry "
                "repeats the first request exactly, a new command needs a new key"
            ).format(key=repr(key)),
            details={"idempotency_key": key, "command": error.details.get("command")},
        ) from None
    request.app.state.metrics.commands.labels(spec.name).inc()
    receipt = None if request_id is None else await run_in_threadpool(programme.receipt, request_id)
    if receipt is not None:
        position = receipt.last_position
    elif done.position is not None:
        # The command's events are at or before it: no read of the store's latest position.
        position = done.position
    else:  # it wrote nothing here (or its events came from another process's twin)
        position = await run_in_threadpool(programme.last_position)
    return CommandResult(command=spec.name, result=done.result, request_id=key, position=position)


def scoped_request_id(principal: Principal, key: str) -> str:
    """The ``request_id`` a caller's ``Idempotency-Key`` stands for: the key within the caller's
    own scope (its role and name, or for a nameless token its fingerprint), so that two callers
    who happen to pick the same key never answer each other's commands. The scope is a digest:
    no name is written into the receipt's id."""
    scope = hashlib.sha256(f"{principal.role.value}\n{principal.by}".encode()).hexdigest()[:16]
    return f"web:{scope}:{key}"


async def json_body(request: Request) -> None:
    """415 for a request body that is not said to be JSON: another Content-Type, or none (an
    empty body is left for the schema: 422)."""
    content_type = request.headers.get("content-type")
    if content_type is None:
        if not await request.body():
            return
        content_type = ""
    media = content_type.partition(";")[0].strip().lower()
    if media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    ):
        return
    raise UnsupportedMediaType(_("the body is JSON: send it with 'Content-Type: application/json'"))


COMMAND_SPEC = "__mma_command_spec__"  # the attribute that names a command route's CommandSpec
_IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)


class CommandRoute(APIRoute):
    """A command's route: FastAPI's, with a shorter way through for a request that FastAPI
    would accept as it is. Such a request (a JSON object for the body model, a valid key if
    any) is validated as FastAPI validates it (the JSON read with ``json.loads``, the model
    in Python mode) and run; any other request goes FastAPI's own way, so every refusal is
    FastAPI's, word for word. Solving the route's dependencies cost a tenth of a served
    command's time. The OpenAPI document is FastAPI's, from the endpoint as declared."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        full = super().get_route_handler()
        spec: CommandSpec = getattr(self.endpoint, COMMAND_SPEC)

        async def handler(request: Request) -> Response:
            await json_body(request)  # the route's dependency: 415 for a body that is not JSON
            key = request.headers.get("idempotency-key") if spec.idempotent else None
            try:
                body = spec.body.model_validate(json.loads(await request.body()))
            except ValueError:  # no JSON, or not this model's: FastAPI's own answer
                return await full(request)
            if key is not None and not _IDEMPOTENCY_KEY.fullmatch(key):
                return await full(request)
            answer = await run_command(request, spec, spec.arguments(body), key)
            return Response(answer.model_dump_json(), media_type="application/json")

        return handler


def _command_route(router: APIRouter, spec: CommandSpec) -> None:
    body_type = spec.body

    # Async routes: the command runs on its municipality's thread, or in the thread pool
    # (run_command), with no second hop. The answer is a CommandResult already: written out
    # as it is (the response model stays in the OpenAPI document), not checked again.
    async def handler(
        request: Request,
        body: body_type,  # type: ignore[valid-type]
        idempotency_key: IdempotencyKey = None,
    ) -> Response:
        answer = await run_command(request, spec, spec.arguments(body), idempotency_key)
        return Response(answer.model_dump_json(), media_type="application/json")

    async def bulk_handler(request: Request, body: body_type) -> Response:  # type: ignore[valid-type]
        answer = await run_command(request, spec, spec.arguments(body), None)
        return Response(answer.model_dump_json(), media_type="application/json")

    if not spec.idempotent:  # no request_id to pass: the header is not offered
        handler = bulk_handler  # type: ignore[assignment]

    handler.__name__ = spec.name
    setattr(handler, COMMAND_SPEC, spec)
    router.add_api_route(
        f"/commands/{spec.name}",
        handler,
        methods=["POST"],
        response_model=CommandResult,
        summary=spec.summary,
        tags=["commands"],
        responses=PROBLEM_RESPONSES,
        dependencies=[Depends(json_body)],
        route_class_override=CommandRoute,
    )


def build_router(dependency_overrides_provider: Any = None) -> APIRouter:
    """The API's routes, each with its full path (``/api/v1/...``); the app takes them onto its
    own router (``dependency_overrides_provider``: the app, whose overrides they then use)."""
    router = APIRouter(
        prefix="/api/v1",
        responses=PROBLEM_RESPONSES,
        generate_unique_id_function=lambda route: route.name,
        dependency_overrides_provider=dependency_overrides_provider,
    )
    for spec in commands():
        _command_route(router, spec)

    @router.get("/municipalities", response_model=list[str], tags=["queries"])
    def codes(programme: ProgrammeDep) -> Any:
        """Every registered municipality code, in registration order."""
        return programme.codes()

    @router.get("/municipalities/{code}", response_model=MunicipalityModel, tags=["queries"])
    def municipality(
        programme: ProgrammeDep,
        caller: Caller,
        code: CodePath,
        as_of: AsOf = None,
        known_at: KnownAt = None,
    ) -> Any:
        """One municipality as of a business date and/or as the store knew it at a time."""
        view = programme.municipality(code, as_of=as_of, known_at=known_at)
        return jsonable(without_names(view, caller))

    @router.get("/municipalities/{code}/costs", response_model=CostLinesPageModel, tags=["queries"])
    def cost_lines(
        programme: ProgrammeDep,
        code: CodePath,
        as_of: AsOf = None,
        known_at: KnownAt = None,
        after: Annotated[
            int | None,
            Query(
                ge=0,
                le=MAX_POSITION,
                description="how many lines come before the page: `next` of the page before",
            ),
        ] = None,
        limit: Limit = PAGE_LIMIT,
    ) -> Any:
        """A page of the municipality's cost lines, in the order they were charged (position
        order), with its totals: `next` is the `after` of the next page, null on the last."""
        page = programme.cost_lines(code, as_of=as_of, known_at=known_at, after=after, limit=limit)
        return jsonable(page)

    @router.get("/municipalities/{code}/history", response_model=HistoryPage, tags=["queries"])
    def history(
        programme: ProgrammeDep,
        caller: Caller,
        code: CodePath,
        after: Annotated[
            int | None,
            Query(
                ge=0,
                le=MAX_POSITION,
                description="the log position the page starts after: `next` of the page before",
            ),
        ] = None,
        limit: Limit = PAGE_LIMIT,
    ) -> Any:
        """A page of the municipality's events, in the order the store recorded them
        (coordinators and auditors): `next` is the `after` of the next page, null on the
        last."""
        if not caller.can_read_history:
            raise Forbidden(_("only coordinators and auditors read the history"))
        # One more than the page: whether another page follows, without an empty last page.
        entries = programme.history(code, after=after, limit=limit + 1)
        more = len(entries) > limit
        entries = entries[:limit]
        if not caller.sees_names:
            entries = [
                attrs.evolve(e, data={**e.data, "personal_data": PERSONAL})
                if "personal_data" in e.data
                else e
                for e in entries
            ]
        return {
            "code": code,
            "after": after or 0,
            "limit": limit,
            "events": jsonable(entries),
            "next": entries[-1].position if more else None,
        }

    @router.get("/overview", response_model=OverviewModel, tags=["queries"])
    def overview(
        programme: ProgrammeDep,
        caller: Caller,
        as_of: AsOf = None,
        known_at: KnownAt = None,
        cost_lines: Annotated[
            bool,
            Query(
                description="every municipality's cost lines too (they grow with the whole "
                "programme: page through one municipality's at /municipalities/{code}/costs)"
            ),
        ] = False,
    ) -> Any:
        """Totals over the municipalities that exist on ``as_of``."""
        result: Overview = programme.overview(as_of=as_of, known_at=known_at, cost_lines=cost_lines)
        views = tuple(without_names(m, caller) for m in result.municipalities)
        return jsonable(attrs.evolve(result, municipalities=views))

    @router.get("/sessions", response_model=list[SessionModel], tags=["queries"])
    def sessions(programme: ProgrammeDep) -> Any:
        """Every training session, with its bookings and seats left."""
        sessions = programme.sessions()
        return [{**s.to_dict(), "seats_left": s.seats_left} for s in sessions]

    @router.get("/offer-terms", response_model=TermsModel, tags=["queries"])
    def offer_terms(
        programme: ProgrammeDep,
        reference: Annotated[
            str, Query(pattern=OFFER_REFERENCE_PATTERN, examples=["1298348/1298354"])
        ],
        on: IsoDate,
    ) -> Any:
        """The terms of an offer on a day."""
        return jsonable(programme.offer_terms(reference, on=on))

    @router.get("/event-count", response_model=EventCount, tags=["queries"])
    def event_count(programme: ProgrammeDep) -> Any:
        """How many events the store holds, and the latest position."""
        return EventCount(events=programme.event_count(), last_position=programme.last_position())

    @router.get(
        "/events",
        tags=["events"],
        response_class=StreamingResponse,
        responses={
            200: {
                "description": "server-sent events: `id` is the log position, `event` the "
                "event type, `data` the event as JSON",
                "content": {"text/event-stream": {"schema": {"type": "string"}}},
            }
        },
    )
    async def events(
        broadcaster: BroadcasterDep,
        caller: Caller,
        after: Annotated[
            str | None,
            Query(description="the position to start after (a whole number, default 0)"),
        ] = None,
        last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    ) -> StreamingResponse:
        """The event log from ``after`` (or the ``Last-Event-ID`` a reconnecting client sends),
        then each new event as it is recorded. A comment line every few seconds keeps proxies
        from closing an idle stream. A caller may hold a limited number of streams at once
        (429 beyond it)."""
        start = position(after, "after") if after is not None else 0
        if last_event_id is not None and last_event_id.strip():
            start = position(last_event_id.strip(), "Last-Event-ID")
        key = f"{caller.role.value}-{caller.fingerprint}"
        try:
            broadcaster.check(key)
        except TooManyStreams:
            raise TooManyRequests(
                _("this caller holds {count} open event streams already").format(
                    count=broadcaster.per_caller
                ),
                retry_after=int(HEARTBEAT_SECONDS),
            ) from None
        return StreamingResponse(
            event_stream(broadcaster, key, start),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    @router.post(
        "/municipalities/{code}/answer-links",
        response_model=LinkModel,
        tags=["answer links"],
        dependencies=[Depends(json_body)],
    )
    def make_answer_link(
        programme: ProgrammeDep,
        caller: Caller,
        links: Links,
        code: CodePath,
        body: LinkRequest,
    ) -> Any:
        """A one-time answer link for the municipality (the token is shown only now)."""
        view = programme.municipality(code)  # an unknown code is 404
        token, link = links.create(view.code, by=caller.by, days=body.days)
        return {**link_dict(link), "token": token, "path": f"/antwoord/{token}"}

    @router.get(
        "/municipalities/{code}/answer-links",
        response_model=list[LinkModel],
        tags=["answer links"],
    )
    def answer_links(caller: Caller, links: Links, code: CodePath) -> Any:
        """The municipality's answer links, without their tokens (coordinators)."""
        if not caller.can_record:
            raise Forbidden(_("only coordinators see answer links"))
        return [link_dict(link) for link in links.links(code)]

    @router.post("/answer-links/{link_id}/revoke", response_model=Revoked, tags=["answer links"])
    def revoke_answer_link(
        links: Links, link_id: Annotated[str, Path(pattern=r"^[0-9a-f]{12}$")]
    ) -> Any:
        """Revoke an answer link; ``revoked`` is false if it was revoked before."""
        if links.get(link_id) is None:
            raise NotFound(_("no answer link {link_id}").format(link_id=link_id))
        return Revoked(link_id=link_id, revoked=links.revoke(link_id))

    return router


def link_dict(link: Link) -> dict[str, Any]:
    return {f.name: getattr(link, f.name) for f in attrs.fields(Link)}


def position(text: str, name: str) -> int:
    """A log position from a query or header: a whole number from 0 up, else 400."""
    value = text.strip()
    if not value.isascii() or not value.isdigit() or int(value) > MAX_POSITION:
        raise ApiError(
            _("{name} must be a log position: a whole number from 0 to {most}").format(
                name=name, most=MAX_POSITION
            )
        )
    return int(value)
