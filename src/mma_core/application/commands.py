"""What a validator sees of a command: a plain value with no way back into the application.

It lives apart from :mod:`mma_core.application.programme` so that the hook specifications, the
plugin manager and plugins can name it at runtime without importing the application.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import attrs

from mma_core.views.state import MunicipalityView

__all__ = ["Command", "Validator"]


@attrs.frozen
class Command:
    """A command as validators see it: its name and arguments, personal data redacted."""

    name: str
    code: str | None
    arguments: dict[str, Any]


Validator = Callable[[Command, MunicipalityView | None], Sequence[str]]
