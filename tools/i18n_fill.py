"""Bring the Dutch catalog in step with the template: ``make i18n`` runs babel's extract and
update, then this, then compile. Fails, naming them, when a message has no Dutch translation."""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.pofile import read_po


def missing(po: Path) -> list[str]:
    with po.open("rb") as stream:
        catalog = read_po(stream)
    return [
        str(m.id if isinstance(m.id, str) else m.id[0])
        for m in catalog
        if m.id and (m.fuzzy or not (m.string if isinstance(m.string, str) else all(m.string)))
    ]


if __name__ == "__main__":
    gaps = missing(Path(sys.argv[1]))
    for message in gaps:
        print(f"no Dutch translation: {message!r}", file=sys.stderr)
    sys.exit(1 if gaps else 0)
