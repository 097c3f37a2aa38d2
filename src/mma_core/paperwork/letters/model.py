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
    # Everyone a municipality may answer to, as "NAME | E-MAIL | PRONOUN": the pronoun (hem,
    # haar, or empty for the neutral form) writes "kunt u hem bereiken"; several contacts read
    # "kunt u hen bereiken". The letter of 18 October 2019 names two.
    contacts: tuple[str, ...] = (
        "dhr H. Groot | grooth@noord-holland.nl | hem",
        "mevr M. le Clercq | | haar",
    )
    # Under the closing: the signatory's name (empty: none printed) above the title lines.
    signatory_name: str = ""
    signatory: tuple[str, ...] = (
        "De commissaris van de Koning",
        "in de provincie Noord-Holland",
    )
    # The answer is asked for this many days after the letter's date (the deadlines' three
    # weeks).
    answer_days: int = 21
    # Recipients' postal addresses by municipality code, lines separated by ";":
    # GM0363 = "Postbus 202; 1000 AE Amsterdam". A municipality without one gets none.
    addresses: dict[str, str] = attrs.field(factory=dict, hash=False)

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> Letterhead:
        values: dict[str, Any] = {}
        for field in attrs.fields(cls):
            value = settings.get(field.name)
            if value is None or value == "" or value == {}:
                continue
            values[field.name] = tuple(value) if isinstance(field.default, tuple) else value
        if "contacts" not in values and "contact_name" in values:
            # A letterhead of before the contacts list: its one contact, in the neutral form.
            email = values.get("contact_email", "")
            values["contacts"] = (f"{values['contact_name']} | {email} |",)
        return cls(**values)

    def contact_list(self) -> tuple[Contact, ...]:
        """The contacts, read from their "NAME | E-MAIL | PRONOUN" lines (checked)."""
        return tuple(Contact.parse(line) for line in self.contacts)

    def address_of(self, code: str) -> tuple[str, ...]:
        text = self.addresses.get(code, "")
        return tuple(line.strip() for line in text.split(";") if line.strip())


PRONOUNS = ("hem", "haar", "")


@attrs.frozen
class Contact:
    """A contact person a letter names: name, e-mail (may be empty) and pronoun ("" neutral)."""

    name: str
    email: str = ""
    pronoun: str = ""

    @classmethod
    def parse(cls, line: str) -> Contact:
        from mma_core.domain.errors import InvalidInput
        from mma_core.language.i18n import _

        parts = [p.strip() for p in str(line).split("|")]
        if not parts[0] or len(parts) > 3:
            raise InvalidInput(
                _(
                    "letter contact {line} is not NAME | E-MAIL | PRONOUN (hem, haar or empty); "
                    "set contacts in [plugins.letter] of mma.toml"
                ).format(line=repr(line))
            )
        name, email, pronoun = (*parts, "", "")[:3]
        if pronoun.lower() not in PRONOUNS:
            raise InvalidInput(
                _("letter contact {name}: pronoun {pronoun} is not hem, haar or empty").format(
                    name=repr(name), pronoun=repr(pronoun)
                )
            )
        return cls(name=name, email=email, pronoun=pronoun.lower())


@attrs.frozen
class Block:
    """A part of the body: an optional heading, paragraphs, a list and an optional table."""

    heading: str = ""
    paragraphs: tuple[str, ...] = ()
    items: tuple[str, ...] = ()
    table_header: tuple[str, ...] = ()
    table_rows: tuple[tuple[str, ...], ...] = ()
    table_footer: tuple[tuple[str, ...], ...] = ()
    # A web address set on a line of its own after the paragraphs, as a link: never broken
    # over two lines and never followed by a full stop (a copied "." would break it).
    link: str = ""


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
