"""Programme.invite_all: the batch invitation of ``mma invite --all``, all or nothing."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import pytest

from mma_core import InvalidDate, Programme, RuleViolation, UnknownOffer
from mma_core.application.commands import Command
from mma_core.domain.values import Stage
from mma_core.views.state import MunicipalityView

OFFER = "1298348/1298354"
ON = date(2019, 10, 18)


def offered(prog: Programme) -> None:
    prog.register_registry("noord-holland-2019", by="coordinator")
    prog.make_offer(reference=OFFER, sent_on=ON, by="cdk")


def test_invites_every_municipality_not_yet_invited_in_registration_order() -> None:
    with Programme.open("memory://") as prog:
        offered(prog)
        prog.invite("GM0363", on=ON, reference=OFFER, by="cdk")
        prog.decline("GM0363", on=date(2019, 11, 1), by="burgemeester")
        # The ones the command line's batch picked: registered on the day, in the overview.
        views = prog.overview(as_of=ON).municipalities
        expected = [v.code for v in views if v.stage is Stage.REGISTERED]
        invited = prog.invite_all(on=ON, reference=OFFER, by="cdk")
        assert invited == expected
        assert "GM0363" not in invited
        assert len(invited) == 46
        assert all(prog.municipality(c).stage is Stage.INVITED for c in invited)
        assert prog.municipality("GM0363").stage is Stage.DECLINED
        # A second run finds nobody left to invite.
        assert prog.invite_all(on=ON, reference=OFFER, by="cdk") == []


def test_skips_municipalities_that_do_not_exist_on_the_day() -> None:
    with Programme.open("memory://") as prog:
        offered(prog)
        invited = prog.invite_all(on=ON, reference=OFFER, by="cdk")
        later = [c for c in prog.codes() if c not in invited]
        assert later, "the registry holds successors formed after 2019"
        for code in later:
            assert prog.municipality(code).stage is Stage.REGISTERED


def test_one_rejected_invitation_writes_none() -> None:
    def no_amsterdam(cmd: Command, view: MunicipalityView | None) -> Iterable[str]:
        return ["not Amsterdam"] if cmd.name == "invite" and cmd.code == "GM0363" else []

    with Programme.open("memory://", validators=[no_amsterdam]) as prog:
        offered(prog)
        before = prog.event_count()
        with pytest.raises(RuleViolation, match="not Amsterdam"):
            prog.invite_all(on=ON, reference=OFFER, by="cdk")
        assert prog.event_count() == before
        assert all(prog.municipality(c).stage is Stage.REGISTERED for c in prog.codes())


def test_a_bad_offer_or_day_writes_nothing() -> None:
    with Programme.open("memory://") as prog:
        offered(prog)
        before = prog.event_count()
        with pytest.raises(UnknownOffer):
            prog.invite_all(on=ON, reference="no-such-offer", by="cdk")
        with pytest.raises(InvalidDate):  # before the offer was sent
            prog.invite_all(on=date(2019, 10, 1), reference=OFFER, by="cdk")
        assert prog.event_count() == before


def test_a_request_id_answers_a_retry_with_the_first_result() -> None:
    with Programme.open("memory://") as prog:
        offered(prog)
        first = prog.invite_all(on=ON, reference=OFFER, by="cdk", request_id="batch-1")
        count = prog.event_count()
        again = prog.invite_all(on=ON, reference=OFFER, by="cdk", request_id="batch-1")
        assert again == first
        assert len(first) == 47  # every municipality of October 2019
        assert prog.event_count() == count
