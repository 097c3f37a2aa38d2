"""One contract: ``AsyncProgramme`` has every command and query of ``Programme`` (from one
list, ``mma_core.application.api``), with the same signatures; ``due()`` is public and its
results match their schema; ``follow()`` can leave the commands' receipts out."""

from __future__ import annotations

import asyncio
import inspect
import json
from datetime import date
from pathlib import Path

import jsonschema
import pytest
from eventsourcing.application import Application

from mma_core import AsyncProgramme, Programme
from mma_core.application import api
from mma_core.application.commanding import COMMAND_NAME
from mma_core.domain.errors import InvalidInput

SCHEMAS = Path(__file__).parents[2] / "docs" / "schemas" / "results"


def public_methods(cls: type) -> set[str]:
    return {
        name for name in dir(cls) if not name.startswith("_") and callable(getattr(cls, name, None))
    }


def test_the_list_names_every_public_method_of_programme() -> None:
    listed = set(api.ALL)
    assert len(listed) == len(api.ALL), "a name listed twice"
    ours = public_methods(Programme) - (public_methods(Application) - listed)
    missing = ours - listed - api.NOT_IN_THE_LIST
    assert not missing, f"add to mma_core.application.api: {sorted(missing)}"
    assert not listed - public_methods(Programme)
    marked = {n for n in public_methods(Programme) if hasattr(getattr(Programme, n), COMMAND_NAME)}
    assert marked <= set(api.COMMANDS)
    assert not marked & set(api.QUERIES)


@pytest.mark.parametrize("name", api.ALL)
def test_async_programme_has_it_as_a_coroutine_with_the_same_signature(name: str) -> None:
    method = getattr(AsyncProgramme, name)
    assert inspect.iscoroutinefunction(method), name
    assert inspect.signature(method) == inspect.signature(getattr(Programme, name)), name
    assert method.__doc__ == getattr(Programme, name).__doc__


def test_follow_has_the_same_keywords_in_both() -> None:
    ours = inspect.signature(AsyncProgramme.follow).parameters
    theirs = inspect.signature(Programme.follow).parameters
    assert list(ours) == list(theirs)
    assert all(ours[n].default == theirs[n].default for n in ours)


def test_every_listed_call_runs_through_async_programme() -> None:
    async def main() -> None:
        async with await AsyncProgramme.open("memory://") as prog:
            codes = await prog.register_registry("noord-holland-2019", by="t")
            await prog.make_offer(reference="R", sent_on=date(2019, 10, 18), by="t")
            invited = await prog.invite_all(on=date(2019, 10, 18), reference="R", by="t")
            assert set(invited) < set(codes)  # those that existed on the day
            await prog.sign_covenant("R", on=date(2019, 10, 20), place="Haarlem", by="t")
            due = await prog.due(today=date(2019, 11, 20))
            assert due
            assert due[0].kind == "answer"
            offers = await prog.offers()
            assert offers[0].covenant_on == date(2019, 10, 20)
            page = await prog.cost_lines("GM0363")
            assert page.lines == ()
            assert (await prog.today()) == (await asyncio.to_thread(prog.programme.today))

    asyncio.run(main())


def test_due_is_public_and_matches_its_schema(memory_programme: Programme) -> None:
    prog = memory_programme
    prog.register_registry("noord-holland-2019", by="t")
    prog.make_offer(reference="R", sent_on=date(2019, 10, 18), by="t")
    prog.invite("GM0363", on=date(2019, 10, 18), reference="R", by="t")
    items = prog.due(today=date(2019, 12, 1), within=30)
    assert [item.kind for item in items] == ["answer"]
    data = items[0].to_dict()
    assert data["overdue"] is True
    schema = json.loads((SCHEMAS / "Due.json").read_text(encoding="utf-8"))
    jsonschema.validate(data, schema)
    page = prog.cost_lines("GM0363").to_dict()
    jsonschema.validate(page, json.loads((SCHEMAS / "CostLinesPage.json").read_text()))
    for bad in ({"within": -1}, {"within": "30"}, {"today": "2019-12-01"}):
        with pytest.raises(InvalidInput):
            prog.due(**bad)  # type: ignore[arg-type]


def test_follow_can_leave_the_receipts_out(memory_programme: Programme) -> None:
    prog = memory_programme
    prog.register_registry("noord-holland-2019", by="t", request_id="r-1")
    prog.make_offer(reference="R", sent_on=date(2019, 10, 18), by="t", request_id="r-2")
    every = list(prog.follow())
    assert [r.type for r in every].count("Issued") == 2
    without = list(prog.follow(include_receipts=False))
    assert [r for r in every if r.aggregate != "CommandReceipt"] == without
    assert len(list(prog.follow(include_receipts=False, limit=3))) == 3
    last = without[-1].position
    assert list(prog.follow(after=last, include_receipts=False)) == []
    with pytest.raises(InvalidInput):
        list(prog.follow(include_receipts="no"))  # type: ignore[arg-type]


def test_the_report_categories_are_a_top_level_enum_and_in_the_event_schema() -> None:
    from mma_core import ReportCategories, ReportCategory
    from mma_core.domain.values import MMA_CATEGORIES

    assert [c.value for c in ReportCategories] == list(MMA_CATEGORIES)
    assert ReportCategory(ReportCategories.FRAUDE).value == "fraude"
    schema = json.loads(
        (SCHEMAS.parent / "Municipality.ReportReceived.schema.json").read_text(encoding="utf-8")
    )
    assert schema["properties"]["category"]["enum"] == list(MMA_CATEGORIES)
