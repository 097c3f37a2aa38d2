"""The ``html`` exporter: one self-contained file (inline CSS and SVG, no external requests).

Dutch by default (babel ``nl_NL``: ``€ 1.234,50``, ``18 oktober 2019``); English with
``MMA_REPORT_LANG=en`` or ``lang = "en"`` in the plugin's configuration.
"""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal
from typing import IO, Any

from babel.dates import format_date
from babel.numbers import format_currency, format_percent
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from mma_core import InvalidInput
from mma_core.plugin_api import Due, ExportSource, trained
from mma_export_html.report import FUNNEL, gather

LANGUAGES = ("nl", "en")
LOCALES = {"nl": "nl_NL", "en": "en_GB"}
LANG_ENV = "MMA_REPORT_LANG"

TEXT: dict[str, dict[str, str]] = {
    "nl": {
        "title": "Aansluiting op Meld Misdaad Anoniem",
        "subtitle": "Stand van het programma op {day}",
        "offer": "Aanbod verstuurd op {day}",
        "covenant": "convenant met MMA getekend op {day}",
        "coverage": "Dekking",
        "coverage_over_time": "Aangesloten gemeenten per maand sinds het aanbod",
        "funnel": "Trechter",
        "municipalities": "Gemeenten",
        "municipality": "Gemeente",
        "code": "Code",
        "stage": "Fase",
        "invited": "Uitgenodigd",
        "answered": "Antwoord",
        "connected_on": "Aangesloten",
        "evaluation_due": "Evaluatie",
        "reports": "Meldingen",
        "costs": "Kosten",
        "costs_by_payer": "Kosten per betaler",
        "all_payers": "Kosten, alle betalers samen",
        "detail_answer": "uitgenodigd op {day}, nog geen antwoord",
        "detail_evaluation": "termijn begon op {day}",
        "detail_training": "{count} van 2 ambtenaren getraind sinds {day}",
        "detail_renewal": "geëvalueerd: doorgaan; leg de volgende termijn vast",
        "detail_termination": "geëvalueerd: stoppen; leg de beëindiging vast",
        "renewal_kind": "verlenging",
        "termination_kind": "beëindiging",
        "detail_over": "{booked} geboekt voor {capacity} plaatsen",
        "detail_under": "pas {booked} van {capacity} plaatsen geboekt",
        "costs_per_year": "Kosten per jaar",
        "year": "Jaar",
        "total": "Totaal",
        "training": "Trainingen",
        "session": "Sessie",
        "starts": "Begin",
        "location": "Locatie",
        "capacity": "Plaatsen",
        "booked": "Geboekt",
        "attended": "Aanwezig",
        "missed": "Afwezig",
        "deadlines": "Open termijnen (binnen {days} dagen of verlopen)",
        "due": "Uiterlijk",
        "days": "Dagen",
        "kind": "Soort",
        "detail": "Toelichting",
        "none": "Geen.",
        "map": "De provincie",
        "map_note": (
            "De gemeenten op de dag van het overzicht, gekleurd naar hun stand; vanaf de "
            "fusies van 2022 met de grenzen van 2022. Rood omrand: niet aangesloten en geheel "
            "omringd door aangesloten buren (het waterbedeffect). Namen die elkaar zouden "
            "overlappen zijn weggelaten."
        ),
        "map_source": "Bron: CBS, PDOK",
        "waterbed": "Waterbed: niet aangesloten gemeenten naar aangesloten buren",
        "neighbours": "Aangesloten buren",
        "surrounded": "omringd",
        "connected_total": "aangesloten",
        "of": "van",
        "province": "provincie",
        "municipality_payer": "gemeente",
        "generated": "Gemaakt met mma_core; bevat geen persoonsgegevens.",
        "answer": "antwoord",
        "evaluation": "evaluatie",
        "training_kind": "training",
        "capacity_kind": "bezetting",
        "registered": "geregistreerd",
        "invited_stage": "uitgenodigd",
        "accepted": "akkoord",
        "declined": "afgewezen",
        "connected": "aangesloten",
        "stopped": "gestopt",
        "merged": "gefuseerd",
        "trained": "getraind",
    },
    "en": {
        "title": "Connection to Meld Misdaad Anoniem",
        "subtitle": "Programme status on {day}",
        "offer": "Offer sent on {day}",
        "covenant": "covenant with MMA signed on {day}",
        "coverage": "Coverage",
        "coverage_over_time": "Connected municipalities per month since the offer",
        "funnel": "Funnel",
        "municipalities": "Municipalities",
        "municipality": "Municipality",
        "code": "Code",
        "stage": "Stage",
        "invited": "Invited",
        "answered": "Answered",
        "connected_on": "Connected",
        "evaluation_due": "Evaluation",
        "reports": "Reports",
        "costs": "Costs",
        "costs_by_payer": "Costs by payer",
        "all_payers": "Costs, all payers together",
        "detail_answer": "invited on {day}, no answer yet",
        "detail_evaluation": "term started on {day}",
        "detail_training": "{count} of 2 officials trained since {day}",
        "detail_renewal": "evaluated: continue; record the next term",
        "detail_termination": "evaluated: stop; record the termination",
        "renewal_kind": "renewal",
        "termination_kind": "termination",
        "detail_over": "{booked} booked for {capacity} seats",
        "detail_under": "only {booked} of {capacity} seats booked",
        "costs_per_year": "Costs per year",
        "year": "Year",
        "total": "Total",
        "training": "Training",
        "session": "Session",
        "starts": "Starts",
        "location": "Location",
        "capacity": "Seats",
        "booked": "Booked",
        "attended": "Attended",
        "missed": "Missed",
        "deadlines": "Open deadlines (within {days} days or overdue)",
        "due": "Due",
        "days": "Days",
        "kind": "Kind",
        "detail": "Detail",
        "none": "None.",
        "map": "The province",
        "map_note": (
            "The municipalities on the report's day, coloured by stage; from the 2022 mergers "
            "on with the 2022 boundaries. Bordered in red: unconnected and surrounded by "
            "connected neighbours (the waterbed effect). Names that would overlap are left out."
        ),
        "map_source": "Source: CBS, PDOK",
        "waterbed": "Waterbed: unconnected municipalities by connected neighbours",
        "neighbours": "Connected neighbours",
        "surrounded": "surrounded",
        "connected_total": "connected",
        "of": "of",
        "province": "province",
        "municipality_payer": "municipality",
        "generated": "Made with mma_core; holds no personal data.",
        "answer": "answer",
        "evaluation": "evaluation",
        "training_kind": "training",
        "capacity_kind": "capacity",
        "registered": "registered",
        "invited_stage": "invited",
        "accepted": "accepted",
        "declined": "declined",
        "connected": "connected",
        "stopped": "stopped",
        "merged": "merged",
        "trained": "trained",
    },
}


class HtmlExporter:
    format = "html"
    suffix = ".html"
    views: tuple[str, ...] = ("report",)
    # Aggregates only, no official's name: a report to e-mail, written with the usual mode.
    shareable_views: tuple[str | None, ...] = (None, "report")

    def __init__(self, default_lang: str = "nl") -> None:
        self.default_lang = default_lang

    def language(self, source: ExportSource | None = None) -> str:
        # A ``lang`` on the source (an ``mma export --lang`` to come) wins over the environment,
        # which wins over the plugin's configuration.
        lang = getattr(source, "lang", None) or os.environ.get(LANG_ENV) or self.default_lang
        if lang not in LANGUAGES:
            raise InvalidInput(
                f"report language {lang!r} ({LANG_ENV} or the plugin's lang) is not one of "
                + ", ".join(LANGUAGES)
            )
        return lang

    def export(self, source: ExportSource, view: str | None, out: IO[bytes]) -> None:
        out.write(render(source.programme, source.as_of, self.language(source)).encode("utf-8"))


def render(programme: Any, as_of: date | None, lang: str = "nl") -> str:
    """The whole report as one HTML document."""
    text = TEXT[lang]
    locale = LOCALES[lang]
    report = gather(programme, as_of)

    def money(amount: Decimal) -> str:
        return str(format_currency(amount, "EUR", locale=locale))

    def long_date(day: date | None) -> str:
        return "–" if day is None else str(format_date(day, format="long", locale=locale))

    def short_date(day: date | None) -> str:
        return "–" if day is None else str(format_date(day, format="medium", locale=locale))

    def month_label(day: date) -> str:
        return str(format_date(day, format="MMM yyyy", locale=locale))

    stage_names = {
        "registered": text["registered"],
        "invited": text["invited_stage"],
        "accepted": text["accepted"],
        "declined": text["declined"],
        "connected": text["connected"],
        "stopped": text["stopped"],
        "merged": text["merged"],
        "trained": text["trained"],
    }
    kind_names = {
        "answer": text["answer"],
        "evaluation": text["evaluation"],
        "training": text["training_kind"],
        "capacity": text["capacity_kind"],
        "renewal": text["renewal_kind"],
        "termination": text["termination_kind"],
    }
    payers = {"province": text["province"], "municipality": text["municipality_payer"]}
    by_code = {m.code: m for m in report.records}
    by_session = {o.session.session_id: o.session for o in report.occupancy}

    def detail(d: Due) -> str:
        """The deadline's detail in the report's language, from the records."""
        m = by_code.get(d.code or "")
        if d.kind == "answer" and m is not None:
            return text["detail_answer"].format(day=long_date(m.invited_on))
        if d.kind == "evaluation" and m is not None:
            return text["detail_evaluation"].format(day=long_date(m.term_start))
        if d.kind == "training" and m is not None:
            return text["detail_training"].format(
                count=trained(m), day=long_date(m.accepted_on or m.connected_on)
            )
        if d.kind in ("renewal", "termination"):
            return text[f"detail_{d.kind}"]
        s = by_session.get(d.session_id or "")
        if d.kind == "capacity" and s is not None:
            key = "detail_over" if len(s.booked) > s.capacity else "detail_under"
            return text[key].format(booked=len(s.booked), capacity=s.capacity)
        return d.detail

    # matplotlib is imported only when a report is drawn: loading the plugin (every 'mma'
    # command that asks for plugins) stays cheap.
    from mma_export_html import charts

    o = report.overview
    svg = {
        "coverage": charts.coverage_chart(
            report.months,
            month_label,
            {
                "connected": text["connected"],
                "total": text["municipalities"],
                "municipalities": text["municipalities"],
            },
        ),
        "funnel": charts.funnel_chart(report.funnel, stage_names),
        "costs": charts.costs_chart(report.costs_by_year, money, payers),
        "training": charts.training_chart(
            report.occupancy,
            {
                "capacity": text["capacity"],
                "booked": text["booked"],
                "attended": text["attended"],
            },
        ),
        "map": charts.map_chart(report.areas, stage_names, text["surrounded"], text["map_source"]),
    }
    env = Environment(
        loader=PackageLoader("mma_export_html", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    template = env.get_template("report.html.j2")
    return template.render(
        lang=lang,
        t=text,
        r=report,
        o=o,
        svg=svg,
        funnel_steps=FUNNEL,
        stage_names=stage_names,
        kind_names=kind_names,
        payers=payers,
        money=money,
        long_date=long_date,
        short_date=short_date,
        percent=lambda value: str(format_percent(float(value), format="#,##0.0%", locale=locale)),
        total_costs=sum(report.costs_by_payer.values(), Decimal("0.00")),
        stage_colours=charts.STAGE_COLOURS,
        detail=detail,
    )
