"""What a validator sees of a command: a plain value with no way back into the application.

It lives apart from :mod:`mma_core.application.programme` so that the hook specifications, the
plugin manager and plugins can name it at runtime without importing the application.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import attrs

from mma_core.views.state import MunicipalityView

__all__ = ["Command", "Validator", "checked_commands", "validates"]


@attrs.frozen
class Command:
    """A command as validators see it: its name and arguments, personal data redacted."""

    name: str
    code: str | None
    arguments: dict[str, Any]


Validator = Callable[[Command, MunicipalityView | None], Sequence[str]]

V = TypeVar("V", bound=Callable[..., Any])
VALIDATES = "__mma_validates__"  # the attribute that names the commands a validator checks


def validates(*names: str) -> Callable[[V], V]:
    """Say which commands a validator checks: the programme asks it about those only, and
    builds the municipality's view for a command only when some validator is asked about it.

    For a plugin's ``mma_validate_command`` (under ``@hookimpl``) or a callable passed as
    ``validators=``. A validator without it is asked about every command. A name that is not
    a command is refused when the programme opens, so a typo cannot switch a check off.
    """
    if not names or not all(isinstance(name, str) and name for name in names):
        raise ValueError("validates() takes one or more command names")

    def mark(validator: V) -> V:
        setattr(validator, VALIDATES, frozenset(names))
        return validator

    return mark


def checked_commands(validator: object) -> frozenset[str] | None:
    """The commands ``validator`` checks (:func:`validates`), or ``None`` for every command."""
    names = getattr(validator, VALIDATES, None)
    return names if isinstance(names, frozenset) else None


def unknown_commands(validators: Iterable[object], known: frozenset[str]) -> list[str]:
    """The names validators say they check that are not commands, sorted."""
    return sorted({n for v in validators for n in (checked_commands(v) or ()) if n not in known})
