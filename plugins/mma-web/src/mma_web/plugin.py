"""The ``mma-web`` plugin: adds ``mma serve`` through ``mma_register_commands``."""

from __future__ import annotations

import getpass
import ipaddress
import os
import weakref
from typing import TYPE_CHECKING, Any

import click

from mma_core import Programme
from mma_core.plugin_api import (
    HOOK_API_VERSION,
    PluginInfo,
    PluginSettings,
    Setting,
    hookimpl,
    translated_command,
    translator,
)

if TYPE_CHECKING:  # pragma: no cover
    from mma_web.links import LinkStore

NAME = "mma-web"
MAX_BODY = 1024 * 1024
STREAMS_PER_CALLER = 32
HEADER_TIMEOUT = 10.0
IDLE_TIMEOUT = 5
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
GRACEFUL_SHUTDOWN_SECONDS = 5
settings = PluginSettings(NAME)
mma_configure = settings.mma_configure
_ = translator("mma_web")


@hookimpl
def mma_plugin_info() -> PluginInfo:
    return PluginInfo(
        name=NAME,
        api_version=HOOK_API_VERSION,
        description="mma serve: JSON API, server-sent events, metrics and Dutch web pages",
        config={
            "public_url": Setting(
                "str",
                help="the address the site is reached at (https://...); when set, every "
                "invitation and reminder letter carries the municipality's answer link",
            ),
            "link_days": Setting("int", default=30, help="days an answer link stays valid"),
        },
    )


@hookimpl
def mma_answer_link(programme: Programme, code: str, by: str) -> str | None:
    """A new one-time answer link for the municipality's letter, when the site's address is
    configured: the token is printed on the letter and stored only as its hash."""
    base = settings.get("public_url")
    if not base:
        return None
    days = settings.get("link_days") or 30
    token, _expires = _links(programme).create(code, by=by, days=days)
    return f"{str(base).rstrip('/')}/antwoord/{token}"


_LINK_STORES: weakref.WeakKeyDictionary[Programme, LinkStore] = weakref.WeakKeyDictionary()


def _links(programme: Programme) -> LinkStore:
    """One link store per open programme: its table is checked once, not once per letter."""
    from mma_web.links import LinkStore

    store = _LINK_STORES.get(programme)
    if store is None:
        store = _LINK_STORES[programme] = LinkStore.for_programme(programme)
    return store


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@hookimpl
def mma_register_commands(cli: click.Group) -> None:
    cli.add_command(serve)


@click.command(cls=translated_command("mma_web"))
@click.option(
    "--store",
    default=None,
    metavar="URL",
    help="The store to serve (default: mma's --store, env MMA_STORE).",
)
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=DEFAULT_PORT,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on.",
)
@click.option(
    "--root-path",
    default="",
    metavar="PATH",
    help="The path a reverse proxy serves the app under, e.g. /mma.",
)
@click.option(
    "--forwarded-allow-ips",
    default="127.0.0.1",
    show_default=True,
    metavar="IPS",
    help="Proxies whose X-Forwarded-For/-Proto headers are trusted (comma-separated).",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Processes to serve with; they share sessions and links through the store.",
)
@click.option(
    "--max-body",
    default=MAX_BODY,
    show_default=True,
    type=click.IntRange(1024, 1024**3),
    metavar="BYTES",
    help="The largest request body accepted (413 beyond it).",
)
@click.option(
    "--streams-per-caller",
    default=STREAMS_PER_CALLER,
    show_default=True,
    type=click.IntRange(1, 100_000),
    metavar="N",
    help="Event streams one token may hold open in one process (429 beyond it).",
)
@click.option(
    "--header-timeout",
    default=HEADER_TIMEOUT,
    show_default=True,
    type=click.FloatRange(0.1, 600),
    metavar="SECONDS",
    help="A connection whose request headers have not all arrived by then is closed.",
)
@click.option(
    "--idle-timeout",
    default=IDLE_TIMEOUT,
    show_default=True,
    type=click.IntRange(1, 3600),
    metavar="SECONDS",
    help="An idle keep-alive connection is closed after this long.",
)
@click.option(
    "--new-token",
    "new_token_for",
    default=None,
    metavar="ROLE[:NAME]",
    help="Print a new strong token for ROLE (viewer, coordinator, auditor) and stop.",
)
@click.pass_context
def serve(
    ctx: click.Context,
    store: str | None,
    host: str,
    port: int,
    root_path: str,
    forwarded_allow_ips: str,
    workers: int,
    max_body: int,
    streams_per_caller: int,
    header_timeout: float,
    idle_timeout: int,
    new_token_for: str | None,
) -> None:
    """Serve the programme over HTTP: the JSON API under /api/v1/, server-sent events, /metrics
    and the Dutch web pages for the coordinator.

    Tokens and roles come from MMA_WEB_TOKENS (TOKEN:ROLE[:NAME],...) or [web.tokens] in
    mma.toml; roles are viewer, coordinator and auditor. A token must be strong (at least 128
    bits; --new-token makes one). Without tokens it listens on loopback only, and makes one
    coordinator token for this run, printed once.

    \b
    Example:
      mma serve --new-token coordinator:Anna
      MMA_WEB_TOKENS='TOKEN:coordinator:Anna' mma serve --port 8000
    """
    import uvicorn

    from mma_core.plugin_api import load_config, open_programme
    from mma_web.app import create_app
    from mma_web.server import HeaderTimeoutProtocol, log_config, serve_settings
    from mma_web.tokens import Role, TokenError, TokenTable, digest, load_tokens, new_token

    if new_token_for is not None:
        _print_new_token(new_token_for)
        return
    url = store or getattr(ctx.obj, "store", None) or os.environ.get("MMA_STORE")
    if not url:
        raise click.UsageError(_("name the store: --store URL or MMA_STORE"))
    config = load_config(url)
    web: Any = config.data.get("web")
    try:
        tokens = load_tokens(os.environ, web if isinstance(web, dict) else None)
    except TokenError as error:
        raise click.UsageError(str(error)) from None
    if not tokens:
        if not is_loopback(host):
            raise click.UsageError(
                _(
                    "refusing to listen on {host} without tokens: anyone who can reach it could "
                    "record; set MMA_WEB_TOKENS or [web.tokens] in mma.toml"
                ).format(host=host)
            )
        token = new_token()
        name = _login_name()
        tokens = TokenTable.build([(digest(token), Role.COORDINATOR, name)])
        # The worker processes read their tokens as this one did.
        os.environ["MMA_WEB_TOKENS"] = f"{token}:coordinator" + (f":{name}" if name else "")
        click.echo(
            _("No tokens configured: this run's coordinator token is {token}").format(token=token),
            err=True,
        )
    serve_settings(
        store=url,
        root_path=root_path,
        max_body=max_body,
        streams_per_caller=streams_per_caller,
        header_timeout=header_timeout,
    )
    shown = f"[{host}]" if ":" in host else host
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "proxy_headers": True,
        "forwarded_allow_ips": forwarded_allow_ips,
        "log_level": "info",
        "log_config": log_config(),
        "http": HeaderTimeoutProtocol,
        "timeout_keep_alive": idle_timeout,
        # An open event stream never ends by itself: without a limit, stopping the server
        # would wait for every dashboard to be closed.
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_SECONDS,
    }
    message = _("Serving on {address} (Ctrl+C stops)").format(
        address=f"http://{shown}:{port}{root_path}/"
    )
    if workers > 1:
        click.echo(message, err=True)
        uvicorn.run("mma_web.server:worker_app", factory=True, workers=workers, **options)
        return
    programme = open_programme(url, config=config, origin="web")
    try:
        app = create_app(
            programme,
            tokens,
            root_path=root_path,
            max_body=max_body,
            streams_per_caller=streams_per_caller,
        )
        click.echo(message, err=True)
        uvicorn.run(app, **options)
    finally:
        programme.close()


def _print_new_token(spec: str) -> None:
    """``--new-token ROLE[:NAME]``: the MMA_WEB_TOKENS entry and the mma.toml line."""
    from mma_web.tokens import TokenError, TokenTable, digest, new_token

    role, _sep, name = spec.partition(":")
    token = new_token()
    entry = f"{token}:{role.strip()}" + (f":{name}" if name else "")
    try:
        TokenTable.parse_env(entry)  # the role and name as start-up will check them
    except TokenError as error:
        raise click.UsageError(str(error).replace(token, "…")) from None
    click.echo(entry)
    label = name or role.strip()
    click.echo(
        _("# in mma.toml, without the token itself: [web.tokens] {line}").format(
            line=f'{label} = {{ sha256 = "{digest(token)}", role = "{role.strip()}" }}'
        ),
        err=True,
    )


def _login_name() -> str | None:
    try:
        name = getpass.getuser()
    except Exception:  # no login name (a container): the role and fingerprint stand in
        return None
    return name if name.replace("-", "").replace("_", "").replace(".", "").isalnum() else None
