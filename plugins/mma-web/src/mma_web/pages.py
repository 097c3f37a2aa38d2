"""The Dutch web pages: login, dashboard, a page per municipality with its forms, and the answer
page a municipality opens from its link. Server-rendered; every form works without JavaScript.

The dashboard and every municipality page take ``?as_of=YYYY-MM-DD``: the programme as it was
on that business date (as the store knows it now). A form that records what cannot be undone (a
termination, a withdrawal, a merger) asks for confirmation on a page of its own first, after the
command was tried and nothing written. So do the retraction and the correction of a fact, which
a coordinator starts from the fact's row in the municipality's history
(``/gemeente/CODE/feit/POSITION/intrekken`` and ``.../corrigeren``).
"""

from __future__ import annotations

import hashlib
import hmac
import inspect
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_percent
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from mma_core import DomainError, Money, MunicipalityCode, Official, Programme
from mma_core.plugin_api import HistoryEntry, MunicipalityView, funnel, map_areas, outlines
from mma_web import amending
from mma_web.api import HIDDEN, ORIGIN, without_names
from mma_web.deps import Caller, ProgrammeDep, caller_of, links_of, programme_of, sessions_of
from mma_web.forms import FORMS, Field, Form, FormError
from mma_web.links import Link
from mma_web.mapsvg import STAGE_COLOURS, SURROUNDED, map_svg
from mma_web.sessions import LOGIN_COOKIE, SESSION_COOKIE, Throttle
from mma_web.tokens import Principal, digest
from mma_web.words import _, role_names, rule_broken

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
    "FactRetracted": "ingetrokken",
    "FactRestated": "gecorrigeerd",
    "AddressRecorded": "postadres vastgelegd",
}
PAYERS = {"province": "provincie", "municipality": "gemeente"}
KINDS = {"answer": "antwoord", "evaluation": "evaluatie"}
COST_KINDS = {"connection": "aansluiting", "report_fee": "meldingen", "compensation": "vergoeding"}
# The query parameter of a page as of a past business date.
AS_OF = "as_of"


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
    env.globals["_"] = _
    env.filters["datum"] = _datum
    env.filters["geld"] = _geld
    env.filters["fase"] = lambda stage: STAGES.get(str(stage), str(stage))
    env.filters["gebeurtenis"] = lambda kind: EVENTS.get(str(kind), str(kind))
    env.filters["betaler"] = lambda payer: PAYERS.get(str(payer), str(payer))
    env.filters["kostensoort"] = lambda kind: COST_KINDS.get(str(kind), str(kind))
    env.filters["procent"] = lambda f: format_percent(float(f), locale=LOCALE)
    env.filters["rol"] = lambda role: role_names().get(str(role), str(role))
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


@attrs.frozen
class PageError:
    """An error shown on a page: on the form ``form``, next to its field ``field`` when it has
    one (else atop the form)."""

    form: str
    message: str
    field: str | None = None


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


@attrs.frozen
class AsOf:
    """What ``?as_of=`` asked for: ``day`` a past business date to show (``None``: today),
    ``typed`` as given, ``error`` why it cannot be shown."""

    day: date | None = None
    typed: str = ""
    error: str | None = None

    @property
    def query(self) -> str:
        """The query string that keeps a link on the same day (empty for today)."""
        return f"?{AS_OF}={self.day.isoformat()}" if self.day is not None else ""


def as_of_of(request: Request, programme: Programme) -> AsOf:
    """``?as_of=YYYY-MM-DD``: a date not after today. Today itself is today's page."""
    typed = request.query_params.get(AS_OF, "").strip()
    if not typed:
        return AsOf()
    day = _day(typed)
    if day is None:
        return AsOf(
            typed=typed[:40],
            error=_("Date: not a valid date; choose a day, for example 31-12-2020"),
        )
    today = programme.today()
    if day > today:
        return AsOf(
            typed=typed,
            error=_("Date: {day} lies in the future; choose today or a day before it").format(
                day=_datum(day)
            ),
        )
    return AsOf(None if day == today else day, typed)


def _day(typed: str) -> date | None:
    """A day as the date picker sends it (``2020-12-31``) or as a Dutch reader types it
    (``31-12-2020``)."""
    parts = typed.split("-")
    if len(parts) == 3 and len(parts[2]) == 4 and all(p.isascii() and p.isdigit() for p in parts):
        typed = f"{parts[2]}-{parts[1].zfill(2)}-{parts[0].zfill(2)}"
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", typed):
        return None
    try:
        return date.fromisoformat(typed)
    except ValueError:
        return None


class _Trial(Exception):
    """Raised at the end of a command tried in an ``atomic()`` block: nothing is written."""


def _try(run: Callable[[], object], programme: Programme) -> None:
    """Run the command as it would run, and write nothing (its ``DomainError`` passes on)."""
    try:
        with programme.atomic():
            run()
            raise _Trial
    except _Trial:
        pass


def _evaluations(history: Sequence[HistoryEntry]) -> list[dict[str, Any]]:
    """The evaluations in the history the page already read, with their structured answers."""
    found = []
    for entry in history:
        if entry.type != "Evaluated":
            continue
        data = entry.data
        try:
            recovered: Decimal | None = Decimal(str(data.get("recovered", "0")))
        except InvalidOperation:  # pragma: no cover - a stored amount is a decimal
            recovered = None
        found.append({**data, "on": entry.date, "recovered": recovered})
    return found


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
        when = as_of_of(request, programme)
        overview = programme.overview(as_of=when.day, cost_lines=False)
        steps = funnel(overview)
        areas = map_areas(overview.municipalities, overview.waterbed)
        kaart = map_svg(
            areas,
            lambda code: url(f"/gemeente/{code}{when.query}"),
            STAGES,
            f"Kaart van Noord-Holland: de gemeenten naar fase op {_datum(overview.as_of)}",
        )
        return render(
            "dashboard.html.j2",
            400 if when.error else 200,
            principal=principal,
            csrf=_csrf(request),
            overview=overview,
            when=when,
            today=programme.today(),
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
            # Seats are today's: a past page shows no sessions.
            sessions=programme.sessions() if when.day is None else [],
        )

    def municipality_page(
        request: Request,
        code: str,
        status: int = 200,
        error: PageError | None = None,
        typed: Mapping[str, str] | None = None,
        new_link: str | None = None,
        notice: str | None = None,
        typed_for: str | None = None,
    ) -> Response:
        """The page; ``typed`` is shown in the form ``typed_for`` (else the form in error)."""
        programme = programme_of(request)
        principal = caller_of(request)
        when = as_of_of(request, programme)
        try:
            view = without_names(programme.municipality(code, as_of=when.day), principal)
        except DomainError as failure:
            title = (
                _("Municipality not found")
                if when.day is None
                else _("Municipality not there on {day}").format(day=_datum(when.day))
            )
            return render(
                "message.html.j2",
                404,
                title=title,
                message=rule_broken(failure),
                principal=principal,
                csrf=_csrf(request),
            )
        history = programme.history(view.code) if principal.can_read_history else []
        if when.day is not None:  # what had happened by that day
            history = [e for e in history if e.date is None or e.date <= when.day]
        sessions = programme.sessions()
        # Recording is for today's page; a past page only shows.
        records = principal.can_record and when.day is None
        forms = [f for f in FORMS.values() if records]
        return render(
            "municipality.html.j2",
            400 if when.error and status == 200 else status,
            principal=principal,
            csrf=_csrf(request),
            m=view,
            when=when,
            today=programme.today(),
            history=history,
            evaluations=_evaluations(history),
            sessions=sessions,
            session_dates={s.session_id: s.starts_at for s in sessions},
            seats={s.session_id: s.booked for s in sessions},  # who holds a seat now
            forms=[f for f in forms if not f.final],
            final_forms=[f for f in forms if f.final],
            choices=_choices(view, sessions, programme if records else None),
            defaults=_defaults(view),
            error=error,
            typed=typed or {},
            typed_for=typed_for or (error.form if error is not None else None),
            links=links_of(request).links(view.code) if records else [],
            new_link=new_link,
            notice=notice or _recorded_notice(request),
            untrained=[
                o.id
                for o in view.active_officials
                if o.session_id is None and view.stage.value in ("accepted", "connected")
            ],
            hidden=HIDDEN,
            successor=_successor_name(programme, view),
            # Retract and correct: today's page, a coordinator, a fact that can be amended.
            amendable=amending.correctable if records else (lambda _fact: False),
            history_open=request.query_params.get("vastgelegd", "") in amending.ACTIONS
            or "geschiedenis" in request.query_params,
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
                csrf=_csrf(request),
            )
        if form_key == "link":
            return _make_link(request, code, values)
        if form_key == "link-intrekken":
            links_of(request).revoke(values.get("link", ""))
            return redirect(f"/gemeente/{code}#links")
        form = FORMS.get(form_key)
        if form is None:
            return render(
                "message.html.j2",
                404,
                title=_("Unknown form"),
                message=_("This page has no such form."),
                principal=principal,
                csrf=_csrf(request),
            )
        programme = programme_of(request)
        step = values.get("stap", "")
        if form.final and step == "wijzigen":  # back from the confirmation, as typed
            return municipality_page(request, code, typed=values, typed_for=form.key)
        try:
            name, arguments = form.command(values)
            official = arguments.get("official_id")
            if name == "withdraw_official" and not _official_of(official, code):
                raise FormError(
                    _("Official: choose one of this municipality's officials"), "functionaris"
                )

            def run(request_id: str | None = None) -> object:
                return _run(programme, code, name, arguments, principal, request_id)

            if form.final and step != "bevestigen":
                _try(run, programme)  # every rule, and nothing written
                return _confirmation(request, code, form, values, arguments)
            run(_request_id(values) if form.final else None)
        except FormError as failure:
            error = PageError(form.key, str(failure), failure.field)
            return municipality_page(request, code, 422, error, values)
        except DomainError as failure:
            request.app.state.metrics.errors.labels(failure.code).inc()
            error = PageError(
                form.key, _web_message(failure, form), form.error_fields.get(failure.code)
            )
            return municipality_page(request, code, 409, error, values)
        request.app.state.metrics.commands.labels(name).inc()
        return redirect(f"/gemeente/{code}?vastgelegd={form.key}#melding-vastgelegd")

    def _confirmation(
        request: Request,
        code: str,
        form: Form,
        values: Mapping[str, str],
        arguments: Mapping[str, Any],
    ) -> Response:
        programme = programme_of(request)
        principal = caller_of(request)
        view = without_names(programme.municipality(code), principal)
        choices = _choices(view, programme.sessions(), programme)
        return render(
            "confirm.html.j2",
            principal=principal,
            csrf=_csrf(request),
            m=view,
            heading=form.title.lower(),
            action_url=url(f"/gemeente/{code}/{form.key}"),
            summary=_summary(form, values, choices, programme.today()),
            consequence=_consequence(form.key, view, arguments, choices, programme.today()),
            carried=[
                (k, v) for k, v in values.items() if k not in ("csrf", "stap", "verzoek") and v
            ],
            request_id=secrets.token_urlsafe(16),
        )

    def _make_link(request: Request, code: str, values: Mapping[str, str]) -> Response:
        try:
            days = int(values.get("dagen", "30") or "30")
            token, _link = links_of(request).create(code, by=caller_of(request).by, days=days)
        except (ValueError, DomainError) as failure:
            message = rule_broken(failure) if isinstance(failure, DomainError) else str(failure)
            return municipality_page(request, code, 422, PageError("link", message), values)
        link = str(request.base_url).rstrip("/") + f"/antwoord/{token}"
        return municipality_page(request, code, 201, new_link=link)

    # -- retracting and correcting a fact -----------------------------------------------

    @router.get("/gemeente/{code}/feit/{position}/{action}")
    def amend_form(request: Request, code: str, position: str, action: str) -> Response:
        principal = caller_of(request)
        if not principal.can_record:
            return _only_coordinators(request, principal)
        found = _amendable(request, code, position, action)
        if isinstance(found, Response):
            return found
        return _amend_page(request, found, action)

    @router.post("/gemeente/{code}/feit/{position}/{action}")
    async def amend(request: Request, code: str, position: str, action: str) -> Response:
        values = _form_values(await request.form())
        return await run_in_threadpool(_amend, request, code, position, action, values)

    def _amend(
        request: Request, code: str, position: str, action: str, values: dict[str, str]
    ) -> Response:
        refused = _check_csrf(request, values)
        if refused is not None:
            return refused
        principal = caller_of(request)
        if not principal.can_record:
            return _only_coordinators(request, principal)
        step = values.get("stap", "")
        found = _amendable(request, code, position, action)
        if isinstance(found, Response):
            if step == "bevestigen" and action == amending.RETRACT and found.status_code == 409:
                # Retracted already: by this confirmation's first click (its receipt answers
                # again, and nothing is written), or by someone else (the page says so).
                try:
                    programme_of(request).retract(
                        int(position),
                        reason=_text_field(values, amending.REASON),
                        by=principal.by,
                        origin=ORIGIN,
                        request_id=_request_id(values),
                    )
                except (DomainError, FormError):
                    return found
                return _amend_recorded(code.upper())
            return found
        if step == "wijzigen":  # back from the confirmation, as typed
            return _amend_page(request, found, action, typed=values)
        programme = programme_of(request)
        fields = amending.fields_of(found.fact, found.fields)
        changed: dict[str, object] = {}
        try:
            reason = _text_field(values, amending.REASON)
            if action == amending.RETRACT:
                pass
            elif step == "bevestigen":
                # The fields the confirmation carries, as they were asked: a second click
                # is the same command, which its receipt answers.
                changed = {f.name: amending.read(f, values) for f in fields if f.name in values}
            else:
                changed = amending.changes(fields, found.fields, values)
                if not changed:
                    raise FormError(
                        _("Nothing was changed: change at least one field, or go back.")
                    )

            def run(request_id: str | None = None) -> object:
                extra: dict[str, Any] = {} if request_id is None else {"request_id": request_id}
                if action == amending.RETRACT:
                    return programme.retract(
                        found.position, reason=reason, by=principal.by, origin=ORIGIN, **extra
                    )
                keywords = {amending.keyword(k): v for k, v in changed.items()}
                return programme.correct(
                    found.position,
                    reason=reason,
                    by=principal.by,
                    origin=ORIGIN,
                    **extra,
                    **keywords,
                )

            if step != "bevestigen":
                _try(run, programme)  # every rule, and nothing written
                return _amend_confirmation(request, found, action, reason, changed, fields)
            run(_request_id(values))
        except FormError as failure:
            error = PageError(action, str(failure), failure.field)
            return _amend_page(request, found, action, 422, error, values)
        except DomainError as failure:
            request.app.state.metrics.errors.labels(failure.code).inc()
            field = failure.details.get("field") if failure.code == "invalid_input" else None
            if field is None and len(changed) == 1 and failure.code == "invalid_date":
                field = next(iter(changed))
            message = amending.in_words(rule_broken(failure), fields)
            error = PageError(action, message, field if isinstance(field, str) else None)
            blockers = failure.details.get("positions") if failure.code == "depends_on" else None
            return _amend_page(
                request, found, action, failure.http_status, error, values, blockers or []
            )
        request.app.state.metrics.commands.labels(
            "retract" if action == amending.RETRACT else "correct"
        ).inc()
        return _amend_recorded(found.code, action)

    def _amend_recorded(code: str, action: str = amending.RETRACT) -> Response:
        return redirect(f"/gemeente/{code}?vastgelegd={action}#melding-vastgelegd")

    def _amendable(request: Request, code: str, position: str, action: str) -> Any:
        """The fact at ``position`` of ``code`` as it stands now, or the page that says why
        it cannot be amended."""
        principal = caller_of(request)
        at = int(position) if position.isascii() and position.isdigit() else 0
        if action not in amending.ACTIONS or not 0 < at < 2**63:
            return _error_page(request, 404)
        try:
            found = programme_of(request).amendable(at)
        except DomainError as failure:
            return render(
                "message.html.j2",
                failure.http_status,
                title=_("This fact cannot be amended"),
                message=rule_broken(failure),
                principal=principal,
                csrf=_csrf(request),
            )
        if found.code != code.upper():
            return render(
                "message.html.j2",
                404,
                title=_("This fact cannot be amended"),
                message=_("The fact at position {position} is not one of {code}'s.").format(
                    position=at, code=code
                ),
                principal=principal,
                csrf=_csrf(request),
            )
        return found

    def _amend_page(
        request: Request,
        found: Any,
        action: str,
        status: int = 200,
        error: PageError | None = None,
        typed: Mapping[str, str] | None = None,
        blockers: Sequence[int] = (),
    ) -> Response:
        programme = programme_of(request)
        principal = caller_of(request)
        view = without_names(programme.municipality(found.code), principal)
        fields = amending.fields_of(found.fact, found.fields)
        current = {f.name: amending.as_typed(found.fields.get(f.name)) for f in fields}
        return render(
            "amend.html.j2",
            status,
            principal=principal,
            csrf=_csrf(request),
            m=view,
            fact=found,
            fact_name=EVENTS.get(found.fact, found.fact),
            action=action,
            retract=action == amending.RETRACT,
            fields=fields,
            reason_field=amending.REASON,
            recorded=[
                (f.label, amending.shown(f, found.fields.get(f.name), _datum, _geld))
                for f in fields
            ],
            values={**current, **{k: v for k, v in (typed or {}).items() if k in current}},
            reason=(typed or {}).get("reden", ""),
            error=error,
            blockers=blockers,
        )

    def _amend_confirmation(
        request: Request,
        found: Any,
        action: str,
        reason: str,
        changed: Mapping[str, object],
        fields: list[Any],
    ) -> Response:
        programme = programme_of(request)
        principal = caller_of(request)
        view = without_names(programme.municipality(found.code), principal)
        what = EVENTS.get(found.fact, found.fact)
        by_name = {f.name: f for f in fields}
        if action == amending.RETRACT:
            heading = _("retract a fact")
            consequence = _(
                "“{fact}” at position {position} of {name} is marked as never true: it no "
                "longer counts, and what it cost is taken back. It stays in the history, "
                "marked as retracted, and cannot be retracted again."
            ).format(fact=what, position=found.position, name=view.name)
            summary = [
                (f.label, amending.shown(f, found.fields.get(f.name), _datum, _geld))
                for f in fields
            ]
        else:
            heading = _("correct a fact")
            consequence = _(
                "“{fact}” at position {position} of {name} is corrected as below. The old "
                "values stay in the history, marked as corrected."
            ).format(fact=what, position=found.position, name=view.name)
            summary = []
        carried = [("reden", reason)]
        carried += [(k, amending.as_typed(v)) for k, v in changed.items()]
        return render(
            "confirm.html.j2",
            principal=principal,
            csrf=_csrf(request),
            m=view,
            heading=heading,
            action_url=url(f"/gemeente/{found.code}/feit/{found.position}/{action}"),
            summary=summary,
            caption=_("The fact at position {position}: {fact}").format(
                position=found.position, fact=what
            ),
            changes=[
                (
                    by_name[k].label,
                    amending.shown(by_name[k], found.fields.get(k), _datum, _geld),
                    amending.shown(by_name[k], v, _datum, _geld),
                )
                for k, v in changed.items()
            ],
            reason=reason,
            consequence=consequence,
            carried=carried,
            request_id=secrets.token_urlsafe(16),
        )

    def _only_coordinators(request: Request, principal: Principal) -> Response:
        return render(
            "message.html.j2",
            403,
            title="Geen toegang",
            message="Alleen een coördinator kan iets vastleggen.",
            principal=principal,
            csrf=_csrf(request),
        )

    # -- the municipality's own answer page ---------------------------------------------

    def answer_page(
        request: Request,
        link: Link,
        status: int = 200,
        error: PageError | None = None,
        typed: Mapping[str, str] | None = None,
    ) -> Response:
        programme = programme_of(request)
        view = programme.municipality(link.code)
        return render(
            "answer.html.j2",
            status,
            principal=None,
            m=view,
            sessions=_open_sessions(programme),
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
            expired = PageError("antwoord", "Dit formulier is verlopen; probeer opnieuw.")
            return answer_page(request, link, 403, expired)
        if not links.use(link):  # claimed first: two submissions at once cannot both record
            return _link_gone()
        try:
            booked = _record_answer(programme_of(request), link, values)
        except FormError as failure:
            links.release(link)
            error = PageError("antwoord", str(failure), failure.field)
            return answer_page(request, link, 422, error, values)
        except DomainError as failure:
            links.release(link)
            request.app.state.metrics.errors.labels(failure.code).inc()
            return answer_page(request, link, 409, PageError("antwoord", rule_broken(failure)))
        except BaseException:
            links.release(link)
            raise
        message = _("Your answer has been recorded. This link can no longer be used.")
        if values.get("besluit") == "akkoord" and not booked:
            message = _(
                "Your answer has been recorded. No training was chosen yet: the province will "
                "contact your officials about one. This link can no longer be used."
            )
        return render(
            "message.html.j2",
            200,
            title="Dank u wel",
            message=message,
            principal=None,
        )

    return router


def _run(
    programme: Programme,
    code: str,
    name: str,
    arguments: Mapping[str, Any],
    principal: Principal,
    request_id: str | None = None,
) -> object:
    """Record ``name`` as the caller, through the web."""
    extra: dict[str, Any] = {} if request_id is None else {"request_id": request_id}
    if name == "withdraw_official":
        rest = {k: v for k, v in arguments.items() if k != "official_id"}
        return programme.withdraw_official(
            arguments["official_id"], by=principal.by, origin=ORIGIN, **rest, **extra
        )
    command: Callable[..., object] = getattr(programme, name)
    return command(code, by=principal.by, origin=ORIGIN, **arguments, **extra)


def _request_id(values: Mapping[str, str]) -> str | None:
    """The confirmation's own key: confirming twice (a double click, the back button) records
    once (the second returns the first's result)."""
    key = values.get("verzoek", "")
    if not key or len(key) > 64 or not all(c.isalnum() or c in "-_" for c in key):
        return None
    return f"web-{key}"


def _text_field(values: Mapping[str, str], f: Field) -> str:
    """A required line of text; a Dutch ``FormError`` next to it when empty."""
    value = values.get(f.name, "").strip()
    if not value:
        raise FormError(_("{label}: fill in this field").format(label=f.label), f.name)
    return value


def _official_of(official: object, code: str) -> bool:
    """Whether ``official`` is an id of ``code``'s officials (``GM0363-1`` for ``GM0363``)."""
    try:
        parsed = MunicipalityCode.parse(code)
    except (DomainError, ValueError):
        return True  # an unknown code: the command says so itself
    return isinstance(official, str) and official.upper().startswith(f"{parsed}-")


def _web_message(failure: DomainError, form: Form) -> str:
    """A rule's message as the page says it: the registry's refusal of a merger names the
    checkbox and the reason on this form, an unknown official the list to choose from, not the
    command line's options and commands."""
    if failure.code == "merger_not_in_registry":
        return _(
            "The registry lists no such merger, so nothing was recorded. Choose the successor "
            "the registry names; or, when the registry lags reality, tick “{checkbox}” and give "
            "the reason."
        ).format(checkbox=_field_label(form, "niet-in-register"))
    if failure.code == "unknown_official":  # its message points to the command line
        return _("Official: not one of this municipality's officials; choose one from the list")
    return rule_broken(failure)


def _field_label(form: Form, name: str) -> str:
    found = form.field(name)
    return found.label if found is not None else name


def _summary(
    form: Form,
    values: Mapping[str, str],
    choices: Mapping[str, list[tuple[str, str]]],
    today: date,
) -> list[tuple[str, str]]:
    """What the confirmation page shows will be recorded: each field's label and its value as
    a person reads it."""
    shown = []
    for f in form.fields:
        value = values.get(f.name, "").strip()
        if f.kind == "checkbox":
            shown.append((f.label, _("yes") if value == "ja" else _("no")))
            continue
        if not value:
            if f.kind == "date":
                shown.append((f.label, _("today ({day})").format(day=_datum(today))))
            continue
        if f.kind == "date":
            value = _datum(date.fromisoformat(value))
        elif f.kind == "select":
            options = choices.get(f.dynamic, []) if f.dynamic else list(f.choices)
            value = dict(options).get(value, value)
        shown.append((f.label, value))
    return shown


def _consequence(
    key: str,
    view: MunicipalityView,
    arguments: Mapping[str, Any],
    choices: Mapping[str, list[tuple[str, str]]],
    today: date,
) -> str:
    day = _datum(arguments.get("on") or today)
    if key == "beeindigen":
        return _(
            "The participation of {name} ends on {day}: it is then no longer connected. Reports "
            "received up to that day can still be recorded."
        ).format(name=view.name, day=day)
    if key == "afmelden":
        official = dict(choices.get("officials", [])).get(arguments["official_id"], "")
        return _(
            "{official} no longer acts for {name} from {day}; a seat booked on a training still "
            "to come is released. To take part again the official is nominated anew."
        ).format(official=official, name=view.name, day=day)
    into = dict(choices.get("municipalities", [])).get(arguments["into"], arguments["into"])
    text = _(
        "{name} merges into {into} on {day} and no longer exists in the programme from that day."
    ).format(name=view.name, into=into, day=day)
    if arguments.get("unlisted"):
        text += " " + _(
            "The registry does not list this merger: it is recorded as not listed, with the reason."
        )
    return text


def _recorded_notice(request: Request) -> str | None:
    """After a form recorded: what (``?vastgelegd=KEY``, a form's key, nothing typed)."""
    key = request.query_params.get("vastgelegd", "")
    if key == amending.RETRACT:
        return _("The fact was retracted.")
    if key == amending.CORRECT:
        return _("The fact was corrected.")
    form = FORMS.get(key)
    if form is None:
        return None
    return form.done


def install_error_pages(app: FastAPI) -> None:
    """A page that does not exist (or a method a page does not take) is a Dutch HTML page;
    the API under ``/api/``, the metrics and the probes keep their problem details."""
    api_handler = app.exception_handlers[StarletteHTTPException]

    async def on_http(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        path = request.scope["path"].removeprefix(ROOT.get()) or "/"
        machine = path.startswith("/api/") or path in ("/metrics", "/health", "/ready")
        if machine or error.status_code not in (404, 405):
            response = api_handler(request, error)
            return await response if inspect.isawaitable(response) else response
        return await run_in_threadpool(_error_page, request, error.status_code)

    app.add_exception_handler(StarletteHTTPException, on_http)


def _error_page(request: Request, status: int) -> Response:
    principal: Principal | None = getattr(request.state, "principal", None)
    if status == 405:
        title = _("This page cannot be used this way")
        message = _("Open the page through a link or a form of this site.")
    else:
        title = _("Page not found")
        message = _(
            "There is no page at this address. An answer link from a letter or an e-mail is "
            "used whole: check that nothing was cut off."
        )
    return render(
        "message.html.j2",
        status,
        title=title,
        message=message,
        principal=principal,
        csrf=_csrf(request) if principal is not None else "",
    )


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


def _choices(
    view: MunicipalityView, sessions: Sequence[Any], programme: Programme | None = None
) -> dict[str, list[tuple[str, str]]]:
    """The choices the forms fill in per page; with ``programme``, the municipalities a merger
    can go into (those existing today, but this one)."""
    officials = [
        (o.id, o.id if o.name == HIDDEN else f"{o.name} ({o.id})")
        for o in view.officials
        if o.active
    ]
    found = {
        "officials": officials,
        "sessions": [
            (
                s.session_id,
                _("{day}, {location} ({seats} free)").format(
                    day=_datum(s.starts_at), location=s.location, seats=s.seats_left
                ),
            )
            for s in sessions
        ],
    }
    if programme is not None:
        others = programme.overview(cost_lines=False).municipalities
        found["municipalities"] = sorted(
            ((m.code, f"{m.name} ({m.code})") for m in others if m.code != view.code),
            key=lambda choice: choice[1],
        )
    return found


def _successor_name(programme: Programme, view: MunicipalityView) -> str | None:
    """The name of the municipality ``view`` merged into, if it did."""
    if view.successor is None:
        return None
    try:
        return programme.municipality(view.successor).name
    except DomainError:  # pragma: no cover - a merger names a registered municipality
        return view.successor


def _defaults(view: MunicipalityView) -> dict[str, dict[str, str]]:
    """What a form shows before anything was typed: a merger the registry dates falls on the
    day after the municipality's last day."""
    if view.valid_until is None:
        return {}
    return {"fusie": {"datum": date.fromordinal(view.valid_until.toordinal() + 1).isoformat()}}


def _open_sessions(programme: Programme) -> list[Any]:
    """The sessions a municipality can choose: still to come, with a seat left."""
    now = programme.clock()
    return [s for s in programme.sessions() if s.seats_left >= 1 and s.starts_at > now]


def _record_answer(programme: Programme, link: Link, values: Mapping[str, str]) -> bool:
    """Accept or decline; on accepting, nominate the officials (one or two) and, when a training
    was chosen, book them on it. Returns whether a training was booked.

    The form is checked before the first command, and the commands are written together in one
    transaction (``Programme.atomic()``): an answer is recorded whole or not at all (say, when
    the session filled up meanwhile), and the link stays usable until it is. A municipality
    that takes part may leave the training for later (or find none with seats): the coordinator
    sees its officials untrained among what is due.
    """
    by = link.principal.by
    code = link.code
    today = programme.today()
    decision = values.get("besluit", "")
    if decision == "afgewezen":
        programme.decline(code, on=today, by=by, origin=ORIGIN, reason=values.get("reden", ""))
        return False
    if decision != "akkoord":
        raise FormError(_("Choose whether your municipality takes part."), "besluit")
    people = []
    for number in (1, 2):
        name = values.get(f"naam{number}", "").strip()
        email = values.get(f"email{number}", "").strip()
        if not name and not email:
            continue
        if not name or not email:
            field = f"naam{number}" if not name else f"email{number}"
            raise FormError(
                _("Official {number}: fill in both name and e-mail address.").format(number=number),
                field,
            )
        try:
            people.append(Official(name=name, email=email))
        except DomainError:
            raise FormError(
                _("Official {number}: this e-mail address is not valid.").format(number=number),
                f"email{number}",
            ) from None
    view = programme.municipality(code)
    if not people and not view.active_officials:
        raise FormError(
            _("Official 1: fill in the name and e-mail address of at least one official."),
            "naam1",
        )
    known = {o.email for o in view.active_officials}
    room = max(0, 2 - len(view.active_officials))
    new = [p for p in people if p.email not in known][:room]
    session_id = values.get("sessie", "")
    if session_id:
        # Any session: one that took place already is the programme's to refuse.
        session = next((s for s in programme.sessions() if s.session_id == session_id), None)
        if session is None:
            raise FormError(_("Training: choose one of the trainings listed."), "sessie")
        to_book = len(new) + sum(1 for o in view.active_officials if o.session_id is None)
        if session.seats_left < to_book:
            raise FormError(
                _("Training: this one has not enough seats left; choose another."), "sessie"
            )
    with programme.atomic():
        _accept_and_book(programme, link, new, session_id or None, view)
    return bool(session_id)


def _accept_and_book(
    programme: Programme,
    link: Link,
    people: list[Official],
    session_id: str | None,
    view: MunicipalityView,
) -> None:
    by, code, today = link.principal.by, link.code, programme.today()
    if view.accepted_on is None:
        programme.accept(code, on=today, by=by, origin=ORIGIN)
    for person in people:
        programme.nominate_official(
            code, name=person.name, email=person.email, by=by, origin=ORIGIN
        )
    if session_id is None:
        return
    for official in programme.municipality(code).active_officials:
        if official.session_id is None:
            programme.book_training(
                code, official_id=official.id, session_id=session_id, by=by, origin=ORIGIN
            )


__all__ = ["build_pages", "install_error_pages", "render"]
