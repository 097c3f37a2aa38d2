"""The report's charts, drawn with matplotlib (Agg, SVG backend) and returned as inline SVG.

Text is drawn as paths (``svg.fonttype = "path"``), so an SVG needs no font; each chart's
element ids get a prefix of their own, so several charts can live in one HTML document.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from mma_export_html.report import MapPoint, Month, Occupancy

STAGE_COLOURS = {
    "registered": "#b0b7c3",
    "invited": "#f2b134",
    "accepted": "#7fb3e6",
    "declined": "#d9534f",
    "connected": "#1b8a5a",
    "stopped": "#6c4a86",
    "merged": "#dddddd",
}
INK = "#1f2933"
GRID = "#d8dee6"
ACCENT = "#1b8a5a"
PAYER_COLOURS = {"province": "#2a6f97", "municipality": "#f2b134"}

_ID = re.compile(r'\bid="([^"]+)"')

plt.rcParams.update(
    {
        "svg.fonttype": "path",
        "svg.hashsalt": "mma-report",
        "font.family": "DejaVu Sans",
        "font.size": 9,
        "axes.edgecolor": GRID,
        "axes.labelcolor": INK,
        "xtick.color": INK,
        "ytick.color": INK,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
)


def to_svg(fig: Figure, prefix: str) -> str:
    """The figure as an ``<svg>`` element (no XML prolog), ids prefixed with ``prefix``."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    for name in set(_ID.findall(text)):
        new = f"{prefix}-{name}"
        text = text.replace(f'id="{name}"', f'id="{new}"')
        text = text.replace(f'href="#{name}"', f'href="#{new}"')
        text = text.replace(f"url(#{name})", f"url(#{new})")
    # Scale with the page: keep the viewBox, drop the fixed size.
    text = re.sub(r'<svg([^>]*?) width="[^"]+" height="[^"]+"', r"<svg\1", text, count=1)
    return text.replace("<svg", f'<svg class="chart" role="img" aria-label="{prefix}"', 1)


def coverage_chart(
    months: Sequence[Month], month_label: Callable[[date], str], labels: dict[str, str]
) -> str:
    fig, ax = plt.subplots(figsize=(11, 2.9))
    x = list(range(len(months)))
    connected = [m.connected for m in months]
    totals = [m.total for m in months]
    ax.fill_between(x, connected, step="post", color=ACCENT, alpha=0.25)
    ax.step(x, connected, where="post", color=ACCENT, linewidth=2, label=labels["connected"])
    ax.step(x, totals, where="post", color=INK, linewidth=1, linestyle="--", label=labels["total"])
    ax.set_ylim(0, max([*totals, 1]) * 1.1)
    step = max(1, len(months) // 10)
    ax.set_xticks(x[::step])
    ax.set_xticklabels([month_label(m.end) for m in months][::step], rotation=0)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="y", color=GRID, linewidth=0.6)
    ax.set_ylabel(labels["municipalities"])
    ax.legend(frameon=False, loc="lower right")
    return to_svg(fig, "coverage")


def funnel_chart(funnel: dict[str, int], names: dict[str, str]) -> str:
    fig, ax = plt.subplots(figsize=(5.2, 2.7))
    steps = list(funnel)
    values = [funnel[s] for s in steps]
    top = max([*values, 1])
    ramp = ["#9fb8cc", "#7fa6c4", "#5a93b8", "#3b86a0", ACCENT]
    colours = [ramp[min(i, len(ramp) - 1)] for i in range(len(steps))]
    y = list(range(len(steps)))[::-1]
    ax.barh(y, values, color=colours, height=0.65)
    for yi, value in zip(y, values, strict=True):
        ax.text(value + top * 0.01, yi, str(value), va="center", color=INK)
    ax.set_yticks(y)
    ax.set_yticklabels([names[s] for s in steps])
    ax.set_xlim(0, top * 1.12)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="x", color=GRID, linewidth=0.6)
    return to_svg(fig, "funnel")


def costs_chart(
    by_year: dict[int, dict[str, Decimal]],
    money: Callable[[Decimal], str],
    payers: dict[str, str],
) -> str:
    fig, ax = plt.subplots(figsize=(5.2, 2.7))
    years = list(by_year) or [date.today().year]
    bottom = [0.0] * len(years)
    for payer, colour in PAYER_COLOURS.items():
        values = [float(by_year.get(year, {}).get(payer, Decimal(0))) for year in years]
        ax.bar([str(y) for y in years], values, bottom=bottom, color=colour, label=payers[payer])
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: money(Decimal(int(v)))))
    ax.grid(axis="y", color=GRID, linewidth=0.6)
    ax.legend(frameon=False, fontsize=8)
    return to_svg(fig, "costs")


def training_chart(occupancy: Sequence[Occupancy], labels: dict[str, str]) -> str:
    fig, ax = plt.subplots(figsize=(5.2, 2.6))
    names = [o.session.session_id for o in occupancy] or ["-"]
    x = list(range(len(names)))
    capacity = [o.session.capacity for o in occupancy] or [0]
    booked = [o.booked for o in occupancy] or [0]
    attended = [o.attended for o in occupancy] or [0]
    ax.bar(x, capacity, color="none", edgecolor=INK, linewidth=1, label=labels["capacity"])
    ax.bar(x, booked, width=0.55, color="#7fb3e6", label=labels["booked"])
    ax.bar(x, attended, width=0.3, color=ACCENT, label=labels["attended"])
    ax.set_xticks(x)
    ax.set_xticklabels(names)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(axis="y", color=GRID, linewidth=0.6)
    ax.legend(frameon=False, ncols=3, loc="upper center", bbox_to_anchor=(0.5, 1.18), fontsize=8)
    return to_svg(fig, "training")


def map_chart(
    points: Sequence[MapPoint],
    borders: Sequence[tuple[str, str]],
    stage_names: dict[str, str],
    surrounded_label: str,
) -> str:
    fig, ax = plt.subplots(figsize=(5.2, 6.6))
    at = {p.code: p for p in points}
    for a, b in borders:
        if a in at and b in at:
            ax.plot(
                [at[a].lon, at[b].lon], [at[a].lat, at[b].lat], color=GRID, linewidth=1, zorder=1
            )
    for stage, colour in STAGE_COLOURS.items():
        chosen = [p for p in points if p.stage == stage]
        if chosen:
            ax.scatter(
                [p.lon for p in chosen],
                [p.lat for p in chosen],
                s=70,
                color=colour,
                edgecolor="white",
                linewidth=0.8,
                zorder=3,
                label=stage_names[stage],
            )
    ringed = [p for p in points if p.surrounded]
    if ringed:
        ax.scatter(
            [p.lon for p in ringed],
            [p.lat for p in ringed],
            s=330,
            facecolor="none",
            edgecolor="#d9534f",
            linewidth=2.2,
            zorder=4,
            label=surrounded_label,
        )
    for p in points:
        ax.annotate(
            p.name,
            (p.lon, p.lat),
            xytext=(4, 3),
            textcoords="offset points",
            fontsize=5.5,
            color=INK,
            zorder=5,
        )
    ax.set_aspect(1 / 0.61)  # degrees of longitude are shorter at 52.5° north
    ax.axis("off")
    ax.legend(
        frameon=False,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.01),
        ncols=3,
        fontsize=8,
        markerscale=0.8,
    )
    return to_svg(fig, "map")
