"""The read models' cost ledger equals the cost lines a fresh replay derives from the events,
whatever the snapshot interval and wherever the view updater's batches begin and end. On a
SQLite file as well as in memory: the file's views also keep each municipality's lines in
chunks (``CHUNK_LINES`` to a row, any size here), extended across batches and read
incrementally."""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mma_core import Programme
from mma_core.application import asof
from mma_core.domain.municipality import municipality_id
from mma_core.views import store as view_store
from mma_core.views.models import ReadModels
from mma_core.views.replay import charged

CODES = ("GM0363", "GM0358")

steps = st.lists(
    st.one_of(
        st.tuples(st.just("report"), st.sampled_from(CODES), st.integers(0, 400)),
        st.tuples(st.just("bulk"), st.sampled_from(CODES), st.integers(1, 12)),
        st.tuples(st.just("renew"), st.sampled_from(CODES), st.just(0)),
        # 0: the views under test catch up; 1: the programme's own (a second writer of the
        # same tables on a file, each remembering where its last batch left the runs).
        st.tuples(st.just("catch_up"), st.just(""), st.integers(0, 1)),
    ),
    max_size=30,
)


@pytest.mark.parametrize("store", ["memory", "sqlite"])
@settings(max_examples=25, deadline=None)
@given(
    steps=steps,
    interval=st.integers(1, 15),
    batch=st.integers(1, 25),
    chunk=st.integers(1, 9),
)
def test_ledger_equals_a_fresh_replay(
    store: str, steps: list[tuple[str, str, int]], interval: int, batch: int, chunk: int
) -> None:
    with pytest.MonkeyPatch.context() as patch, tempfile.TemporaryDirectory() as tmp:
        patch.setattr(asof, "SNAPSHOT_EVERY", interval)
        patch.setattr(view_store, "CHUNK_LINES", chunk)
        clock = datetime(2023, 6, 1, 12, tzinfo=UTC)
        url = "memory://" if store == "memory" else f"sqlite:///{Path(tmp) / 's.sqlite'}"
        with Programme.open(url, clock=lambda: clock) as prog:
            prog.register_registry("noord-holland-2019", by="t")
            prog.make_offer(reference="R", sent_on=date(2019, 10, 18), by="t")
            for code in CODES:
                prog.invite(code, on=date(2019, 10, 18), reference="R", by="t")
                prog.accept(code, on=date(2019, 11, 1), by="t")
                prog.connect(code, on=date(2019, 12, 1), by="t")
            views = ReadModels(prog, batch_size=batch)
            renewals = dict.fromkeys(CODES, 0)
            for n, (kind, code, value) in enumerate(steps):
                if kind == "report":
                    day = date(2020, 1, 1) + timedelta(days=value)
                    prog.record_report(
                        code, received_on=day, category="fraude", reference=f"P{n}", by="t"
                    )
                elif kind == "bulk":
                    prog.record_reports(
                        [(code, date(2020, 2, 1), "fraude", f"B{n}-{i}") for i in range(value)],
                        by="t",
                    )
                elif kind == "renew" and renewals[code] < 2:
                    year = 2020 + renewals[code]
                    prog.evaluate(code, on=date(year, 11, 20), outcome="continue", by="t")
                    prog.renew(code, on=date(year, 12, 1), by="t")
                    renewals[code] += 1
                else:
                    (views if value == 0 else prog.views).catch_up()
                    for each in CODES:  # read now, so the next read extends what it keeps
                        events = list(prog.events.get(municipality_id(each)))
                        assert list(views.costs(each)) == list(charged(events, None, None))
            views.catch_up()
            for code in CODES:
                events = list(prog.events.get(municipality_id(code)))
                replayed = list(charged(events, None, None))
                ledger = [(line.on, line.line) for line in views.ledger(code)]
                assert ledger == [(e.on, e.line) for e in replayed]
                # A municipality's view shows its lines in date order (ledger order per day).
                in_date_order = sorted(replayed, key=lambda entry: entry.on)
                assert list(prog.municipality(code, cost_lines=True).costs) == in_date_order
                assert list(views.costs(code)) == replayed
                assert list(ReadModels(prog).costs(code)) == replayed  # nothing kept in memory
                m = prog.repository.get(municipality_id(code))
                assert m.cost_lines == len(replayed)
