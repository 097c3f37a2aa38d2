"""The built-in house style: a :class:`Letter` as a PDF/A-2b, set by the Typst compiler.

The ``typst`` package bundles the compiler (no system libraries). The letter travels to the
template as JSON in ``sys.inputs`` and is set as text, so nothing in a name or a reason can
change the layout.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import attrs

from mma_core.paperwork.letters.model import Letter, Letterhead

LABELS = {
    "nl": {
        "contact": "Uw contactpersoon",
        "phone": "Telefoon",
        "date": "Datum",
        "reference": "Kenmerk",
        "their_reference": "Uw kenmerk",
        "subject": "Betreft",
        "attachments": "Bijlage",
    },
    "en": {
        "contact": "Your contact",
        "phone": "Phone",
        "date": "Date",
        "reference": "Our reference",
        "their_reference": "Your reference",
        "subject": "Subject",
        "attachments": "Enclosure",
    },
}


def template() -> bytes:
    return (
        resources.files("mma_core.paperwork.letters").joinpath("templates/letter.typ").read_bytes()
    )


def letter_json(letter: Letter, letterhead: Letterhead, made: datetime | None = None) -> str:
    """The letter for the template; ``made`` (default: now, UTC) is the PDF's creation time."""
    from mma_core.paperwork.letters.composer import dutch_date

    moment = (made or datetime.now(UTC)).astimezone(UTC)
    data: dict[str, Any] = {
        "lang": letter.lang,
        "labels": LABELS.get(letter.lang, LABELS["nl"]),
        "letterhead": attrs.asdict(letterhead),
        "date": {"year": letter.on.year, "month": letter.on.month, "day": letter.on.day},
        "made": {
            "year": moment.year,
            "month": moment.month,
            "day": moment.day,
            "hour": moment.hour,
            "minute": moment.minute,
            "second": moment.second,
        },
        "date_text": dutch_date(letter.on),
        "reference": letter.reference,
        "their_reference": letter.their_reference,
        "subject": letter.subject,
        "recipient": list(letter.recipient),
        "salutation": letter.salutation,
        "closing": letter.closing,
        "attachments": [a.filename for a in letter.attachments],
        "blocks": [attrs.asdict(b) for b in letter.blocks],
    }
    return json.dumps(data, ensure_ascii=False)


def render_pdf(letter: Letter, letterhead: Letterhead | None = None) -> bytes:
    """The letter as PDF/A-2b bytes."""
    import typst

    pdf: bytes = typst.compile(
        template(),
        sys_inputs={"letter": letter_json(letter, letterhead or Letterhead())},
        pdf_standards="a-2b",
    )
    return pdf
