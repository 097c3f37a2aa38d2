"""What the report shows, gathered from the programme's read models (no personal data).

Everything is computed for one day (``as_of``, default today): from the read models when they
are current for it, else replayed as of that day (``ReadModels.state_on``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import attrs

from mma_core import Official, Stage
from mma_core.plugin_api import (
    FUNNEL,
    Due,
    LedgerLine,
    MapArea,
    MunicipalityRecord,
    OfficialId,
    Overview,
    Payer,
    SessionRecord,
    WaterbedEntry,
    borders_on,
    centroids,
    due_items,
    funnel,
    map_areas,
    overview_from_records,
)

DUE_WITHIN = 30
# Bloemendaal is crescent-shaped: its centroid falls inside Zandvoort. On the map it stands
# in the dunes north-west of Haarlem, between Zandvoort and Velsen.
PLACED_BY_HAND = {"GM0377": (52.410, 4.590)}


@attrs.frozen
class Month:
    end: date
    connected: int
    total: int


@attrs.frozen
class Occupancy:
    session: SessionRecord
    booked: int
    attended: int
    missed: int


@attrs.frozen
class MapPoint:
    code: str
    name: str
    stage: str
    lat: float
    lon: float
    surrounded: bool  # unconnected, every neighbour connected


@attrs.frozen
class Report:
    day: date
    offer_on: date | None
    overview: Overview
    records: tuple[MunicipalityRecord, ...]  # existing on the day, registration order
    funnel: dict[str, int]
    months: tuple[Month, ...]
    costs_by_payer: dict[str, Decimal]
    costs_by_year: dict[int, dict[str, Decimal]]
    occupancy: tuple[Occupancy, ...]
    due: tuple[Due, ...]
    waterbed: tuple[WaterbedEntry, ...]
    points: tuple[MapPoint, ...]
    borders: tuple[tuple[str, str], ...]
    areas: tuple[MapArea, ...] = ()
    covenant_on: date | None = None


def _no_personal_data(_: OfficialId, __: str) -> Official | None:
    return None  # the report never decrypts an official


def month_ends(first: date, last: date) -> list[date]:
    """The last day of every month from ``first``'s to ``last``'s; the last one is ``last``."""
    ends = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        following = date(year + month // 12, month % 12 + 1, 1)
        ends.append(min(following - timedelta(days=1), last))
        year, month = following.year, following.month
    return ends


def connected_on(r: MunicipalityRecord, day: date) -> bool:
    """Whether ``r`` (as it stands on the report's day) was connected on an earlier ``day``."""
    if not r.exists_on(day) or r.connected_on is None or r.connected_on > day:
        return False
    return r.terminated_on is None or day < r.terminated_on


def gather(programme: Any, as_of: date | None) -> Report:
    day = as_of or programme.views.today()
    records, sessions = programme.views.state_on(day)
    overview = overview_from_records(records, _no_personal_data, day, None, None)
    existing = tuple(r for r in records if r.exists_on(day))
    ledger: list[LedgerLine] = [line for line in programme.views.ledger() if line.on <= day]
    invited = [r.invited_on for r in records if r.invited_on is not None]
    offer_on = min(invited) if invited else None
    start = offer_on or day
    months = tuple(
        Month(
            end,
            sum(1 for r in records if connected_on(r, end)),
            sum(1 for r in records if r.exists_on(end)),
        )
        for end in month_ends(start, day)
    )
    by_payer = {payer.value: Decimal("0.00") for payer in Payer}
    by_year: dict[int, dict[str, Decimal]] = {}
    for line in ledger:
        by_payer[line.payer.value] += line.amount.amount
        year = by_year.setdefault(line.on.year, {p.value: Decimal("0.00") for p in Payer})
        year[line.payer.value] += line.amount.amount
    return Report(
        day=day,
        offer_on=offer_on,
        overview=overview,
        records=existing,
        funnel=funnel(overview),
        months=months,
        costs_by_payer=by_payer,
        costs_by_year=dict(sorted(by_year.items())),
        occupancy=tuple(_occupancy(records, sessions)),
        due=tuple(due_items(records, sessions, day, DUE_WITHIN)),
        waterbed=overview.waterbed,
        points=tuple(_points(records, day, overview.waterbed)),
        borders=tuple(_borders(records, day)),
        areas=map_areas(existing, overview.waterbed),
        covenant_on=_covenant_on(programme, day),
    )


def _occupancy(
    records: Sequence[MunicipalityRecord], sessions: Sequence[SessionRecord]
) -> list[Occupancy]:
    officials = {o.id: o for r in records for o in r.officials}
    result = []
    for s in sessions:
        attended = missed = 0
        for official_id in s.booked:
            o = officials.get(official_id)
            if o is None:
                continue
            if o.session_id != s.session_id:
                # Booked on a later session since: an official books again only after missing
                # one, so this session counts them as absent (their record holds the latest).
                missed += 1
            elif o.attended is True:
                attended += 1
            elif o.attended is False:
                missed += 1
        result.append(Occupancy(session=s, booked=len(s.booked), attended=attended, missed=missed))
    return result


def _points(
    records: Sequence[MunicipalityRecord], day: date, waterbed: Sequence[WaterbedEntry]
) -> list[MapPoint]:
    places = centroids(records, day)
    surrounded = {e.code for e in waterbed if e.surrounded}
    points = []
    for r in records:
        if r.code not in places:
            continue
        lat, lon = PLACED_BY_HAND.get(r.code, places[r.code])
        points.append(MapPoint(r.code, r.name, r.stage.value, lat, lon, r.code in surrounded))
    return points


def _covenant_on(programme: Any, day: date) -> date | None:
    """The day the covenant with MMA was signed, if it was by ``day``."""
    offers = getattr(programme, "offers", None)
    signed = [o.covenant_on for o in (offers() if offers else []) if o.covenant_on is not None]
    signed = [d for d in signed if d <= day]
    return min(signed) if signed else None


def _borders(records: Sequence[MunicipalityRecord], day: date) -> list[tuple[str, str]]:
    graph = borders_on(records, day)
    return sorted({(a, b) for a, ns in graph.items() for b in ns if a < b})


__all__ = ["FUNNEL", "Report", "Stage", "gather", "month_ends"]
