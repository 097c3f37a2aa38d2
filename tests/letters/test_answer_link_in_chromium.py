"""The answer link printed on an invitation opens the answer page: the letter is made with the
web site's ``public_url`` pointing at a live server on loopback, the link is read from the PDF's
link annotation (``/URI``), and headless Chromium opens it.

Headless Chromium has no PDF viewer, so the click inside the viewer itself is not automated;
what is checked is that the address the PDF's link carries, whole, opens the answer form.
"""

from __future__ import annotations

import re
import secrets
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from mma_core import Programme
from mma_core.cli import cli
from mma_core.cli import plugin_commands as plugin_cli

pytestmark = pytest.mark.slow  # a browser and a server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_invitations_answer_link_opens_the_answer_page_in_chromium(
    demo_copy: str, tmp_path: Path
) -> None:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists() or shutil.which("qpdf") is None:
        pytest.skip("needs Debian's chromium and qpdf")
    uvicorn = pytest.importorskip("uvicorn")
    web = pytest.importorskip("mma_web.app")
    tokens = pytest.importorskip("mma_web.tokens")
    from playwright.sync_api import sync_playwright

    port = _free_port()
    store = Path(demo_copy.removeprefix("sqlite:///"))
    (store.parent / "mma.toml").write_text(
        f'[plugins.mma-web]\npublic_url = "http://127.0.0.1:{port}/"\n', encoding="utf-8"
    )
    plugin_cli._LOADED.clear()
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["--store", demo_copy, "letter", "invitation", "GM0417", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    plain = tmp_path / "plain.pdf"
    subprocess.run(
        [
            "qpdf",
            "--qdf",
            "--object-streams=disable",
            str(out / "invitation-GM0417.pdf"),
            str(plain),
        ],
        check=True,
    )
    (link,) = re.findall(
        r"/URI \((http://127\.0\.0\.1:\d+/antwoord/[^)]+)\)", plain.read_text("latin-1")
    )
    with Programme.open(demo_copy, origin="web") as prog:
        strong = secrets.token_urlsafe(32)  # mma serve refuses a weak token at start-up
        app = web.create_app(prog, tokens.TokenTable.parse_env(strong + ":coordinator:Anna"))
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=chromium, args=["--headless", "--no-sandbox"], headless=True
                )
                page = browser.new_page()
                response = page.goto(link)
                assert response is not None
                assert response.status == 200
                body = page.content()
                browser.close()
        finally:
            server.should_exit = True
            thread.join(timeout=10)
    assert "Laren" in body  # GM0417's own answer page
    assert 'name="csrf"' in body  # the answer form
