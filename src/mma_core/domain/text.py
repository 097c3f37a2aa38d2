"""The domain's messages: written in English, marked with :func:`_` (or :func:`N_` where they
are translated later), and translated where they are raised.

The translation itself (the gettext catalog, the current language) is ``mma_core.language.i18n``'s,
outside the domain: the application installs it with :func:`translate_with` when
``mma_core`` is imported. Until then, as in a domain used on its own, messages read as
written.
"""

from __future__ import annotations

from collections.abc import Callable

_translate: Callable[[str], str] = str


def translate_with(translate: Callable[[str], str]) -> None:
    """Translate the domain's messages with ``translate`` (``mma_core.language.i18n._``) from now
    on."""
    global _translate
    _translate = translate


def _(message: str) -> str:
    """``message`` in the current language."""
    return _translate(message)


def N_(message: str) -> str:
    """Marks ``message`` for the catalog; it is translated where it is shown, with ``_``."""
    return message


__all__ = ["N_", "_", "translate_with"]
