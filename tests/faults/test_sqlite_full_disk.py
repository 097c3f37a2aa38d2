"""A full disk under SQLite, made real with RLIMIT_FSIZE (a file may not grow past a limit, as
on a full file system): the command that meets it fails with a clear, transient error
(``disk_full``), nothing is half-written, and the store opens and verifies once space returns."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from mma_core import Programme

pytestmark = pytest.mark.slow

# Writes offers into the store argv[1] under a file size limit of argv[2] bytes above the
# current size, until the store refuses; prints what it committed and the error's dict.
FILLER = """
import json, os, resource, signal, sys
from datetime import date
from mma_core import Programme, StoreError
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
url, room = sys.argv[1], int(sys.argv[2])
path = url.removeprefix("sqlite:///")
with Programme.open(url) as prog:
    largest = max(os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p))
    resource.setrlimit(resource.RLIMIT_FSIZE, (largest + room, resource.RLIM_INFINITY))
    committed = 0
    try:
        for n in range(100000):
            prog.make_offer(reference=f"R-FULL-{n}", sent_on=date(2024, 1, 1), by="t")
            committed += 1
        error = None
    except StoreError as failure:
        error = failure.to_dict()
    print(json.dumps({"committed": committed, "error": error}))
"""


def _verify(url: str) -> object:
    from mma_core.audit.sources import open_reader, open_recorder
    from mma_core.audit.verify import verify

    with open_recorder(url) as recorder, open_reader(recorder) as reader:
        return verify(reader)


def test_a_full_disk_is_a_clear_error_nothing_half_written_and_the_store_recovers(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'full.sqlite'}"
    with Programme.open(url) as prog:
        prog.register_registry("noord-holland-2019", by="t")
        before = prog.event_count()
    done = subprocess.run(
        [sys.executable, "-c", FILLER, url, str(256 * 1024)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    error = outcome["error"]
    assert error is not None, "the limit was never met"
    assert outcome["committed"] > 10
    assert error["code"] == "store_unavailable"
    # SQLite names a write refused for want of space a "disk I/O error": the advice says
    # what to look at, never "check the database server".
    assert error["details"]["reason"] in ("disk_full", "disk_io"), error["message"]
    assert error["details"]["transient"] is True
    assert "make space" in error["details"]["advice"]
    assert "database server" not in error["message"]
    # Space returned (no limit in this process): the store opens, holds exactly what was
    # committed, verifies, and takes commands again.
    with Programme.open(url) as prog:
        assert prog.event_count() == before + outcome["committed"]
        assert len(prog.offers()) == outcome["committed"]
        prog.make_offer(reference="R-AFTER", sent_on=date(2024, 1, 2), by="t")
    result = _verify(url)
    assert result.ok, result.problem  # type: ignore[attr-defined]
    print(f"\nFIGURES full disk: {outcome['committed']} commands committed before the limit")
