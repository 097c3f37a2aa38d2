"""Reading PDFs back as text, for the letter tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def pdf_text(path: Path, layout: bool = False) -> str:
    """The text of a PDF, by poppler's pdftotext (Debian package poppler-utils)."""
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext is missing: install the Debian package poppler-utils")
    args = ["pdftotext", *(["-layout"] if layout else []), str(path), "-"]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout
