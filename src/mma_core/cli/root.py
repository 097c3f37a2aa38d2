"""The ``mma`` group itself: the global options, the settings every command receives, and the
one place where a broken rule or an unusable store becomes one line and an exit status."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from mma_core.cli.output import STORE_UNAVAILABLE, _fail, emit_json
from mma_core.cli.plugin_commands import login_name
from mma_core.domain.errors import DomainError
from mma_core.language.cli import (
    TranslatedCommand,
    TranslatedGroup,
    choose_language,
    click_text,
    reading,
)
from mma_core.language.i18n import LANGUAGES, _

if TYPE_CHECKING:
    from mma_core.application.programme import Programme


DEFAULT_STORE = "sqlite:///mma.sqlite"
DEFAULT_REGISTRY = "noord-holland-2019"
ORIGIN = "cli"
CONTEXT_SETTINGS: dict[str, Any] = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@dataclass
class Settings:
    """The global options, shared by every command through the click context."""

    store: str
    as_json: bool
    actor: str | None

    @property
    def by(self) -> str:
        return self.actor if self.actor is not None else login_name()

    @contextmanager
    def programme(self) -> Iterator[Programme]:
        # Opened with the plugins' validators and the cost calculators mma.toml selects, so a
        # command from the CLI obeys the same rules as one from an embedding service.
        from mma_core.cli.plugin_commands import programme

        with programme(self.store, origin=ORIGIN) as prog:
            yield prog


pass_settings = click.make_pass_decorator(Settings)

# -- the group ----------------------------------------------------------------------------


class MmaGroup(TranslatedGroup):
    """Turns a ``DomainError`` raised by any (sub)command into one line and exit status 1, and
    a store that cannot be reached into one line and exit status 3: never a traceback. What
    click prints around it, and every command's help, speaks the reader's language."""

    # The commands whose module is imported when one of them is first asked for (filled by
    # ``mma_core.cli`` from ``cli/index.py``): name -> (module, help, short help as written).
    # (Set on the ``mma`` group itself: the groups under it, of this class too, have none.)
    lazy: dict[str, tuple[str, str, str | None]] = {}  # noqa: RUF012
    # Imports a command module and lets it add its commands (set by ``mma_core.cli``).
    loaders: tuple[Callable[[str], None], ...] = ()

    def main(self, *args: Any, **kwargs: Any) -> Any:
        with reading():
            return super().main(*args, **kwargs)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            for load in self.loaders:
                load(self.lazy[cmd_name][0])
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The listing of ``mma --help``: a command not loaded yet is listed from the index
        (its help as written, translated as its own would be), without importing it."""
        commands: list[tuple[str, click.Command]] = []
        for name in self.list_commands(ctx):
            command = self.commands.get(name)
            if command is None and name in self.lazy:
                _, text, short = self.lazy[name]
                command = TranslatedCommand(name, help=text, short_help=short)
            if command is not None and not command.hidden:
                commands.append((name, command))
        if commands:
            limit = formatter.width - 6 - max(len(name) for name, _ in commands)
            rows = [(name, command.get_short_help_str(limit)) for name, command in commands]
            with formatter.section(click_text("Commands")):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DomainError as error:
            _fail(str(error))
        except Exception as error:
            from eventsourcing.persistence import PersistenceError

            from mma_core.storage.errors import StoreError

            if isinstance(error, StoreError):
                if isinstance(ctx.obj, Settings) and ctx.obj.as_json:
                    # The stable code and its kind for a script; the line below for a person.
                    emit_json({"error": error.to_dict()})
                _fail(str(error), STORE_UNAVAILABLE)
            if not isinstance(error, PersistenceError):
                raise
            from mma_core.storage import describe

            store = ctx.obj.store if isinstance(ctx.obj, Settings) else "?"
            _fail(
                _("the store {store} cannot be used: {error}").format(
                    store=describe(store), error=error
                ),
                STORE_UNAVAILABLE,
            )


@click.group(cls=MmaGroup, context_settings=CONTEXT_SETTINGS)
@click.option(
    "--store",
    envvar="MMA_STORE",
    default=DEFAULT_STORE,
    show_default=True,
    metavar="URL",
    help="Where the programme is stored: sqlite:///PATH, memory:// or postgresql://... "
    "(env MMA_STORE).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON on stdout.")
@click.option(
    "--by",
    envvar="MMA_ACTOR",
    default=None,
    metavar="NAME",
    help="Who is doing this, recorded on every event (env MMA_ACTOR; default: your login name).",
)
@click.option(
    "--lang",
    type=click.Choice(LANGUAGES),
    envvar="MMA_LANG",
    default="nl",
    show_default=True,
    is_eager=True,  # before --help and before any usage error, which speak it too
    callback=choose_language,
    help="Language of what mma prints: nl (Dutch) or en (English) (env MMA_LANG).",
)
@click.version_option(package_name="mma-core", prog_name="mma")
@click.pass_context
def cli(ctx: click.Context, store: str, as_json: bool, by: str | None, lang: str) -> None:
    """Run the programme that connects every municipality to Meld Misdaad Anoniem.

    Each command records one fact (with the business date you give and who did it) or
    shows where things stand. A command that breaks a rule prints one line starting with
    "error:" and exits with status 1; bad usage exits with status 2. Neither writes anything.

    \b
    Example, from an empty store:
      mma init
      mma offer --reference 1298348/1298354 --sent-on 2019-10-18
      mma invite --all --on 2019-10-18 --reference 1298348/1298354
      mma accept GM0363 --on 2019-11-01
      mma status
    """
    ctx.obj = Settings(store=store, as_json=as_json, actor=by)
