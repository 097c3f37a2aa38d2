"""What the CLI prints: the consoles, JSON, words and amounts in the current language, and the
one line of an error."""

from __future__ import annotations

import json
from fractions import Fraction
from typing import TYPE_CHECKING, Any, NoReturn

import click

from mma_core.domain.jsonable import jsonable
from mma_core.domain.values import has_control
from mma_core.language.i18n import N_, _, money
from mma_core.language.i18n import percent as i18n_percent

if TYPE_CHECKING:
    from rich.console import Console

    from mma_core.domain.values import Money


RULE_BROKEN = 1  # a DomainError: nothing was written
STORE_UNAVAILABLE = 3  # the store could not be opened or written: nothing was written
DEADLINES_SHOWN = 10  # the status table lists the earliest few; --json lists them all
BAR_WIDTH = 30


def _stdout() -> Console:
    from rich.console import Console

    # markup=False: a name like "[red]x" or "[link=...]" is text, not an instruction to rich.
    return Console(highlight=False, markup=False)


def _stderr() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False, markup=False)


def safe(text: str) -> str:
    """Text people typed, as a terminal may show it: control characters (an escape sequence
    that clears the screen or retitles the window) and bidirectional overrides written out
    as ``\\x1b``. New input cannot hold them; a store written before may."""
    if not has_control(text):
        return text
    return "".join(
        c.encode("unicode_escape").decode("ascii") if has_control(c) else c for c in text
    )


def emit_json(data: Any) -> None:
    """``data`` as indented JSON on stdout, by the library's one conversion (``jsonable``)."""
    click.echo(json.dumps(jsonable(data), ensure_ascii=False, indent=2))


def euro(amount: Money) -> str:
    """Euros the way of the language: ``€ 1.234,50`` in Dutch, ``€1,234.50`` in English."""
    return money(amount)


def percent(value: Fraction) -> str:
    return i18n_percent(value)


# The words the CLI shows for values stored in English (stages, deadline kinds, outcomes).
STAGE_NAMES = {
    "registered": N_("registered"),
    "invited": N_("invited"),
    "accepted": N_("accepted"),
    "declined": N_("declined"),
    "connected": N_("connected"),
    "stopped": N_("stopped"),
    "merged": N_("merged"),
    "trained": N_("trained"),
}
DEADLINE_NAMES = {
    "answer": N_("answer"),
    "evaluation": N_("evaluation"),
    "termination": N_("termination"),
    "renewal": N_("renewal"),
    "training": N_("training"),
    "capacity": N_("capacity"),
}
OUTCOME_NAMES = {"continue": N_("continue"), "stop": N_("stop")}
PAYER_NAMES = {"province": N_("the province"), "municipality": N_("the municipality")}
PAYERS = {"province": N_("province"), "municipality": N_("municipality")}
CONNECTION_KINDS = {
    "programme": N_("through the programme"),
    "prior": N_("before the programme"),
    "succession": N_("by succession"),
}


def word(names: dict[str, str], value: Any) -> str:
    """A stored value (``connected``, ``stop``) in the current language."""
    key = getattr(value, "value", value)
    return _(names[key]) if key in names else str(key)


def _fail(message: str, status: int = RULE_BROKEN) -> NoReturn:
    """One line on stderr and a non-zero status: the whole of what a coordinator needs to act."""
    prefix = _("error")
    click.echo(f"{prefix}: {' '.join(message.split())}", err=True)
    raise click.exceptions.Exit(status)
