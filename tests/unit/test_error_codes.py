"""Typed errors: a stable code per class, the municipality, to_dict(); store failures wrapped."""

from __future__ import annotations

import json
import re
import sqlite3
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import mma_core
import mma_core.paperwork.imports
import mma_core.paperwork.tables
import mma_core.storage
import mma_core.storage.cipher
import mma_core.storage.leaf_format
from mma_core import DomainError, Programme, StoreUnavailable
from mma_core.storage import store_env

DOCS = Path(__file__).parents[2] / "docs" / "embedding.md"
ROW = re.compile(r"^\| `([a-z_]+)` \| `([A-Za-z]+)`")


def all_domain_errors() -> list[type[DomainError]]:
    found: list[type[DomainError]] = []
    todo: list[type[DomainError]] = [DomainError]
    while todo:
        cls = todo.pop()
        if cls.__module__.startswith("mma_core") and not cls.__name__.startswith("_"):
            found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def documented_codes() -> dict[str, str]:
    text = DOCS.read_text(encoding="utf-8")
    table = text.split("<!-- error-codes")[1].split("<!-- /error-codes -->")[0]
    rows = {}
    for line in table.splitlines():
        match = ROW.match(line)
        if match:
            rows[match.group(2)] = match.group(1)
    return rows


def test_the_docs_table_and_the_classes_agree() -> None:
    classes = {cls.__name__: cls.code for cls in all_domain_errors()}
    assert documented_codes() == classes


def test_the_docs_tables_are_generated_from_the_code() -> None:
    """The error table (code, when, HTTP status) and the command table of the embedding
    guide are what ``tools/contract_docs.py`` writes from the classes and the API list."""
    sys.path.insert(0, str(DOCS.parents[1] / "tools"))
    try:
        import contract_docs
    finally:
        sys.path.pop(0)
    text = DOCS.read_text(encoding="utf-8")
    assert contract_docs.rendered(text) == text, "run: python tools/contract_docs.py"


def test_each_error_carries_its_http_status() -> None:
    statuses = {cls.code: cls.http_status for cls in all_domain_errors()}
    assert statuses["rule_violation"] == statuses["request_id_reused"] == 422
    assert statuses["invalid_transition"] == statuses["duplicate_report"] == 409
    assert statuses["unknown_municipality"] == 404
    assert statuses["erasure_incomplete"] == StoreUnavailable.http_status == 503
    assert all(400 <= status < 600 for status in statuses.values())
    for cls in all_domain_errors():
        assert isinstance(cls.when, str)
        assert cls.when
        assert "when" in vars(cls) or cls is DomainError, cls  # said, not inherited


def test_codes_are_stable_snake_case_and_unique() -> None:
    codes = [cls.code for cls in all_domain_errors()]
    assert len(codes) == len(set(codes)), "two classes share a code"
    for code in codes:
        assert re.fullmatch(r"[a-z]+(_[a-z]+)*", code), code
    # The contract: these codes never change.
    assert mma_core.InvalidTransition.code == "invalid_transition"
    assert mma_core.RequestIdReused.code == "request_id_reused"
    assert mma_core.UnknownMunicipality.code == "unknown_municipality"


def test_every_error_is_exported_or_documented_where_it_lives() -> None:
    for cls in all_domain_errors():
        public = getattr(mma_core, cls.__name__, None) is cls
        assert public or cls.__module__ in (
            "mma_core.storage.leaf_format",
            "mma_core.storage.cipher",
            "mma_core.domain.errors",
            "mma_core.paperwork.imports",
            "mma_core.paperwork.tables",
        )


def test_an_error_names_its_municipality_and_writes_nothing(
    memory_programme: Programme, event_count: Callable[[Programme], int]
) -> None:
    prog = memory_programme
    prog.register_registry("noord-holland-2019", by="coordinator")
    before = event_count(prog)
    with pytest.raises(mma_core.InvalidTransition) as caught:
        prog.accept("GM0363", on=date(2019, 11, 1), by="burgemeester")
    assert event_count(prog) == before
    data = caught.value.to_dict()
    assert data["code"] == "invalid_transition"
    assert data["type"] == "InvalidTransition"
    assert data["municipality"] == "GM0363"
    assert "GM0363" in data["message"]
    assert json.loads(json.dumps(data)) == data


def test_an_error_raised_by_a_value_gets_the_commands_municipality(
    memory_programme: Programme,
) -> None:
    prog = memory_programme
    prog.register_registry("noord-holland-2019", by="coordinator")
    with pytest.raises(mma_core.InvalidInput) as caught:
        prog.book_training("GM0363", official_id="GM0363-1", session_id="?", by="c")
    assert caught.value.municipality == "GM0363"
    assert str(caught.value).startswith("GM0363")


def test_an_unknown_municipality_from_a_query_has_a_code(memory_programme: Programme) -> None:
    with pytest.raises(mma_core.UnknownMunicipality) as caught:
        memory_programme.municipality("GM0363")
    assert caught.value.to_dict()["municipality"] == "GM0363"


def test_a_duplicate_report_says_which_reference(
    memory_programme: Programme,
) -> None:
    prog = memory_programme
    prog.register_registry("noord-holland-2019", by="coordinator")
    prog.make_offer(reference="1298348/1298354", sent_on=date(2019, 10, 18), by="cdk")
    prog.invite("GM0363", on=date(2019, 10, 18), reference="1298348/1298354", by="cdk")
    prog.accept("GM0363", on=date(2019, 11, 1), by="burgemeester")
    prog.connect("GM0363", on=date(2019, 12, 1), by="coordinator")
    report = {"received_on": date(2020, 2, 3), "category": "sociale zekerheid", "by": "mma"}
    prog.record_report("GM0363", reference="MMA-1", **report)  # type: ignore[arg-type]
    with pytest.raises(mma_core.DuplicateReport) as caught:
        prog.record_report("GM0363", reference="MMA-1", **report)  # type: ignore[arg-type]
    assert caught.value.to_dict()["details"] == {"reference": "MMA-1"}


def test_errors_survive_pickling_with_their_fields() -> None:
    import pickle

    error = mma_core.RequestIdReused("GM0363 Amsterdam: reused", details={"request_id": "r-1"})
    copy = pickle.loads(pickle.dumps(error))
    assert copy.to_dict() == error.to_dict()


def test_a_locked_sqlite_file_raises_store_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "locked.sqlite"
    url = f"sqlite:///{path}"
    Programme.open(url).close()
    env = {**store_env(url), "SQLITE_LOCK_TIMEOUT": "1"}
    prog = Programme(env)
    blocker = sqlite3.connect(path, isolation_level=None)
    try:
        blocker.execute("BEGIN EXCLUSIVE")
        with pytest.raises(StoreUnavailable) as caught:
            prog.register_registry("noord-holland-2019", by="coordinator")
        assert not isinstance(caught.value, DomainError)
        assert caught.value.__cause__ is not None
        # Busy: a transient StoreUnavailable, with a code of its own.
        assert caught.value.to_dict()["code"] == "store_busy"
        assert caught.value.transient
        assert "locked" in str(caught.value)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
        prog.close()


@pytest.mark.postgres
def test_an_unreachable_postgres_raises_store_unavailable_without_the_password(
    postgres_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A port where nothing listens: the connection is refused at once, and the pool gives up
    # after its connect timeout (30 s by default; the outcome is the same after 2).
    from eventsourcing import postgres

    init = postgres.PostgresDatastore.__init__

    def quick(self: postgres.PostgresDatastore, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **{**kwargs, "connect_timeout": 2})

    monkeypatch.setattr(postgres.PostgresDatastore, "__init__", quick)
    url = "postgresql://postgres:s3cr3t-pw@127.0.0.1:1/test"
    with pytest.raises(StoreUnavailable) as caught:
        Programme.open(url)
    assert "s3cr3t-pw" not in str(caught.value)
    assert "***" in str(caught.value) or "127.0.0.1:1" in str(caught.value)
    assert caught.value.__cause__ is not None
