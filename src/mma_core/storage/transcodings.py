"""How our values are written into stored events (JSON via eventsourcing's transcoder)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from eventsourcing.persistence import JSONTranscoder, Transcoding

from mma_core.domain.values import CostLine, Money, Terms


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        # datetime is a subclass of date; a datetime here would silently lose its time.
        if isinstance(obj, datetime):
            raise TypeError("a datetime was given where a date is stored")
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class MoneyAsStr(Transcoding):
    type = Money
    name = "money"

    def encode(self, obj: Money) -> str:
        return str(obj.amount)

    def decode(self, data: str) -> Money:
        return Money(data)


class TermsAsDict(Transcoding):
    type = Terms
    name = "terms"

    def encode(self, obj: Terms) -> dict[str, Any]:
        return obj.to_dict()

    def decode(self, data: dict[str, Any]) -> Terms:
        return Terms.from_dict(data)


class CostLineAsDict(Transcoding):
    type = CostLine
    name = "cost_line"

    def encode(self, obj: CostLine) -> dict[str, str]:
        return obj.to_dict()

    def decode(self, data: dict[str, str]) -> CostLine:
        return CostLine.from_dict(data)


def register_transcodings(transcoder: JSONTranscoder) -> None:
    for transcoding in (DateAsISO(), MoneyAsStr(), TermsAsDict(), CostLineAsDict()):
        transcoder.register(transcoding)
