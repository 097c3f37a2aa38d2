"""Letters as PDF, in the form of the province's letter of 18 October 2019.

:func:`compose` fills a :class:`Letter` of each kind (``invitation``, ``reminder``,
``training``, ``evaluation``, ``statement``) from the programme's state on a day; a house style
renders it. The built-in style is the ``letter`` exporter (:mod:`mma_core.builtin_plugins.letters`);
a province brings its own as a plugin that registers an exporter with a ``write_letter`` method.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from mma_core.paperwork.letters.model import KINDS, Block, Letter, Letterhead

if TYPE_CHECKING:
    from mma_core.paperwork.letters.composer import compose, dutch_date, dutch_money


def __getattr__(name: str) -> Any:
    # compose reads the programme: loaded when first used, not by ``mma --help``.
    if name in ("compose", "dutch_date", "dutch_money"):
        value = getattr(importlib.import_module("mma_core.paperwork.letters.composer"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["KINDS", "Block", "Letter", "Letterhead", "compose", "dutch_date", "dutch_money"]
