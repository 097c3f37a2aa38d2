"""Officials' personal data: never stored in plaintext, never in an error, gone when erased."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mma_core import CapacityExceeded, DomainError, InvalidInput, Programme
from mma_core.domain.values import Official

OFFER = "1298348/1298354"
NAME, EMAIL = "Hendrika Zwanenburg", "h.zwanenburg@gemeente-amsterdam.example"
OTHER_NAME, OTHER_EMAIL = "Pieter Bakkenes", "p.bakkenes@gemeente-amsterdam.example"


def file_bytes(database: Path) -> bytes:
    """The database file and its write-ahead log, as they lie on disk."""
    data = database.read_bytes()
    for suffix in ("-wal", "-journal"):
        sidecar = database.with_name(database.name + suffix)
        if sidecar.exists():
            data += sidecar.read_bytes()
    return data


def stored_bytes(prog: Programme) -> bytes:
    """Every stored event's state, as the store holds it."""
    return b"".join(n.state for n in prog.recorder.select_notifications(1, 100_000))


def set_up(prog: Programme) -> tuple[str, str]:
    prog.register_registry("noord-holland-2019", by="coordinator")
    prog.make_offer(reference=OFFER, sent_on=date(2019, 10, 18), by="cdk")
    prog.schedule_training(
        "2024-01-10",
        starts_at=datetime(2024, 1, 10, 13),
        ends_at=datetime(2024, 1, 10, 15, 30),
        location="Provinciehuis, Dreef 3, Haarlem",
        capacity=10,
        by="coordinator",
    )
    first = prog.nominate_official(
        "GM0363", name=NAME, email=EMAIL, on=date(2019, 10, 25), by="coordinator"
    )
    second = prog.nominate_official(
        "GM0363", name=OTHER_NAME, email=OTHER_EMAIL, on=date(2019, 10, 26), by="coordinator"
    )
    prog.book_training("GM0363", official_id=first, session_id="2024-01-10", by="coordinator")
    return first, second


def test_no_stored_event_holds_an_officials_name_or_email(programme: Programme) -> None:
    set_up(programme)
    stored = stored_bytes(programme)
    for secret in (NAME, EMAIL, OTHER_NAME, OTHER_EMAIL, "Zwanenburg", "h.zwanenburg"):
        assert secret.encode() not in stored
    # yet the programme can read them back while the keys exist
    names = {o.name for o in programme.municipality("GM0363").officials}
    assert names == {NAME, OTHER_NAME}


def test_the_sqlite_file_holds_no_name_or_email(
    tmp_path: Path, open_programme: Callable[[str], Programme]
) -> None:
    database = tmp_path / "mma.sqlite"
    prog = open_programme(f"sqlite:///{database}")
    set_up(prog)
    on_disk = file_bytes(database)
    assert b"GM0363-1" in on_disk  # the grep does see what is stored
    for secret in (NAME, EMAIL, OTHER_NAME, OTHER_EMAIL, "Zwanenburg", "zwanenburg@"):
        assert secret.encode() not in on_disk
        assert secret.encode("utf-16-le") not in on_disk


def test_erasure_shows_erased_changes_nothing_else_and_removes_the_key(
    tmp_path: Path, open_programme: Callable[[str], Programme]
) -> None:
    database = tmp_path / "mma.sqlite"
    prog = open_programme(f"sqlite:///{database}")
    first, second = set_up(prog)
    key = prog.keys.select_official_key(first)
    assert key is not None
    assert key in file_bytes(database)  # the check below can see a key that is there
    before = prog.history("GM0363")
    session_before = prog.sessions()[0]
    assert first in session_before.booked

    prog.erase_official(first, by="privacy-officer")

    after = prog.history("GM0363")
    assert len(after) == len(before) + 1
    assert after[-1].type == "OfficialErased"
    assert after[-1].data["official_id"] == first
    for old, new in zip(before, after, strict=False):
        if old.type == "OfficialNominated" and old.data["official_id"] == first:
            assert old.data["personal_data"] == {"name": NAME, "email": EMAIL}
            assert new.data["personal_data"] == "[erased]"
            assert {k: v for k, v in new.data.items() if k != "personal_data"} == {
                k: v for k, v in old.data.items() if k != "personal_data"
            }
            assert (new.position, new.recorded_at, new.type, new.by) == (
                old.position,
                old.recorded_at,
                old.type,
                old.by,
            )
        else:
            assert new == old  # the other official, and every other event, unchanged
    view = {o.id: o for o in prog.municipality("GM0363").officials}
    assert (view[first].name, view[first].email, view[first].erased) == ("[erased]",) * 2 + (True,)
    assert view[first].active is False
    assert (view[second].name, view[second].email) == (OTHER_NAME, OTHER_EMAIL)
    # the erased official's seat on a session still to come is given back
    assert first not in prog.sessions()[0].booked

    assert prog.keys.select_official_key(first) is None
    assert prog.keys.select_official_key(second) is not None
    assert key not in file_bytes(database)  # at once, while the programme is still open
    prog.close()
    assert key not in file_bytes(database)
    reopened = open_programme(f"sqlite:///{database}")
    assert reopened.history("GM0363") == after


def test_erasure_on_every_store(programme: Programme) -> None:
    first, _ = set_up(programme)
    before = programme.history("GM0363")
    programme.erase_official(first, by="privacy-officer")
    after = programme.history("GM0363")
    nominations = [e.data["personal_data"] for e in after if e.type == "OfficialNominated"]
    assert nominations == ["[erased]", {"name": OTHER_NAME, "email": OTHER_EMAIL}]
    assert [e.position for e in after[: len(before)]] == [e.position for e in before]
    assert programme.keys.select_official_key(first) is None


NAMES = st.from_regex(r"[A-Z][a-z]{3,12} [A-Z][a-z]{4,14}", fullmatch=True)
EMAILS = st.from_regex(r"[a-z]{4,10}\.[a-z]{4,10}@[a-z]{4,10}\.example", fullmatch=True)


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=NAMES, email=EMAILS)
def test_no_error_message_or_repr_carries_personal_data(
    memory_programme: Programme, name: str, email: str
) -> None:
    prog = memory_programme
    if not prog.codes():
        prog.register_registry("noord-holland-2019", by="coordinator")
        prog.nominate_official("GM0358", name="Een", email="een@x.example", by="c")
        prog.nominate_official("GM0358", name="Twee", email="twee@x.example", by="c")
    attempts: list[Callable[[], object]] = [
        # a third active official
        lambda: prog.nominate_official("GM0358", name=name, email=email, by="c"),
        # a malformed address next to a good name, a good address next to a bad name
        lambda: prog.nominate_official("GM0363", name=name, email=email.replace("@", " "), by="c"),
        lambda: prog.nominate_official("GM0363", name=(name + " ") * 30, email=email, by="c"),
        lambda: prog.nominate_official("GM0999", name=name, email=email, by="c"),
        lambda: prog.nominate_official("GM0363", name=name, email=email, by=""),
        lambda: prog.nominate_official(
            "GM0363", name=name, email=email, on=date(2099, 1, 1), by="c"
        ),
        lambda: Official(name=name, email=email.replace("@", "")),
    ]
    for attempt in attempts:
        with pytest.raises(DomainError) as caught:
            attempt()
        for text in (str(caught.value), repr(caught.value), repr(caught.value.args)):
            assert name not in text
            assert email not in text
            assert email.split("@")[0] not in text
    assert repr(Official(name=name, email=email)) == "Official(<personal data>)"
    with pytest.raises(CapacityExceeded):
        attempts[0]()
    with pytest.raises(InvalidInput):
        attempts[1]()
