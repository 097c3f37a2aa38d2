"""The map view: each municipality's outline on a day, with its stage.

The outlines are the municipal boundaries of Statistics Netherlands (CBS) as published through
PDOK, in the layers of 2019 and 2022, cut to Noord-Holland by ``tools/nh_boundaries.py`` into the
shipped ``noord-holland-boundaries.json``: per layer, each municipality's rings as integer RD New
(EPSG:28992) metres, rounded to 10 m, with the source to credit under ``"source"``.

A municipality keeps its 2019 outline until it absorbs another; from then on it has its 2022
outline, together with any absorbed one the 2022 layer still keeps apart (Weesp, which joined
Amsterdam on 24 March 2022). So GM1980 Dijk en Waard appears on the day it is formed, where
GM0398 Heerhugowaard and GM0416 Langedijk were the day before.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from importlib import resources

import attrs

from mma_core.domain.jsonable import JSONReady
from mma_core.views.state import MunicipalityFacts, WaterbedEntry
from mma_core.views.waterbed import successors

OUTLINES_FILE = "noord-holland-boundaries.json"

Ring = tuple[tuple[int, int], ...]  # (x, y) in RD New metres, closed (the last point is the first)


@attrs.frozen
class Outlines:
    """The shipped outlines: per CBS layer (``"2019"``, ``"2022"``), each code's rings."""

    source: str  # whom to credit, and the coordinate system
    layers: Mapping[str, Mapping[str, tuple[Ring, ...]]]


@attrs.frozen
class MapArea(JSONReady):
    """A municipality on the map: its outline on the day (rings of RD New metres; y grows
    northwards) and its stage then."""

    code: str
    name: str
    stage: str  # a ``Stage`` value
    rings: tuple[Ring, ...]
    surrounded: bool  # unconnected, every neighbour connected (``WaterbedEntry.surrounded``)


@cache
def outlines() -> Outlines:
    """The municipal outlines of Noord-Holland shipped with ``mma_core`` (read once)."""
    text = resources.files("mma_core.data").joinpath(OUTLINES_FILE).read_text(encoding="utf-8")
    data = json.loads(text)
    source = data.pop("source")
    layers = {
        layer: {
            code: tuple(tuple((int(x), int(y)) for x, y in ring) for ring in rings)
            for code, rings in by_code.items()
        }
        for layer, by_code in data.items()
    }
    return Outlines(source=source, layers=layers)


def _absorbed(municipalities: Sequence[MunicipalityFacts]) -> dict[str, list[str]]:
    """Per municipality drawn, the codes merged into it that are gone, directly or along a chain
    (Beemster into Purmerend, Weesp into Amsterdam): from the registry's successors, so a store
    without recorded merges draws them too, and from the merges the store recorded."""
    drawn = {m.code for m in municipalities}
    successor = successors(municipalities)
    for m in municipalities:
        for p in m.predecessors:
            successor.setdefault(p, m.code)
    absorbed: dict[str, list[str]] = {}
    for code in successor:
        target, seen = code, set()
        while target not in drawn and target in successor and target not in seen:
            seen.add(target)
            target = successor[target]
        if code not in drawn and target in drawn:
            absorbed.setdefault(target, []).append(code)
    return absorbed


def map_areas(
    municipalities: Iterable[MunicipalityFacts], waterbed: Iterable[WaterbedEntry] = ()
) -> tuple[MapArea, ...]:
    """The areas to draw for ``municipalities``, in their order: pass every one existing on the
    day (``Overview.municipalities``, or the records with ``exists_on(day)``), so that those
    merged away by then are known as gone, and that day's waterbed (``Overview.waterbed``),
    which says who is surrounded. A municipality without a shipped outline (of another
    province's registry) is left out."""
    municipalities = list(municipalities)
    layers = outlines().layers
    before, after = layers["2019"], layers["2022"]
    surrounded = {e.code for e in waterbed if e.surrounded}
    absorbed = _absorbed(municipalities)
    areas = []
    for m in municipalities:
        gone = absorbed.get(m.code, [])
        if gone or m.code not in before:
            rings = list(after.get(m.code, ()))
            for p in gone:
                rings.extend(after.get(p, ()))
        else:
            rings = list(before[m.code])
        if rings:
            areas.append(MapArea(m.code, m.name, m.stage.value, tuple(rings), m.code in surrounded))
    return tuple(areas)


__all__ = ["MapArea", "Outlines", "Ring", "map_areas", "outlines"]
