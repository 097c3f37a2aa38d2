"""The plugin commands of ``mma``: ``plugins``, ``export``, ``costs``, ``notify``, and the
commands plugins add through ``mma_register_commands``.

``mma_core.cli`` calls :func:`register` on its root group. Plugins are loaded lazily, on the
first command that needs them, so ``mma --help`` and the core commands stay fast. The root's
``--store``, ``--json`` and ``--by`` are read from the root click context, falling back to
``MMA_STORE``. Run standalone as ``python -m mma_core.cli.plugin_commands``.
"""

from __future__ import annotations

import getpass
import io
import json
import os
import sys
import tempfile
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NoReturn

import click

from mma_core.domain.jsonable import jsonable
from mma_core.language.cli import TranslatedCommand, TranslatedGroup
from mma_core.language.i18n import N_, _

if TYPE_CHECKING:  # pragma: no cover
    from mma_core.application.programme import Programme
    from mma_core.extensions.plugins import Plugins

__all__ = ["main", "programme", "register"]

DEFAULT_STORE = "sqlite:///mma.sqlite"
VIEW_NAMES = ("status", "ledger", "roster", "events")
_LOADED: dict[tuple[str, str | None], Plugins] = {}
CONFIG_OPTION = click.option(
    "--config",
    "config_file",
    envvar="MMA_CONFIG",
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="Plugin configuration (default: mma.toml next to the SQLite store; env MMA_CONFIG).",
)


# -- context --------------------------------------------------------------------------------


def _root(ctx: click.Context | None = None) -> dict[str, Any]:
    ctx = ctx or click.get_current_context(silent=True)
    return dict(ctx.find_root().params) if ctx is not None else {}


def store_url(ctx: click.Context | None = None) -> str:
    store = _root(ctx).get("store")
    return str(store or os.environ.get("MMA_STORE") or DEFAULT_STORE)


def login_name() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in a bare container: still say something
        return "unknown"


def actor(ctx: click.Context | None = None) -> str:
    """Who runs the command: ``mma --by`` (or ``MMA_ACTOR``), else the login name."""
    return str(_root(ctx).get("by") or login_name())


def wants_json(ctx: click.Context | None = None, local: bool = False) -> bool:
    return local or bool(_root(ctx).get("as_json"))


def _fail(message: str) -> NoReturn:
    prefix = _("error")
    click.echo(f"{prefix}: {' '.join(message.split())}", err=True)
    raise click.exceptions.Exit(1)


def load(store: str, config_file: str | None = None) -> Plugins:
    """The plugins for this process (loaded once per store and configuration file)."""
    from mma_core.extensions.plugins import ConfigError, PluginError, load_config, load_plugins

    config_file = config_file or _root().get("config")
    key = (store, config_file)
    if key not in _LOADED:
        try:
            _LOADED[key] = load_plugins(load_config(store, config_file))
        except (ConfigError, PluginError) as error:
            _fail(str(error))
    return _LOADED[key]


def programme(store: str, *, origin: str = "cli", config_file: str | None = None) -> Programme:
    """The programme at ``store`` with the plugins' validators and the cost calculators that
    ``[costs]`` selects: what every ``mma`` command that records a fact should open."""
    from mma_core.extensions.plugins import ConfigError, open_programme

    plugins = load(store, config_file)
    try:
        return open_programme(store, plugins=plugins, origin=origin)
    except ConfigError as error:
        _fail(str(error))


def _open(store: str) -> Programme:
    from mma_core.application.programme import Programme

    return Programme.open(store, origin="cli")


def _emit(data: Any) -> None:
    click.echo(json.dumps(jsonable(data), ensure_ascii=False, indent=2))


def _day(value: datetime | None) -> date | None:
    return None if value is None else value.date()


class _Date(click.DateTime):
    """A date written YYYY-MM-DD; a bad one is refused in the reader's language."""

    def get_metavar(self, *args: Any, **kwargs: Any) -> str:
        return "YYYY-MM-DD"  # as the other commands show a date, not strftime's "%Y-%m-%d"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter:
            self.fail(
                _("{value} is not a date; write YYYY-MM-DD, e.g. 2019-10-18").format(
                    value=repr(value)
                ),
                param,
                ctx,
            )


DATE = _Date(formats=["%Y-%m-%d"])


# -- mma plugins ----------------------------------------------------------------------------


# How ``mma plugins`` names where a plugin came from and what it registered.
SOURCE_NAMES = {
    "built-in": N_("built-in"),
    "entry point": N_("entry point"),
    "manual": N_("manual"),
}
REGISTERED_NAMES = {
    "commands": N_("commands"),
    "notifiers": N_("notifiers"),
    "exporters": N_("exporters"),
    "cost_calculators": N_("cost calculators"),
}


STATUS_NAMES = {"loaded": N_("loaded"), "blocked": N_("blocked"), "broken": N_("broken")}


@click.command("plugins", cls=TranslatedCommand)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout.")
@CONFIG_OPTION
def plugins_command(as_json: bool, config_file: str | None) -> None:
    """List every plugin: package, version, hooks, status and what it registered.

    \b
    Status is loaded, blocked (MMA_LOAD_PLUGINS / MMA_DISABLE_PLUGINS) or broken (with
    the error). A broken plugin never stops the other commands; MMA_STRICT_PLUGINS=1 does.
    """
    listing = load(store_url(), config_file).listing()
    if wants_json(local=as_json):
        _emit(listing)
        return
    for item in listing:
        package = f"{item['package'] or '?'} {item['version'] or ''}".strip()
        source = _(SOURCE_NAMES.get(item["source"], item["source"]))
        # The status in the reader's language; the JSON keeps its key (loaded, blocked, broken).
        status = _(STATUS_NAMES.get(item["status"], item["status"]))
        click.echo(f"{item['name']}  [{status}]  {package} ({source})")
        if item["error"]:
            click.echo(f"    {_('error')}: {item['error']}")
        if item["api_version"]:
            click.echo(f"    {_('hook API')}: {item['api_version']}")
        if item["hooks"]:
            click.echo(f"    {_('hooks')}: {', '.join(item['hooks'])}")
        for kind, names in item["registered"].items():
            label = _(REGISTERED_NAMES.get(kind, kind.replace("_", " ")))
            click.echo(f"    {label}: {', '.join(names)}")
        for error in item["errors"]:
            click.echo(f"    {_('failed')}: {error}")


# -- mma export -----------------------------------------------------------------------------


@click.command("export", cls=TranslatedCommand)
@click.argument("format_name", metavar="FORMAT")
@click.option("--view", help="status, ledger, roster or events (default: the format's own).")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE (default: stdout)."
)
@click.option("--as-of", type=DATE, help="Business date of the status and roster views.")
@click.option(
    "--lang",
    type=click.Choice(["nl", "en"]),
    help="Language of documents for people (html, xlsx); default: the language of mma.",
)
@click.option(
    "--excel-nl",
    is_flag=True,
    help="With csv: semicolons, decimal commas and a BOM, for a Dutch Excel.",
)
@CONFIG_OPTION
def export_command(
    format_name: str,
    view: str | None,
    output: str | None,
    as_of: datetime | None,
    lang: str | None,
    excel_nl: bool,
    config_file: str | None,
) -> None:
    """Export a view of the programme in FORMAT (csv, jsonl, or a plugin's format).

    \b
    Examples:
      mma export csv --view ledger -o ledger.csv
      mma export jsonl --view events
      mma export html -o report.html --as-of 2020-12-31 --lang en
      mma export csv --view ledger --excel-nl -o kosten.csv
    """
    from mma_core.extensions.exporting import ExportSource

    if excel_nl and format_name != "csv":
        raise click.UsageError(
            _("--excel-nl is for the csv format only, not {format}").format(
                format=repr(format_name)
            )
        )

    store = store_url()
    exporters = load(store, config_file).hook.exporters()
    exporter = exporters.get(format_name)
    if exporter is None:
        _fail(
            _("no exporter for format {format}; available: {formats} (see 'mma plugins')").format(
                format=repr(format_name), formats=", ".join(sorted(exporters)) or _("none")
            )
        )
    if view is not None and view not in exporter.views:
        _fail(
            _("format {format} cannot write view {view}; it writes {views}").format(
                format=format_name, view=repr(view), views=", ".join(exporter.views)
            )
        )
    write: Callable[[Any, str | None, Any], None] = exporter.export
    if excel_nl:
        dutch = getattr(exporter, "export_excel_nl", None)
        if dutch is None:  # a plugin took over the csv format without the Dutch Excel form
            _fail(_("the csv exporter in use cannot write --excel-nl"))
        write = dutch
    with _open(store) as prog:
        source = ExportSource(prog, as_of=_day(as_of), lang=lang)
        if output is None:
            stream: IO[bytes] = sys.stdout.buffer
            if stream.isatty():
                from mma_core.cli.terminal import TerminalSafe

                stream = io.BufferedWriter(TerminalSafe(stream))
            _run_exporter(format_name, lambda: write(source, view, stream))
            stream.flush()
            return
        target = Path(output)
        # Write beside the target, then rename: a failing exporter leaves no half file.
        # mkstemp creates it 0600, and so it stays unless the exporter says this output holds
        # no personal data (``shareable_views``): a roster, a calendar or the event list holds
        # names, addresses and who did what, to be shared on purpose, not by the umask.
        shareable = view in getattr(exporter, "shareable_views", ())
        try:
            fd, temporary = tempfile.mkstemp(dir=target.parent or ".", suffix=".partial")
        except OSError as error:
            _fail(
                _("cannot write {target}: {error}").format(
                    target=target, error=error.strerror or type(error).__name__
                )
            )
        try:
            with os.fdopen(fd, "wb") as out:
                _run_exporter(format_name, lambda: write(source, view, out))
            if shareable:
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(temporary, 0o666 & ~umask)
            try:
                os.replace(temporary, target)
            except OSError as error:
                _fail(
                    _("cannot write {target}: {error}").format(
                        target=target, error=error.strerror or type(error).__name__
                    )
                )
        finally:
            Path(temporary).unlink(missing_ok=True)
    if not wants_json():
        click.echo(
            _("Wrote the {format} export to {target}.").format(format=format_name, target=target),
            err=True,
        )


def _run_exporter(format_name: str, export: Callable[[], None]) -> None:
    from mma_core.domain.errors import DomainError

    try:
        export()
    except DomainError:
        raise
    except Exception as error:
        # The type only: an exporter's message may quote the data it was writing.
        _fail(
            _("the {format} exporter failed ({error}); nothing was written").format(
                format=format_name, error=type(error).__name__
            )
        )


# -- mma costs ------------------------------------------------------------------------------


def cost_summary(prog: Programme, as_of: date | None, by_municipality: bool) -> dict[str, Any]:
    """Who paid what: totals by payer, by cost kind and by tariff; optionally per municipality."""
    from mma_core.extensions.exporting import ExportSource

    ledger = list(ExportSource(prog, as_of=as_of).ledger().dicts())
    by_payer: dict[str, Decimal] = {}
    by_kind: dict[str, Decimal] = {}
    tariffs: dict[tuple[str, str, str, str, str], list[Any]] = {}
    municipalities: dict[str, dict[str, Any]] = {}
    for line in ledger:
        amount: Decimal = line["amount"]
        by_payer[line["payer"]] = by_payer.get(line["payer"], Decimal("0.00")) + amount
        by_kind[line["kind"]] = by_kind.get(line["kind"], Decimal("0.00")) + amount
        key = (
            line["kind"],
            line["payer"],
            line["calculator"],
            line["calculator_version"],
            line["tariff_id"],
        )
        entry = tariffs.setdefault(key, [0, Decimal("0.00")])
        entry[0] += 1
        entry[1] += amount
        m = municipalities.setdefault(
            line["code"],
            {
                "code": line["code"],
                "name": line["name"],
                "province": Decimal("0.00"),
                "municipality": Decimal("0.00"),
                "lines": 0,
            },
        )
        m[line["payer"]] = m.get(line["payer"], Decimal("0.00")) + amount
        m["lines"] += 1
    summary: dict[str, Any] = {
        "as_of": as_of,
        "total": sum(by_payer.values(), Decimal("0.00")),
        "by_payer": dict(sorted(by_payer.items())),
        "by_kind": dict(sorted(by_kind.items())),
        "by_tariff": [
            {
                "kind": k[0],
                "payer": k[1],
                "calculator": k[2],
                "calculator_version": k[3],
                "tariff_id": k[4],
                "lines": v[0],
                "amount": v[1],
            }
            for k, v in sorted(tariffs.items())
        ],
    }
    if by_municipality:
        summary["municipalities"] = [municipalities[c] for c in sorted(municipalities)]
    return summary


def _euro(amount: Decimal) -> str:
    from mma_core.language.i18n import money

    return money(amount)


@click.command("costs", cls=TranslatedCommand)
@click.option("--as-of", type=DATE, help="Costs charged on or before this day (default: all).")
@click.option("--by-municipality", is_flag=True, help="One line per municipality.")
def costs_command(as_of: datetime | None, by_municipality: bool) -> None:
    """Who paid what: every charged cost, with the calculator and tariff that priced it."""
    from mma_core.paperwork.tariffs import offers_sent, tariff_words

    with _open(store_url()) as prog:
        summary = cost_summary(prog, _day(as_of), by_municipality)
        sent = offers_sent(prog.offers())
    if wants_json():
        _emit(summary)
        return
    from mma_core.language.i18n import long_date

    payers = {"province": N_("the province"), "municipality": N_("the municipality")}
    kinds = {
        "connection": N_("connection costs"),
        "report_fee": N_("report fees"),
        "compensation": N_("compensation of a prior connection"),
    }

    def name(names: dict[str, str], key: str) -> str:
        return _(names[key]) if key in names else key

    if summary["as_of"]:
        day = long_date(summary["as_of"])
        click.echo(_("Costs as of {day}: {total}").format(day=day, total=_euro(summary["total"])))
    else:
        click.echo(_("Costs: {total}").format(total=_euro(summary["total"])))
    for payer, amount in summary["by_payer"].items():
        click.echo(
            "  "
            + _("paid by {payer}: {amount}").format(payer=name(payers, payer), amount=_euro(amount))
        )
    for kind, amount in summary["by_kind"].items():
        click.echo(f"  {name(kinds, kind)}: {_euro(amount)}")
    for t in summary["by_tariff"]:
        click.echo(
            "  "
            + _(
                "{kind}, {tariff} (calculator {calculator} {version}), paid by {payer}: "
                "{lines} x, {amount}"
            ).format(
                kind=name(kinds, t["kind"]),
                calculator=t["calculator"],
                version=t["calculator_version"],
                tariff=tariff_words(t["tariff_id"], sent),
                payer=name(payers, t["payer"]),
                lines=t["lines"],
                amount=_euro(t["amount"]),
            )
        )
    for m in summary.get("municipalities", []):
        click.echo(
            f"  {m['code']} {m['name']}: "
            + _("province {province}, municipality {municipality}").format(
                province=_euro(m["province"]), municipality=_euro(m["municipality"])
            )
        )


# -- mma notify -----------------------------------------------------------------------------


@click.command("notify", cls=TranslatedCommand)
@click.option("--failed", is_flag=True, help="List the dead letters instead of delivering.")
@click.option("--retry", is_flag=True, help="Put the dead letters back in line, then deliver.")
@CONFIG_OPTION
def notify_command(failed: bool, retry: bool, config_file: str | None) -> None:
    """Deliver pending notifications: new events and deadlines, to every notifier.

    Runs apart from the commands that record events: a notifier that fails is retried with
    backoff on later runs and ends in the dead-letter list after its last attempt.
    """
    import logging

    from mma_core.outbox.delivery import DeliveryBusy, Outbox

    if not logging.getLogger().handlers:  # the log channel and delivery warnings on stderr
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    store = store_url()
    plugins = load(store, config_file)
    with _open(store) as prog:
        outbox = Outbox(prog, plugins)
        if failed:
            dead = [row.to_dict() for row in outbox.dead_letters()]
            if wants_json():
                _emit(dead)
                return
            if not dead:
                click.echo(_("No dead letters."))
            for row in dead:
                click.echo(
                    _(
                        "{delivery}  event {event}  {code}  channel {channel}  {rule}  "
                        "{attempts} attempts: {error}"
                    ).format(
                        delivery=row["delivery_id"],
                        event=row["position"] or row["event_type"],
                        code=row["code"] or "-",
                        channel=row["channel"] or _("(rules)"),
                        rule=row["rule"],
                        attempts=row["attempts"],
                        error=row["last_error"],
                    )
                )
            return
        retried = outbox.retry() if retry else 0
        try:
            report = outbox.run()
        except DeliveryBusy as error:
            _fail(str(error))
    result = dict(report.to_dict(), retried=retried)
    if wants_json():
        _emit(result)
        return
    line = _(
        "Delivered {delivered}, failed {failed} (will retry), dead {dead}, dropped {dropped}; "
        "planned {planned} new; log position {position}."
    ).format(
        delivered=report.delivered,
        failed=report.failed,
        dead=report.dead,
        dropped=report.dropped,
        planned=report.planned,
        position=report.position,
    )
    if retry:
        line += " " + _("Retried {count} dead letters.").format(count=retried)
    click.echo(line)


# -- registration ---------------------------------------------------------------------------

COMMANDS = (plugins_command, export_command, costs_command, notify_command)


def register(cli: click.Group) -> None:
    """Add the plugin commands to ``cli``. Commands from plugins are added the first time a
    command name is asked for that ``cli`` does not know: ``mma --help`` loads no plugin (a
    plugin may import heavy libraries) and ``mma plugins`` lists the commands each plugin
    adds. With ``MMA_STRICT_PLUGINS=1`` plugins are loaded before any command runs."""
    for command in COMMANDS:
        cli.add_command(command)
    own_get: Callable[[click.Context, str], click.Command | None] = cli.get_command
    state = {"loaded": False}

    def add_plugin_commands(ctx: click.Context) -> None:
        if state["loaded"]:
            return
        state["loaded"] = True
        load(store_url(ctx)).hook.register_commands(cli)

    def get_command(ctx: click.Context, name: str) -> click.Command | None:
        if os.environ.get("MMA_STRICT_PLUGINS", "").strip().lower() in {"1", "true", "yes", "on"}:
            add_plugin_commands(ctx)  # strict: a broken plugin stops every command, first
        found = own_get(ctx, name)
        if found is None:
            add_plugin_commands(ctx)
            found = own_get(ctx, name)
        return found

    cli.get_command = get_command  # type: ignore[method-assign, assignment]
    if cli.epilog is None:
        cli.epilog = "Installed plugins may add commands: 'mma plugins' lists them."


@click.group(cls=TranslatedGroup)
@click.option("--store", envvar="MMA_STORE", default=DEFAULT_STORE, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.option("--by", envvar="MMA_ACTOR", default=None)
def standalone(store: str, as_json: bool, by: str | None) -> None:
    """The plugin commands alone (the same as in ``mma``)."""


register(standalone)


def main() -> None:
    standalone(prog_name="python -m mma_core.cli.plugin_commands")


if __name__ == "__main__":
    main()
