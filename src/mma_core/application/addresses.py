"""The municipalities' postal addresses: recorded (``mma address import``), and read for the
letters' recipient blocks.

An address is an organisation's, not a person's: it is stored as an event of the municipality
(``AddressRecorded``), dated on the day it took effect, in the history like every other fact.
A registry may ship addresses too (none does so far); a recorded one comes before it.
"""

from __future__ import annotations

from datetime import date

from mma_core.application.commanding import Commanding, command
from mma_core.domain.addresses import PostalAddress
from mma_core.domain.common import Stamp, as_date
from mma_core.domain.municipality import Municipality
from mma_core.storage import registries
from mma_core.storage.errors import guarded

__all__ = ["AddressCommands"]


class AddressCommands(Commanding):
    """Record a municipality's postal address; read every municipality's."""

    @command
    def record_address(
        self,
        code: str,
        *,
        on: date,
        street: str,
        postcode: str,
        place: str,
        by: str,
        body: str = "",
        origin: str | None = None,
        request_id: str | None = None,
    ) -> str:
        """Record ``code``'s postal address from ``on``: ``street`` (a street and number or
        a PO box), ``postcode`` (``1000 AE``), ``place`` and, optionally, ``body``, the body a
        letter is addressed to ("College van burgemeester en wethouders van de gemeente
        Amsterdam"; empty: the mayor). A later address replaces it from its own day."""
        address = PostalAddress.parse(street=street, postcode=postcode, place=place, body=body)

        def change(m: Municipality, stamp: Stamp) -> None:
            m.record_address(on, address, stamp)

        return self._change(code, by, origin, change)

    @guarded
    def addresses(self, *, as_of: date | None = None) -> dict[str, PostalAddress]:
        """Each municipality's postal address on ``as_of`` (default: today), by code; a
        municipality without one is left out.

        A recorded address counts from its day: the latest one in effect on ``as_of`` (of two
        on the same day, the one recorded last). When every recorded address of a
        municipality takes effect after ``as_of``, the earliest of them is the best knowledge
        there is and is given. Without a recorded address, its registry's (when it ships
        one)."""
        day = self.today() if as_of is None else as_date(as_of, "as_of", "addresses")
        found: dict[str, PostalAddress] = {}
        ids = {}
        for registered in self.events_of_type(Municipality.Registered):
            ids[registered.originator_id] = registered.code
            shipped = registries.addresses(registered.registry).get(registered.code)
            if shipped is not None:
                found[registered.code] = shipped
        recorded: dict[str, list[tuple[date, int, PostalAddress]]] = {}
        for order, event in enumerate(self.events_of_type(Municipality.AddressRecorded)):
            code = ids.get(event.originator_id)
            if code is None:
                continue
            address = PostalAddress(
                street=event.street, postcode=event.postcode, place=event.place, body=event.body
            )
            recorded.setdefault(code, []).append((event.on, order, address))
        for code, entries in recorded.items():
            entries.sort(key=lambda entry: (entry[0], entry[1]))
            in_effect = [entry for entry in entries if entry[0] <= day]
            found[code] = (in_effect[-1] if in_effect else entries[0])[2]
        return found
