"""Dutch first: every text a person reads, in Dutch (the default) or English.

Messages are written in English in the source, marked with :func:`_` (or :func:`N_` where the
text is translated later), and translated through the gettext catalog of the package
(``mma_core/language/locale/nl/LC_MESSAGES/mma_core.po``, compiled to ``.mo`` beside it; ``make
i18n`` extracts, updates and compiles with babel). The language is chosen per process or call:
:func:`set_language` (the CLI's ``--lang``), else ``MMA_LANG``, else Dutch.

Dates and amounts have one form per language, here: ``18 oktober 2019`` and ``€ 12.202,50`` in
Dutch, ``18 October 2019`` and ``€12,202.50`` in English.
"""

from __future__ import annotations

import gettext
import os
from collections.abc import Callable
from contextvars import ContextVar
from datetime import date
from decimal import Decimal
from fractions import Fraction
from functools import cache
from importlib import resources
from typing import Any

__all__ = [
    "DEFAULT_LANGUAGE",
    "DOMAIN",
    "LANGUAGES",
    "N_",
    "Text",
    "_",
    "current_language",
    "in_language",
    "language",
    "long_date",
    "message_date",
    "message_money",
    "money",
    "ngettext",
    "number",
    "percent",
    "set_language",
    "translator",
]

DOMAIN = "mma_core"
LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"
LOCALES = {"nl": "nl_NL", "en": "en_GB"}

_language: ContextVar[str | None] = ContextVar("mma_language", default=None)


def check_language(lang: str) -> str:
    value = lang.strip().lower()
    if value not in LANGUAGES:
        raise ValueError(f"language {lang!r} is not one of {', '.join(LANGUAGES)}")
    return value


def current_language() -> str:
    """The language set for this context, else ``MMA_LANG``, else Dutch."""
    chosen = _language.get()
    if chosen is not None:
        return chosen
    env = os.environ.get("MMA_LANG", "").strip().lower()
    return env if env in LANGUAGES else DEFAULT_LANGUAGE


def set_language(lang: str | None) -> None:
    """Choose the language of this context (``None``: back to ``MMA_LANG`` or Dutch)."""
    _language.set(None if lang is None else check_language(lang))


class language:
    """``with language("en"):`` speaks English inside the block."""

    def __init__(self, lang: str) -> None:
        self.lang = check_language(lang)

    def __enter__(self) -> str:
        self._token = _language.set(self.lang)
        return self.lang

    def __exit__(self, *_: object) -> None:
        _language.reset(self._token)


@cache
def translations(
    lang: str, domain: str = DOMAIN, package: str = "mma_core.language"
) -> gettext.NullTranslations:
    """The catalog ``domain`` of ``lang`` that ``package`` ships in ``locale/`` (the CLI adds
    ``mma_cli`` and ``click``; a plugin its own, see :func:`translator`). A package without
    that catalog leaves its messages as written."""
    if lang == "en":
        return gettext.NullTranslations()  # the source language
    path = resources.files(package).joinpath(f"locale/{lang}/LC_MESSAGES/{domain}.mo")
    try:
        with path.open("rb") as stream:
            return gettext.GNUTranslations(stream)
    except FileNotFoundError:
        return gettext.NullTranslations()


def translator(package: str) -> Callable[[str], str]:
    """A plugin's ``_``: its messages in the current language, from the catalog ``package``
    ships as ``locale/LANG/LC_MESSAGES/PACKAGE.mo`` (English where it has none)."""

    def translate(message: str) -> str:
        return translations(current_language(), package, package).gettext(message)

    return translate


class Text(str):
    """A message in the current language that remembers what it was made of (its msgid and
    the values formatted into it), so that it can be written again in another language:
    :meth:`in_language`. It is a ``str`` in every other respect. Values formatted into it
    that are themselves ``Text`` are rewritten too; other values (a code, an ISO date, a date
    spelled out in words) stay as they were."""

    _msgid: str
    _values: tuple[tuple[object, ...], dict[str, object]] | None

    @classmethod
    def of(
        cls,
        text: str,
        msgid: str,
        values: tuple[tuple[object, ...], dict[str, object]] | None = None,
    ) -> Text:
        made = cls(text)
        made._msgid, made._values = msgid, values
        return made

    def format(self, *args: object, **kwargs: object) -> Text:
        return Text.of(str.format(self, *args, **kwargs), self._msgid, (args, kwargs))

    def in_language(self, lang: str) -> str:
        """The same message in ``lang`` (``nl`` or ``en``)."""
        lang = check_language(lang)
        with language(lang):
            again = translations(lang).gettext(self._msgid)
            if self._values is None:
                return again
            args, kwargs = self._values
            return again.format(
                *[_again(value, lang) for value in args],
                **{key: _again(value, lang) for key, value in kwargs.items()},
            )


def _again(value: object, lang: str) -> object:
    return value.in_language(lang) if isinstance(value, Text) else value


def in_language(message: str, lang: str) -> str:
    """``message`` in ``lang`` if it is a :class:`Text` (made by ``_``), else as it is."""
    return message.in_language(lang) if isinstance(message, Text) else message


def _(message: str) -> str:
    """``message`` in the current language (a :class:`Text`: it can be written again in
    another language)."""
    return Text.of(translations(current_language()).gettext(message), message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_language()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks ``message`` for the catalog; it is translated where it is shown, with ``_``."""
    return message


def locale() -> str:
    return LOCALES[current_language()]


def money(amount: Any) -> str:
    """An amount in euros, the way of the current language: ``€ 1.234,50`` / ``€1,234.50``."""
    from babel.numbers import format_currency

    value = getattr(amount, "amount", amount)
    return str(format_currency(Decimal(value), "EUR", locale=locale()))


def long_date(day: date | None) -> str:
    """``18 oktober 2019`` / ``18 October 2019``; ``-`` for no date."""
    from babel.dates import format_date

    return "-" if day is None else str(format_date(day, format="long", locale=locale()))


def message_date(day: date) -> str:
    """A date inside a sentence: ``31 december 2020`` in Dutch; in English the ISO form
    ``2020-12-31`` the English messages have always carried (scripts match on it)."""
    return day.isoformat() if current_language() == "en" else long_date(day)


def message_money(amount: Any) -> str:
    """An amount inside a sentence: ``€ -5,00`` / ``€ 2.000,00`` in Dutch; in English the form
    ``EUR -5.00`` the English messages have always carried."""
    value = getattr(amount, "amount", amount)
    return f"EUR {value}" if current_language() == "en" else money(value)


def number(value: float, places: int = 0) -> str:
    """A count or a measured value, the way of the current language: ``1.446`` / ``1,446``,
    with ``places`` decimals ``0,04`` / ``0.04``."""
    from babel.numbers import format_decimal

    pattern = "#,##0." + "0" * places if places else "#,##0"
    return str(format_decimal(value, format=pattern, locale=locale()))


def percent(value: Fraction | float) -> str:
    from babel.numbers import format_percent

    return str(format_percent(float(value), format="#,##0.0%", locale=locale()))
