"""Imports of what coordinators keep in spreadsheets: the municipalities' answers, the
officials they put forward with the session each will attend, and the municipalities' postal
addresses.

Every row is checked before anything is written: first its cells (a known municipality, a date,
an answer, an e-mail address, a scheduled session), then every row's command against the
programme inside :meth:`Programme.atomic`, so the rules see the rows before them. One wrong row
and nothing is recorded; every wrong row is reported with its line and column. A dry run does
all of that and writes nothing either way.

Files are CSV or XLSX (:mod:`mma_core.paperwork.tables`), with Dutch or English headers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from mma_core.domain.addresses import (
    MAX_BODY,
    MAX_PLACE,
    MAX_STREET,
    PostalAddress,
    check_postcode,
)
from mma_core.domain.errors import DomainError, InvalidInput
from mma_core.domain.jsontypes import JSONValue
from mma_core.domain.values import MunicipalityCode, Official, check_text
from mma_core.language.i18n import N_, _, message_date, ngettext
from mma_core.paperwork.tables import Column, TableRow, column_label, read_table

if TYPE_CHECKING:  # pragma: no cover
    from mma_core.application.programme import Programme

__all__ = [
    "ADDRESS_COLUMNS",
    "ANSWER_COLUMNS",
    "OFFICIAL_COLUMNS",
    "ImportRejected",
    "ImportResult",
    "RowError",
    "import_addresses",
    "import_answers",
    "import_officials",
    "parse_date",
]

MUNICIPALITY = Column(
    "municipality", ("gemeente", "code", "cbs code", "gemeentecode", "municipality code")
)
ANSWER_COLUMNS = (
    MUNICIPALITY,
    Column("answer", ("antwoord", "besluit", "decision")),
    Column("on", ("datum", "date", "op", "answered on", "beantwoord op", "answer date")),
    Column("reason", ("reden", "toelichting", "why"), required=False),
)
OFFICIAL_COLUMNS = (
    MUNICIPALITY,
    Column("name", ("naam", "official", "ambtenaar")),
    Column("email", ("e-mail", "e-mailadres", "email address", "mail", "mailadres")),
    Column(
        "on",
        ("datum", "date", "aangemeld op", "nominated on", "nomination date", "voorgedragen op"),
        required=False,
    ),
    Column("session", ("training", "sessie", "session id", "trainingsdatum"), required=False),
    Column("salutation", ("aanhef",), required=False),
)

ADDRESS_COLUMNS = (
    MUNICIPALITY,
    Column(
        "street",
        ("straat", "adres", "postadres", "straat of postbus", "postbus", "address", "po box"),
    ),
    Column("postcode", ("post code", "zip", "zip code", "postal code")),
    Column("place", ("plaats", "woonplaats", "vestigingsplaats", "city", "town")),
    Column(
        "body",
        ("aan", "tenaamstelling", "geadresseerde", "bestuursorgaan", "addressee", "to"),
        required=False,
    ),
    Column(
        "on",
        ("datum", "date", "geldig vanaf", "vanaf", "valid from", "from", "ingangsdatum"),
        required=False,
    ),
)

ACCEPT = frozenset(
    {
        "accept",
        "accepted",
        "yes",
        "ja",
        "akkoord",
        "doet mee",
        "aanvaard",
        "aangenomen",
        "accepteert",
    }
)
DECLINE = frozenset(
    {"decline", "declined", "no", "nee", "afgewezen", "doet niet mee", "weigert", "wijst af"}
)
_DUTCH_DATE = re.compile(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})")


@attrs.frozen
class RowError:
    """What is wrong with one cell (or row) of the file."""

    line: int
    column: str
    message: str
    code: str = "invalid_input"  # the error's code: a cell's malformed value, or the rule's

    def to_dict(self) -> dict[str, JSONValue]:
        return {
            "line": self.line,
            "column": self.column,
            "code": self.code,
            "message": self.message,
        }

    def __str__(self) -> str:
        column = column_label(self.column)
        return _("line {line}, column {column}: {message}").format(
            line=self.line, column=column, message=self.message
        )


class ImportRejected(InvalidInput):
    """At least one row is wrong; nothing was written. ``errors`` lists every wrong row."""

    code = "import_rejected"
    when = (
        "an import has wrong rows; nothing was written; `details.errors` lists every row "
        "error (line, column, code, message)"
    )

    def __init__(self, errors: Sequence[RowError]) -> None:
        self.errors = tuple(sorted(errors, key=lambda e: e.line))
        rows = len({e.line for e in self.errors})
        super().__init__(
            ngettext(
                "{rows} row is wrong, nothing was written: {errors}",
                "{rows} rows are wrong, nothing was written: {errors}",
                rows,
            ).format(rows=rows, errors="; ".join(str(e) for e in self.errors)),
            details={"errors": [e.to_dict() for e in self.errors]},
        )

    def __reduce__(self) -> Any:
        return (type(self), (self.errors,))


@attrs.frozen
class ImportResult:
    kind: str
    rows: int
    written: bool
    done: tuple[str, ...]  # one line per row: what was (or would be) recorded


class _CellError(InvalidInput):
    """A rule broken by one row's command, and the column whose value broke it."""

    def __init__(self, column: str, error: DomainError) -> None:
        super().__init__(str(error))
        self.column = column
        self.rule = error.code


class _DryRun(Exception):
    """Leaves ``Programme.atomic`` without writing: a dry run ends here."""


# -- cells --------------------------------------------------------------------------------------


def parse_date(text: str) -> date:
    """``2019-11-01`` or, as Dutch spreadsheets write it, ``1-11-2019``."""
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
        found = _DUTCH_DATE.fullmatch(text)
        if found:
            day, month, year = (int(g) for g in found.groups())
            return date(year, month, day)
    except ValueError:
        pass
    raise InvalidInput(
        _("{text} is not a date; write 2019-11-01 or 1-11-2019").format(text=repr(text))
    )


def _code(row: TableRow, known: set[str], errors: list[RowError]) -> str | None:
    text = row["municipality"]
    try:
        code = MunicipalityCode.parse(text.upper()).value
    except DomainError:
        errors.append(
            RowError(
                row.line,
                "municipality",
                _("{text} is not a code like GM0363").format(text=repr(text)),
            )
        )
        return None
    if code not in known:
        errors.append(
            RowError(
                row.line,
                "municipality",
                _("{code} is not a registered municipality").format(code=code),
            )
        )
        return None
    return code


def _date(row: TableRow, errors: list[RowError], required: bool = True) -> date | None:
    text = row.get("on", "")
    if not text:
        if required:
            errors.append(RowError(row.line, "on", _("the date is missing")))
        return None
    try:
        return parse_date(text)
    except InvalidInput as error:
        errors.append(RowError(row.line, "on", str(error)))
        return None


# -- running the rows ---------------------------------------------------------------------------


def _run(
    prog: Programme,
    kind: str,
    steps: Sequence[tuple[int, str, Callable[[], str]]],
    dry_run: bool,
    cell_errors: Sequence[RowError] = (),
) -> ImportResult:
    """Run every step inside one atomic block; any failing step (all are tried, to report each,
    with the rows whose cells were wrong: one pass names every bad row), any wrong cell, or a
    dry run leaves the store as it was."""
    errors: list[RowError] = list(cell_errors)
    done: list[str] = []
    try:
        with prog.atomic():
            for line, column, step in steps:
                try:
                    done.append(step())
                except DomainError as error:
                    code = error.rule if isinstance(error, _CellError) else error.code
                    errors.append(
                        RowError(line, getattr(error, "column", column), str(error), code)
                    )
            if errors:
                raise ImportRejected(errors)
            if dry_run:
                raise _DryRun
    except _DryRun:
        return ImportResult(kind, len(done), False, tuple(done))
    return ImportResult(kind, len(done), True, tuple(done))


def import_answers(
    prog: Programme, path: str | Path, *, by: str, dry_run: bool = False, origin: str | None = None
) -> ImportResult:
    """Record the answers in the file: acceptances, and declines with their reasons."""
    rows = read_table(path, ANSWER_COLUMNS)
    known = set(prog.codes())
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    steps: list[tuple[int, str, Callable[[], str]]] = []
    for row in rows:
        code = _code(row, known, errors)
        day = _date(row, errors)
        answer = " ".join(row["answer"].casefold().split())
        if answer not in ACCEPT | DECLINE:
            errors.append(
                RowError(
                    row.line,
                    "answer",
                    _("{answer} is not an answer; write yes/accept or no/decline").format(
                        answer=repr(row["answer"])
                    ),
                )
            )
            continue
        if code is None or day is None:
            continue
        if code in seen:
            errors.append(
                RowError(
                    row.line,
                    "municipality",
                    _("{code} answers already on line {line}").format(code=code, line=seen[code]),
                )
            )
            continue
        seen[code] = row.line
        steps.append((row.line, "on", _answer_step(prog, code, answer, day, row, by, origin)))
    return _run(prog, "answers", steps, dry_run, errors)


def _answer_step(
    prog: Programme,
    code: str,
    answer: str,
    day: date,
    row: TableRow,
    by: str,
    origin: str | None,
) -> Callable[[], str]:
    reason = row.get("reason", "")

    def step() -> str:
        if answer in ACCEPT:
            prog.accept(code, on=day, by=by, origin=origin)
            return _("{code} accepted on {day}").format(code=code, day=message_date(day))
        prog.decline(code, on=day, reason=reason, by=by, origin=origin)
        return _("{code} declined on {day}").format(code=code, day=message_date(day))

    return step


def import_officials(
    prog: Programme, path: str | Path, *, by: str, dry_run: bool = False, origin: str | None = None
) -> ImportResult:
    """Nominate the officials in the file and book each on the session named beside them.

    Without a date a row is nominated (and booked) on the day the municipality accepted, or on
    the session's day if it accepted later: what back-filling a past campaign needs.
    """
    rows = read_table(path, OFFICIAL_COLUMNS)
    known = set(prog.codes())
    sessions = {s.session_id: s for s in prog.sessions()}
    errors: list[RowError] = []
    steps: list[tuple[int, str, Callable[[], str]]] = []
    for row in rows:
        code = _code(row, known, errors)
        day = _date(row, errors, required=False)
        try:
            person = Official(
                name=row["name"], email=row["email"], salutation=row.get("salutation", "")
            )
        except InvalidInput as error:
            column = "email" if "e-mail" in str(error) else "name"
            if _("an official's salutation") in str(error):
                column = "salutation"
            errors.append(RowError(row.line, column, str(error)))
            person = None
        session_id = row.get("session", "")
        if session_id and session_id not in sessions:
            errors.append(
                RowError(
                    row.line,
                    "session",
                    _("no training session {session} was scheduled; scheduled: {sessions}").format(
                        session=repr(session_id), sessions=", ".join(sorted(sessions)) or _("none")
                    ),
                )
            )
            continue
        if code is None or person is None or (row.get("on") and day is None):
            continue
        session_day = sessions[session_id].starts_at.date() if session_id else None
        steps.append(
            (
                row.line,
                "on",
                _official_step(prog, code, person, day, session_id, session_day, by, origin),
            )
        )
    return _run(prog, "officials", steps, dry_run, errors)


def _official_step(
    prog: Programme,
    code: str,
    person: Official,
    day: date | None,
    session_id: str,
    session_day: date | None,
    by: str,
    origin: str | None,
) -> Callable[[], str]:
    def step() -> str:
        on = day
        if on is None and session_day is not None:
            accepted = prog.municipality(code).accepted_on
            on = accepted if accepted is not None and accepted <= session_day else session_day
        official_id = prog.nominate_official(
            code,
            name=person.name,
            email=person.email,
            salutation=person.salutation,
            on=on,
            by=by,
            origin=origin,
        )
        if not session_id:
            return _("{official} nominated").format(official=official_id)
        try:
            prog.book_training(
                code, official_id=official_id, session_id=session_id, on=on, by=by, origin=origin
            )
        except DomainError as error:
            raise _CellError("session", error) from None
        return _("{official} nominated and booked on session {session}").format(
            official=official_id, session=session_id
        )

    return step


def _address(row: TableRow, errors: list[RowError]) -> PostalAddress | None:
    """The row's address, every cell checked (each wrong cell is its own error)."""
    checks: tuple[tuple[str, Callable[[str], str]], ...] = (
        ("street", lambda v: check_text(v, N_("the street or PO box"), limit=MAX_STREET)),
        ("postcode", check_postcode),
        ("place", lambda v: check_text(v, N_("the place"), limit=MAX_PLACE)),
        ("body", lambda v: check_text(v, N_("the addressee"), limit=MAX_BODY, required=False)),
    )
    wrong = False
    for column, check in checks:
        try:
            check(row.get(column, ""))
        except InvalidInput as error:
            errors.append(RowError(row.line, column, str(error)))
            wrong = True
    if wrong:
        return None
    return PostalAddress.parse(
        street=row["street"],
        postcode=row["postcode"],
        place=row["place"],
        body=row.get("body", ""),
    )


def import_addresses(
    prog: Programme, path: str | Path, *, by: str, dry_run: bool = False, origin: str | None = None
) -> ImportResult:
    """Record the municipalities' postal addresses in the file, each from its date (without
    one: from today). A row whose address is the one already in effect on its day is left as
    it is, so importing the same file twice records nothing the second time."""
    rows = read_table(path, ADDRESS_COLUMNS)
    known = set(prog.codes())
    today = prog.today()
    current: dict[date, dict[str, PostalAddress]] = {}
    errors: list[RowError] = []
    seen: dict[tuple[str, date], int] = {}
    steps: list[tuple[int, str, Callable[[], str]]] = []
    for row in rows:
        code = _code(row, known, errors)
        day = _date(row, errors, required=False)
        address = _address(row, errors)
        if code is None or address is None or (row.get("on") and day is None):
            continue
        day = day or today
        if (code, day) in seen:
            errors.append(
                RowError(
                    row.line,
                    "municipality",
                    _("{code} has an address from {day} already on line {line}").format(
                        code=code, day=message_date(day), line=seen[(code, day)]
                    ),
                )
            )
            continue
        seen[(code, day)] = row.line
        if day <= today and day not in current:
            current[day] = prog.addresses(as_of=day)
        if current.get(day, {}).get(code) == address:
            steps.append((row.line, "on", _unchanged(code, address)))
            continue
        steps.append((row.line, "on", _address_step(prog, code, address, day, by, origin)))
    return _run(prog, "addresses", steps, dry_run, errors)


def _address_text(address: PostalAddress) -> str:
    return ", ".join((*((address.body,) if address.body else ()), *address.lines()))


def _unchanged(code: str, address: PostalAddress) -> Callable[[], str]:
    def step() -> str:
        return _("{code}: address unchanged ({address})").format(
            code=code, address=_address_text(address)
        )

    return step


def _address_step(
    prog: Programme,
    code: str,
    address: PostalAddress,
    day: date,
    by: str,
    origin: str | None,
) -> Callable[[], str]:
    def step() -> str:
        prog.record_address(
            code,
            on=day,
            street=address.street,
            postcode=address.postcode,
            place=address.place,
            body=address.body,
            by=by,
            origin=origin,
        )
        return _("{code}: address {address} from {day}").format(
            code=code, address=_address_text(address), day=message_date(day)
        )

    return step
