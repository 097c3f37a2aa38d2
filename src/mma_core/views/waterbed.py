"""The waterbed view: crime moves to the municipality with the weakest information position.

Borders and centroids come from the shipped ``noord-holland-2019-adjacency.csv`` (the 47
municipalities of October 2019). After a merger a border is carried to the successor: each end
of a border is followed along the successor chain (from the registry, and from merges recorded
in the store) to the municipality that exists on the day asked about, and a border whose two ends
meet in one municipality disappears. So GM1980 Dijk en Waard borders every neighbour of GM0398
Heerhugowaard and GM0416 Langedijk but neither of them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date
from functools import cache
from importlib import resources

import attrs

from mma_core.domain.errors import InvalidInput
from mma_core.domain.values import Stage
from mma_core.storage import registries
from mma_core.views.records import MunicipalityRecord
from mma_core.views.state import MunicipalityFacts
from mma_core.views.state import WaterbedEntry as WaterbedEntry  # beside Overview, its holder

_FILES = {"noord-holland-2019": "noord-holland-2019-adjacency.csv"}


@attrs.frozen
class Place:
    code: str
    name: str
    lat: float
    lon: float
    neighbours: tuple[str, ...]


@cache
def adjacency(registry: str = "noord-holland-2019") -> dict[str, Place]:
    """The shipped borders and centroids of a registry's municipalities, by code."""
    try:
        filename = _FILES[registry]
    except KeyError:
        raise InvalidInput(f"no borders are shipped for registry {registry!r}") from None
    text = resources.files("mma_core.data").joinpath(filename).read_text(encoding="utf-8")
    places = {}
    for row in csv.DictReader(io.StringIO(text)):
        places[row["cbs_code"]] = Place(
            code=row["cbs_code"],
            name=row["name"],
            lat=float(row["lat"]),
            lon=float(row["lon"]),
            neighbours=tuple(row["neighbours"].split()),
        )
    return places


def successors(records: Iterable[MunicipalityFacts]) -> dict[str, str]:
    """Each merged code's successor: from the shipped registries and the merges recorded."""
    successor: dict[str, str] = {}
    for name in {r.registry for r in records} & set(_FILES):
        for entry in registries.load(name):
            if entry.successor is not None:
                successor[entry.code.value] = entry.successor.value
    for r in records:
        if r.successor is not None:
            successor[r.code] = r.successor
    return successor


def borders_on(records: Sequence[MunicipalityRecord], day: date) -> dict[str, set[str]]:
    """Each municipality existing on ``day`` and its neighbours then, borders carried to
    successors. Municipalities of registries without shipped borders have no neighbours."""
    existing = {r.code for r in records if r.exists_on(day)}
    successor = successors(records)

    def resolve(code: str) -> str | None:
        seen = set()
        while code not in existing and code in successor and code not in seen:
            seen.add(code)
            code = successor[code]
        return code if code in existing else None

    graph: dict[str, set[str]] = {code: set() for code in existing}
    for name in {r.registry for r in records} & set(_FILES):
        for place in adjacency(name).values():
            a = resolve(place.code)
            for neighbour in place.neighbours:
                b = resolve(neighbour)
                if a is not None and b is not None and a != b:
                    graph[a].add(b)
                    graph[b].add(a)
    return graph


def centroids(records: Sequence[MunicipalityRecord], day: date) -> dict[str, tuple[float, float]]:
    """(lat, lon) per municipality existing on ``day``; a new code (GM1980) sits at the mean of
    its predecessors' centroids."""
    places: dict[str, Place] = {}
    for name in {r.registry for r in records} & set(_FILES):
        places.update(adjacency(name))
    successor = successors(records)
    result: dict[str, tuple[float, float]] = {}
    gathered: dict[str, list[tuple[float, float]]] = {}
    for code, place in places.items():
        target = code
        while target in successor and not any(
            r.code == target and r.exists_on(day) for r in records
        ):
            target = successor[target]
        gathered.setdefault(target, []).append((place.lat, place.lon))
    existing = {r.code for r in records if r.exists_on(day)}
    for code in existing:
        if code in places:
            result[code] = (places[code].lat, places[code].lon)
        elif code in gathered:
            points = gathered[code]
            result[code] = (
                sum(p[0] for p in points) / len(points),
                sum(p[1] for p in points) / len(points),
            )
    return result


def waterbed(records: Sequence[MunicipalityRecord], day: date) -> tuple[WaterbedEntry, ...]:
    """Every unconnected municipality existing on ``day`` with at least one neighbour, ranked:
    most connected neighbours first, then the larger share, then the code."""
    by_code = {r.code: r for r in records}
    graph = borders_on(records, day)
    entries = []
    for code, neighbours in graph.items():
        r = by_code[code]
        if r.stage is Stage.CONNECTED or not neighbours:
            continue
        connected = tuple(sorted(n for n in neighbours if by_code[n].stage is Stage.CONNECTED))
        entries.append(
            WaterbedEntry(
                code=code,
                name=r.name,
                stage=r.stage.value,
                neighbours=len(neighbours),
                connected_neighbours=len(connected),
                connected=connected,
            )
        )
    entries.sort(key=lambda e: (-e.connected_neighbours, -e.share, e.code))
    return tuple(entries)
