"""The dashboard's map: the municipalities as an inline SVG, coloured by stage, each a link to
its page. No script, no external resource: paths, links and titles only (text is escaped).

Coordinates are RD New metres (``mma_core.plugin_api.map_areas``), divided by :data:`UNIT` and
rounded to integers (the outlines are rounded to 10 m already; 100 m is far below a pixel of the
drawn map), with the y axis flipped: SVG's y grows downwards, RD's northwards. Stroke widths are
pixels of the page whatever the map's size: the page's stylesheet gives the map's paths
``vector-effect: non-scaling-stroke``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from markupsafe import Markup

from mma_core.plugin_api import MapArea

UNIT = 100  # metres per SVG unit
PAD = 5  # SVG units around the province

# Each fill has a contrast of at least 3:1 with white, the page and the lines between areas
# (WCAG 1.4.11); the hues differ, and each area's title and the table below say the stage too.
STAGE_COLOURS = {
    "registered": "#7b8794",
    "invited": "#b45309",
    "accepted": "#2563eb",
    "declined": "#b91c1c",
    "connected": "#146c43",
    "stopped": "#6b21a8",
    "merged": "#52606d",
}
BORDER = "#ffffff"
INK = "#1f2933"  # the outline of a surrounded municipality, on a white halo
SURROUNDED = "omringd door aangesloten buren"


def _path(rings: Sequence[Sequence[tuple[int, int]]], x0: int, y1: int) -> str:
    """The rings as one SVG path (a subpath per ring, implicit line-tos), in map units."""
    parts = []
    for ring in rings:
        points: list[tuple[int, int]] = []
        for x, y in ring:
            point = (round((x - x0) / UNIT) + PAD, round((y1 - y) / UNIT) + PAD)
            if not points or points[-1] != point:
                points.append(point)
        if len(points) > 1 and points[0] == points[-1]:
            points.pop()  # Z closes the ring
        if len(points) >= 3:
            parts.append("M" + " ".join(f"{x} {y}" for x, y in points) + "Z")
    return "".join(parts)


def map_svg(
    areas: Iterable[MapArea],
    href: Callable[[str], str],
    stage_names: Mapping[str, str],
    label: str,
) -> Markup:
    """An ``<svg>`` of ``areas``: each an ``<a href=href(code)>`` around a ``<path>`` filled with
    its stage's colour and titled with its name and stage (in ``stage_names``); a surrounded
    one is outlined on top of the rest. ``label`` names the whole map for assistive technology.
    """
    areas = list(areas)
    xs = [x for a in areas for ring in a.rings for x, _ in ring] or [0]
    ys = [y for a in areas for ring in a.rings for _, y in ring] or [0]
    x0, y1 = min(xs), max(ys)
    width = round((max(xs) - x0) / UNIT) + 2 * PAD
    height = round((y1 - min(ys)) / UNIT) + 2 * PAD
    shapes = []
    outlines = []
    for a in areas:
        d = _path(a.rings, x0, y1)
        stage = stage_names.get(a.stage, a.stage)
        title = f"{a.name}: {stage}" + (f", {SURROUNDED}" if a.surrounded else "")
        fill = STAGE_COLOURS.get(a.stage, STAGE_COLOURS["registered"])
        shapes.append(
            Markup(
                '<a href="{}" id="kaart-{}"><title>{}</title><path d="{}" fill="{}"/></a>'
            ).format(href(a.code), a.code, title, d, fill)
        )
        if a.surrounded:
            outlines.append(Markup('<path d="{}"/>').format(d))
    outline = Markup("")
    if outlines:
        # A white halo under an ink line: visible on every fill and on the white borders.
        outline = Markup(
            '<g fill="none" stroke-linejoin="round" pointer-events="none" aria-hidden="true">'
            '<g stroke="{}" stroke-width="6">{}</g><g stroke="{}" stroke-width="3">{}</g></g>'
        ).format(BORDER, Markup("").join(outlines), INK, Markup("").join(outlines))
    return Markup(
        '<svg class="kaart" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="group" '
        'aria-label="{label}">\n'
        '<g stroke="{border}" stroke-width="1" stroke-linejoin="round">\n{shapes}\n</g>'
        "{outline}</svg>"
    ).format(
        w=width,
        h=height,
        label=label,
        border=BORDER,
        shapes=Markup("\n").join(shapes),
        outline=outline,
    )


__all__ = ["STAGE_COLOURS", "map_svg"]
