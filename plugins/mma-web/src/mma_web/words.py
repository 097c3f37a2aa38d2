"""The pages' words: written in English in the source, marked with :func:`_`, and read in Dutch.

The web pages are Dutch (``<html lang="nl">``, Dutch dates and amounts), whatever ``MMA_LANG``
says: that chooses the language of the command line and of the API's messages. So the pages'
``_`` reads the plugin's Dutch catalog (``locale/nl/LC_MESSAGES/mma_web.mo``, kept by ``make
i18n`` like the command's help) rather than following the process's language, and a rule the
programme enforces is shown with :meth:`DomainError.message_in` in the same language. A page in
another language would be one more catalog and a choice of ``PAGE_LANGUAGE`` per request.
"""

from __future__ import annotations

import gettext
from functools import cache
from importlib import resources

from mma_core import DomainError

PAGE_LANGUAGE = "nl"


@cache
def _catalog(lang: str) -> gettext.NullTranslations:
    path = resources.files("mma_web").joinpath(f"locale/{lang}/LC_MESSAGES/mma_web.mo")
    try:
        with path.open("rb") as stream:
            return gettext.GNUTranslations(stream)
    except FileNotFoundError:  # pragma: no cover - the catalog ships in the package
        return gettext.NullTranslations()


def _(message: str) -> str:
    """``message`` in the pages' language."""
    return _catalog(PAGE_LANGUAGE).gettext(message)


def rule_broken(error: DomainError) -> str:
    """A rule the programme enforces, in the pages' language (its message names no person)."""
    return error.message_in(PAGE_LANGUAGE)


def role_names() -> dict[str, str]:
    """Each role as the pages name it."""
    return {
        "coordinator": _("coordinator"),
        "viewer": _("viewer"),
        "auditor": _("auditor"),
        "municipality": _("municipality"),
    }


__all__ = ["PAGE_LANGUAGE", "_", "role_names", "rule_broken"]
