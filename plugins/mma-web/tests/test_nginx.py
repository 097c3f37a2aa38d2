"""The deployment of ``docs/web.md``, tested: Debian's nginx with the configuration the docs
give (TLS with a self-signed certificate, the root path ``/mma``, timeouts, forwarded headers),
two ``mma serve`` processes on one PostgreSQL store behind it, and a browser (Playwright with
Debian's Chromium) that logs in, sees events recorded through either process on an event
stream, and keeps working when one process stops."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import httpx
import pytest
from test_web_browser import FLAGS, chromium
from test_workers import BOTH, serving_process

from conftest import COORDINATOR, VIEWER, auth, free_port, play_campaign
from mma_core import Programme

pytestmark = pytest.mark.slow
DOCS = Path(__file__).resolve().parents[3] / "docs" / "web.md"


def documented_nginx() -> str:
    """The nginx configuration of docs/web.md, as written there."""
    match = re.search(r"```nginx\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.DOTALL)
    assert match is not None, "docs/web.md has no nginx configuration"
    return match.group(1)


def nginx_conf(directory: Path, port: int, upstreams: tuple[int, int]) -> Path:
    """The documented server block, with this test's ports and certificate, in a main
    configuration that keeps every file nginx writes in ``directory``."""
    key, cert = directory / "mma.key", directory / "mma.pem"
    openssl = shutil.which("openssl") or "/usr/bin/openssl"
    subprocess.run(  # noqa: S603 - fixed arguments
        [
            openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    server = documented_nginx()
    for old, new in (
        ("listen 443 ssl;", f"listen 127.0.0.1:{port} ssl;"),
        ("127.0.0.1:8001", f"127.0.0.1:{upstreams[0]}"),
        ("127.0.0.1:8002", f"127.0.0.1:{upstreams[1]}"),
        ("/etc/ssl/certs/mma.pem", str(cert)),
        ("/etc/ssl/private/mma.key", str(key)),
    ):
        assert old in server, old
        server = server.replace(old, new)
    temp = "\n".join(
        f"    {kind}_temp_path {directory / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf = directory / "nginx.conf"
    conf.write_text(
        f"daemon off;\nworker_processes 1;\npid {directory / 'nginx.pid'};\n"
        f"error_log {directory / 'error.log'};\n"
        "events { worker_connections 512; }\n"
        f"http {{\n    access_log {directory / 'access.log'};\n{temp}\n{server}\n}}\n"
    )
    return conf


@contextmanager
def nginx(conf: Path, port: int) -> Iterator[str]:
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    directory = conf.parent
    process = subprocess.Popen(  # noqa: S603 - our own arguments
        [binary, "-p", str(directory), "-c", str(conf), "-e", str(directory / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"https://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                raise AssertionError(f"nginx exited: {process.communicate()[1]}")
            try:
                httpx.get(f"{base}/mma/health", verify=False, timeout=2)  # noqa: S501 - self-signed
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.communicate(timeout=20)


def first_event(lines: Iterator[str], kind: str) -> dict[str, object]:
    for line in lines:
        if line.startswith("event: ") and line != f"event: {kind}":
            continue
        if line.startswith("data: "):
            data: dict[str, object] = json.loads(line.removeprefix("data: "))
            if data.get("type") == kind:
                return data
    raise AssertionError("the stream ended")


@pytest.fixture
def pg_store(postgres_url: str) -> str:
    with Programme.open(postgres_url, origin="test") as prog:
        play_campaign(prog)
    return postgres_url


def test_two_servers_behind_the_documented_nginx(pg_store: str, tmp_path: Path) -> None:
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        pytest.skip("nginx is not installed (Debian package 'nginx-light' or 'nginx')")
    binary = chromium()
    if binary is None:
        pytest.skip("Chromium is not installed (Debian package 'chromium', or set MMA_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    ports = (free_port(), free_port())
    port = free_port()
    conf = nginx_conf(tmp_path, port, ports)
    proxied = ("--root-path", "/mma", "--forwarded-allow-ips", "127.0.0.1")
    with (
        serving_process(pg_store, BOTH, *proxied, port=ports[1]) as (second, _),
        serving_process(pg_store, BOTH, *proxied, port=ports[0]) as (first, first_process),
        nginx(conf, port) as site,
    ):
        # An event recorded through either process reaches a stream opened through nginx.
        with (
            httpx.Client(base_url=site, verify=False, timeout=30) as http,  # noqa: S501
            http.stream("GET", "/mma/api/v1/events?after=0", headers=auth(VIEWER)) as stream,
        ):
            assert stream.status_code == 200
            assert stream.headers["cache-control"] == "no-store"
            lines = stream.iter_lines()
            for through, code in ((first, "GM0363"), (second, "GM0392")):
                done = httpx.post(
                    f"{through}/api/v1/commands/accept",
                    json={"code": code, "on": date.today().isoformat()},
                    headers=auth(COORDINATOR),
                )
                assert done.status_code == 200, done.text
                assert first_event(lines, "Accepted")["code"] == code
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=binary, args=FLAGS)
            try:
                context = browser.new_context(
                    base_url=site, ignore_https_errors=True, locale="nl-NL"
                )
                page = context.new_page()
                page.goto("/mma/")
                assert page.url.endswith("/mma/login")
                page.get_by_label("Toegangscode").fill(COORDINATOR)
                page.get_by_role("button", name="Inloggen").click()
                page.wait_for_url(re.compile(r"/mma/$"))
                # One process stops: nginx sends the session's requests to the other.
                first_process.terminate()
                first_process.wait(timeout=30)
                for _ in range(4):
                    page.goto("/mma/gemeente/GM0377")
                    assert page.locator("h1").inner_text().startswith("Bloemendaal")
                form = page.locator("form#antwoord")
                form.get_by_label("Besluit").select_option("akkoord")
                form.get_by_label("Datum").fill(date.today().isoformat())
                form.get_by_role("button", name="Antwoord vastleggen").click()
                assert page.locator("#fase").inner_text() == "akkoord"
            finally:
                browser.close()
        token = "x" * 43
        httpx.get(f"{site}/mma/antwoord/{token}", verify=False)  # noqa: S501
    with Programme.open(pg_store) as prog:
        last = prog.history("GM0377")[-1]
    assert (last.type, last.by, last.origin) == ("Accepted", "Anna", "web")
    assert token not in (tmp_path / "access.log").read_text()
