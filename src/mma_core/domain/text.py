"""The domain's messages: written in English, marked with :func:`_` (or :func:`N_` where they
are translated later), and translated where they are raised.

The translation itself (the gettext catalog, the current language) is ``mma_core.language.i18n``'s,
outside the domain: the application installs it with :func:`translate_with` when
``mma_core`` is imported. Until then, as in a domain used on its own, messages read as
written.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

_translate: Callable[[str], str] = str
_day: Callable[[date], str] = date.isoformat
_amount: Callable[[Any], str] = str


def translate_with(
    translate: Callable[[str], str],
    day: Callable[[date], str] | None = None,
    amount: Callable[[Any], str] | None = None,
) -> None:
    """Translate the domain's messages with ``translate`` (``mma_core.language.i18n._``) from now
    on, and write the dates and amounts inside them with ``day`` and ``amount`` (the current
    language's forms: "31 december 2020" and "€ -5,00" in Dutch)."""
    global _translate, _day, _amount
    _translate = translate
    if day is not None:
        _day = day
    if amount is not None:
        _amount = amount


def day(value: date) -> str:
    """A date inside a message, in the current language's form."""
    return _day(value)


def amount(value: Any) -> str:
    """An amount (``Money`` or ``Decimal``) inside a message, in the current language's form."""
    return _amount(value)


def _(message: str) -> str:
    """``message`` in the current language."""
    return _translate(message)


def N_(message: str) -> str:
    """Marks ``message`` for the catalog; it is translated where it is shown, with ``_``."""
    return message


__all__ = ["N_", "_", "amount", "day", "translate_with"]
