"""A municipality's postal address, where letters to it go: an organisation's address, not
personal data.

An address is a fact that changes now and then (a town hall moves, a PO box is given up), so it
is recorded as an event of the municipality (``AddressRecorded``), dated on the day it took
effect; a later one replaces it from its own day on. A letter prints the address in effect on
its date.
"""

from __future__ import annotations

import re

import attrs

from mma_core.domain.errors import InvalidInput
from mma_core.domain.text import N_, _
from mma_core.domain.values import check_text

__all__ = [
    "ADDRESS_DATE",
    "MAX_BODY",
    "MAX_PLACE",
    "MAX_STREET",
    "PostalAddress",
    "check_postcode",
]

# The name of the date in the rules' messages (shown with ``_(what)``).
ADDRESS_DATE = N_("address date")

MAX_BODY = 200
MAX_STREET = 100
MAX_PLACE = 80
# A Dutch postcode: four digits (the first not 0) and two letters, written "1000 AE".
_POSTCODE = re.compile(r"([1-9][0-9]{3}) ?([A-Za-z]{2})")


def check_postcode(value: object) -> str:
    """``value`` as a Dutch postcode written the standard way (``1000 AE``)."""
    found = _POSTCODE.fullmatch(value.strip()) if isinstance(value, str) else None
    if found is None:
        raise InvalidInput(
            _("the postcode {value} is not a Dutch postcode like 1000 AE").format(value=repr(value))
        )
    return f"{found.group(1)} {found.group(2).upper()}"


@attrs.frozen
class PostalAddress:
    """Where a letter to a municipality goes: the body addressed (may be empty: then the mayor
    of the municipality), a street and number or a PO box, the postcode and the place."""

    street: str
    postcode: str
    place: str
    body: str = ""

    @classmethod
    def parse(cls, *, street: str, postcode: str, place: str, body: str = "") -> PostalAddress:
        """The address with every field checked: one line of text each, a Dutch postcode."""
        return cls(
            street=" ".join(
                check_text(street, N_("the street or PO box"), limit=MAX_STREET).split()
            ),
            postcode=check_postcode(postcode),
            place=" ".join(check_text(place, N_("the place"), limit=MAX_PLACE).split()),
            body=" ".join(
                check_text(body, N_("the addressee"), limit=MAX_BODY, required=False).split()
            ),
        )

    def fields(self) -> dict[str, str]:
        """The fields as ``AddressRecorded`` stores them."""
        return attrs.asdict(self)

    def lines(self) -> tuple[str, ...]:
        """The address lines under the addressee: ``Postbus 202`` and ``1000 AE Amsterdam``."""
        return (self.street, f"{self.postcode} {self.place}")
