"""The Dutch web pages: login, dashboard, a page per municipality with its forms, and the answer
page a municipality opens from its link. Server-rendered; every form works without JavaScript.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_percent
from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.concurrency import run_in_threadpool

from mma_core import DomainError, Money, Official, Programme
from mma_core.plugin_api import MunicipalityView, funnel, map_areas, outlines
from mma_web.api import HIDDEN, ORIGIN, without_names
from mma_web.deps import Caller, ProgrammeDep, caller_of, links_of, programme_of, sessions_of
from mma_web.forms import FORMS, FormError
from mma_web.links import Link
from mma_web.mapsvg import STAGE_COLOURS, SURROUNDED, map_svg
from mma_web.sessions import LOGIN_COOKIE, SESSION_COOKIE, Throttle
from mma_web.tokens import digest

LOCALE = "nl_NL"
TIMEZONE = "Europe/Amsterdam"
STAGES = {
    "registered": "geregistreerd",
    "invited": "uitgenodigd",
    "accepted": "akkoord",
    "declined": "afgewezen",
    "connected": "aangesloten",
    "stopped": "gestopt",
    "merged": "gefuseerd",
}
FUNNEL = {
    "registered": "geregistreerd",
    "invited": "uitgenodigd",
    "accepted": "akkoord",
    "trained": "getraind",
    "connected": "aangesloten",
}
EVENTS = {
    "Registered": "geregistreerd",
    "Invited": "uitgenodigd",
    "Accepted": "aanbod aanvaard",
    "Declined": "aanbod afgewezen",
    "PriorConnectionRecorded": "eerdere aansluiting vastgelegd",
    "PriorConnectionCompensated": "eerdere aansluiting vergoed",
    "Connected": "aangesloten",
    "ReportReceived": "melding ontvangen",
    "Evaluated": "geëvalueerd",
    "Renewed": "verlengd",
    "Terminated": "gestopt",
    "Merged": "opgegaan in fusie",
    "PredecessorMerged": "voorganger gefuseerd",
    "OfficialNominated": "functionaris aangemeld",
    "OfficialWithdrawn": "functionaris afgemeld",
    "OfficialErased": "gegevens functionaris gewist",
    "TrainingBooked": "training geboekt",
    "AttendanceRecorded": "aanwezigheid vastgelegd",
}
PAYERS = {"province": "provincie", "municipality": "gemeente"}
KINDS = {"answer": "antwoord", "evaluation": "evaluatie"}
COST_KINDS = {"connection": "aansluiting", "report_fee": "meldingen", "compensation": "vergoeding"}


def _datum(value: date | datetime | None, form: str = "long") -> str:
    if value is None:
        return "–"
    if isinstance(value, datetime):
        return format_datetime(value, "d MMMM yyyy HH:mm", tzinfo=TIMEZONE, locale=LOCALE)
    return format_date(value, form, locale=LOCALE)


def _geld(value: Money | Decimal | None) -> str:
    if value is None:
        return "–"
    amount = value.amount if isinstance(value, Money) else value
    return format_currency(amount, "EUR", locale=LOCALE)


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("mma_web", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["datum"] = _datum
    env.filters["geld"] = _geld
    env.filters["fase"] = lambda stage: STAGES.get(str(stage), str(stage))
    env.filters["gebeurtenis"] = lambda kind: EVENTS.get(str(kind), str(kind))
    env.filters["betaler"] = lambda payer: PAYERS.get(str(payer), str(payer))
    env.filters["kostensoort"] = lambda kind: COST_KINDS.get(str(kind), str(kind))
    env.filters["procent"] = lambda f: format_percent(float(f), locale=LOCALE)
    return env


TEMPLATES = _environment()


# The path a reverse proxy serves the app under (``--root-path``), for links and redirects.
ROOT: ContextVar[str] = ContextVar("mma_web_root", default="")


def url(path: str) -> str:
    return ROOT.get() + path


def redirect(path: str) -> RedirectResponse:
    return RedirectResponse(url(path), status_code=303)


def render(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    html = TEMPLATES.get_template(name).render(root=ROOT.get(), **context)
    return HTMLResponse(
        html,
        status_code=status,
        headers={
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
            "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
        },
    )


def _csrf(request: Request) -> str:
    session = sessions_of(request).get(request.cookies.get(SESSION_COOKIE))
    return "" if session is None else session.csrf


def _form_values(form: Any) -> dict[str, str]:
    return {key: str(value) for key, value in form.items() if isinstance(value, str)}


def _check_csrf(request: Request, values: Mapping[str, str]) -> HTMLResponse | None:
    if not sessions_of(request).csrf_ok(request.cookies.get(SESSION_COOKIE), values.get("csrf")):
        return render(
            "message.html.j2",
            403,
            title="Formulier verlopen",
            message="Dit formulier is verlopen of niet van deze site. Laad de pagina opnieuw.",
            principal=caller_of(request),
        )
    return None


def refused_origin(request: Request) -> HTMLResponse | None:
    """A form posted from another site is refused before anything else is looked at.

    A browser says where a request comes from in ``Sec-Fetch-Site``, which no page can set:
    only ``same-origin`` (or ``none``, typed by the user) passes. A browser that does not send
    it is judged by ``Origin``, which must be this site's own; our pages send no referrer, so
    their own posts carry ``Origin: null``, which is trusted only with ``Sec-Fetch-Site``."""
    site = request.headers.get("sec-fetch-site")
    origin = request.headers.get("origin")
    own = f"{request.url.scheme}://{request.headers.get('host', '')}"
    if site is not None:
        cross = site not in ("same-origin", "none")
    else:
        cross = origin is not None and origin != own
    if cross:
        return render(
            "message.html.j2",
            403,
            title="Formulier niet van deze site",
            message="Dit formulier kwam niet van deze site en is niet verwerkt.",
            principal=None,
        )
    return None


def _login_csrf(request: Request, nonce: str) -> str:
    secret: bytes = request.app.state.form_secret
    return hmac.new(secret, b"login:" + nonce.encode(), hashlib.sha256).hexdigest()


def _link_csrf(request: Request, link: Link) -> str:
    secret: bytes = request.app.state.form_secret
    return hmac.new(secret, link.link_id.encode(), hashlib.sha256).hexdigest()


def build_pages() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/login")
    def login_form(request: Request) -> Response:
        return _login_page(request)

    @router.post("/login")
    async def login(request: Request) -> Response:
        values = _form_values(await request.form())
        refused = refused_origin(request)
        if refused is not None:
            return refused
        nonce = request.cookies.get(LOGIN_COOKIE, "")
        if not nonce or not hmac.compare_digest(
            values.get("csrf", ""), _login_csrf(request, nonce)
        ):
            return _login_page(request, 403, "Dit formulier is verlopen. Probeer het opnieuw.")
        return await run_in_threadpool(_log_in, request, values.get("token", "").strip())

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        values = _form_values(await request.form())
        return await run_in_threadpool(_log_out, request, values)

    @router.get("/")
    def dashboard(request: Request, programme: ProgrammeDep, principal: Caller) -> Response:
        overview = programme.overview(cost_lines=False)
        steps = funnel(overview)
        areas = map_areas(overview.municipalities, overview.waterbed)
        kaart = map_svg(
            areas,
            lambda code: url(f"/gemeente/{code}"),
            STAGES,
            f"Kaart van Noord-Holland: de gemeenten naar fase op {_datum(overview.as_of)}",
        )
        return render(
            "dashboard.html.j2",
            principal=principal,
            csrf=_csrf(request),
            overview=overview,
            funnel=[(FUNNEL[k], v) for k, v in steps.items()],
            funnel_max=max(steps.values()) or 1,
            stages=STAGES,
            kaart=kaart,
            # Every stage a municipality existing on the day can be in (a merged one is gone).
            legenda=[
                (STAGES[stage], STAGE_COLOURS[stage], count)
                for stage, count in overview.by_stage.items()
                if stage != "merged"
            ],
            omringd=SURROUNDED if any(a.surrounded for a in areas) else None,
            # The credit, up to the note on coordinates meant for programmers.
            kaartbron=outlines().source.split(";")[0],
            kinds=KINDS,
            events=programme.event_count(),
            sessions=programme.sessions(),
        )

    def municipality_page(
        request: Request,
        code: str,
        status: int = 200,
        error: tuple[str, str] | None = None,
        typed: Mapping[str, str] | None = None,
        new_link: str | None = None,
    ) -> Response:
        programme = programme_of(request)
        principal = caller_of(request)
        try:
            view = without_names(programme.municipality(code), principal)
        except DomainError as failure:
            return render(
                "message.html.j2",
                404,
                title="Gemeente niet gevonden",
                message=str(failure),
                principal=principal,
            )
        history = programme.history(view.code) if principal.can_read_history else []
        sessions = programme.sessions()
        return render(
            "municipality.html.j2",
            status,
            principal=principal,
            csrf=_csrf(request),
            m=view,
            history=history,
            sessions=sessions,
            session_dates={s.session_id: s.starts_at for s in sessions},
            forms=FORMS.values() if principal.can_record else (),
            choices=_choices(view, sessions),
            error=error,
            typed=typed or {},
            links=links_of(request).links(view.code) if principal.can_record else [],
            new_link=new_link,
            hidden=HIDDEN,
        )

    @router.get("/gemeente/{code}")
    def municipality(request: Request, code: str) -> Response:
        return municipality_page(request, code)

    @router.post("/gemeente/{code}/{form_key}")
    async def record(request: Request, code: str, form_key: str) -> Response:
        values = _form_values(await request.form())
        return await run_in_threadpool(_record, request, code, form_key, values)

    def _record(request: Request, code: str, form_key: str, values: dict[str, str]) -> Response:
        refused = _check_csrf(request, values)
        if refused is not None:
            return refused
        principal = caller_of(request)
        if not principal.can_record:
            return render(
                "message.html.j2",
                403,
                title="Geen toegang",
                message="Alleen een coördinator kan iets vastleggen.",
                principal=principal,
            )
        if form_key == "link":
            return _make_link(request, code, values)
        if form_key == "link-intrekken":
            links_of(request).revoke(values.get("link", ""))
            return redirect(f"/gemeente/{code}#links")
        form = FORMS.get(form_key)
        if form is None:
            return render(
                "message.html.j2", 404, title="Onbekend formulier", message="", principal=principal
            )
        try:
            name, arguments = form.command(values)
            getattr(programme_of(request), name)(code, by=principal.by, origin=ORIGIN, **arguments)
        except FormError as failure:
            return municipality_page(request, code, 422, (form_key, str(failure)), values)
        except DomainError as failure:
            request.app.state.metrics.errors.labels(failure.code).inc()
            return municipality_page(request, code, 409, (form_key, str(failure)), values)
        request.app.state.metrics.commands.labels(name).inc()
        return redirect(f"/gemeente/{code}#{form_key}")

    def _make_link(request: Request, code: str, values: Mapping[str, str]) -> Response:
        try:
            days = int(values.get("dagen", "30") or "30")
            token, _ = links_of(request).create(code, by=caller_of(request).by, days=days)
        except (ValueError, DomainError) as failure:
            return municipality_page(request, code, 422, ("link", str(failure)), values)
        link = str(request.base_url).rstrip("/") + f"/antwoord/{token}"
        return municipality_page(request, code, 201, new_link=link)

    # -- the municipality's own answer page ---------------------------------------------

    def answer_page(
        request: Request,
        link: Link,
        status: int = 200,
        error: str | None = None,
        typed: Mapping[str, str] | None = None,
    ) -> Response:
        programme = programme_of(request)
        view = programme.municipality(link.code)
        now = programme.clock()
        sessions = [s for s in programme.sessions() if s.seats_left >= 1 and s.starts_at > now]
        return render(
            "answer.html.j2",
            status,
            principal=None,
            m=view,
            sessions=sessions,
            csrf=_link_csrf(request, link),
            error=error,
            typed=typed or {},
        )

    @router.get("/antwoord/{token}")
    def answer(request: Request, token: str) -> Response:
        # Opening the link does not use it up: only recording the answer does.
        link = links_of(request).resolve(token)
        if link is None:
            return _link_gone()
        return answer_page(request, link)

    @router.post("/antwoord/{token}")
    async def give_answer(request: Request, token: str) -> Response:
        values = _form_values(await request.form())
        return await run_in_threadpool(_give_answer, request, token, values)

    def _give_answer(request: Request, token: str, values: dict[str, str]) -> Response:
        links = links_of(request)
        link = links.resolve(token)
        if link is None:
            return _link_gone()
        if not hmac.compare_digest(values.get("csrf", ""), _link_csrf(request, link)):
            return answer_page(request, link, 403, "Dit formulier is verlopen; probeer opnieuw.")
        if not links.use(link):  # claimed first: two submissions at once cannot both record
            return _link_gone()
        try:
            _record_answer(programme_of(request), link, values)
        except FormError as failure:
            links.release(link)
            return answer_page(request, link, 422, str(failure), values)
        except DomainError as failure:
            links.release(link)
            request.app.state.metrics.errors.labels(failure.code).inc()
            return answer_page(request, link, 409, str(failure), values)
        except BaseException:
            links.release(link)
            raise
        return render(
            "message.html.j2",
            200,
            title="Dank u wel",
            message="Uw antwoord is vastgelegd. Deze link is nu niet meer te gebruiken.",
            principal=None,
        )

    return router


def _login_page(request: Request, status: int = 200, error: str | None = None) -> Response:
    """The login form, with a CSRF token bound to a fresh nonce in a cookie of its own."""
    nonce = secrets.token_urlsafe(32)
    response = render(
        "login.html.j2",
        status,
        principal=None,
        error=error,
        csrf=_login_csrf(request, nonce),
    )
    response.set_cookie(
        LOGIN_COOKIE,
        nonce,
        max_age=3600,
        httponly=True,
        secure=sessions_of(request).secure,
        samesite="strict",
        path="/",
    )
    return response


def _log_in(request: Request, token: str) -> Response:
    """Throttled per client address and per token prefix; a new session id each time, and
    the caller's earlier session ends."""
    throttle: Throttle = request.app.state.throttle
    address = request.client.host if request.client is not None else "-"
    keys = throttle.keys(address, token)
    wait = throttle.retry_after(keys)
    if wait is not None:
        return _too_many(request, wait)
    principal = request.app.state.tokens.lookup(token)
    if principal is None:
        throttle.failed(keys)
        wait = throttle.retry_after(keys)
        if wait is not None:
            return _too_many(request, wait)
        return _login_page(request, 401, "Deze toegangscode is onbekend.")
    sessions = sessions_of(request)
    session_id = sessions.start(digest(token), replacing=request.cookies.get(SESSION_COOKIE))
    response = redirect("/")
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=sessions.seconds,
        httponly=True,
        secure=sessions.secure,
        samesite="strict",
        path="/",
    )
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


def _too_many(request: Request, wait: int) -> Response:
    response = _login_page(
        request,
        429,
        f"Te veel mislukte pogingen. Probeer het over {wait} seconden opnieuw.",
    )
    response.headers["Retry-After"] = str(wait)
    return response


def _log_out(request: Request, values: Mapping[str, str]) -> Response:
    refused = _check_csrf(request, values)
    if refused is not None:
        return refused
    sessions_of(request).end(request.cookies.get(SESSION_COOKIE))
    response = redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _link_gone() -> Response:
    return render(
        "message.html.j2",
        410,
        title="Link niet meer geldig",
        message="Deze link is al gebruikt, ingetrokken of verlopen. "
        "Neem contact op met de provincie voor een nieuwe link.",
        principal=None,
    )


def _choices(view: MunicipalityView, sessions: list[Any]) -> dict[str, list[tuple[str, str]]]:
    officials = [
        (o.id, o.id if o.name == HIDDEN else f"{o.name} ({o.id})")
        for o in view.officials
        if o.active
    ]
    return {
        "officials": officials,
        "sessions": [
            (s.session_id, f"{_datum(s.starts_at)}, {s.location} ({s.seats_left} vrij)")
            for s in sessions
        ],
    }


def _record_answer(programme: Programme, link: Link, values: Mapping[str, str]) -> None:
    """Accept or decline; on accepting, nominate the officials and book them on the session.

    The form is checked before the first command, and the commands are written together in one
    transaction (``Programme.atomic()``): an answer is recorded whole or not at all (say, when
    the session filled up meanwhile), and the link stays usable until it is.
    """
    by = link.principal.by
    code = link.code
    today = programme.today()
    decision = values.get("besluit", "")
    if decision == "afgewezen":
        programme.decline(code, on=today, by=by, origin=ORIGIN, reason=values.get("reden", ""))
        return
    if decision != "akkoord":
        raise FormError("Kies of uw gemeente deelneemt.")
    people = []
    for number in (1, 2):
        name = values.get(f"naam{number}", "").strip()
        email = values.get(f"email{number}", "").strip()
        if not name or not email:
            raise FormError(f"Functionaris {number}: vul naam en e-mailadres in.")
        try:
            people.append(Official(name=name, email=email))
        except DomainError:
            raise FormError(f"Functionaris {number}: dit e-mailadres is niet geldig.") from None
    session_id = values.get("sessie", "")
    session = next((s for s in programme.sessions() if s.session_id == session_id), None)
    if session is None:
        raise FormError("Kies een training.")
    view = programme.municipality(code)
    to_book = len(people) - sum(1 for o in view.active_officials if o.session_id is not None)
    if session.seats_left < to_book:
        raise FormError("Deze training heeft niet genoeg plaatsen vrij; kies een andere.")
    with programme.atomic():
        _accept_and_book(programme, link, people, session_id, view)


def _accept_and_book(
    programme: Programme,
    link: Link,
    people: list[Official],
    session_id: str,
    view: MunicipalityView,
) -> None:
    by, code, today = link.principal.by, link.code, programme.today()
    if view.accepted_on is None:
        programme.accept(code, on=today, by=by, origin=ORIGIN)
        view = programme.municipality(code)
    known = {o.email for o in view.officials if o.active}
    for person in people:
        if person.email not in known and len(view.active_officials) < 2:
            programme.nominate_official(
                code, name=person.name, email=person.email, by=by, origin=ORIGIN
            )
            view = programme.municipality(code)
    for official in view.active_officials:
        if official.session_id is None:
            programme.book_training(
                code, official_id=official.id, session_id=session_id, by=by, origin=ORIGIN
            )


__all__ = ["build_pages", "render"]
