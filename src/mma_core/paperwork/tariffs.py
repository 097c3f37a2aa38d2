"""Where an amount came from, in words: "tarief uit het aanbod van 18 oktober 2019".

A cost line names its tariff by an identifier (``offer:1298348/1298354`` for the terms of an
offer, a profile's name for a published tariff); a person reads the offer's date instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from mma_core.domain.values import REVERSES_PREFIX
from mma_core.language.i18n import _, long_date

OFFER_PREFIX = "offer:"


def offers_sent(offers: Iterable[Any]) -> dict[str, date]:
    """Each offer's reference and the day it was sent."""
    return {o.reference: o.sent_on for o in offers}


def tariff_words(tariff_id: str, sent: Mapping[str, date]) -> str:
    """The tariff in the reader's language: the offer's date for an offer's terms, a
    correction's reversal as a correction."""
    if tariff_id.startswith(REVERSES_PREFIX):
        return _("correction: retracted (position {position})").format(
            position=tariff_id[len(REVERSES_PREFIX) :]
        )
    if tariff_id.startswith(OFFER_PREFIX):
        reference = tariff_id[len(OFFER_PREFIX) :]
        day = sent.get(reference)
        if day is not None:
            return _("tariff of the offer of {day}").format(day=long_date(day))
        return _("tariff of offer {reference}").format(reference=reference)
    return _("tariff {tariff}").format(tariff=tariff_id)


__all__ = ["offers_sent", "tariff_words"]
