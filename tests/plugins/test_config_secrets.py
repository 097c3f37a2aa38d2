"""A configuration file that holds a secret (an SMTP password, a webhook secret) and that group
or others may read is refused for every command, with the chmod to run, as the cipher key file
is; the same file made private, or a file that holds no secret, is used as before."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from mma_core.extensions.config import SecretExposed, load_config
from mma_core.extensions.plugins import load_plugins

WITH_SECRET = """
[plugins.mma-notify-webhook]
url = "https://127.0.0.1:9/hook"
secret = "hmac-secret-value"
"""
WITHOUT_SECRET = """
[plugins.mma-notify-webhook]
timeout = 5
"""


def mma(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mma_core.cli", "--store", "sqlite:///mma.sqlite", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=folder,
        env={**os.environ, "MMA_LANG": "en"},
    )


def _events(path: Path) -> int:
    if not path.exists():
        return 0
    with sqlite3.connect(path) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        if "stored_events" not in tables:
            return 0
        return int(conn.execute("SELECT COUNT(*) FROM stored_events").fetchone()[0])


def test_a_secret_in_a_file_others_may_read_is_refused_with_the_chmod_to_run(
    tmp_path: Path,
) -> None:
    config = tmp_path / "mma.toml"
    config.write_text(WITH_SECRET, encoding="utf-8")
    config.chmod(0o644)
    done = mma(tmp_path, "offer", "--reference", "R-1/1", "--sent-on", "2019-10-18")
    assert done.returncode == 1
    assert "chmod 600" in done.stderr
    assert "mode 0644" in done.stderr
    assert "hmac-secret-value" not in done.stdout + done.stderr
    assert _events(tmp_path / "mma.sqlite") == 0  # nothing written
    dutch = subprocess.run(
        [sys.executable, "-m", "mma_core.cli", "--lang", "nl", "--store", "sqlite:///mma.sqlite",
         "status"],
        capture_output=True, text=True, check=False, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert dutch.returncode == 1
    assert "maak het privé met: chmod 600" in dutch.stderr
    # The same in an embedding service.
    with pytest.raises(SecretExposed, match="chmod 600"):
        load_plugins(load_config(f"sqlite:///{tmp_path / 'mma.sqlite'}"))
    # Made private, it is used.
    config.chmod(0o600)
    done = mma(tmp_path, "offer", "--reference", "R-1/1", "--sent-on", "2019-10-18")
    assert done.returncode == 0, done.stderr
    assert _events(tmp_path / "mma.sqlite") > 0


def test_a_readable_file_without_a_secret_is_used(tmp_path: Path) -> None:
    config = tmp_path / "mma.toml"
    config.write_text(WITHOUT_SECRET, encoding="utf-8")
    config.chmod(0o644)
    done = mma(tmp_path, "status")
    assert done.returncode == 0, done.stderr
