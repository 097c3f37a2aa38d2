"""What ``history`` and ``follow`` say about amended facts: the amended fact names its
retraction or correction, the amendment names what it amends, and personal data inside an
amended nomination is revealed in history only, never followed."""

from __future__ import annotations

import json
from datetime import date

from integration.test_result_schemas import valid
from mma_core import Programme

OFFER = "1298348/1298354"


def _position(prog: Programme, code: str, kind: str) -> int:
    return [e for e in prog.history(code) if e.type == kind][-1].position


def test_an_amended_fact_and_its_amendment_name_each_other(
    memory_programme: Programme,
) -> None:
    prog = memory_programme
    prog.register_registry("noord-holland-2019", by="c")
    prog.make_offer(reference=OFFER, sent_on=date(2019, 10, 18), by="c")
    for code in ("GM0363", "GM0358"):
        prog.invite(code, on=date(2019, 10, 18), reference=OFFER, by="c")
    prog.accept("GM0363", on=date(2019, 11, 1), by="c")
    prog.decline("GM0358", on=date(2019, 11, 2), reason="no time", by="c")
    oid = prog.nominate_official(
        "GM0363", name="Jan Jansen", email="jan@example.nl", on=date(2019, 11, 1), by="c"
    )
    nominated = _position(prog, "GM0363", "OfficialNominated")
    declined = _position(prog, "GM0358", "Declined")

    prog.correct(nominated, name="Jan Janssen", reason="name misspelt", by="c")
    prog.retract(declined, reason="never declined", by="c")

    history = {e.position: e for e in prog.history("GM0363")}
    restated = [e for e in history.values() if e.type == "FactRestated"][-1]
    retracted = [e for e in history.values() if e.type == "FactRetracted"][-1]
    assert history[nominated].corrected_by is not None
    assert history[nominated].corrected_by.position == restated.position
    assert history[nominated].corrected_by.reason == "name misspelt"
    assert history[nominated].retracted_by is None
    assert restated.amends == nominated
    assert retracted.amends == nominated
    # Revealed as OfficialNominated's own personal data is: name and email.
    assert restated.data["data"]["personal_data"] == {
        "name": "Jan Janssen",
        "email": "jan@example.nl",
    }
    assert retracted.data["data"]["personal_data"]["name"] == "Jan Jansen"
    for entry in history.values():
        valid("HistoryEntry", entry.to_dict())

    gm0358 = {e.position: e for e in prog.history("GM0358")}
    assert gm0358[declined].retracted_by is not None
    assert gm0358[declined].retracted_by.reason == "never declined"
    assert gm0358[declined].to_dict()["retracted_by"] == {
        "position": gm0358[declined].retracted_by.position,
        "reason": "never declined",
    }

    # Followed by exporters: no personal data, not even sealed.
    records = list(prog.follow())
    followed = json.dumps([r.to_dict() for r in records])
    assert "personal_data" not in followed
    assert "Jans" not in followed
    for record in records:
        valid("EventRecord", record.to_dict())
    assert str(oid) in followed
