"""Registries of municipalities shipped with the package (CSV under ``mma_core/data``)."""

from __future__ import annotations

import csv
import io
from datetime import date
from functools import cache
from importlib import resources

from mma_core.domain.addresses import PostalAddress
from mma_core.domain.errors import InvalidInput
from mma_core.domain.values import MunicipalityCode, RegistryEntry
from mma_core.language.i18n import _

_FILES = {"noord-holland-2019": "noord-holland-2019.csv"}
# The day each registry was drawn up for: the offer's letter (18 October 2019 for Noord-Holland).
_DAYS = {"noord-holland-2019": date(2019, 10, 18)}
# Postal addresses of the municipalities' town halls, per registry: a CSV under mma_core/data
# with the columns cbs_code, body, street, postcode, place. None is shipped: the reference
# data the registries come from (CBS) holds no addresses, and none is made up. Letters then
# take an address from an import (``mma address import``) or from mma.toml.
_ADDRESS_FILES: dict[str, str] = {}


def available() -> tuple[str, ...]:
    return tuple(sorted(_FILES))


def reference_day(name: str) -> date | None:
    """The day the registry was drawn up for (its offer's letter), when known."""
    return _DAYS.get(name)


@cache
def load(name: str) -> tuple[RegistryEntry, ...]:
    """Every row of the registry, with its validity, in file order."""
    try:
        filename = _FILES[name]
    except KeyError:
        raise InvalidInput(
            _("registry {name} is not shipped; available: {names}").format(
                name=repr(name), names=", ".join(available())
            )
        ) from None
    text = resources.files("mma_core.data").joinpath(filename).read_text(encoding="utf-8")
    return tuple(_entry(row) for row in csv.DictReader(io.StringIO(text)))


def _entry(row: dict[str, str]) -> RegistryEntry:
    def day(value: str) -> date | None:
        return date.fromisoformat(value) if value else None

    return RegistryEntry(
        code=MunicipalityCode(row["cbs_code"]),
        name=row["name"],
        province=row["province_code"],
        valid_from=day(row["valid_from"]),
        valid_until=day(row["valid_until"]),
        successor=MunicipalityCode(row["successor_code"]) if row["successor_code"] else None,
        population=int(row["population_2020"]) if row["population_2020"] else None,
    )


@cache
def addresses(name: str) -> dict[str, PostalAddress]:
    """The postal addresses the registry ``name`` ships, by CBS code (none shipped so far)."""
    filename = _ADDRESS_FILES.get(name)
    if filename is None:
        return {}
    text = resources.files("mma_core.data").joinpath(filename).read_text(encoding="utf-8")
    return {
        row["cbs_code"]: PostalAddress.parse(
            street=row["street"], postcode=row["postcode"], place=row["place"], body=row["body"]
        )
        for row in csv.DictReader(io.StringIO(text))
    }
