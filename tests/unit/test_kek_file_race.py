"""The officials' key-encryption key file is made once when processes race to make it: each
gets the same key, none a half-written file or an error (CI once saw FileExistsError when
parallel writers nominated their first officials on a new SQLite store)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from mma_core.storage.privacy import read_kek


def test_racing_to_create_the_key_file_gives_everyone_the_same_key(tmp_path: Path) -> None:
    for attempt in range(20):
        path = tmp_path / f"kek-{attempt}.key"
        start = threading.Barrier(8)
        rings: list[Any] = []
        errors: list[BaseException] = []

        def make(
            path: Path = path,
            start: threading.Barrier = start,
            rings: list[Any] = rings,
            errors: list[BaseException] = errors,
        ) -> None:
            start.wait()
            try:
                rings.append(read_kek(path, create=True))
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=make) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors, errors
        sealed = rings[0].seal(b"k", b"aad")
        assert all(ring.open(sealed, b"aad", "t") == b"k" for ring in rings)
        assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
        assert path.stat().st_mode & 0o777 == 0o600
