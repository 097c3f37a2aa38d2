"""The demo: the 2019 Noord-Holland campaign, played into a fresh store.

What the letter of 18 October 2019 says is played as written: the offer (reference
1298348/1298354, sent by the Commissaris van de Koning), the invitation of all 47 municipalities
and the three trainings at the Provinciehuis. The 2022 mergers are real (CBS). Everything else
(who answered when, officials, attendance, connection dates, reports, evaluations, amounts) is
simulated with a seeded random generator, recorded ``by="demo (simulated)"`` and labelled as such.

The campaign is planned first as a list of dated steps and then played in date order, so every
domain rule holds by construction and the progress bar knows its total in advance.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from mma_core.domain.corrections import report_days
from mma_core.domain.municipality import municipality_id
from mma_core.domain.values import MMA_CATEGORIES, Money, Terms, add_months
from mma_core.language.i18n import N_
from mma_core.storage.registries import load

if TYPE_CHECKING:
    from mma_core.application.programme import Programme

__all__ = [
    "DEMO_STORE",
    "LETTER",
    "OFFER_REFERENCE",
    "REGISTRY",
    "SOURCES",
    "Progress",
    "Step",
    "campaign",
    "play",
]

DEMO_STORE = "sqlite:///mma-demo.sqlite"
REGISTRY = "noord-holland-2019"
OFFER_REFERENCE = "1298348/1298354"
LETTER = date(2019, 10, 18)
LOCATION = "Provinciehuis, Dreef 3, Haarlem"
# The letter: the covenant with MMA is signed at the end of the mayors' conference.
COVENANT = date(2019, 10, 30)
CONFERENCE = "burgemeestersconferentie Weerbare Overheid & Maatschappelijke Veerkracht"
CAPACITY = 40

# Who recorded what: the letter's sender for what the letter says, "demo" for real facts from the
# registry, and an unmistakable label for everything made up.
BY_LETTER = "cdk"
BY_FACT = "demo"
BY_SIMULATED = "demo (simulated)"

# The three trainings of the letter, Europe/Amsterdam local time (the Programme reads naive
# datetimes as Amsterdam time).
SESSIONS: tuple[tuple[str, datetime, datetime], ...] = (
    ("2019-11-06", datetime(2019, 11, 6, 10, 0), datetime(2019, 11, 6, 12, 30)),
    ("2019-11-07", datetime(2019, 11, 7, 13, 0), datetime(2019, 11, 7, 15, 30)),
    ("2019-11-13", datetime(2019, 11, 13, 13, 0), datetime(2019, 11, 13, 15, 30)),
)
LAST_SESSION = SESSIONS[-1][0]

# The real 2022 mergers (CBS): (absorbed, successor, date).
MERGERS: tuple[tuple[str, str, date], ...] = (
    ("GM0398", "GM1980", date(2022, 1, 1)),
    ("GM0416", "GM1980", date(2022, 1, 1)),
    ("GM0370", "GM0439", date(2022, 1, 1)),
    ("GM0457", "GM0363", date(2022, 3, 24)),
)

# Simulated: municipalities already connected before the letter (date, costs they paid).
PRIOR_CONNECTIONS: dict[str, tuple[date, str]] = {
    "GM0363": (date(2017, 6, 1), "4000.00"),
    "GM0479": (date(2018, 3, 1), "2000.00"),
}

# Simulated amounts: the letter names no tariff. Modelled on the published per-report tariff of
# Utrecht (2017) and a one-off connection fee of the size the Fryslân scheme paid.
DEMO_TERMS = Terms(connection_fee=Money("2000.00"), report_fee=Money("22.50"))

DECLINE_FIRST = 3  # answer "no" first, then accept in time for the last training
STOPPERS = 2  # evaluate with outcome "stop" and terminate
MISSED = 4  # officials who miss their training and rebook on the last session
INHABITANTS_PER_REPORT = 8000  # about 350 reports a year over the province's 2.9 million
CATEGORY_WEIGHTS = {
    "sociale zekerheid": 6,
    "drugsdelicten": 6,
    "ondermijnende activiteiten": 5,
    "woonfraude": 4,
    "fraude": 3,
    "illegale prostitutie": 2,
    "mensenhandel": 2,
    "diefstal/verduistering": 2,
    "geweldsdelicten": 2,
}

# The parts and phases are shown to a person: marked here, translated where they are shown.
SOURCES: tuple[tuple[str, str], ...] = (
    (N_("registry of the 47 municipalities and Dijk en Waard"), N_("real (CBS)")),
    (N_("offer of 18 October 2019, reference 1298348/1298354"), N_("the letter")),
    (N_("three trainings at the Provinciehuis, Dreef 3, Haarlem"), N_("the letter")),
    (N_("invitation of all 47 municipalities on 18 October 2019"), N_("the letter")),
    (N_("covenant with MMA signed on 30 October 2019, mayors' conference"), N_("the letter")),
    (N_("fees, answers, prior connections, officials, attendance"), N_("simulated")),
    (N_("connections, reports, evaluations, renewals, terminations"), N_("simulated")),
    (N_("mergers of 2022 (Dijk en Waard, Purmerend, Amsterdam)"), N_("real (CBS)")),
)

# Order of step kinds that fall on the same day: a booking before its attendance, reports
# before the evaluation that closes the term, and so on.
_KIND_ORDER = (
    "register",
    "offer",
    "schedule",
    "invite",
    "covenant",
    "prior",
    "decline",
    "accept",
    "nominate",
    "book",
    "attend",
    "connect",
    "report",
    "evaluate",
    "renew",
    "terminate",
    "merge",
)
_PHASES = {
    "register": N_("registry (real)"),
    "offer": N_("offer (letter)"),
    "schedule": N_("trainings (letter)"),
    "invite": N_("invitations (letter)"),
    "covenant": N_("covenant (letter)"),
    "prior": N_("prior connections (simulated)"),
    "decline": N_("answers (simulated)"),
    "accept": N_("answers (simulated)"),
    "nominate": N_("officials (simulated)"),
    "book": N_("bookings (simulated)"),
    "attend": N_("attendance (simulated)"),
    "connect": N_("connections (simulated)"),
    "report": N_("reports (simulated)"),
    "evaluate": N_("evaluations (simulated)"),
    "renew": N_("renewals (simulated)"),
    "terminate": N_("terminations (simulated)"),
    "merge": N_("mergers (real)"),
}

Progress = Callable[[int, int, str], None]
"""Called after each step with (steps done, steps in all, phase being played)."""


@dataclass(frozen=True)
class Step:
    """One command of the campaign, dated so that the plan can be played in date order."""

    on: date
    kind: str
    run: Callable[[Programme], object]

    @property
    def phase(self) -> str:
        return _PHASES[self.kind]

    def sort_key(self) -> tuple[date, int]:
        return (self.on, _KIND_ORDER.index(self.kind))


@dataclass
class _Municipality:
    code: str
    name: str
    population: int
    accepted_on: date = LETTER
    term_start: date = LETTER  # connection, or acceptance for a prior connection
    evaluated_on: date = LETTER
    trained_on: date = LETTER  # the day the last of its officials was trained


def play(prog: Programme, seed: int = 2019, progress: Progress | None = None) -> None:
    """Play the whole campaign into ``prog``, which should be a fresh store."""
    steps = campaign(seed)
    for done, step in enumerate(steps, start=1):
        step.run(prog)
        if progress is not None:
            progress(done, len(steps), step.phase)


def campaign(seed: int = 2019) -> list[Step]:
    """Every step of the campaign, in the order to play it. Same seed, same campaign."""
    rng = random.Random(seed)  # noqa: S311  # a reproducible simulation, not a secret
    planner = _Planner(rng)
    planner.plan()
    # sorted() is stable: steps of one kind on one day keep the order they were planned in.
    return sorted(planner.steps, key=Step.sort_key)


class _Planner:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.steps: list[Step] = []
        self.bookings: list[_Booking] = []
        self.seats = {session_id: CAPACITY for session_id, _, _ in SESSIONS}
        self.seats[LAST_SESSION] -= MISSED  # kept free for the officials who rebook
        entries = [e for e in load(REGISTRY) if e.exists_on(LETTER)]
        self.municipalities = [
            _Municipality(e.code.value, e.name, e.population or 0) for e in entries
        ]

    def add(self, on: date, kind: str, run: Callable[[Programme], object]) -> None:
        self.steps.append(Step(on, kind, run))

    def plan(self) -> None:
        self._letter()
        merging = {code for code, _, _ in MERGERS} | {into for _, into, _ in MERGERS}
        others = [m for m in self.municipalities if m.code not in PRIOR_CONNECTIONS]
        decline_first = set(self.rng.sample([m.code for m in others], DECLINE_FIRST))
        candidates = [m.code for m in others if m.code not in merging | decline_first]
        stoppers = set(self.rng.sample(candidates, STOPPERS))
        for m in self.municipalities:
            self._answer(m, m.code in decline_first)
            self._officials(m)
        self._attendance()
        reports: list[tuple[date, str, str]] = []
        for m in self.municipalities:
            self._connection(m)
            self._term_end(m, m.code in stoppers)
            reports.extend(self._reports(m))
        self._number_reports(reports)
        self._mergers()

    # -- what the letter says -------------------------------------------------------------

    def _letter(self) -> None:
        self.add(LETTER, "register", lambda p: p.register_registry(REGISTRY, by=BY_FACT))
        self.add(
            LETTER,
            "offer",
            lambda p: p.make_offer(
                reference=OFFER_REFERENCE, sent_on=LETTER, terms=DEMO_TERMS, by=BY_LETTER
            ),
        )
        for session_id, starts, ends in SESSIONS:
            self.add(LETTER, "schedule", _schedule(session_id, starts, ends))
        for m in self.municipalities:
            self.add(
                LETTER,
                "invite",
                _call("invite", m.code, on=LETTER, reference=OFFER_REFERENCE, by=BY_LETTER),
            )
        self.add(
            COVENANT,
            "covenant",
            lambda p: p.sign_covenant(OFFER_REFERENCE, on=COVENANT, place=CONFERENCE, by=BY_LETTER),
        )

    # -- simulated ------------------------------------------------------------------------

    def _day(self, first: date, last: date) -> date:
        return first + timedelta(days=self.rng.randint(0, (last - first).days))

    def _answer(self, m: _Municipality, decline_first: bool) -> None:
        sim = BY_SIMULATED
        if m.code in PRIOR_CONNECTIONS:
            connected_on, costs = PRIOR_CONNECTIONS[m.code]
            self.add(
                LETTER,
                "prior",
                _call(
                    "record_prior_connection",
                    m.code,
                    connected_on=connected_on,
                    costs=Money(costs),
                    by=sim,
                ),
            )
        if decline_first:
            declined = self._day(date(2019, 10, 22), date(2019, 10, 30))
            reason = "simulated: no capacity this year"
            self.add(
                declined, "decline", _call("decline", m.code, on=declined, reason=reason, by=sim)
            )
            # Late enough to change their mind, early enough for the last training.
            m.accepted_on = self._day(date(2019, 11, 6), date(2019, 11, 12))
        else:
            m.accepted_on = self._day(date(2019, 10, 21), date(2019, 11, 5))
        self.add(m.accepted_on, "accept", _call("accept", m.code, on=m.accepted_on, by=sim))

    def _officials(self, m: _Municipality) -> None:
        slug = re.sub(r"[^a-z0-9]+", "-", m.name.lower()).strip("-")
        day = m.accepted_on  # the letter asks who takes part together with the answer
        for number in (1, 2):
            official_id = f"{m.code}-{number}"
            name, email = f"Ambtenaar {number} {m.name}", f"oov{number}@{slug}.example"
            self.add(
                day,
                "nominate",
                _call("nominate_official", m.code, name=name, email=email, on=day, by=BY_SIMULATED),
            )
            self._book(_Booking(m.code, official_id, self._free_seat(day)), day)

    def _free_seat(self, day: date) -> str:
        open_sessions = [s for s, _, _ in SESSIONS if _session_day(s) >= day and self.seats[s] > 0]
        session_id = self.rng.choice(open_sessions)
        self.seats[session_id] -= 1
        return session_id

    def _book(self, booking: _Booking, day: date) -> None:
        self.bookings.append(booking)
        run = _call(
            "book_training",
            booking.code,
            official_id=booking.official,
            session_id=booking.session,
            on=day,
        )
        self.add(day, "book", run)

    def _attendance(self) -> None:
        """Most attend; a few miss an early session and rebook on the last one."""
        early = [b for b in self.bookings if b.session != LAST_SESSION]
        missed = set(self.rng.sample(early, MISSED))
        for booking in list(self.bookings):
            day = _session_day(booking.session)
            self.add(day, "attend", _attend(booking, booking not in missed))
            if booking in missed:
                self._book(
                    _Booking(booking.code, booking.official, LAST_SESSION), day + timedelta(days=1)
                )
                self.add(
                    _session_day(LAST_SESSION),
                    "attend",
                    _attend(_Booking(booking.code, booking.official, LAST_SESSION), True),
                )
        by_code = {m.code: m for m in self.municipalities}
        for booking in self.bookings:
            if booking not in missed:
                m = by_code[booking.code]
                m.trained_on = max(m.trained_on, _session_day(booking.session))

    def _connection(self, m: _Municipality) -> None:
        if m.code in PRIOR_CONNECTIONS:
            m.term_start = m.accepted_on  # connected at once on accepting
            return
        earliest = max(m.accepted_on, m.trained_on) + timedelta(days=7)
        m.term_start = self._day(earliest, min(earliest + timedelta(days=110), date(2020, 3, 31)))
        self.add(
            m.term_start, "connect", _call("connect", m.code, on=m.term_start, by=BY_SIMULATED)
        )

    def _term_end(self, m: _Municipality, stops: bool) -> None:
        due = add_months(m.term_start, DEMO_TERMS.evaluation_months)
        m.evaluated_on = due - timedelta(days=self.rng.randint(0, 28))
        sim = BY_SIMULATED
        if stops:
            notes = "simulated: too few reports for the effort"
            self.add(
                m.evaluated_on,
                "evaluate",
                _evaluate(m.code, m.evaluated_on, "stop", Money.zero(), notes),
            )
            ended = m.evaluated_on + timedelta(days=self.rng.randint(14, 45))
            reason = "simulated: decided to stop after the evaluation"
            self.add(
                ended, "terminate", _call("terminate", m.code, on=ended, reason=reason, by=sim)
            )
            return
        recovered = Money(self.rng.randrange(0, 40) * 500)
        self.add(
            m.evaluated_on,
            "evaluate",
            _evaluate(
                m.code,
                m.evaluated_on,
                "continue",
                recovered,
                "simulated: benefit fraud signals paid for the reports",
            ),
        )
        renewed = m.evaluated_on + timedelta(days=self.rng.randint(5, 30))
        self.add(renewed, "renew", _call("renew", m.code, on=renewed, by=sim))

    def _reports(self, m: _Municipality) -> list[tuple[date, str, str]]:
        """Reports between the connection and the evaluation: more where more people live."""
        years = (m.evaluated_on - m.term_start).days / 365
        expected = m.population / INHABITANTS_PER_REPORT * years * self.rng.uniform(0.7, 1.3)
        count = int(expected) + (1 if self.rng.random() < expected % 1 else 0)
        categories = list(MMA_CATEGORIES)
        weights = [CATEGORY_WEIGHTS.get(c, 1) for c in categories]
        return [
            (
                self._day(m.term_start, m.evaluated_on),
                m.code,
                self.rng.choices(categories, weights)[0],
            )
            for _ in range(count)
        ]

    def _number_reports(self, reports: list[tuple[date, str, str]]) -> None:
        """MMA references run per year in the order reports arrive: MMA-20-00001, ..."""
        numbers: dict[int, int] = {}
        for received_on, code, category in sorted(reports):
            numbers[received_on.year] = numbers.get(received_on.year, 0) + 1
            reference = f"MMA-{received_on.year % 100:02d}-{numbers[received_on.year]:05d}"
            run = _call(
                "record_report",
                code,
                received_on=received_on,
                category=category,
                reference=reference,
                by=BY_SIMULATED,
            )
            self.add(received_on, "report", run)

    # -- real again -----------------------------------------------------------------------

    def _mergers(self) -> None:
        for code, into, on in MERGERS:
            self.add(on, "merge", _call("merge", code, into=into, on=on, by=BY_FACT))


@dataclass(frozen=True)
class _Booking:
    code: str
    official: str
    session: str


def _attend(booking: _Booking, attended: bool) -> Callable[[Programme], object]:
    return _call(
        "record_attendance",
        booking.code,
        official_id=booking.official,
        session_id=booking.session,
        attended=attended,
    )


def _call(method: str, code: str, **kwargs: object) -> Callable[[Programme], object]:
    """A step that calls ``Programme.<method>(code, **kwargs)``; bookings are simulated."""
    kwargs.setdefault("by", BY_SIMULATED)

    def run(prog: Programme) -> object:
        return getattr(prog, method)(code, **kwargs)

    return run


def _evaluate(
    code: str, on: date, outcome: str, recovered: Money, notes: str
) -> Callable[[Programme], object]:
    """A simulated structured evaluation: how many of the term's reports were useful and followed
    up, and a score, drawn from a generator of the municipality's own (so the rest of the
    campaign draws the same numbers as before these were recorded)."""
    rng = random.Random(f"{code}/evaluation")  # noqa: S311 - a simulation, not a secret
    share_useful, share_followed = rng.uniform(0.5, 0.9), rng.uniform(0.6, 0.95)
    score = rng.randint(1, 2) if outcome == "stop" else rng.randint(3, 5)
    reasons = (
        "simulated: too few useful reports for the effort"
        if outcome == "stop"
        else "simulated: useful signals on benefit fraud and subversion"
    )

    def run(prog: Programme) -> object:
        m = prog.municipality(code, as_of=on)
        start = m.term_start or date.min
        days = report_days(prog.aggregate_events(municipality_id(code)))
        reports = sum(1 for day in days if start <= day <= on)
        useful = round(reports * share_useful)
        return prog.evaluate(
            code,
            on=on,
            outcome=outcome,
            recovered=recovered,
            notes=notes,
            useful=useful,
            followed_up=round(useful * share_followed),
            satisfaction=score,
            reasons=reasons,
            by=BY_SIMULATED,
        )

    return run


def _schedule(session_id: str, starts: datetime, ends: datetime) -> Callable[[Programme], object]:
    def run(prog: Programme) -> object:
        return prog.schedule_training(
            session_id,
            starts_at=starts,
            ends_at=ends,
            location=LOCATION,
            capacity=CAPACITY,
            by=BY_LETTER,
            on=LETTER,  # the letter of 18 October 2019 offered them
        )

    return run


def _session_day(session_id: str) -> date:
    return date.fromisoformat(session_id)
