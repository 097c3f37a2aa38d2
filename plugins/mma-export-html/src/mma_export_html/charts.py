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
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from mma_core.plugin_api import MapArea
from mma_export_html.report import Month, Occupancy

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


MAX_MONTH_LABELS = 12


def month_ticks(ends: Sequence[date]) -> list[int]:
    """Which months get a label: quarters, half years or years, whichever gives at most
    ``MAX_MONTH_LABELS`` (each label ``okt. 2019`` needs its room), else every n-th month."""
    for months in ((1, 4, 7, 10), (1, 7), (1,)):
        chosen = [i for i, end in enumerate(ends) if end.month in months]
        if len(chosen) <= MAX_MONTH_LABELS:
            if len(chosen) >= 3:
                return chosen
            break
    step = -(-len(ends) // MAX_MONTH_LABELS) or 1
    return list(range(0, len(ends), step))


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
    ticks = month_ticks([m.end for m in months])
    ax.set_xticks(ticks)
    ax.set_xticklabels([month_label(months[i].end) for i in ticks], rotation=0)
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
    areas: Sequence[MapArea],
    stage_names: dict[str, str],
    surrounded_label: str,
    source_label: str,
) -> str:
    """A choropleth of the municipalities by stage, in RD New metres (no reprojection). Names
    are placed largest municipality first and left out where they would overlap another."""
    fig, ax = plt.subplots(figsize=(5.6, 7.0))
    for stage, colour in STAGE_COLOURS.items():
        rings = [ring for a in areas if a.stage == stage for ring in a.rings]
        if rings:
            ax.add_collection(
                PolyCollection(
                    rings,
                    facecolors=colour,
                    edgecolors="white",
                    linewidths=0.6,
                    label=stage_names[stage],
                    zorder=2,
                )
            )
    ringed = [ring for a in areas if a.surrounded for ring in a.rings]
    if ringed:
        ax.add_collection(
            PolyCollection(
                ringed,
                facecolors="none",
                edgecolors="#d9534f",
                linewidths=2.0,
                label=surrounded_label,
                zorder=4,
            )
        )
    xs = [x for a in areas for ring in a.rings for x, _ in ring] or [0, 1]
    ys = [y for a in areas for ring in a.rings for _, y in ring] or [0, 1]
    pad = 0.02 * max(max(xs) - min(xs), max(ys) - min(ys))
    ax.set_xlim(min(xs) - pad, max(xs) + pad)
    ax.set_ylim(min(ys) - pad, max(ys) + pad)
    ax.set_aspect("equal")
    ax.axis("off")
    _place_labels(fig, ax, areas)
    ax.text(1, 0, source_label, transform=ax.transAxes, ha="right", va="bottom", fontsize=6)
    ax.legend(
        frameon=False,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.01),
        ncols=3,
        fontsize=8,
    )
    return to_svg(fig, "map")


LABEL_SIZE = 5.5  # points


def _place_labels(fig: Figure, ax: Axes, areas: Sequence[MapArea]) -> None:
    fig.canvas.draw()
    box = ax.get_window_extent()
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    # Metres per point, the same both ways (equal aspect): a label's size in map units.
    scale = max((x1 - x0) / box.width, (y1 - y0) / box.height) * fig.dpi / 72
    placed: list[tuple[float, float, float, float]] = []
    for area in sorted(areas, key=_area, reverse=True):
        x, y = representative_point(max(area.rings, key=_ring_area))
        half_w = 0.3 * LABEL_SIZE * len(area.name) * scale
        half_h = 0.65 * LABEL_SIZE * scale
        label = (x - half_w, y - half_h, x + half_w, y + half_h)
        if any(_overlap(label, other) for other in placed):
            continue
        placed.append(label)
        ax.text(x, y, area.name, ha="center", va="center", fontsize=LABEL_SIZE, color=INK, zorder=5)


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _ring_area(ring: Sequence[tuple[int, int]]) -> float:
    return abs(
        sum(
            x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, [*ring[1:], ring[0]], strict=True)
        )
        / 2
    )


def _area(area: MapArea) -> float:
    return sum(_ring_area(r) for r in area.rings)


def representative_point(ring: Sequence[tuple[int, int]]) -> tuple[float, float]:
    """A point inside the ring for its label: the centroid, or for a ring that bends around its
    centroid (Bloemendaal's crescent), the middle of the widest stretch inside it across the
    centroid's latitude."""
    pairs = list(zip(ring, [*ring[1:], ring[0]], strict=True))
    a = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in pairs) / 2 or 1.0
    cx = sum((x0 + x1) * (x0 * y1 - x1 * y0) for (x0, y0), (x1, y1) in pairs) / (6 * a)
    cy = sum((y0 + y1) * (x0 * y1 - x1 * y0) for (x0, y0), (x1, y1) in pairs) / (6 * a)
    crossings = sorted(
        x0 + (cy - y0) * (x1 - x0) / (y1 - y0)
        for (x0, y0), (x1, y1) in pairs
        if (y0 <= cy < y1) or (y1 <= cy < y0)
    )
    inside = list(zip(crossings[::2], crossings[1::2], strict=False))
    if any(left <= cx <= right for left, right in inside) or not inside:
        return cx, cy
    left, right = max(inside, key=lambda span: span[1] - span[0])
    return (left + right) / 2, cy
