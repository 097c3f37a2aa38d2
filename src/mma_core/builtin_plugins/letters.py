"""The built-in house style for letters: the ``letter`` exporter.

``mma letter KIND ...`` writes one PDF per letter through an exporter's ``write_letter``;
``mma export letter --view KIND`` writes every letter of that kind as one ZIP archive. The
letterhead (sender, contact person, signature) comes from ``[plugins.letter]`` in ``mma.toml``.
A province with its own house style registers an exporter with another ``format`` and a
``write_letter(letter, out)`` method, and chooses it with ``mma letter --style FORMAT``.
"""

from __future__ import annotations

import zipfile
from datetime import date
from typing import IO

import attrs

from mma_core.paperwork.letters.composer import compose
from mma_core.paperwork.letters.model import KINDS, Letter, Letterhead
from mma_core.paperwork.letters.render import render_pdf
from mma_core.plugin_api import (
    HOOK_API_VERSION,
    ExportSource,
    PluginInfo,
    PluginSettings,
    RegisterExporter,
    Setting,
    hookimpl,
)

NAME = "letter"
settings = PluginSettings(NAME)
mma_configure = settings.mma_configure


def _schema() -> dict[str, Setting]:
    schema: dict[str, Setting] = {}
    for field in attrs.fields(Letterhead):
        default = field.default
        if isinstance(default, tuple):
            kind = "list"
        elif isinstance(default, int):
            kind = "int"
        elif isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            kind = "table"
        else:
            kind = "str"
        schema[field.name] = Setting(type=kind, help=f"Letterhead: {field.name.replace('_', ' ')}")
    return schema


class LetterExporter:
    format = NAME
    suffix = ".zip"
    views: tuple[str, ...] = KINDS

    def letterhead(self) -> Letterhead:
        return Letterhead.from_settings(dict(settings))

    def write_letter(self, letter: Letter, out: IO[bytes]) -> None:
        out.write(render_pdf(letter, self.letterhead()))

    def export(self, source: ExportSource, view: str | None, out: IO[bytes]) -> None:
        kind = view or "invitation"
        day = source.as_of or date.today()
        letters = compose(
            source.programme,
            kind,
            as_of=day,
            year=day.year if kind == "statement" else None,
            letterhead=self.letterhead(),
        )
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for letter in letters:
                archive.writestr(f"{letter.name}.pdf", render_pdf(letter, self.letterhead()))
                for attachment in letter.attachments:
                    archive.writestr(attachment.filename, attachment.data)


@hookimpl
def mma_plugin_info() -> PluginInfo:
    return PluginInfo(
        name=NAME,
        api_version=HOOK_API_VERSION,
        description="Letters as PDF/A in the form of the offer letter of 18 October 2019",
        config=_schema(),
    )


@hookimpl
def mma_register_exporters(register: RegisterExporter) -> None:
    register(LetterExporter())
