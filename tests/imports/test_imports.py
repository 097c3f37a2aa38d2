"""``mma import answers|officials``: good files, one bad row (nothing written, the row named),
Dutch headers, XLSX, and a dry run."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mma_core import Money, Programme, Terms
from mma_core.cli import cli
from mma_core.paperwork.imports import ImportRejected, import_answers, import_officials
from table_files import write_csv, write_xlsx

OFFER = "1298348/1298354"
LETTER = date(2019, 10, 18)
SESSIONS = (
    ("2019-11-06", datetime(2019, 11, 6, 10), datetime(2019, 11, 6, 12, 30)),
    ("2019-11-07", datetime(2019, 11, 7, 13), datetime(2019, 11, 7, 15, 30)),
)


@pytest.fixture
def store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'mma.sqlite'}"
    with Programme.open(url) as prog:
        prog.register_registry("noord-holland-2019", by="t")
        terms = Terms(connection_fee=Money("2000.00"), report_fee=Money("22.50"))
        prog.make_offer(reference=OFFER, sent_on=LETTER, terms=terms, by="t")
        for sid, start, end in SESSIONS:
            prog.schedule_training(
                sid, starts_at=start, ends_at=end, location="Provinciehuis", capacity=40, by="t"
            )
        for code in ("GM0358", "GM0361", "GM0362", "GM0363"):
            prog.invite(code, on=LETTER, reference=OFFER, by="t")
    return url


def run(url: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--store", url, "--by", "tester", *args])
    return result.exit_code, result.stdout, result.stderr


def test_answers_in_english_are_recorded(
    store: str, tmp_path: Path, event_count: Callable[[Programme], int]
) -> None:
    path = write_csv(
        tmp_path / "answers.csv",
        "municipality,answer,on,reason\n"
        "GM0358,accept,2019-10-25,\n"
        "GM0361,decline,2019-10-28,no capacity this year\n",
    )
    status, out, err = run(store, "import", "answers", str(path))
    assert status == 0, err
    assert "Imported 2 answers rows" in out
    with Programme.open(store) as prog:
        assert prog.municipality("GM0358").accepted_on == date(2019, 10, 25)
        assert prog.municipality("GM0361").declined_on == date(2019, 10, 28)
        assert [e.data.get("reason") for e in prog.history("GM0361") if e.type == "Declined"] == [
            "no capacity this year"
        ]


def test_answers_with_dutch_headers_semicolons_and_dutch_dates(store: str, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "antwoorden.csv",
        "Gemeente;Antwoord;Datum;Reden\nGM0362;ja;1-11-2019;\nGM0363;Nee;04-11-2019;geen tijd\n",
    )
    status, _, err = run(store, "import", "answers", str(path))
    assert status == 0, err
    with Programme.open(store) as prog:
        assert prog.municipality("GM0362").accepted_on == date(2019, 11, 1)
        assert prog.municipality("GM0363").declined_on == date(2019, 11, 4)


def test_one_bad_row_writes_nothing_and_names_line_and_column(
    store: str, tmp_path: Path, event_count: Callable[[Programme], int]
) -> None:
    with Programme.open(store) as prog:
        before = event_count(prog)
    path = write_csv(
        tmp_path / "answers.csv",
        "gemeente,antwoord,datum\nGM0358,ja,2019-10-25\n\nGM0361,misschien,2019-10-28\n",
    )
    status, _, err = run(store, "import", "answers", str(path))
    assert status == 1
    assert "line 4, column answer" in err
    assert "'misschien' is not an answer" in err
    assert "nothing was written" in err
    with Programme.open(store) as prog:
        assert event_count(prog) == before
        assert prog.municipality("GM0358").accepted_on is None


def test_a_row_that_breaks_a_rule_writes_nothing_either(
    store: str, tmp_path: Path, event_count: Callable[[Programme], int]
) -> None:
    # GM0373 was never invited: its cells are fine, the rule (answer only an invitation) is not.
    with Programme.open(store) as prog:
        before = event_count(prog)
    path = write_csv(
        tmp_path / "answers.csv",
        "municipality,answer,on\nGM0358,accept,2019-10-25\nGM0373,accept,2019-10-26\n",
    )
    with Programme.open(store) as prog, pytest.raises(ImportRejected) as caught:
        import_answers(prog, path, by="t")
    assert [(e.line, e.column) for e in caught.value.errors] == [(3, "on")]
    assert "GM0373" in caught.value.errors[0].message
    with Programme.open(store) as prog:
        assert event_count(prog) == before


def test_dry_run_checks_everything_and_writes_nothing(
    store: str, tmp_path: Path, event_count: Callable[[Programme], int]
) -> None:
    with Programme.open(store) as prog:
        before = event_count(prog)
    path = write_csv(tmp_path / "a.csv", "municipality,answer,on\nGM0358,accept,2019-10-25\n")
    status, out, err = run(store, "import", "answers", str(path), "--dry-run")
    assert status == 0, err
    assert "nothing was written" in out
    with Programme.open(store) as prog:
        assert event_count(prog) == before
    status, out, _ = run(store, "--json", "import", "answers", str(path))
    assert json.loads(out)["written"] is True


def test_duplicate_answer_in_the_file_is_named(store: str, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "a.csv",
        "municipality,answer,on\nGM0358,accept,2019-10-25\ngm0358,decline,2019-10-26\n",
    )
    status, _, err = run(store, "import", "answers", str(path))
    assert status == 1
    assert "line 3, column municipality: GM0358 answers already on line 2" in err


def test_officials_from_xlsx_with_dutch_headers_are_nominated_and_booked(
    store: str, tmp_path: Path
) -> None:
    with Programme.open(store) as prog:
        prog.accept("GM0358", on=date(2019, 10, 25), by="t")
    path = write_xlsx(
        tmp_path / "ambtenaren.xlsx",
        [
            ["Gemeente", "Naam", "E-mailadres", "Training"],
            ["GM0358", "Ambtenaar Een", "een@aalsmeer.example", "2019-11-06"],
            ["GM0358", "Ambtenaar Twee", "twee@aalsmeer.example", "2019-11-07"],
        ],
    )
    status, out, err = run(store, "import", "officials", str(path))
    assert status == 0, err
    assert "GM0358-1 nominated and booked on session 2019-11-06" in out
    with Programme.open(store) as prog:
        officials = prog.municipality("GM0358").officials
    assert [(o.name, o.session_id, o.nominated_on) for o in officials] == [
        ("Ambtenaar Een", "2019-11-06", date(2019, 10, 25)),  # nominated when it accepted
        ("Ambtenaar Twee", "2019-11-07", date(2019, 10, 25)),
    ]


def test_a_third_official_rejects_the_whole_file(
    store: str, tmp_path: Path, event_count: Callable[[Programme], int]
) -> None:
    # Each row alone is fine; the rule (at most two) holds across the rows: nothing is written.
    with Programme.open(store) as prog:
        before = event_count(prog)
    path = write_csv(
        tmp_path / "o.csv",
        "municipality,name,email,on\n"
        "GM0358,A,a@x.example,2019-10-20\n"
        "GM0358,B,b@x.example,2019-10-20\n"
        "GM0358,C,c@x.example,2019-10-20\n",
    )
    status, _, err = run(store, "import", "officials", str(path))
    assert status == 1
    assert "line 4, column on" in err
    assert "2 active officials" in err
    with Programme.open(store) as prog:
        assert event_count(prog) == before


def test_bad_cells_are_all_named_and_never_echo_personal_data(store: str, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "o.csv",
        "municipality,name,email,session\n"
        "GM9999,A,a@x.example,\n"
        "GM0358,B,not-an-address,\n"
        "GM0358,C,c@x.example,2019-12-01\n",
    )
    with Programme.open(store) as prog, pytest.raises(ImportRejected) as caught:
        import_officials(prog, path, by="t")
    assert [(e.line, e.column) for e in caught.value.errors] == [
        (2, "municipality"),
        (3, "email"),
        (4, "session"),
    ]
    assert "not-an-address" not in str(caught.value)


def test_missing_column_names_the_header_line(store: str, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", "gemeente,datum\nGM0358,2019-10-25\n")
    status, _, err = run(store, "import", "answers", str(path))
    assert status == 1
    assert "line 1" in err
    assert "answer" in err


def test_one_pass_names_every_bad_row_cells_and_rules_together(
    store: str, tmp_path: Path, event_count: Callable[[Programme], int]
) -> None:
    """A wrong cell on one row and a broken rule on another are reported together, and
    ``to_dict()["details"]["errors"]`` lists each (line, column, code, message)."""
    with Programme.open(store) as prog:
        before = event_count(prog)
    path = write_csv(
        tmp_path / "answers.csv",
        "municipality,answer,on\n"
        "GM0358,accept,2019-10-25\n"
        "GM0361,misschien,2019-10-28\n"  # a wrong cell
        "GM0373,accept,2019-10-26\n"  # never invited: a rule
        "GM9999,accept,2019-10-26\n",  # no such municipality
    )
    with Programme.open(store) as prog, pytest.raises(ImportRejected) as caught:
        import_answers(prog, path, by="t")
    details = caught.value.to_dict()["details"]
    assert isinstance(details, dict)
    assert details["errors"] == [
        {"line": e.line, "column": e.column, "code": e.code, "message": e.message}
        for e in caught.value.errors
    ]
    assert [(e["line"], e["column"], e["code"]) for e in details["errors"]] == [  # type: ignore[index]
        (3, "answer", "invalid_input"),
        (4, "on", "invalid_transition"),
        (5, "municipality", "invalid_input"),
    ]
    assert json.loads(json.dumps(caught.value.to_dict())) == caught.value.to_dict()
    with Programme.open(store) as prog:
        assert event_count(prog) == before


def _crafted(source: Path, target: Path, change: Callable[[str, bytes], bytes | None]) -> Path:
    """``source``'s archive with each member passed through ``change`` (None leaves it out)."""
    import zipfile

    with zipfile.ZipFile(source) as given, zipfile.ZipFile(target, "w") as out:
        for item in given.infolist():
            data = change(item.filename, given.read(item.filename))
            if data is not None:
                out.writestr(item, data)
    return target


@pytest.mark.parametrize(
    "change",
    [
        lambda name, data: None if name.endswith("sheet1.xml") else data,
        lambda name, data: b"<workbook/>" if name.endswith("workbook.xml") else data,
        lambda name, data: data.replace(b'r="A2"', b'r="ZZZZZZ99999999"'),
        lambda name, data: b"<worksheet><row><c" if name.endswith("sheet1.xml") else data,
    ],
    ids=["no-sheet", "empty-workbook", "bad-cell-reference", "broken-xml"],
)
def test_a_crafted_xlsx_is_one_error_line_and_writes_nothing(
    store: str, tmp_path: Path, event_count: Callable[[Programme], int], change: Any
) -> None:
    good = write_xlsx(
        tmp_path / "good.xlsx",
        [("code", "received", "category", "reference"), ("GM0363", "2020-01-05", "fraude", "X")],
    )
    crafted = _crafted(good, tmp_path / "crafted.xlsx", change)
    with Programme.open(store) as prog:
        before = event_count(prog)
    result = CliRunner().invoke(
        cli, ["--store", store, "--by", "tester", "report", "import", str(crafted)]
    )
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "cannot read 'crafted.xlsx' as an XLSX workbook" in result.stderr
    with Programme.open(store) as prog:
        assert event_count(prog) == before
