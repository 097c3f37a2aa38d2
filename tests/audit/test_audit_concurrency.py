"""Writers in parallel on one store: each leaf is numbered and chained inside its event's
transaction, so the history verifies however the transactions interleave."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date

import pytest
from audit_helpers import REFERENCE, base, verify_url

from mma_core import DomainError, Programme
from mma_core.storage.leaf_format import HistoryAltered

WRITERS = 4


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_parallel_writers_leave_a_verifying_history(
    kind: str,
    tmp_path: object,
    request: pytest.FixtureRequest,
    open_programme: Callable[[str], Programme],
) -> None:
    url = (
        f"sqlite:///{tmp_path}/p.sqlite"
        if kind == "sqlite"
        else str(request.getfixturevalue("postgres_url"))
    )
    first = open_programme(url)
    base(first)
    codes = first.codes()[:8]
    before = first.event_count()
    errors: list[BaseException] = []
    done: list[str] = []

    def writer(n: int) -> None:
        try:
            with Programme.open(url) as prog:
                for i in range(6):
                    # Writers share municipalities, so their saves contend.
                    code = codes[(n + i) % len(codes)]
                    try:
                        prog.invite(code, on=date(2019, 10, 18), reference=REFERENCE, by=f"w{n}")
                        done.append(code)
                    except HistoryAltered:
                        raise
                    except DomainError:
                        try:
                            prog.nominate_official(
                                code, name=f"W{n} {i}", email=f"w{n}.{i}@example.nl", by=f"w{n}"
                            )
                            done.append(code)
                        except HistoryAltered:
                            raise
                        except DomainError:
                            pass
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    result = verify_url(url)
    assert result.ok, result.problem
    assert len(done) >= WRITERS * 3
    assert result.size == first.event_count() == before + len(done)
