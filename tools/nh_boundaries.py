"""Cut the Noord-Holland municipalities out of the CBS boundary layers (TopoJSON, RD New) into the
small file ``mma_core`` ships for its maps (``mma_core.views.geo``).

    python tools/nh_boundaries.py GEO_DIR \\
        src/mma_core/data/noord-holland-boundaries.json

GEO_DIR holds ``gemeente_2019.topojson``, ``gemeente_2022.topojson`` and ``gemeenten_2019.csv``
(CBS via PDOK, CC BY 4.0, as distributed by the cartomap/nl repository). The output keeps, per
layer, each municipality's rings as integer RD coordinates rounded to 10 metres.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

PROVINCE = "PV27"
NEW_IN_2022 = {"GM1980"}  # Dijk en Waard: formed in 2022, so not in the 2019 province list
ROUND = 10  # metres


def decode_arcs(topo: dict[str, Any]) -> list[list[tuple[float, float]]]:
    sx, sy = topo["transform"]["scale"]
    tx, ty = topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def ring(arcs: list[list[tuple[float, float]]], indexes: list[int]) -> list[tuple[float, float]]:
    points: list[tuple[float, float]] = []
    for i in indexes:
        arc = arcs[i] if i >= 0 else list(reversed(arcs[~i]))
        points.extend(arc if not points else arc[1:])
    return points


def layer(path: Path, codes: set[str]) -> dict[str, list[list[list[int]]]]:
    topo = json.loads(path.read_text(encoding="utf-8"))
    arcs = decode_arcs(topo)
    (objects,) = topo["objects"].values()
    result: dict[str, list[list[list[int]]]] = {}
    for geometry in objects["geometries"]:
        code = geometry["properties"]["statcode"]
        if code not in codes:
            continue
        polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
        rings = []
        for polygon in polygons:
            for indexes in polygon:
                points = ring(arcs, indexes)
                rounded: list[list[int]] = []
                for x, y in points:
                    p = [round(x / ROUND) * ROUND, round(y / ROUND) * ROUND]
                    if not rounded or rounded[-1] != p:
                        rounded.append(p)
                if len(rounded) >= 4:
                    rings.append(rounded)
        result[code] = rings
    return result


def main(geo: Path, target: Path) -> None:
    with (geo / "gemeenten_2019.csv").open(encoding="utf-8") as f:
        codes = {row["code"] for row in csv.DictReader(f) if row["province_code"] == PROVINCE}
    data = {
        "source": "CBS, PDOK (CC BY 4.0), via cartomap/nl; RD New (EPSG:28992), metres",
        "2019": layer(geo / "gemeente_2019.topojson", codes),
        "2022": layer(geo / "gemeente_2022.topojson", codes | NEW_IN_2022),
    }
    target.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
    print(f"{target}: 2019 {len(data['2019'])}, 2022 {len(data['2022'])} municipalities")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
