"""Postal addresses for the letters' recipient block: ``mma address import`` (all rows or none,
every wrong row named), the address in the invitation's text, and which source comes first
(mma.toml, then an imported address, then the registry's)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from letter_helpers import pdf_text

from mma_core import Programme
from mma_core.cli import cli
from mma_core.domain.addresses import PostalAddress
from mma_core.paperwork.imports import ImportRejected, import_addresses
from mma_core.paperwork.letters import compose
from mma_core.paperwork.letters.model import Letterhead
from mma_core.storage import registries

COLLEGE = "College van burgemeester en wethouders van de gemeente Amsterdam"
GOOD = (
    "gemeente;aan;straat;postcode;plaats;datum\n"
    f"GM0363;{COLLEGE};Postbus 202;1000ae;Amsterdam;1-10-2019\n"
    "GM0392;;Postbus 511;2003 PB;Haarlem;2019-10-01\n"
)
BAD = (
    "municipality,street,postcode,place,on\n"
    "GM9999,Postbus 1,1000 AE,Amsterdam,2019-10-01\n"
    "GM0363,,0123 AB,Amsterdam,2019-10-01\n"
    "GM0392,Postbus 511,2003 PB,Haarlem,2099-01-01\n"
    "GM0361,Postbus 53,1800 BC,Alkmaar,2019-10-01\n"
)


def run(url: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--store", url, "--by", "tester", *args])
    return result.exit_code, result.stdout, result.stderr


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_an_import_records_each_address_once(demo_copy: str, tmp_path: Path) -> None:
    path = write(tmp_path / "adressen.csv", GOOD)
    status, out, err = run(demo_copy, "address", "import", str(path))
    assert status == 0, err
    assert "Imported 2 address rows" in out
    with Programme.open(demo_copy) as prog:
        known = prog.addresses(as_of=date(2019, 10, 18))
        assert known["GM0363"] == PostalAddress("Postbus 202", "1000 AE", "Amsterdam", COLLEGE)
        assert known["GM0392"].lines() == ("Postbus 511", "2003 PB Haarlem")
        assert "GM0361" not in known
        recorded = [e for e in prog.history("GM0363") if e.type == "AddressRecorded"]
        assert [e.data["postcode"] for e in recorded] == ["1000 AE"]
        before = prog.event_count()
    status, out, err = run(demo_copy, "address", "import", str(path))  # the same file again
    assert status == 0, err
    assert "address unchanged" in out
    with Programme.open(demo_copy) as prog:
        assert prog.event_count() == before


def test_a_bad_file_names_every_wrong_row_and_writes_nothing(
    demo_copy: str, tmp_path: Path, event_count: Callable[[Programme], int]
) -> None:
    path = write(tmp_path / "bad.csv", BAD)
    with Programme.open(demo_copy) as prog:
        before = event_count(prog)
        with pytest.raises(ImportRejected) as rejected:
            import_addresses(prog, path, by="tester")
        after = event_count(prog)
    assert after == before
    found = {(e.line, e.column, e.code) for e in rejected.value.errors}
    assert found == {
        (2, "municipality", "invalid_input"),
        (3, "street", "invalid_input"),
        (3, "postcode", "invalid_input"),
        (4, "on", "invalid_date"),
    }
    status, _out, err = run(demo_copy, "address", "import", str(path))
    assert status == 1
    assert "3 wrong row(s)" in err
    assert "line 3, column postcode: the postcode '0123 AB' is not a Dutch postcode" in err
    with Programme.open(demo_copy) as prog:
        assert event_count(prog) == before
        assert prog.addresses() == {}


def test_the_errors_read_in_dutch(demo_copy: str, tmp_path: Path) -> None:
    path = write(tmp_path / "bad.csv", BAD)
    status, _out, err = run(demo_copy, "--lang", "nl", "address", "import", str(path))
    assert status == 1
    assert "er is niets vastgelegd" in err
    assert "regel 3, kolom postcode: de postcode '0123 AB' is geen Nederlandse postcode" in err
    assert "regel 3, kolom straat of postbus: de straat of postbus moet 1 tot 100 tekens" in err
    assert "adresdatum 1 januari 2099 ligt in de toekomst" in err
    path = write(tmp_path / "adressen.csv", GOOD)
    status, out, err = run(demo_copy, "--lang", "nl", "address", "import", str(path))
    assert status == 0, err
    assert "GM0392: adres Postbus 511, 2003 PB Haarlem vanaf 1 oktober 2019" in out
    assert "2 adresregels uit" in out


def test_an_xlsx_file_is_read_too(demo_copy: str, tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Gemeente", "Straat", "Postcode", "Plaats", "Datum"])
    sheet.append(["GM0361", "Postbus 53", "1800 BC", "Alkmaar", date(2019, 10, 1)])
    book.save(tmp_path / "adressen.xlsx")
    status, _out, err = run(demo_copy, "address", "import", str(tmp_path / "adressen.xlsx"))
    assert status == 0, err
    with Programme.open(demo_copy) as prog:
        assert prog.addresses()["GM0361"].lines() == ("Postbus 53", "1800 BC Alkmaar")


def test_the_invitation_prints_the_imported_address(demo_copy: str, tmp_path: Path) -> None:
    status, _out, err = run(demo_copy, "address", "import", str(write(tmp_path / "a.csv", GOOD)))
    assert status == 0, err
    out = tmp_path / "letters"
    status, _out, err = run(demo_copy, "letter", "invitation", "GM0363", "GM0361", "-o", str(out))
    assert status == 0, err
    lines = [line.strip() for line in pdf_text(out / "invitation-GM0363.pdf").splitlines()]
    start = lines.index(COLLEGE)
    assert [line for line in lines[start : start + 4] if line] == [
        COLLEGE,
        "Postbus 202",
        "1000 AE Amsterdam",
    ]
    # Without an address the block is the addressee alone: no empty line, no stray comma.
    text = pdf_text(out / "invitation-GM0361.pdf")
    assert "Aan de burgemeester van\nde gemeente Alkmaar\n" in text
    assert "Postbus" not in text.split("Betreft")[0].split("Provincie Noord-Holland")[1]


def test_mma_toml_comes_before_an_import_and_an_import_before_the_registry(
    demo_copy: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = {
        "GM0363": PostalAddress("Amstel 1", "1011 PN", "Amsterdam"),
        "GM0361": PostalAddress("Langestraat 97", "1811 JK", "Alkmaar"),
    }
    monkeypatch.setattr(registries, "addresses", lambda name: dict(shipped))
    status, _out, err = run(demo_copy, "address", "import", str(write(tmp_path / "a.csv", GOOD)))
    assert status == 0, err
    head = Letterhead(addresses={"GM0392": "Grote Markt 2; 2011 RD Haarlem"})
    with Programme.open(demo_copy) as prog:
        letters = compose(
            prog,
            "invitation",
            ["GM0363", "GM0361", "GM0392"],
            as_of=date(2019, 10, 18),
            letterhead=head,
        )
    blocks = {letter.code: letter.recipient for letter in letters}
    assert blocks["GM0363"] == (COLLEGE, "Postbus 202", "1000 AE Amsterdam")  # imported
    assert blocks["GM0361"] == (  # the registry's
        "Aan de burgemeester van",
        "de gemeente Alkmaar",
        "Langestraat 97",
        "1811 JK Alkmaar",
    )
    assert blocks["GM0392"] == (  # mma.toml's, over the imported one
        "Aan de burgemeester van",
        "de gemeente Haarlem",
        "Grote Markt 2",
        "2011 RD Haarlem",
    )


def test_a_letter_takes_the_address_in_effect_on_its_date(demo_copy: str) -> None:
    with Programme.open(demo_copy) as prog:
        prog.record_address(
            "GM0363",
            on=date(2019, 10, 1),
            street="Postbus 202",
            postcode="1000 AE",
            place="Amsterdam",
            by="tester",
        )
        prog.record_address(
            "GM0363",
            on=date(2021, 1, 1),
            street="Amstel 1",
            postcode="1011 PN",
            place="Amsterdam",
            by="tester",
        )
        assert prog.addresses(as_of=date(2019, 10, 18))["GM0363"].street == "Postbus 202"
        assert prog.addresses(as_of=date(2021, 6, 1))["GM0363"].street == "Amstel 1"
        # Before any took effect: the earliest, the best knowledge there is.
        assert prog.addresses(as_of=date(2019, 1, 1))["GM0363"].street == "Postbus 202"
        (statement,) = compose(prog, "statement", ["GM0363"], as_of=date(2021, 6, 1), year=2020)
    assert statement.recipient[-2:] == ("Amstel 1", "1011 PN Amsterdam")
