"""``mma`` in-process, as a fresh process would run it: for tests of what a command does.

A subprocess per command costs a second of start-up and adds nothing there; the tests of what
only a process shows (the entry point, exit statuses through the interpreter, the environment,
stdout and stderr apart) start a real one.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path


def invoke(
    args: Sequence[str], *, env: Mapping[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    """Run ``mma ARGS`` through click's ``CliRunner`` with ``env`` set, in directory ``cwd``."""
    from click.testing import CliRunner

    from mma_core.cli import cli
    from mma_core.cli import plugin_commands as plugin_cli

    # As a fresh process would: plugins and mma.toml read anew, in the store's directory.
    plugin_cli._LOADED.clear()
    before = Path.cwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(cli, list(args), env=dict(env), prog_name="mma")
    finally:
        os.chdir(before)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception  # a traceback is a bug: show it, as the process would
    return subprocess.CompletedProcess(
        ["mma", *args], result.exit_code, result.stdout, result.stderr
    )
