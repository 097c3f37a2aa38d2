"""What each kind of letter says, filled from the programme's state on a day.

The wording follows the province's letter of 18 October 2019 (reference 1298348/1298354):
the offer, the trainings at the Provinciehuis, the evaluation after a year. Letters are in
Dutch: they go to Dutch mayors and officials; dates and amounts are written the Dutch way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import attrs

from mma_core.domain.corrections import report_days
from mma_core.domain.errors import InvalidInput, UnknownMunicipality
from mma_core.domain.municipality import municipality_id
from mma_core.domain.values import CostKind, Money, Payer, Stage
from mma_core.extensions.values import Attachment
from mma_core.language.i18n import N_, _, message_date
from mma_core.paperwork.letters.model import KINDS, Block, Letter, Letterhead
from mma_core.paperwork.tariffs import offers_sent

if TYPE_CHECKING:  # pragma: no cover
    from mma_core.application.programme import Programme
    from mma_core.domain.addresses import PostalAddress
    from mma_core.views.state import MunicipalityView, OfficialView, SessionView

__all__ = ["compose", "dutch_date", "dutch_money"]

LOCALE = "nl_NL"
SUBJECT = "Aansluiting Meld Misdaad Anoniem"
EVALUATION_NOTICE_DAYS = 30  # an evaluation letter goes out this long before it falls due
KIND_NAMES = {
    CostKind.CONNECTION: "Aansluitkosten",
    CostKind.REPORT_FEE: "Meldingen",
    CostKind.COMPENSATION: "Compensatie eerdere aansluiting",
}
PAYER_NAMES = {Payer.PROVINCE: "de provincie", Payer.MUNICIPALITY: "de gemeente"}


def dutch_date(day: date, weekday: bool = False) -> str:
    """``18 oktober 2019``, or with ``weekday`` ``woensdag 6 november 2019``."""
    from babel.dates import format_date

    pattern = "EEEE d MMMM y" if weekday else "d MMMM y"
    return str(format_date(day, pattern, locale=LOCALE))


def dutch_money(amount: Money | Decimal) -> str:
    """``€ 1.234,50``."""
    from babel.numbers import format_currency

    value = amount.amount if isinstance(amount, Money) else amount
    return str(format_currency(value, "EUR", locale=LOCALE))


def _time(moment: datetime) -> str:
    from mma_core.domain.common import AMSTERDAM

    return moment.astimezone(AMSTERDAM).strftime("%H:%M")


def _local_day(moment: datetime) -> date:
    from mma_core.domain.common import AMSTERDAM

    return moment.astimezone(AMSTERDAM).date()


def session_line(s: SessionView) -> str:
    """``woensdag 6 november 2019, 10:00 - 12:30 uur``."""
    day = dutch_date(_local_day(s.starts_at), weekday=True)
    return f"{day}, {_time(s.starts_at)} - {_time(s.ends_at)} uur"


# -- choosing the recipients ----------------------------------------------------------------


def compose(
    prog: Programme,
    kind: str,
    codes: Sequence[str] = (),
    *,
    as_of: date,
    year: int | None = None,
    letterhead: Letterhead | None = None,
    answer_link: Callable[[str], str | None] | None = None,
    training_on_booking: bool = False,
) -> list[Letter]:
    """The letters of ``kind`` to ``codes`` (every municipality it applies to when empty).

    ``answer_link(code)`` gives the address where a municipality can answer an invitation or a
    reminder on line (a web plugin's); without it the letters ask for an answer by e-mail only.

    A code named explicitly that the letter does not apply to (a reminder to a municipality that
    has answered, a statement for a year without costs) is refused with ``InvalidInput``, so a
    coordinator never sends a letter that is wrong; with no codes such municipalities are left out.
    """
    if kind not in KINDS:
        raise InvalidInput(
            _("{kind} is not a kind of letter; use one of {kinds}").format(
                kind=repr(kind), kinds=", ".join(KINDS)
            )
        )
    if kind == "statement" and year is None:
        raise InvalidInput(_("a statement is for one year: give --year, e.g. --year 2020"))
    head = letterhead or Letterhead()
    head.contact_list()  # a contact written wrong is refused before any letter is made
    if not 1 <= head.answer_days <= 366:
        raise InvalidInput(
            _(
                "answer_days in [plugins.letter] is {days}; give a number of days from 1 to 366"
            ).format(days=head.answer_days)
        )
    explicit = bool(codes)
    wanted = list(dict.fromkeys(codes)) if explicit else prog.codes()
    sessions = prog.sessions()
    history = SessionHistory(prog, sessions)
    covenants = {o.reference: (o.covenant_on, o.covenant_place) for o in prog.offers()}
    letters: list[Letter] = []
    for code in wanted:
        m = _view(prog, code, as_of, kind, explicit)
        if m is None:
            continue
        why_not = _not_applicable(kind, m, as_of, year)
        if why_not is not None:
            if explicit:
                raise InvalidInput(
                    _("{code} {name}: no {kind} letter, {why}").format(
                        code=m.code, name=m.name, kind=_(LETTER_NAMES[kind]), why=why_not
                    )
                )
            continue
        if kind == "invitation":
            link = answer_link(m.code) if answer_link else None
            assert m.invited_on is not None
            shown = history.open_on(m.invited_on)
            covenant = covenants.get(m.offer_reference or "", (None, ""))
            letters.append(_invitation(prog, m, shown, head, link, covenant))
        elif kind == "reminder":
            link = answer_link(m.code) if answer_link else None
            letters.append(_reminder(prog, m, history.open_on(as_of), as_of, head, link))
        elif kind == "training":
            booked = _booked(m, as_of, explicit)
            if explicit and not booked:
                raise InvalidInput(
                    _(
                        "{code} {name}: no training letter, no official is booked on a session "
                        "(book one with 'mma training book')"
                    ).format(code=m.code, name=m.name)
                )
            by_id = {s.session_id: s for s in sessions}
            for o in booked:
                session = by_id[o.session_id or ""]
                on = as_of
                if training_on_booking:
                    on = history.booked_on(session.session_id, o.id) or as_of
                letters.append(_training(m, o, session, on, head))
        elif kind == "evaluation":
            letters.append(_evaluation(prog, m, as_of, head))
        else:
            assert year is not None
            letters.append(_statement(m, year, as_of, head, offers_sent(prog.offers())))
    book = AddressBook(prog, head)
    return [book.addressed(letter) for letter in letters]


def _view(
    prog: Programme, code: str, as_of: date, kind: str, explicit: bool
) -> MunicipalityView | None:
    """The municipality on ``as_of``; for the letters about the past (an invitation, a year's
    statement) also one that has merged since, as it stood when it ended."""
    try:
        return prog.municipality(code, as_of=as_of, cost_lines=True)
    except UnknownMunicipality:
        if kind not in ("invitation", "statement"):
            if explicit:
                raise
            return None
    whole = prog.municipality(code, cost_lines=True)
    if whole.valid_from is not None and as_of < whole.valid_from:
        if explicit:
            raise InvalidInput(
                _("{code} {name}: did not exist on {day}").format(
                    code=whole.code, name=whole.name, day=message_date(as_of)
                )
            )
        return None
    return whole


# The kinds of letter in the reader's language, in errors.
LETTER_NAMES = {
    "invitation": N_("invitation"),
    "reminder": N_("reminder"),
    "training": N_("training"),
    "evaluation": N_("evaluation"),
    "statement": N_("statement"),
}


def _not_applicable(kind: str, m: MunicipalityView, as_of: date, year: int | None) -> str | None:
    """Why municipality ``m`` gets no letter of ``kind`` on ``as_of`` (in the current language);
    ``None`` if it does."""
    if kind in ("invitation", "reminder") and (m.invited_on is None or not m.offer_reference):
        return _("it was not invited on {day}").format(day=message_date(as_of))
    if kind == "reminder" and m.answered_on is not None:
        return _("it answered on {day}").format(day=message_date(m.answered_on))
    if kind == "reminder" and m.stage is Stage.MERGED:
        return _("it has merged")
    if kind == "training" and not m.officials:
        return _("it has no officials")
    if kind == "evaluation":
        if m.stage is not Stage.CONNECTED or m.evaluation_due is None:
            return _("it is not connected on {day}").format(day=message_date(as_of))
        if (m.evaluation_due - as_of).days > EVALUATION_NOTICE_DAYS:
            return _("its evaluation falls due on {day}").format(day=message_date(m.evaluation_due))
    if kind == "statement":
        assert year is not None
        if not any(e.on.year == year for e in m.costs):
            return _("it has no costs in {year}").format(year=year)
    return None


def _booked(m: MunicipalityView, as_of: date, explicit: bool) -> list[OfficialView]:
    """Active officials booked on a session; without codes, only those not yet trained."""
    return [
        o
        for o in m.officials
        if o.active
        and not o.erased
        and o.session_id is not None
        and (explicit or (o.attended is None and (o.session_date or as_of) >= as_of))
    ]


# -- the letters ------------------------------------------------------------------------------


def _to_mayor(m: MunicipalityView) -> tuple[str, ...]:
    """The recipient's block as far as the letter itself knows it: the mayor of the
    municipality (:class:`AddressBook` adds the address when known)."""
    return ("Aan de burgemeester van", f"de gemeente {m.name}")


MAYOR_KINDS = ("invitation", "reminder", "evaluation", "statement")


class AddressBook:
    """Where each letter goes, as a Dutch letter's recipient block (top left) shows it: the
    addressee, then the street or PO box and the postcode with the place.

    The address comes from the first source that knows it: ``addresses`` in mma.toml (lines
    only, under the mayor), else the one recorded for the letter's date (``mma address
    import``, with its addressee when it names one), else the registry's. Without any the
    block holds the addressee alone."""

    def __init__(self, prog: Programme, head: Letterhead) -> None:
        self.prog = prog
        self.head = head
        self._known: dict[date, dict[str, PostalAddress]] = {}

    def recorded(self, code: str, day: date) -> PostalAddress | None:
        if day not in self._known:
            self._known[day] = self.prog.addresses(as_of=day)
        return self._known[day].get(code)

    def addressed(self, letter: Letter) -> Letter:
        """``letter`` with the address in its recipient block, when one is known."""
        override = self.head.address_of(letter.code)
        if override:
            return attrs.evolve(letter, recipient=(*letter.recipient, *override))
        address = self.recorded(letter.code, letter.on)
        if address is None:
            return letter
        addressee = letter.recipient
        if address.body and letter.kind in MAYOR_KINDS:
            addressee = (address.body,)
        return attrs.evolve(letter, recipient=(*addressee, *address.lines()))


class SessionHistory:
    """The training sessions as they stood on a day: scheduled by then, and their seats then
    (bookings and releases carry the day they were made)."""

    def __init__(self, prog: Programme, sessions: Sequence[SessionView]) -> None:
        from mma_core.domain.training import TrainingSession, session_id_to_uuid

        self.sessions = list(sessions)
        self.scheduled: dict[str, date] = {}
        self.changes: dict[str, list[tuple[date, str, bool]]] = {}
        for s in self.sessions:
            changes: list[tuple[date, str, bool]] = []
            for event in prog.events.get(session_id_to_uuid(s.session_id)):
                if isinstance(event, TrainingSession.Scheduled):
                    self.scheduled[s.session_id] = event.on
                elif isinstance(event, TrainingSession.SeatBooked):
                    changes.append((event.on, str(event.official_id), True))
                elif isinstance(event, TrainingSession.SeatReleased):
                    changes.append((event.on, str(event.official_id), False))
            self.changes[s.session_id] = changes

    def seats_left_on(self, s: SessionView, day: date) -> int:
        booked: set[str] = set()
        for on, official, booking in self.changes.get(s.session_id, ()):
            if on <= day:
                (booked.add if booking else booked.discard)(official)
        return s.capacity - len(booked)

    def open_on(self, day: date) -> list[SessionView]:
        """Sessions scheduled on or before ``day``, still to come then, with seats left then."""
        return [
            s
            for s in self.sessions
            if self.scheduled.get(s.session_id, date.max) <= day
            and _local_day(s.starts_at) >= day
            and self.seats_left_on(s, day) > 0
        ]

    def booked_on(self, session_id: str, official_id: str) -> date | None:
        """The day the official's (last) seat on the session was booked."""
        days = [
            on
            for on, who, booking in self.changes.get(session_id, ())
            if booking and who == official_id
        ]
        return max(days) if days else None


def _offer_blocks(prog: Programme, m: MunicipalityView) -> list[Block]:
    terms = prog.offer_terms(m.offer_reference or "", on=m.invited_on or date.min)
    connection = (
        f"Het aanbod houdt in dat de provincie voor uw gemeente de eenmalige aansluitkosten op "
        f"het netwerk van Meld Misdaad Anoniem ({dutch_money(terms.connection_fee)}) voor haar "
        "rekening neemt. Dit is de grootste kostenpost."
    )
    fee = (
        f"U betaalt een gering bedrag, {dutch_money(terms.report_fee)} per melding, voor de "
        "concrete meldingen die na aansluiting binnenkomen."
    )
    evaluation = (
        f"Na {terms.evaluation_months} maanden kunt u het gebruik evalueren. In de praktijk "
        "blijkt dat gemeenten de kosten al ruimschoots terugverdienen met de meldingen die gaan "
        "over uitkeringsfraude. Het belangrijkste is echter dat u als burgemeester en gemeente "
        "geen signalen mist. De beslissing over voortzetting is uiteraard aan u."
    )
    prior = "Is uw gemeente reeds aangesloten dan compenseren wij u voor de eerder gemaakte "
    prior += "aansluitingskosten."
    if m.prior_connected_on is not None:
        prior = (
            f"Uw gemeente is sinds {dutch_date(m.prior_connected_on)} aangesloten. Wij "
            "compenseren u voor de eerder gemaakte aansluitingskosten"
            + (f" ({dutch_money(m.prior_costs)})." if m.prior_costs is not None else ".")
        )
    return [Block("Aanbod", (connection, fee, evaluation, prior))]


def _sessions_block(
    sessions: Sequence[SessionView], after: date | None, officials: int = 2
) -> Block:
    shown = [s for s in sessions if after is None or _local_day(s.starts_at) >= after]
    places = sorted({s.location for s in shown})
    where = (
        f"De training vindt plaats op deze locatie: {places[0]}."
        if len(places) == 1
        else "De trainingen zijn:"
    )
    return Block(
        "Praktisch",
        (
            "Deelname is uiteraard niet verplicht, maar om gezamenlijk een vuist te maken, geldt "
            "dat hoe collectiever we dit doen hoe krachtiger we onszelf maken. De capaciteit die "
            "het u kost om ontvangen signalen door te zetten is beperkt. Het belangrijkste is dat "
            "uw ambtenaren die hiermee aan de slag gaan vertrouwd raken met het systeem.",
            "Hiertoe biedt Meld Misdaad Anoniem een eenmalige training aan. Wij vragen u om "
            f"{_count_word(officials)} van uw OOV-ambtenaren hieraan deel te laten nemen, zodat "
            "zij weten wat nodig is om de aansluiting op het netwerk mogelijk te maken en hier "
            "vervolgens mee aan de slag te gaan.",
            f"{where} Data voor de training zijn:" if len(places) == 1 else where,
        ),
        items=tuple(
            session_line(s) + ("" if len(places) == 1 else f", {s.location}") for s in shown
        ),
    )


def _count_word(n: int) -> str:
    return {1: "één", 2: "twee", 3: "drie", 4: "vier"}.get(n, str(n))


def contacts_sentence(head: Letterhead) -> tuple[str, str]:
    """Whom to mail ("dhr H. Groot (grooth@...) of mevr M. le Clercq") and how to reach them
    ("kunt u hem bereiken", "kunt u hen bereiken", or the neutral form for one contact)."""
    contacts = head.contact_list()
    named = [f"{c.name} ({c.email})" if c.email else c.name for c in contacts]
    who = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " of " + named[-1]
    if len(contacts) > 1:
        reach = "kunt u hen bereiken"
    elif contacts[0].pronoun:
        reach = f"kunt u {contacts[0].pronoun} bereiken"
    else:
        reach = f"kunt u {contacts[0].name} bereiken"
    return who, reach


def _answer_block(head: Letterhead, answer_link: str | None, answer_by: date) -> Block:
    who, reach = contacts_sentence(head)
    several = len(head.contacts) > 1
    paragraphs = [
        "Graag horen we uiterlijk "
        f"{dutch_date(answer_by)} of u meedoet en wie er van uw organisatie deelneemt aan één "
        f"van de trainingen. Ik verzoek u dit te mailen aan {who}, die dit namens de provincie "
        f"{'coördineren' if several else 'coördineert'}. Ook als u vragen heeft, {reach}."
    ]
    if answer_link:
        paragraphs.append("U kunt ook antwoorden op de website, via deze persoonlijke link:")
    return Block("Slot", tuple(paragraphs), link=answer_link or "")


def _covenant_block(on: date, place: str, letter_on: date) -> Block:
    at = f" tijdens de {place}" if place else ""
    if on > letter_on:
        text = (
            f"Op {dutch_date(on)} onderteken ik{at} een convenant met Meld Misdaad Anoniem: "
            "samen willen wij ervoor zorgen dat alle gemeenten in onze provincie zijn aangesloten "
            "op het netwerk van Meld Misdaad Anoniem. Met deze brief nodig ik uw gemeente uit "
            "daaraan deel te nemen."
        )
    else:
        text = (
            f"Op {dutch_date(on)} ondertekende ik{at} een convenant met Meld Misdaad Anoniem: "
            "samen willen wij ervoor zorgen dat alle gemeenten in onze provincie zijn aangesloten "
            "op het netwerk van Meld Misdaad Anoniem. Met deze brief nodig ik uw gemeente uit "
            "daaraan deel te nemen."
        )
    return Block("Convenant", (text,))


INTRO_BLOCKS = (
    Block(
        "Aanleiding",
        (
            "Een belangrijk doel is om ervoor te zorgen dat er een minimum niveau van "
            "weerbaarheid is in de provincie. Criminelen denken niet in gemeentegrenzen. Zij "
            "verplaatsen hun activiteiten naar de gemeenten met bijvoorbeeld de zwakste "
            "informatiepositie: het bekende waterbedeffect. Gezamenlijke aansluiting van "
            "gemeenten op het netwerk van Meld Misdaad Anoniem kan ons helpen een belangrijke "
            "stap in de goede richting te zetten.",
        ),
    ),
    Block(
        "Meld Misdaad Anoniem",
        (
            "Meld Misdaad Anoniem is een meldpunt, waar burgers en ondernemers anoniem melding "
            "kunnen maken van zaken waarvan zij vermoeden dat er criminele of kwade intenties in "
            "het spel zijn. Jaarlijks gebeurt dit zo'n 45.000 keer. Hiervan zijn 15.000 meldingen "
            "dusdanig serieus en bruikbaar dat ze worden doorgezet. Hiervan leidt 80% weer tot "
            "opvolging.",
            "Veel meldingen zijn ook voor gemeenten interessant en gaan bijvoorbeeld over fraude "
            "met uitkeringen of ondermijning. De crux is dat een gemeente deze signalen niet "
            "ontvangt als zij niet is aangesloten op het netwerk van Meld Misdaad Anoniem. Ik "
            "streef er daarom naar dat alle gemeenten in de provincie zijn aangesloten. Hiertoe "
            "doe ik u een aanbod.",
        ),
    ),
)


def _invitation(
    prog: Programme,
    m: MunicipalityView,
    sessions: Sequence[SessionView],
    head: Letterhead,
    link: str | None,
    covenant: tuple[date | None, str] = (None, ""),
) -> Letter:
    from datetime import timedelta

    assert m.invited_on is not None
    terms = prog.offer_terms(m.offer_reference or "", on=m.invited_on)
    covenant_on, place = covenant
    opening = [] if covenant_on is None else [_covenant_block(covenant_on, place, m.invited_on)]
    closing = "Ik kijk er naar uit om samen met u deze samenwerking aan te gaan."
    if covenant_on is not None and covenant_on > m.invited_on:
        closing += " Ik zie u graag op " + _day_month(covenant_on) + "."
    return Letter(
        kind="invitation",
        code=m.code,
        name=f"invitation-{m.code}",
        on=m.invited_on,
        reference=m.offer_reference or "",
        subject=SUBJECT,
        recipient=_to_mayor(m),
        salutation="Geachte burgemeester,",
        blocks=(
            *opening,
            *INTRO_BLOCKS,
            *_offer_blocks(prog, m),
            _sessions_block(sessions, None, terms.officials_per_municipality),
            _answer_block(head, link, m.invited_on + timedelta(days=head.answer_days)),
        ),
        closing=closing,
        answer_link=link,
    )


def _day_month(day: date) -> str:
    """``30 oktober``: a day in the letter's own year."""
    from babel.dates import format_date

    return str(format_date(day, "d MMMM", locale=LOCALE))


def _reminder(
    prog: Programme,
    m: MunicipalityView,
    sessions: Sequence[SessionView],
    as_of: date,
    head: Letterhead,
    link: str | None,
) -> Letter:
    assert m.invited_on is not None
    terms = prog.offer_terms(m.offer_reference or "", on=m.invited_on)
    opening = (
        f"Op {dutch_date(m.invited_on)} deed ik u met mijn brief met kenmerk "
        f"{m.offer_reference} een aanbod om uw gemeente aan te sluiten op het netwerk van Meld "
        "Misdaad Anoniem. Tot op heden heb ik nog geen antwoord van u ontvangen. Met deze brief "
        "herinner ik u graag aan dat aanbod."
    )
    from datetime import timedelta

    upcoming = list(sessions)  # scheduled by then, still to come, with seats left then
    blocks = [Block("", (opening,)), *_offer_blocks(prog, m)]
    if upcoming:
        blocks.append(_sessions_block(upcoming, as_of, terms.officials_per_municipality))
    blocks.append(_answer_block(head, link, as_of + timedelta(days=head.answer_days)))
    return Letter(
        kind="reminder",
        code=m.code,
        name=f"reminder-{m.code}",
        on=as_of,
        reference=m.offer_reference or "",
        their_reference="",
        subject=f"Herinnering: {SUBJECT} (onze brief van {dutch_date(m.invited_on)})",
        recipient=_to_mayor(m),
        salutation="Geachte burgemeester,",
        blocks=tuple(blocks),
        closing="Ik zie uw antwoord graag tegemoet.",
        answer_link=link,
    )


def _training(
    m: MunicipalityView, o: OfficialView, s: SessionView, as_of: date, head: Letterhead
) -> Letter:
    day = dutch_date(_local_day(s.starts_at), weekday=True)
    body = (
        f"Hierbij bevestigen wij uw aanmelding namens de gemeente {m.name} voor de training "
        f"Meld Misdaad Anoniem op {day} van {_time(s.starts_at)} tot {_time(s.ends_at)} uur. "
        f"Locatie: {s.location}."
    )
    return Letter(
        kind="training",
        code=m.code,
        name=f"training-{o.id}",
        on=as_of,
        reference=f"{m.offer_reference or ''} training {s.session_id}".strip(),
        subject=f"Bevestiging training Meld Misdaad Anoniem, {dutch_date(_local_day(s.starts_at))}",
        recipient=(o.name, f"OOV, gemeente {m.name}"),
        # The name alone says nothing of how to address someone: the official's record says
        # it, or the neutral form.
        salutation=o.salutation or "Geachte heer, mevrouw,",
        blocks=(
            Block("", (body,)),
            Block(
                "Wat u leert",
                (
                    "In de training leert u hoe meldingen van Meld Misdaad Anoniem uw gemeente "
                    "bereiken, wat u ermee mag doen en hoe u jaarlijks aan Meld Misdaad Anoniem "
                    "terugmeldt wat ermee gebeurd is. Per gemeente krijgen ten hoogste twee "
                    "OOV-ambtenaren toegang.",
                    "De afspraak staat in het bijgevoegde agendabestand (.ics). Kunt u niet "
                    f"komen, laat het dan weten aan {contacts_sentence(head)[0]}; "
                    "u kunt dan op een andere datum deelnemen.",
                ),
            ),
        ),
        closing="Wij zien u graag op de training.",
        attachments=(session_ics(m, o, s),),
    )


def session_ics(m: MunicipalityView, o: OfficialView, s: SessionView) -> Attachment:
    """The session as an iCalendar event (UTC times, so any calendar places it right)."""

    def stamp(moment: datetime) -> str:
        return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")

    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")

    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//mma_core//letters//NL",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:training-{s.session_id}-{o.id}@mma-core",
        f"DTSTAMP:{stamp(s.starts_at)}",
        f"DTSTART:{stamp(s.starts_at)}",
        f"DTEND:{stamp(s.ends_at)}",
        f"SUMMARY:{escape('Training Meld Misdaad Anoniem')}",
        f"LOCATION:{escape(s.location)}",
        f"DESCRIPTION:{escape(f'Training voor de OOV-ambtenaren van {m.name}')}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    data = ("\r\n".join(lines) + "\r\n").encode()
    return Attachment(f"training-{o.id}.ics", "text/calendar", data)


def reports_in(prog: Programme, code: str, start: date, end: date) -> int:
    """How many reports the municipality received from ``start`` up to and including ``end``."""
    days = report_days(prog.aggregate_events(municipality_id(code)))
    return sum(1 for day in days if start <= day <= end)


def _evaluation(prog: Programme, m: MunicipalityView, as_of: date, head: Letterhead) -> Letter:
    assert m.evaluation_due is not None
    assert m.connected_on is not None
    start = m.term_start or m.connected_on
    received = reports_in(prog, m.code, start, as_of)
    paid = sum(
        (
            e.line.amount.amount
            for e in m.costs
            if start <= e.on <= as_of and e.line.payer is Payer.MUNICIPALITY
        ),
        Decimal(0),
    )
    facts = (
        f"Uw gemeente is sinds {dutch_date(m.connected_on)} aangesloten op het netwerk van Meld "
        f"Misdaad Anoniem. Van {dutch_date(start)} tot en met {dutch_date(as_of)} ontving uw "
        f"gemeente {received} {'melding' if received == 1 else 'meldingen'}; daarvoor betaalde "
        f"uw gemeente {dutch_money(paid)}."
    )
    from datetime import timedelta

    # Never a day already past: an evaluation overdue on the letter's date gets the usual time.
    ask_by = m.evaluation_due
    if ask_by <= as_of:
        ask_by = as_of + timedelta(days=head.answer_days)
    ask = (
        "Zoals aangekondigd in het aanbod kunt u na een jaar het gebruik evalueren. Wij vragen "
        f"u ons vóór {dutch_date(ask_by)} te laten weten:"
    )
    return Letter(
        kind="evaluation",
        code=m.code,
        name=f"evaluation-{m.code}",
        on=as_of,
        reference=m.offer_reference or "",
        subject=f"Evaluatie aansluiting Meld Misdaad Anoniem {m.name}",
        recipient=_to_mayor(m),
        salutation="Geachte burgemeester,",
        blocks=(
            Block("", (facts,)),
            Block(
                "Evaluatie",
                (ask,),
                items=(
                    "hoeveel van de ontvangen meldingen bruikbaar waren;",
                    "hoeveel meldingen zijn opgevolgd;",
                    "welk bedrag dankzij de meldingen is teruggevorderd;",
                    "hoe tevreden u bent, op een schaal van 1 (zeer ontevreden) tot 5 "
                    "(zeer tevreden);",
                    "of uw gemeente de aansluiting voortzet, en waarom.",
                ),
            ),
            Block(
                "",
                (
                    "De beslissing over voortzetting is uiteraard aan u. Met uw antwoord kunnen "
                    "wij de aansluiting verlengen of, als u daarvoor kiest, netjes beëindigen. "
                    f"Uw antwoord ontvangen wij graag via {head.contact_email}.",
                ),
            ),
        ),
        closing="Ik dank u voor uw medewerking.",
    )


def _statement(
    m: MunicipalityView, year: int, as_of: date, head: Letterhead, sent: dict[str, date]
) -> Letter:
    from mma_core.language.i18n import language
    from mma_core.paperwork.tariffs import tariff_words

    entries = [e for e in m.costs if e.on.year == year]
    rows: list[tuple[str, ...]] = []
    quarters: dict[tuple[int, str], list[Decimal]] = defaultdict(list)
    provenance: dict[int, set[str]] = defaultdict(set)
    for e in entries:
        line = e.line
        with language("nl"):  # the letters are Dutch, whatever the reader's language
            words = tariff_words(line.tariff_id, sent)
        source = f"{words} (rekenregel {line.calculator} {line.calculator_version})"
        if line.is_reversal:
            source = words  # "correctie: ingetrokken (positie 1234)": its own line, not a report
        if line.kind is CostKind.REPORT_FEE and not line.is_reversal:
            q = (e.on.month - 1) // 3
            quarters[(q, line.payer.value)].append(line.amount.amount)
            provenance[q].add(source)
            continue
        rows.append(
            (
                dutch_date(e.on),
                KIND_NAMES[line.kind],
                PAYER_NAMES[line.payer],
                dutch_money(line.amount),
                source,
            )
        )
    for (q, payer), amounts in sorted(quarters.items()):
        rows.append(
            (
                f"{q + 1}e kwartaal",
                f"{len(amounts)} {'melding' if len(amounts) == 1 else 'meldingen'}",
                PAYER_NAMES[Payer(payer)],
                dutch_money(sum(amounts, Decimal(0))),
                "; ".join(sorted(provenance[q])),
            )
        )
    totals = {
        payer: sum((e.line.amount.amount for e in entries if e.line.payer is payer), Decimal(0))
        for payer in Payer
    }
    footer = tuple(
        ("", f"Totaal betaald door {PAYER_NAMES[p]}", "", dutch_money(totals[p]), "") for p in Payer
    )
    intro = (
        f"Hierbij ontvangt u het overzicht van de kosten van de aansluiting van de gemeente "
        f"{m.name} op Meld Misdaad Anoniem in {year}: de vergoeding per melding per kwartaal en "
        "de aansluitkosten of compensatie die de provincie betaalde. Bij elke regel staat hoe "
        "het bedrag is berekend (rekenregel, versie en tarief)."
    )
    return Letter(
        kind="statement",
        code=m.code,
        name=f"statement-{year}-{m.code}",
        on=as_of,
        reference=f"{m.offer_reference or ''} overzicht {year}".strip(),
        subject=f"Kostenoverzicht Meld Misdaad Anoniem {year}",
        recipient=_to_mayor(m),
        salutation="Geachte burgemeester,",
        blocks=(
            Block("", (intro,)),
            Block(
                f"Kosten {year}",
                table_header=("Datum", "Omschrijving en herkomst", "Betaald door", "Bedrag", ""),
                table_rows=tuple(rows),
                table_footer=footer,
            ),
            Block(
                "",
                (
                    f"Heeft u vragen over dit overzicht, neem dan contact op met "
                    f"{head.contact_name} ({head.contact_email}).",
                ),
            ),
        ),
        closing="",
    )
