"""What a route gets from the app, in one place: the programme, the caller, today's business
date and the plugin's stores, as FastAPI dependencies.

Who the caller is was decided before the route by the app's access middleware
(:func:`mma_web.app.authenticate`); these only hand it over. None of them touches the store, so
they run on the event loop; the routes that call the programme run it in the thread pool (the
queries are plain ``def``), and a command on a municipality on that municipality's thread
(:mod:`mma_web.turns`; the route awaits it).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, Request

from mma_core import Programme
from mma_core.plugin_api import translator
from mma_web.errors import Unauthorized
from mma_web.links import LinkStore
from mma_web.sessions import Sessions
from mma_web.streams import Broadcaster
from mma_web.tokens import Principal

_ = translator("mma_web")


def programme_of(request: Request) -> Programme:
    programme: Programme = request.app.state.programme
    return programme


def caller_of(request: Request) -> Principal:
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:  # an open path: no route there asks for a caller
        raise Unauthorized(_("give a valid token: 'Authorization: Bearer TOKEN'"))
    return principal


def links_of(request: Request) -> LinkStore:
    links: LinkStore = request.app.state.links
    return links


def sessions_of(request: Request) -> Sessions:
    sessions: Sessions = request.app.state.sessions
    return sessions


def broadcaster_of(request: Request) -> Broadcaster:
    broadcaster: Broadcaster = request.app.state.broadcaster
    return broadcaster


async def _programme(request: Request) -> Programme:
    return programme_of(request)


async def _caller(request: Request) -> Principal:
    return caller_of(request)


async def _today(request: Request) -> date:
    """The programme's business date (its clock, in Europe/Amsterdam), never the server's."""
    return programme_of(request).today()


async def _links(request: Request) -> LinkStore:
    return links_of(request)


async def _sessions(request: Request) -> Sessions:
    return sessions_of(request)


async def _broadcaster(request: Request) -> Broadcaster:
    return broadcaster_of(request)


ProgrammeDep = Annotated[Programme, Depends(_programme)]
Caller = Annotated[Principal, Depends(_caller)]
Today = Annotated[date, Depends(_today)]
Links = Annotated[LinkStore, Depends(_links)]
SessionsDep = Annotated[Sessions, Depends(_sessions)]
BroadcasterDep = Annotated[Broadcaster, Depends(_broadcaster)]
