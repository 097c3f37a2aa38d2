"""A letter as plain values: what it says, to whom, under which kenmerk. No layout, no I/O.

A house style (a renderer) turns a :class:`Letter` into a PDF; the built-in one is
:mod:`mma_core.paperwork.letters.render`. Everything a person reads is already in the language
asked for.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:  # an annotation only: the command line reads KINDS without the extensions
    from mma_core.extensions.values import Attachment

KINDS = ("invitation", "reminder", "training", "evaluation", "statement")


@attrs.frozen
class Letterhead:
    """Who sends the letters: the sender's block, contact person and signature.

    The defaults are those of the province's letter of 18 October 2019; a province sets its own
    in ``[plugins.letter]`` of ``mma.toml``.
    """

    organisation: str = "Provincie Noord-Holland"
    postal_address: tuple[str, ...] = ("Postbus 3007", "2001 DA Haarlem")
    visiting_address: tuple[str, ...] = ("Dreef 3", "2012 HR Haarlem")
    phone: str = "(023) 514 3143"
    website: str = "www.noord-holland.nl"
    registration: tuple[str, ...] = ("Kvk-nummer 34362354",)
    contact_name: str = "dhr H. Groot"
    contact_department: str = "AD/KAB/KAB"
    contact_phone: str = ""
    contact_email: str = "grooth@noord-holland.nl"
    signatory: tuple[str, ...] = (
        "De commissaris van de Koning",
        "in de provincie Noord-Holland",
    )

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> Letterhead:
        values: dict[str, Any] = {}
        for field in attrs.fields(cls):
            value = settings.get(field.name)
            if value is None or value == "":
                continue
            values[field.name] = tuple(value) if isinstance(field.default, tuple) else value
        return cls(**values)


@attrs.frozen
class Block:
    """A part of the body: an optional heading, paragraphs, a list and an optional table."""

    heading: str = ""
    paragraphs: tuple[str, ...] = ()
    items: tuple[str, ...] = ()
    table_header: tuple[str, ...] = ()
    table_rows: tuple[tuple[str, ...], ...] = ()
    table_footer: tuple[tuple[str, ...], ...] = ()


@attrs.frozen(repr=False)
class Letter:
    """One letter to one recipient.

    ``name`` is the file name without suffix (``invitation-GM0363``); ``attachments`` are written
    beside the PDF (a training's ``.ics``). ``answer_link`` is where a municipality can answer
    on line; ``None`` until a plugin provides one (the letter then leaves the sentence out).
    """

    kind: str
    code: str
    name: str
    on: date
    reference: str
    subject: str
    recipient: tuple[str, ...]
    salutation: str
    blocks: tuple[Block, ...]
    closing: str
    their_reference: str = ""
    lang: str = "nl"
    attachments: tuple[Attachment, ...] = ()
    answer_link: str | None = None

    def __repr__(self) -> str:  # the recipient may be a person: never in a log line
        return f"Letter({self.kind!r}, {self.code!r}, {self.name!r})"
