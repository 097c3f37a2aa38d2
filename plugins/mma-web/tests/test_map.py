"""The dashboard's map: an inline SVG of the municipalities existing on the programme's day,
each a link to its page, coloured by stage and titled in Dutch; nothing external."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from fastapi.testclient import TestClient
from mma_web.app import create_app
from mma_web.mapsvg import INK, STAGE_COLOURS, map_svg
from mma_web.tokens import TokenTable

from conftest import COORDINATOR, INVITED, TOKENS, post_login
from mma_core import Programme
from mma_core.plugin_api import MapArea

AREA = re.compile(
    r'<a href="(?P<href>[^"]*)" id="kaart-(?P<code>GM\d{4})"><title>(?P<title>[^<]*)</title>'
    r'<path d="(?P<d>[^"]*)" fill="(?P<fill>#[0-9a-f]{6})"/></a>'
)


def svg_of(page: str) -> str:
    match = re.search(r"<svg class=\"kaart\".*?</svg>", page, re.S)
    assert match is not None, "no map on the dashboard"
    return match.group(0)


def areas_of(client: TestClient) -> dict[str, dict[str, str]]:
    page = client.get("/")
    assert page.status_code == 200
    svg = svg_of(page.text)
    found = [m.groupdict() for m in AREA.finditer(svg)]
    assert len(found) == svg.count("<a ") == svg.count("<title>")  # every link is an area
    return {a["code"]: a for a in found}


def login(client: TestClient) -> None:
    done = post_login(client, COORDINATOR)
    assert done.status_code == 303


def test_the_dashboard_maps_every_municipality_by_stage(
    client: TestClient, programme: Programme
) -> None:
    login(client)
    overview = programme.overview()
    areas = areas_of(client)
    assert set(areas) == {m.code for m in overview.municipalities}
    for m in overview.municipalities:
        area = areas[m.code]
        assert area["href"] == f"/gemeente/{m.code}"
        assert area["fill"] == STAGE_COLOURS[m.stage.value]
    amsterdam = areas["GM0363"]
    assert amsterdam["title"] == "Amsterdam: uitgenodigd"
    assert areas["GM0358"]["title"] == "Aalsmeer: geregistreerd"
    assert {areas[code]["fill"] for code in INVITED} == {STAGE_COLOURS["invited"]}
    # Only integers, and the page links nowhere else.
    assert re.fullmatch(r"[MZ0-9 ]+", amsterdam["d"])
    svg = svg_of(client.get("/").text)
    for external in ("http", "//", "<script", "<image", "url("):
        assert external not in svg, external

    today = programme.today()
    programme.accept("GM0363", on=today, by="test")
    programme.connect("GM0363", on=today, by="test")
    page = client.get("/").text
    amsterdam = areas_of(client)["GM0363"]
    assert amsterdam["fill"] == STAGE_COLOURS["connected"]
    assert amsterdam["title"] == "Amsterdam: aangesloten"
    assert "aangesloten (1)" in page  # the legend counts it
    assert "Gemeentegrenzen: CBS, PDOK (CC BY 4.0)" in page


def test_the_map_shows_the_municipalities_of_the_programmes_day(store_url: str) -> None:
    # The dashboard shows the programme's today; on a clock in 2020 Dijk en Waard (formed on
    # 1 January 2022) is not there yet, Heerhugowaard and Langedijk still are.
    def in_2020() -> datetime:
        return datetime(2020, 6, 30, 12, tzinfo=UTC)

    with (
        Programme.open(store_url, origin="web", clock=in_2020) as before,
        TestClient(
            create_app(before, TokenTable.parse_env(TOKENS)), base_url="https://testserver"
        ) as client,
    ):
        assert before.today() == date(2020, 6, 30)
        login(client)
        areas = areas_of(client)
        codes = set(areas)
    assert len(codes) == 47
    assert "GM1980" not in codes
    assert {"GM0398", "GM0416"} <= codes

    with (
        Programme.open(store_url, origin="web") as now,
        TestClient(
            create_app(now, TokenTable.parse_env(TOKENS)), base_url="https://testserver"
        ) as client,
    ):
        login(client)
        later = areas_of(client)
        codes = set(later)
    assert "GM1980" in codes
    assert not codes & {"GM0398", "GM0416"}
    # Merges the registry knows, though the store recorded none: Purmerend has Beemster's land
    # (its 2022 outline), Amsterdam Weesp's (one ring more), and no hole is left where they were.
    assert "GM0370" not in codes
    assert later["GM0439"]["d"] != areas["GM0439"]["d"]
    assert later["GM0363"]["d"].count("M") == areas["GM0363"]["d"].count("M") + 1


def test_the_svg_is_small_flipped_and_outlines_the_surrounded() -> None:
    areas = [
        MapArea("GM0001", "Noord & <Zuid>", "registered", (((100000, 500000), (100500, 500000),
                (100500, 500900), (100000, 500000)),), False),
        MapArea("GM0002", "Omringd", "invited", (((100500, 500000), (101000, 500000),
                (101000, 500400), (100500, 500000)),), True),
    ]  # fmt: skip
    svg = map_svg(
        areas,
        lambda code: f"/gemeente/{code}",
        {"registered": "geregistreerd", "invited": "uitgenodigd"},
        "Kaart",
    )
    assert 'viewBox="0 0 20 19"' in svg  # 1000 m by 900 m in units of 100 m, 5 around
    # The northern point (y 500900) is at the top: y 5; the southern edge at 14.
    assert 'd="M5 14 10 14 10 5Z"' in svg
    assert "<title>Noord &amp; &lt;Zuid&gt;: geregistreerd</title>" in svg
    assert "<title>Omringd: uitgenodigd, omringd door aangesloten buren</title>" in svg
    outline = svg[svg.index('aria-hidden="true"') :]
    assert f'stroke="{INK}"' in outline
    assert outline.count('d="M10 14 15 14 15 10Z"') == 2  # the halo and the ink line
    assert "M5 14" not in outline  # only the surrounded one is outlined
