"""One letter of each kind as a picture (poppler's ``pdftoppm``), written to
``test-artifacts/letters/`` for a reviewer to look at: the first page of each, from the demo."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from mma_core.cli import cli

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "letters"
# Each kind with the arguments that make the demo write at least one letter of it.
KINDS = {
    "invitation": ["--all"],
    "reminder": ["--all", "--as-of", "2019-11-01"],
    "training": ["--all", "--as-of", "2019-11-01"],
    "evaluation": ["--all", "--as-of", "2020-11-20"],
    "statement": ["--all", "--year", "2020"],
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_the_first_page_of_each_kind_of_letter_is_drawn_for_review(
    demo_url: str, tmp_path: Path, kind: str
) -> None:
    if shutil.which("pdftoppm") is None:
        pytest.fail("pdftoppm is missing: install the Debian package poppler-utils")
    args = ["--store", demo_url, "letter", kind, *KINDS[kind], "-o", str(tmp_path)]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    pdf = sorted(tmp_path.glob("*.pdf"))[0]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / kind
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "60",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(pdf),
            str(target),
        ],
        check=True,
    )
    with Image.open(target.with_suffix(".png")) as page:
        grey = page.convert("L")
        width, height = grey.size
        # A4 portrait (210 x 297 mm) at 60 dpi, with ink on it: not a blank or broken page.
        assert abs(width - 496) <= 2
        assert abs(height - 702) <= 2
        dark = sum(grey.histogram()[:128])  # pixels darker than mid-grey
        assert dark > 0.01 * width * height
