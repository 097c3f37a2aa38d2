"""The read models need of a programme only what ``ViewSource`` declares: given an object that
has those members and nothing else, they catch up, answer and replay as for the programme."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any
from uuid import UUID

from mma_core import Programme
from mma_core.domain.values import Official, OfficialId
from mma_core.views.models import ReadModels
from mma_core.views.source import ViewSource

OFFER = "1298348/1298354"


class OnlyTheProtocol:
    """A programme seen through the protocol's members alone."""

    def __init__(self, programme: Programme) -> None:
        self._programme = programme

    recorder = property(lambda self: self._programme.recorder)
    mapper = property(lambda self: self._programme.mapper)
    events = property(lambda self: self._programme.events)
    repository = property(lambda self: self._programme.repository)
    env = property(lambda self: self._programme.env)
    factory = property(lambda self: self._programme.factory)
    create_tables = property(lambda self: self._programme.create_tables)

    def today(self) -> date:
        return self._programme.today()

    def reveal(self, official_id: OfficialId, sealed: str) -> Official | None:
        return self._programme.reveal(official_id, sealed)

    def aggregate_events(self, aggregate_id: UUID) -> list[Any]:
        return self._programme.aggregate_events(aggregate_id)

    def events_of_type(self, event_class: type[Any]) -> Iterator[Any]:
        return self._programme.events_of_type(event_class)


def test_the_read_models_need_only_the_view_source(tmp_path: Any) -> None:
    with Programme.open(f"sqlite:///{tmp_path}/v.sqlite") as prog:
        prog.register_registry("noord-holland-2019", by="coordinator")
        prog.make_offer(reference=OFFER, sent_on=date(2019, 10, 18), by="cdk")
        prog.invite("GM0363", on=date(2019, 10, 18), reference=OFFER, by="cdk")
        prog.accept("GM0363", on=date(2019, 11, 1), by="burgemeester")
        prog.nominate_official("GM0363", name="A B", email="a@example.nl", by="coordinator")
        source: ViewSource = OnlyTheProtocol(prog)
        views = ReadModels(source)
        assert views.catch_up() == prog.last_position()
        day = date(2019, 11, 2)
        overview = views.overview(day)
        assert overview == prog.views.overview(day)
        amsterdam = next(m for m in overview.municipalities if m.code == "GM0363")
        assert [o.name for o in amsterdam.officials] == ["A B"]  # revealed through the source
        assert views.records_as_of(day) == prog.views.records_as_of(day)
        due = views.due(date(2019, 12, 15))  # training: 60 days after the acceptance
        assert [d.kind for d in due if d.code == "GM0363"] == ["training"]
