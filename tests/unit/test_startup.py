"""Start-up: ``import mma_core`` and ``mma --help`` load no application, no event store and no
read model until a name or a command needs them, and the domain's messages are in the
reader's language from the first import on."""

from __future__ import annotations

import json
import os
import subprocess
import sys

HEAVY = (
    "mma_core.application.programme",
    "mma_core.views.models",
    "eventsourcing.application",
    "mma_core.paperwork.letters.composer",
)


def _loaded(code: str, *, lang: str = "en") -> dict[str, object]:
    env = {**os.environ, "MMA_LANG": lang}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_importing_mma_core_loads_no_application() -> None:
    found = _loaded(
        f"import sys, json, mma_core\nprint(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))"
    )
    assert not any(found.values()), found


def test_a_name_loads_its_module_when_first_used() -> None:
    found = _loaded(
        "import sys, json, mma_core\n"
        "cls = mma_core.Programme\n"
        "from mma_core import Money\n"
        "print(json.dumps({'programme': 'mma_core.application.programme' in sys.modules,"
        " 'same': cls is sys.modules['mma_core.application.programme'].Programme,"
        " 'money': Money('1.00').amount.__class__.__name__,"
        " 'in_dir': 'AsyncProgramme' in dir(mma_core)}))"
    )
    assert found == {"programme": True, "same": True, "money": "Decimal", "in_dir": True}


def test_a_value_error_before_the_application_is_loaded_is_translated() -> None:
    code = (
        "import sys, json\n"
        "from mma_core.domain.values import MunicipalityCode\n"
        "try:\n"
        "    MunicipalityCode('X1')\n"
        "except Exception as error:\n"
        "    message = str(error)\n"
        "print(json.dumps({'message': message,"
        " 'loaded': 'mma_core.application.commanding' in sys.modules}))"
    )
    dutch = _loaded(code, lang="nl")
    assert dutch["loaded"] is False
    assert "geen CBS-gemeentecode" in str(dutch["message"])
    english = _loaded(code, lang="en")
    assert "is not a CBS municipality code" in str(english["message"])


def test_mma_help_loads_no_application() -> None:
    found = _loaded(
        "import sys, json\n"
        "from mma_core.cli import cli\n"
        "try:\n"
        "    cli(['--help'], prog_name='mma')\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))"
    )
    assert not any(found.values()), found
