"""The report of ``mma demo``'s store in headless Chromium, driven over the DevTools protocol:
it loads with no console errors and no network requests, shows every chart, and leaves a PNG
screenshot in ``test-artifacts/``."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# A real browser: with the other long tests, in make test-all.
pytestmark = pytest.mark.slow

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
CHARTS = ("coverage", "funnel", "costs", "training", "map")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
)


def chromium() -> str | None:
    for candidate in (os.environ.get("MMA_CHROMIUM"), "/usr/bin/chromium", "chromium"):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    return None


class DevTools:
    """A minimal DevTools protocol client on one page (flattened session)."""

    def __init__(self, url: str) -> None:
        import websocket

        self.ws = websocket.create_connection(url, timeout=30)
        self.next_id = 0
        self.events: list[dict[str, Any]] = []
        self.session: str | None = None

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params}
        if self.session is not None:
            message["sessionId"] = self.session
        self.ws.send(json.dumps(message))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self.next_id:
                assert "error" not in reply, reply
                result: dict[str, Any] = reply.get("result", {})
                return result
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 30) -> None:
        end = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self.events):
            assert time.monotonic() < end, f"no {method} within {timeout}s"
            self.events.append(json.loads(self.ws.recv()))


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[DevTools]:
    binary = chromium()
    if binary is None:
        pytest.skip(
            "Chromium is not installed (Debian package 'chromium', or set MMA_CHROMIUM); "
            "CI installs it"
        )
    profile = tmp_path / "profile"
    profile.mkdir()
    process = subprocess.Popen(  # noqa: S603
        [binary, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        endpoint = None
        end = time.monotonic() + 60
        while endpoint is None and time.monotonic() < end:
            line = process.stderr.readline()
            if not line and process.poll() is not None:
                break
            found = re.search(r"DevTools listening on (ws://\S+)", line)
            endpoint = found.group(1) if found else None
        assert endpoint, "Chromium did not open its DevTools endpoint"
        tools = DevTools(endpoint)
        try:
            yield tools
        finally:
            tools.ws.close()
    finally:
        process.kill()
        process.wait(timeout=30)


def test_the_demo_report_loads_offline_without_errors_and_shows_every_chart(
    demo_url: str, tmp_path: Path, browser: DevTools
) -> None:
    report = tmp_path / "report.html"
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "mma_core.cli", "export", "html", "-o", str(report)],
        env={**os.environ, "MMA_STORE": demo_url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    page_url = report.as_uri()

    target = browser.send("Target.createTarget", url="about:blank")["targetId"]
    browser.session = browser.send("Target.attachToTarget", targetId=target, flatten=True)[
        "sessionId"
    ]
    for domain in ("Page", "Runtime", "Log", "Network"):
        browser.send(f"{domain}.enable")
    browser.send(
        "Emulation.setDeviceMetricsOverride",
        width=1280,
        height=900,
        deviceScaleFactor=1,
        mobile=False,
    )
    browser.events.clear()
    browser.send("Page.navigate", url=page_url)
    browser.wait_for("Page.loadEventFired")
    time.sleep(0.5)  # let late console messages arrive
    browser.send("Runtime.evaluate", expression="1")  # drains pending events

    requests = [
        e["params"]["request"]["url"]
        for e in browser.events
        if e.get("method") == "Network.requestWillBeSent"
    ]
    assert [url for url in requests if url != page_url] == []
    errors = [
        e
        for e in browser.events
        if e.get("method") == "Runtime.exceptionThrown"
        or (e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] == "error")
        or (e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")
    ]
    assert errors == []

    charts = browser.send(
        "Runtime.evaluate",
        expression=(
            "JSON.stringify([...document.querySelectorAll('svg.chart')].map(s => {"
            "const r = s.getBoundingClientRect();"
            "return [s.getAttribute('aria-label'), r.width, r.height,"
            " s.querySelectorAll('path').length];"
            "}))"
        ),
        returnByValue=True,
    )
    shown = {name: (w, h, paths) for name, w, h, paths in json.loads(charts["result"]["value"])}
    assert set(shown) == set(CHARTS)
    for name, (width, height, paths) in shown.items():
        assert width > 200, name
        assert height > 100, name
        assert paths > 5, name
    title = browser.send("Runtime.evaluate", expression="document.title", returnByValue=True)
    assert title["result"]["value"].startswith("Aansluiting op Meld Misdaad Anoniem")

    height = browser.send(
        "Runtime.evaluate", expression="document.documentElement.scrollHeight", returnByValue=True
    )["result"]["value"]
    browser.send(
        "Emulation.setDeviceMetricsOverride",
        width=1280,
        height=int(height),
        deviceScaleFactor=1,
        mobile=False,
    )
    shot = browser.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)
    ARTIFACTS.mkdir(exist_ok=True)
    png = base64.b64decode(shot["data"])
    assert png.startswith(b"\x89PNG")
    (ARTIFACTS / "html-report.png").write_bytes(png)


OVERLAPS = """
(() => {
  const boxes = (selector) => [...document.querySelectorAll(selector)]
    .map(g => g.getBoundingClientRect())
    .filter(r => r.width > 0 && r.height > 0)
    .map(r => [r.left, r.top, r.right, r.bottom]);
  const clash = (list) => {
    const found = [];
    for (let i = 0; i < list.length; i++)
      for (let j = i + 1; j < list.length; j++) {
        const [a, b] = [list[i], list[j]];
        if (a[0] < b[2] - 0.5 && b[0] < a[2] - 0.5 && a[1] < b[3] - 0.5 && b[1] < a[3] - 0.5)
          found.push([i, j]);
      }
    return found;
  };
  const months = boxes('g[id^="coverage-xtick_"] > g[id^="coverage-text_"]');
  const names = boxes('g[id^="map-axes_"] > g[id^="map-text_"]');
  return JSON.stringify({months: months.length, names: names.length,
                         month_clashes: clash(months), name_clashes: clash(names)});
})()
"""


def test_month_labels_and_map_names_never_overlap(
    demo_url: str, tmp_path: Path, browser: DevTools
) -> None:
    for as_of in ("2020-06-30", "2023-06-01"):
        report = tmp_path / f"report-{as_of}.html"
        done = subprocess.run(  # noqa: S603
            [
                sys.executable,
                "-m",
                "mma_core.cli",
                "export",
                "html",
                "-o",
                str(report),
                "--as-of",
                as_of,
            ],
            env={**os.environ, "MMA_STORE": demo_url},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        target = browser.send("Target.createTarget", url="about:blank")["targetId"]
        browser.session = browser.send("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        browser.send("Page.enable")
        browser.send(
            "Emulation.setDeviceMetricsOverride",
            width=1280,
            height=900,
            deviceScaleFactor=1,
            mobile=False,
        )
        browser.events.clear()
        browser.send("Page.navigate", url=report.as_uri())
        browser.wait_for("Page.loadEventFired")
        found = json.loads(
            browser.send("Runtime.evaluate", expression=OVERLAPS, returnByValue=True)["result"][
                "value"
            ]
        )
        assert found["months"] >= 3, found
        assert found["names"] >= 20, found  # most municipalities are named
        assert found["month_clashes"] == [], (as_of, found)
        assert found["name_clashes"] == [], (as_of, found)
        browser.session = None
