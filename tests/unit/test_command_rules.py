"""One test per rule per command: the rule's error, a message that names the municipality and
the rule, and not a single event written."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

import pytest

from mma_core import (
    CapacityExceeded,
    DomainError,
    DuplicateReport,
    InvalidDate,
    InvalidInput,
    InvalidTransition,
    MergerNotInRegistry,
    Money,
    Programme,
    Terms,
    UnknownMunicipality,
    UnknownOffer,
    UnknownOfficial,
    UnknownSession,
)

OFFER = "1298348/1298354"
# A merger the registry does not list, said on purpose (the registry lags reality).
UNLISTED = {"unlisted": True, "reason": "registry lags"}
SENT = date(2019, 10, 18)
NAME, EMAIL = "Marijke Vos", "m.vos@gemeente.example"

Step = Callable[[Programme], object]


def campaign(p: Programme) -> None:
    """The set-up every case starts from: the registry, the offer, two sessions."""
    p.register_registry("noord-holland-2019", by="coordinator")
    p.make_offer(reference=OFFER, sent_on=SENT, by="cdk")
    p.schedule_training(
        "2019-11-06",
        starts_at=datetime(2019, 11, 6, 10),
        ends_at=datetime(2019, 11, 6, 12, 30),
        location="Provinciehuis, Dreef 3, Haarlem",
        capacity=1,
        by="coordinator",
    )
    p.schedule_training(
        "2024-01-10",
        starts_at=datetime(2024, 1, 10, 13),
        ends_at=datetime(2024, 1, 10, 15, 30),
        location="Provinciehuis, Dreef 3, Haarlem",
        capacity=5,
        by="coordinator",
    )


# -- steps that bring a municipality to a stage (all valid) -----------------------------------


def invited(code: str = "GM0363", on: date = date(2019, 10, 21)) -> Step:
    return lambda p: p.invite(code, on=on, reference=OFFER, by="cdk")


def accepted(code: str = "GM0363", on: date = date(2019, 11, 1)) -> Step:
    return lambda p: p.accept(code, on=on, by="burgemeester")


def connected(code: str = "GM0363", on: date = date(2019, 12, 1)) -> Step:
    return lambda p: p.connect(code, on=on, by="coordinator")


def reported(
    code: str = "GM0363", on: date = date(2020, 2, 3), reference: str = "MMA-20-0001"
) -> Step:
    return lambda p: p.record_report(
        code, received_on=on, category="sociale zekerheid", reference=reference, by="mma"
    )


def evaluated(
    code: str = "GM0363", on: date = date(2020, 12, 1), outcome: str = "continue"
) -> Step:
    return lambda p: p.evaluate(code, on=on, outcome=outcome, by="oov")


def terminated(code: str = "GM0363", on: date = date(2021, 12, 15)) -> Step:
    return lambda p: p.terminate(code, on=on, reason="", by="burgemeester")


def nominated(code: str = "GM0363", on: date = date(2019, 10, 25)) -> Step:
    return lambda p: p.nominate_official(code, name=NAME, email=EMAIL, on=on, by="coordinator")


def booked(
    official: str = "GM0363-1", session: str = "2019-11-06", on: date = date(2019, 10, 28)
) -> Step:
    code = official.split("-")[0]
    return lambda p: p.book_training(
        code, official_id=official, session_id=session, on=on, by="coordinator"
    )


def withdrawn(official: str = "GM0363-1", on: date = date(2019, 11, 1)) -> Step:
    return lambda p: p.withdraw_official(official, on=on, by="coordinator")


CONNECTED = [invited(), accepted(), connected()]
# Weesp, connected, and Amsterdam: what a merger needs
WEESP_CONNECTED = [invited("GM0457"), accepted("GM0457"), connected("GM0457")]


@dataclass
class Case:
    id: str
    setup: list[Step]
    command: Step
    error: type[DomainError]
    rule: str  # a regular expression the message must match: the rule, in words
    code: str = "GM0363"


CASES = [
    # -- invite ------------------------------------------------------------------------------
    Case(
        "invite/needs-an-offer",
        [],
        lambda p: p.invite("GM0363", on=date(2019, 10, 21), reference="1999/1", by="cdk"),
        UnknownOffer,
        "no offer '1999/1' was made",
    ),
    Case(
        "invite/offer-reference-format",
        [],
        lambda p: p.invite("GM0363", on=date(2019, 10, 21), reference="ref with spaces", by="cdk"),
        InvalidInput,
        "not an offer reference",
    ),
    Case(
        "invite/once",
        [invited()],
        invited(on=date(2019, 10, 22)),
        InvalidTransition,
        "cannot invite a municipality that is invited",
    ),
    Case(
        "invite/not-in-future",
        [],
        invited(on=date(2023, 6, 2)),
        InvalidDate,
        "2023-06-02 lies in the future",
    ),
    Case(
        "invite/not-before-offer",
        [],
        invited(on=date(2019, 10, 17)),
        InvalidDate,
        "before the offer was sent on 2019-10-18",
    ),
    Case(
        "invite/municipality-must-exist-yet",
        [],
        invited("GM1980", on=date(2019, 10, 21)),
        InvalidTransition,
        "before the municipality existed",
        code="GM1980",
    ),
    Case(
        "invite/municipality-must-exist-still",
        [],
        invited("GM0457", on=date(2022, 4, 1)),
        InvalidTransition,
        "after the municipality ceased to exist",
        code="GM0457",
    ),
    Case(
        "invite/a-date-not-a-datetime",
        [],
        lambda p: p.invite("GM0363", on=datetime(2019, 10, 21, 9), reference=OFFER, by="cdk"),  # type: ignore[arg-type]
        InvalidInput,
        "must be a date",
    ),
    Case(
        "invite/needs-by",
        [],
        lambda p: p.invite("GM0363", on=date(2019, 10, 21), reference=OFFER, by="  "),
        InvalidInput,
        "needs 'by'",
    ),
    Case(
        "invite/origin-format",
        [],
        lambda p: p.invite(
            "GM0363", on=date(2019, 10, 21), reference=OFFER, by="cdk", origin="a b"
        ),
        InvalidInput,
        "'origin' names the channel",
    ),
    Case(
        "invite/registered-municipality",
        [],
        invited("GM0999"),
        UnknownMunicipality,
        "no such municipality is registered",
        code="GM0999",
    ),
    Case(
        "invite/code-format",
        [],
        invited("GM36"),
        InvalidInput,
        "not a CBS municipality code",
        code="GM36",
    ),
    # -- record_prior_connection -------------------------------------------------------------
    Case(
        "prior/needs-invitation",
        [],
        lambda p: p.record_prior_connection(
            "GM0363", connected_on=date(2018, 3, 1), costs=Money("2000"), by="coordinator"
        ),
        InvalidTransition,
        "cannot record a prior connection for a municipality that is registered",
    ),
    Case(
        "prior/once",
        [
            invited(),
            lambda p: p.record_prior_connection(
                "GM0363", connected_on=date(2018, 3, 1), costs=Money("2000"), by="coordinator"
            ),
        ],
        lambda p: p.record_prior_connection(
            "GM0363", connected_on=date(2018, 4, 1), costs=Money("1000"), by="coordinator"
        ),
        InvalidTransition,
        "was recorded already",
    ),
    Case(
        "prior/before-invitation",
        [invited()],
        lambda p: p.record_prior_connection(
            "GM0363", connected_on=date(2019, 10, 21), costs=Money("2000"), by="coordinator"
        ),
        InvalidDate,
        "must lie before the invitation",
    ),
    Case(
        "prior/costs-not-negative",
        [invited()],
        lambda p: p.record_prior_connection(
            "GM0363", connected_on=date(2018, 3, 1), costs=Money("-1"), by="coordinator"
        ),
        InvalidInput,
        "prior connection costs EUR -1.00 is negative",
    ),
    Case(
        "prior/costs-not-float",
        [invited()],
        lambda p: p.record_prior_connection(
            "GM0363",
            connected_on=date(2018, 3, 1),
            costs=2000.0,  # type: ignore[arg-type]
            by="coordinator",
        ),
        InvalidInput,
        "is a float",
    ),
    Case(
        "prior/record-date-not-backwards",
        [invited(), lambda p: p.decline("GM0363", on=date(2019, 11, 4), by="b")],
        lambda p: p.record_prior_connection(
            "GM0363", connected_on=date(2018, 3, 1), costs=Money("0"), by="coordinator"
        ),
        InvalidDate,
        "record date 2019-10-21 lies before its previous lifecycle step",
    ),
    # -- accept ------------------------------------------------------------------------------
    Case(
        "accept/needs-invitation",
        [],
        accepted(),
        InvalidTransition,
        "cannot accept the offer for a municipality that is registered",
    ),
    Case(
        "accept/once",
        [invited(), accepted()],
        accepted(on=date(2019, 11, 2)),
        InvalidTransition,
        "that is accepted",
    ),
    Case(
        "accept/not-before-invitation",
        [invited()],
        accepted(on=date(2019, 10, 20)),
        InvalidDate,
        "never run backwards",
    ),
    Case(
        "accept/not-in-future",
        [invited()],
        accepted(on=date(2023, 6, 2)),
        InvalidDate,
        "lies in the future",
    ),
    # -- decline -----------------------------------------------------------------------------
    Case(
        "decline/needs-invitation",
        [],
        lambda p: p.decline("GM0363", on=date(2019, 11, 4), by="b"),
        InvalidTransition,
        "cannot record a refusal for a municipality that is registered",
    ),
    Case(
        "decline/not-after-acceptance",
        [invited(), accepted()],
        lambda p: p.decline("GM0363", on=date(2019, 11, 4), by="b"),
        InvalidTransition,
        "that is accepted",
    ),
    Case(
        "decline/not-before-invitation",
        [invited()],
        lambda p: p.decline("GM0363", on=date(2019, 10, 19), by="b"),
        InvalidDate,
        "never run backwards",
    ),
    Case(
        "decline/reason-length",
        [invited()],
        lambda p: p.decline("GM0363", on=date(2019, 11, 4), reason="x" * 501, by="b"),
        InvalidInput,
        "at most 500 characters",
    ),
    # -- connect -----------------------------------------------------------------------------
    Case(
        "connect/needs-acceptance",
        [invited()],
        connected(),
        InvalidTransition,
        "cannot connect a municipality that is invited",
    ),
    Case(
        "connect/prior-connection-needs-none",
        [
            invited(),
            lambda p: p.record_prior_connection(
                "GM0363", connected_on=date(2018, 3, 1), costs=Money("2000"), by="coordinator"
            ),
            accepted(),
        ],
        connected(),
        InvalidTransition,
        "cannot connect a municipality that is connected",
    ),
    Case(
        "connect/not-before-acceptance",
        [invited(), accepted()],
        connected(on=date(2019, 10, 31)),
        InvalidDate,
        "connection date 2019-10-31 lies before its previous lifecycle step on 2019-11-01",
    ),
    Case(
        "connect/not-in-future",
        [invited(), accepted()],
        connected(on=date(2024, 1, 1)),
        InvalidDate,
        "lies in the future",
    ),
    # -- record_report -----------------------------------------------------------------------
    Case(
        "report/needs-connection",
        [invited(), accepted()],
        reported(),
        InvalidTransition,
        "reports count only while connected",
    ),
    Case(
        "report/not-before-connection",
        CONNECTED,
        reported(on=date(2019, 11, 30)),
        InvalidDate,
        "before the connection on 2019-12-01",
    ),
    Case(
        "report/not-in-future",
        CONNECTED,
        reported(on=date(2023, 6, 2)),
        InvalidDate,
        "lies in the future",
    ),
    Case(
        "report/mma-category",
        CONNECTED,
        lambda p: p.record_report(
            "GM0363",
            received_on=date(2020, 2, 3),
            category="uitkeringsfraude",
            reference="MMA-1",
            by="mma",
        ),
        InvalidInput,
        "not an MMA category",
    ),
    Case(
        "report/opaque-reference",
        CONNECTED,
        reported(reference="Jansen deals at Dam 1"),
        InvalidInput,
        "opaque reference",
    ),
    Case(
        "report/reference-counts-once",
        [*CONNECTED, reported()],
        reported(on=date(2020, 3, 1)),
        DuplicateReport,
        "MMA-20-0001 was recorded already .* counts once",
    ),
    Case(
        "report/reference-unique-across-municipalities",
        [*CONNECTED, *WEESP_CONNECTED, reported("GM0457")],
        reported("GM0363"),
        DuplicateReport,
        "recorded already \\(for GM0457",
    ),
    Case(
        "report/not-after-termination",
        [*CONNECTED, terminated()],
        reported(on=date(2021, 12, 16)),
        InvalidTransition,
        "2021-12-16 lies after the connection ended \\(stopped on 2021-12-15\\)",
    ),
    Case(
        "report/not-after-merger",
        [
            *WEESP_CONNECTED,
            lambda p: p.merge("GM0457", into="GM0363", on=date(2022, 3, 24), by="c"),
        ],
        reported("GM0457", on=date(2022, 3, 24)),
        InvalidTransition,
        "lies after the connection ended \\(merged on 2022-03-24\\)",
        code="GM0457",
    ),
    Case(
        "report/needs-a-connection-ever",
        [invited(), lambda p: p.decline("GM0363", on=date(2019, 11, 4), by="b")],
        reported(),
        InvalidTransition,
        "that is declined; reports count only while connected",
    ),
    Case(
        "report/not-after-municipality-ceased",
        WEESP_CONNECTED,
        reported("GM0457", on=date(2022, 3, 24)),
        InvalidTransition,
        "ceased to exist",
        code="GM0457",
    ),
    # -- evaluate ----------------------------------------------------------------------------
    Case(
        "evaluate/needs-connection",
        [invited(), accepted()],
        evaluated(),
        InvalidTransition,
        "cannot evaluate a municipality that is accepted",
    ),
    Case(
        "evaluate/not-before-connection",
        CONNECTED,
        evaluated(on=date(2019, 11, 30)),
        InvalidDate,
        "never run backwards",
    ),
    Case(
        "evaluate/once-per-term",
        [*CONNECTED, evaluated()],
        evaluated(on=date(2020, 12, 2)),
        InvalidTransition,
        "this term was evaluated on 2020-12-01 already",
    ),
    Case(
        "evaluate/outcome",
        CONNECTED,
        evaluated(outcome="maybe"),
        InvalidInput,
        "outcome 'maybe' is not 'continue' or 'stop'",
    ),
    Case(
        "evaluate/recovered-not-negative",
        CONNECTED,
        lambda p: p.evaluate(
            "GM0363", on=date(2020, 12, 1), outcome="stop", recovered=Money("-5"), by="oov"
        ),
        InvalidInput,
        "recovered amount EUR -5.00 is negative",
    ),
    Case(
        "evaluate/notes-length",
        CONNECTED,
        lambda p: p.evaluate(
            "GM0363", on=date(2020, 12, 1), outcome="stop", notes="n" * 501, by="oov"
        ),
        InvalidInput,
        "at most 500 characters",
    ),
    # -- renew -------------------------------------------------------------------------------
    Case(
        "renew/needs-continue-evaluation",
        CONNECTED,
        lambda p: p.renew("GM0363", on=date(2020, 12, 15), by="b"),
        InvalidTransition,
        "without an evaluation with outcome 'continue'",
    ),
    Case(
        "renew/not-after-stop-evaluation",
        [*CONNECTED, evaluated(outcome="stop")],
        lambda p: p.renew("GM0363", on=date(2020, 12, 15), by="b"),
        InvalidTransition,
        "without an evaluation with outcome 'continue'",
    ),
    Case(
        "renew/needs-connection",
        [invited(), accepted()],
        lambda p: p.renew("GM0363", on=date(2020, 12, 15), by="b"),
        InvalidTransition,
        "cannot renew a municipality that is accepted",
    ),
    Case(
        "renew/not-before-evaluation",
        [*CONNECTED, evaluated()],
        lambda p: p.renew("GM0363", on=date(2020, 11, 30), by="b"),
        InvalidDate,
        "renewal date 2020-11-30 lies before its previous lifecycle step on 2020-12-01",
    ),
    Case(
        "renew/not-in-future",
        [*CONNECTED, evaluated()],
        lambda p: p.renew("GM0363", on=date(2023, 6, 2), by="b"),
        InvalidDate,
        "lies in the future",
    ),
    # -- terminate ---------------------------------------------------------------------------
    Case(
        "terminate/needs-connection",
        [invited()],
        terminated(),
        InvalidTransition,
        "cannot terminate a municipality that is invited",
    ),
    Case(
        "terminate/once",
        [*CONNECTED, terminated()],
        terminated(on=date(2021, 12, 16)),
        InvalidTransition,
        "that is stopped",
    ),
    Case(
        "terminate/not-before-connection",
        CONNECTED,
        terminated(on=date(2019, 11, 15)),
        InvalidDate,
        "never run backwards",
    ),
    Case(
        "terminate/not-before-last-report",
        [*CONNECTED, reported(on=date(2021, 3, 1))],
        terminated(on=date(2021, 2, 1)),
        InvalidDate,
        "before the last report on 2021-03-01",
    ),
    # -- merge -------------------------------------------------------------------------------
    Case(
        "merge/registry-successor",
        [],
        lambda p: p.merge("GM0457", into="GM0479", on=date(2022, 3, 24), by="c"),
        InvalidInput,
        "the registry names GM0363 as successor, not GM0479",
        code="GM0457",
    ),
    Case(
        "merge/day-after-registry-end",
        [],
        lambda p: p.merge("GM0457", into="GM0363", on=date(2022, 3, 23), by="c"),
        InvalidDate,
        "the merger falls on the day after; use 2022-03-24",
        code="GM0457",
    ),
    Case(
        "merge/once",
        [lambda p: p.merge("GM0457", into="GM0363", on=date(2022, 3, 24), by="c")],
        lambda p: p.merge("GM0457", into="GM0363", on=date(2022, 3, 24), by="c"),
        InvalidTransition,
        "it cannot merge again",
        code="GM0457",
    ),
    Case(
        "merge/not-in-registry",
        [],
        lambda p: p.merge("GM0441", into="GM0363", on=date(2022, 3, 24), by="c"),
        MergerNotInRegistry,
        "GM0441 Schagen: the registry lists no merger into GM0363 Amsterdam",
        code="GM0441",
    ),
    Case(
        "merge/unlisted-needs-a-reason",
        [],
        lambda p: p.merge("GM0441", into="GM0363", on=date(2022, 3, 24), unlisted=True, by="c"),
        InvalidInput,
        "a merger the registry does not list needs a reason",
        code="GM0441",
    ),
    Case(
        "merge/not-into-itself",
        [],
        lambda p: p.merge("GM0358", into="GM0358", on=date(2022, 3, 24), by="c"),
        InvalidInput,
        "cannot merge into itself",
        code="GM0358",
    ),
    Case(
        "merge/not-into-a-merged-municipality",
        [lambda p: p.merge("GM0457", into="GM0363", on=date(2022, 3, 24), by="c")],
        lambda p: p.merge(
            "GM0358",
            into="GM0457",
            on=date(2022, 3, 24),
            unlisted=True,
            reason="registry lags",
            by="c",
        ),
        InvalidTransition,
        "was itself merged into GM0363",
        code="GM0358",
    ),
    Case(
        "merge/successor-must-exist",
        [],
        lambda p: p.merge(
            "GM0358",
            into="GM1980",
            on=date(2021, 6, 1),
            unlisted=True,
            reason="registry lags",
            by="c",
        ),
        InvalidTransition,
        "GM1980 Dijk en Waard: merger date 2021-06-01 lies before the municipality existed",
        code="GM0358",
    ),
    Case(
        "merge/not-before-last-step",
        [invited("GM0358", on=date(2021, 1, 5))],
        lambda p: p.merge(
            "GM0358",
            into="GM0363",
            on=date(2021, 1, 4),
            unlisted=True,
            reason="registry lags",
            by="c",
        ),
        InvalidDate,
        "merger date 2021-01-04 lies before its previous lifecycle step",
        code="GM0358",
    ),
    Case(
        "merge/not-in-future",
        [],
        lambda p: p.merge(
            "GM0358",
            into="GM0363",
            on=date(2023, 6, 2),
            unlisted=True,
            reason="registry lags",
            by="c",
        ),
        InvalidDate,
        "lies in the future",
        code="GM0358",
    ),
    Case(
        "merge/succession-not-before-successors-last-step",
        [*WEESP_CONNECTED, invited("GM0363", on=date(2022, 5, 1))],
        lambda p: p.merge("GM0457", into="GM0363", on=date(2022, 3, 24), by="c"),
        InvalidDate,
        "GM0363 Amsterdam: merger date 2022-03-24 lies before its previous lifecycle step",
        code="GM0457",
    ),
    # -- nominate_official -------------------------------------------------------------------
    Case(
        "nominate/at-most-two-active",
        [nominated(), nominated()],
        nominated(),
        CapacityExceeded,
        "already has 2 active officials, the most MMA grants access to is 2",
    ),
    Case(
        "nominate/not-when-merged",
        [lambda p: p.merge("GM0457", into="GM0363", on=date(2022, 3, 24), by="c")],
        nominated("GM0457"),
        InvalidTransition,
        "merged into GM0363; nominate there",
        code="GM0457",
    ),
    Case(
        "nominate/not-in-future",
        [],
        nominated(on=date(2023, 6, 2)),
        InvalidDate,
        "nomination date 2023-06-02 lies in the future",
    ),
    Case(
        "nominate/municipality-must-exist",
        [],
        nominated("GM1980", on=date(2019, 10, 25)),
        InvalidTransition,
        "nomination date 2019-10-25 lies before the municipality existed",
        code="GM1980",
    ),
    Case(
        "nominate/municipality-must-exist-still",
        [],
        nominated("GM0457", on=date(2022, 3, 24)),
        InvalidTransition,
        "lies after the municipality ceased to exist",
        code="GM0457",
    ),
    Case(
        "nominate/email-address",
        [],
        lambda p: p.nominate_official("GM0363", name=NAME, email="m.vos", by="c"),
        InvalidInput,
        "e-mail address is not valid",
    ),
    Case(
        "nominate/name",
        [],
        lambda p: p.nominate_official("GM0363", name="", email=EMAIL, by="c"),
        InvalidInput,
        "name must be 1 to 200 characters",
    ),
    # -- book_training -----------------------------------------------------------------------
    Case(
        "book/known-session",
        [nominated()],
        booked(session="2019-11-07"),
        UnknownSession,
        "no training session '2019-11-07' was scheduled",
    ),
    Case(
        "book/known-official",
        [nominated()],
        booked(official="GM0363-2"),
        UnknownOfficial,
        "no official GM0363-2 was nominated",
    ),
    Case(
        "book/own-official",
        [nominated("GM0479")],
        lambda p: p.book_training(
            "GM0363", official_id="GM0479-1", session_id="2019-11-06", by="c"
        ),
        InvalidInput,
        "official GM0479-1 belongs to GM0479, not to this municipality",
    ),
    Case(
        "book/active-official",
        [nominated(), withdrawn(on=date(2019, 10, 26))],
        booked(),
        InvalidTransition,
        "is no longer active and cannot book training",
    ),
    Case(
        "book/one-session",
        [nominated(), booked()],
        booked(session="2024-01-10"),
        InvalidTransition,
        "an official books one session",
    ),
    Case(
        "book/not-after-session",
        [nominated()],
        booked(on=date(2019, 11, 7)),
        InvalidDate,
        "lies after the session on 2019-11-06",
    ),
    Case(
        "book/not-before-nomination",
        [nominated()],
        booked(on=date(2019, 10, 24)),
        InvalidDate,
        "booking date 2019-10-24 lies before the nomination on 2019-10-25",
    ),
    Case(
        "book/not-in-future",
        [nominated()],
        booked(session="2024-01-10", on=date(2023, 7, 1)),
        InvalidDate,
        "lies in the future",
    ),
    Case(
        "book/session-capacity",
        [nominated("GM0479"), booked("GM0479-1"), nominated()],
        booked(),
        CapacityExceeded,
        "all 1 seats are booked",
    ),
    # -- record_attendance -------------------------------------------------------------------
    Case(
        "attendance/booked-on-that-session",
        [nominated()],
        lambda p: p.record_attendance(
            "GM0363", official_id="GM0363-1", session_id="2019-11-06", attended=True, by="c"
        ),
        InvalidTransition,
        "is not booked on session 2019-11-06",
    ),
    Case(
        "attendance/once",
        [
            nominated(),
            booked(),
            lambda p: p.record_attendance(
                "GM0363", official_id="GM0363-1", session_id="2019-11-06", attended=True, by="c"
            ),
        ],
        lambda p: p.record_attendance(
            "GM0363", official_id="GM0363-1", session_id="2019-11-06", attended=False, by="c"
        ),
        InvalidTransition,
        "was recorded already",
    ),
    Case(
        "attendance/not-before-session",
        [nominated(), booked(session="2024-01-10", on=date(2023, 5, 1))],
        lambda p: p.record_attendance(
            "GM0363", official_id="GM0363-1", session_id="2024-01-10", attended=True, by="c"
        ),
        InvalidDate,
        "session date 2024-01-10 lies in the future",
    ),
    Case(
        "attendance/needs-the-seat",
        [nominated(), booked(), withdrawn()],
        lambda p: p.record_attendance(
            "GM0363", official_id="GM0363-1", session_id="2019-11-06", attended=True, by="c"
        ),
        InvalidTransition,
        "gave up the seat on session 2019-11-06",
    ),
    # -- withdraw_official -------------------------------------------------------------------
    Case(
        "withdraw/known-official",
        [],
        withdrawn(),
        UnknownOfficial,
        "no official GM0363-1 was nominated",
    ),
    Case(
        "withdraw/active-official",
        [nominated(), withdrawn()],
        withdrawn(on=date(2019, 11, 2)),
        InvalidTransition,
        "official GM0363-1 is no longer active",
    ),
    Case(
        "withdraw/not-before-nomination",
        [nominated()],
        withdrawn(on=date(2019, 10, 24)),
        InvalidDate,
        "withdrawal date 2019-10-24 lies before the nomination on 2019-10-25",
    ),
    Case(
        "withdraw/not-in-future",
        [nominated()],
        withdrawn(on=date(2023, 6, 2)),
        InvalidDate,
        "lies in the future",
    ),
    Case(
        "withdraw/official-id-format",
        [],
        lambda p: p.withdraw_official("GM0363/1", by="c"),
        InvalidInput,
        "not an official id",
    ),
    # -- erase_official ----------------------------------------------------------------------
    Case(
        "erase/known-official",
        [],
        lambda p: p.erase_official("GM0363-1", by="privacy-officer"),
        UnknownOfficial,
        "no official GM0363-1 was nominated",
    ),
    Case(
        "erase/once",
        [nominated(), lambda p: p.erase_official("GM0363-1", by="privacy-officer")],
        lambda p: p.erase_official("GM0363-1", by="privacy-officer"),
        InvalidTransition,
        "was erased already",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_each_rule_raises_names_municipality_and_rule_and_writes_nothing(
    memory_programme: Programme, event_count: Callable[[Programme], int], case: Case
) -> None:
    p = memory_programme
    campaign(p)
    for step in case.setup:
        step(p)
    before = event_count(p)
    with pytest.raises(case.error) as caught:
        case.command(p)
    message = str(caught.value)
    assert case.code in message, message
    assert re.search(case.rule, message), message
    assert isinstance(caught.value, DomainError)
    assert event_count(p) == before
    assert NAME not in message
    assert EMAIL not in message
    assert NAME not in repr(caught.value)


def test_every_command_of_the_contract_has_rule_cases() -> None:
    commands = {case.id.split("/")[0] for case in CASES}
    assert commands >= {
        "invite",
        "prior",
        "accept",
        "decline",
        "connect",
        "report",
        "evaluate",
        "renew",
        "terminate",
        "merge",
        "nominate",
        "book",
        "attendance",
        "withdraw",
        "erase",
    }


def test_the_valid_path_through_those_cases_writes_events(
    memory_programme: Programme, event_count: Callable[[Programme], int]
) -> None:
    """The set-up steps are valid on their own: each writes what it should."""
    p = memory_programme
    campaign(p)
    for step in [*CONNECTED, reported(), evaluated(), nominated(), booked()]:
        before = event_count(p)
        step(p)
        assert event_count(p) > before
    m = p.municipality("GM0363")
    assert m.stage == "connected"
    assert m.reports_received == 1
    assert m.officials[0].session_id == "2019-11-06"


def test_a_report_received_while_connected_may_be_recorded_after_it_ended(
    memory_programme: Programme,
) -> None:
    """DESIGN: reports fall on or after the connection and before termination; MMA's reports
    are often recorded in batches, after the fact."""
    p = memory_programme
    campaign(p)
    for step in [*CONNECTED, terminated(), *WEESP_CONNECTED]:
        step(p)
    reported(on=date(2021, 12, 15), reference="MMA-21-0001")(p)  # the termination day counts
    p.merge("GM0457", into="GM0363", on=date(2022, 3, 24), by="c")
    reported("GM0457", on=date(2022, 3, 23), reference="MMA-22-0001")(p)
    assert p.municipality("GM0363").reports_received == 1
    assert p.municipality("GM0457").reports_received == 1
    assert p.municipality("GM0363").stage == "connected"  # by succession from Weesp
    assert p.municipality("GM0457", as_of=date(2022, 3, 23)).reports_received == 1


def test_offer_terms_change_from_their_effective_date_and_must_be_terms(
    memory_programme: Programme, event_count: Callable[[Programme], int]
) -> None:
    p = memory_programme
    p.register_registry("noord-holland-2019", by="coordinator")
    p.make_offer(
        reference="R",
        sent_on=SENT,
        terms=Terms(connection_fee=Money("100"), report_fee=Money("10")),
        by="cdk",
    )
    p.change_offer_terms(
        "R",
        on=date(2020, 1, 1),
        terms=Terms(connection_fee=Money("200"), report_fee=Money("20")),
        by="cdk",
    )
    for code, on in [("GM0363", date(2019, 12, 31)), ("GM0479", date(2020, 1, 1))]:
        p.invite(code, on=SENT, reference="R", by="cdk")
        accepted(code)(p)
        connected(code, on=on)(p)
    # each cost from the terms in force on its own date, stored as then computed
    assert p.municipality("GM0363").costs_province == Money("100")
    assert p.municipality("GM0479").costs_province == Money("200")
    reported(on=date(2019, 12, 31), reference="A-1")(p)
    reported(on=date(2020, 1, 1), reference="A-2")(p)
    assert p.municipality("GM0363").costs_municipality == Money("30")
    assert p.offer_terms("R", on=date(2019, 12, 31)).report_fee == Money("10")
    before = event_count(p)
    with pytest.raises(InvalidInput, match="offer R: terms must be a Terms value"):
        p.change_offer_terms("R", on=date(2020, 2, 1), terms={"fee": 1}, by="cdk")  # type: ignore[arg-type]
    with pytest.raises(InvalidDate, match="before the last change on 2020-01-01"):
        p.change_offer_terms("R", on=date(2019, 12, 1), terms=Terms(), by="cdk")
    with pytest.raises(InvalidTransition, match="offer R was made already"):
        p.make_offer(reference="R", sent_on=SENT, by="cdk")
    with pytest.raises(InvalidDate, match="lies in the future"):
        p.make_offer(reference="R2", sent_on=date(2023, 6, 2), by="cdk")
    assert event_count(p) == before


def test_reports_and_evaluations_may_be_recorded_in_either_order(
    memory_programme: Programme,
) -> None:
    """Whether a history is valid does not depend on the order its facts were recorded in."""
    p = memory_programme
    campaign(p)
    for code in ("GM0363", "GM0479"):
        for step in (invited(code), accepted(code), connected(code)):
            step(p)
    # a report of 5 Dec recorded before the evaluation of 1 Dec, and the other way round
    reported("GM0363", on=date(2020, 12, 5), reference="MMA-A")(p)
    evaluated("GM0363", on=date(2020, 12, 1))(p)
    evaluated("GM0479", on=date(2020, 12, 1))(p)
    reported("GM0479", on=date(2020, 12, 5), reference="MMA-B")(p)
    for code in ("GM0363", "GM0479"):
        p.renew(code, on=date(2020, 12, 3), by="burgemeester")
    first, second = (p.municipality(code) for code in ("GM0363", "GM0479"))
    assert (first.reports_received, first.evaluation_due) == (1, date(2021, 12, 3))
    assert (second.reports_received, second.evaluation_due) == (1, date(2021, 12, 3))
    # termination is different: reports fall before it
    with pytest.raises(InvalidDate, match="GM0363 Amsterdam: termination date 2020-12-04 lies"):
        terminated("GM0363", on=date(2020, 12, 4))(p)
