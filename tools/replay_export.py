#!/usr/bin/env python3
"""Replay an mma_core audit export without mma_core: each municipality's stage and costs by
payer on a day.

    python tools/replay_export.py EXPORT_DIR --as-of YYYY-MM-DD [--json]

Written from docs/events.md alone (the event catalogue) and the standard library: it reads
``events.jsonl`` line by line, decodes each stored state (UTF-8 JSON), keeps the municipalities'
events that count on the day, and folds them by the rules of the catalogue's "A municipality's
stage and costs". Corrections amend the facts before the fold: a ``FactRetracted`` takes the
fact at its ``version`` out of the history (on every day: it was never true), a ``FactRestated``
puts the corrected fact (its ``data``) back at that version, counted on its own business date.
Their cost lines need no reading: the corrected fact carries its costs, priced again.
Verify the export first (tools/verify_export.py): this tool trusts its input.
Exit status 0, or 2 for bad usage or an export it cannot read (an encrypted store's states are
not JSON: export a store without a whole-store cipher key to replay it).
"""

from __future__ import annotations

import base64
import json
import sys
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

AGGREGATE = "Municipality"
STAGE_OF = {
    "Registered": "registered",
    "Invited": "invited",
    "Accepted": "accepted",
    "Declined": "declined",
    "Connected": "connected",
    "PriorConnectionCompensated": "connected",
    "Terminated": "stopped",
    "Merged": "merged",
}
COST_FIELD = {
    "Connected": "cost",
    "PriorConnectionCompensated": "compensation",
    "ReportReceived": "fee",
    "Renewed": "fee",  # optional: absent or null in renewals without a yearly fee
}
PAYERS = ("province", "municipality")
AMENDMENTS = ("FactRetracted", "FactRestated")


class Unreadable(Exception):
    """The export cannot be read as the catalogue describes."""


def value(data: Any) -> Any:
    """A stored value: tagged objects ({"_type_", "_data_"}) decoded, others as they are."""
    if isinstance(data, dict) and set(data) == {"_type_", "_data_"}:
        tag, inner = data["_type_"], data["_data_"]
        if tag == "date_iso":
            return date.fromisoformat(inner)
        if tag == "money":
            return Decimal(inner)
        if tag == "cost_line":
            return {**inner, "amount": Decimal(inner["amount"])}
        return inner  # datetime_iso, terms: not needed for stages and costs
    return data


@dataclass
class Municipality:
    code: str = ""
    name: str = ""
    stage: str = "registered"
    valid_from: date | None = None
    valid_until: date | None = None
    merged: bool = False
    costs: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(PAYERS, Decimal("0")))

    def exists_on(self, day: date) -> bool:
        if self.valid_from is not None and day < self.valid_from:
            return False
        if self.valid_until is not None and day > self.valid_until:
            return False
        return not self.merged


def business_date(kind: str, state: dict[str, Any]) -> date | None:
    """The day an event's fact took effect, or None when it always counts."""
    if kind == "Registered":
        return None
    if kind == "ReportReceived":
        return value(state.get("received_on"))
    day = value(state.get("on"))
    return day if isinstance(day, date) else None


def apply(m: Municipality, kind: str, state: dict[str, Any]) -> None:
    if kind == "Registered":
        m.code, m.name = state["code"], state["name"]
        m.valid_from, m.valid_until = value(state["valid_from"]), value(state["valid_until"])
    if kind in STAGE_OF:
        m.stage = STAGE_OF[kind]
    if kind == "PredecessorMerged" and state.get("connected_by_succession"):
        m.stage = "connected"
    if kind == "Merged":
        m.merged = True
    line = value(state.get(COST_FIELD.get(kind, "")))
    if line is not None:
        m.costs[line["payer"]] = m.costs.get(line["payer"], Decimal("0")) + line["amount"]


def replay(directory: Path, day: date) -> list[Municipality]:
    # Each municipality's facts by version, amended as the corrections say, then folded.
    facts: dict[str, dict[int, tuple[str, dict[str, Any]]]] = {}
    with (directory / "events.jsonl").open("rb") as lines:
        for n, line in enumerate(lines, 1):
            row = json.loads(line)
            topic = row["topic"]
            aggregate, _, kind = topic.partition(":")[2].partition(".")
            if aggregate != AGGREGATE:
                continue
            try:
                state = json.loads(base64.b64decode(row["state"]).decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                raise Unreadable(
                    f"events.jsonl line {n}: the state is not JSON (an encrypted store?)"
                ) from None
            history = facts.setdefault(row["aggregate_id"], {})
            if kind == "FactRetracted":
                history.pop(int(state["version"]), None)
            elif kind == "FactRestated":
                history[int(state["version"])] = (state["fact"], state["data"])
            else:
                history[int(row["version"])] = (kind, state)
    municipalities: dict[str, Municipality] = {}
    for aggregate_id, history in facts.items():
        m = municipalities.setdefault(aggregate_id, Municipality())
        for version in sorted(history):
            kind, state = history[version]
            when = business_date(kind, state)
            if when is not None and when > day:
                continue
            apply(m, kind, state)
    # A merged municipality stays in the list, as merged, with the costs it incurred: money
    # paid before a merger stays paid (docs/events.md, "Costs of merged municipalities").
    listed = [
        m
        for m in municipalities.values()
        if m.exists_on(day) or m.merged or any(m.costs.get(payer) for payer in PAYERS)
    ]
    return sorted(listed, key=lambda m: m.code)


def main(argv: list[str]) -> int:
    args, as_of, as_json = [], None, False
    items = iter(argv)
    for arg in items:
        if arg == "--as-of":
            as_of = next(items, None)
        elif arg == "--json":
            as_json = True
        elif arg in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            args.append(arg)
    try:
        day = date.fromisoformat(as_of or "")
    except ValueError:
        day = None
    if len(args) != 1 or not Path(args[0]).is_dir() or day is None:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        found = replay(Path(args[0]), day)
    except (Unreadable, OSError, ValueError, KeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if as_json:
        rows = [
            {
                "code": m.code,
                "name": m.name,
                "stage": m.stage,
                "costs_by_payer": {payer: str(m.costs[payer]) for payer in PAYERS},
            }
            for m in found
        ]
        print(json.dumps({"as_of": day.isoformat(), "municipalities": rows}, indent=2))
        return 0
    print(f"{'code':<8} {'stage':<11} {'province':>12} {'municipality':>12}  name")
    for m in found:
        print(
            f"{m.code:<8} {m.stage:<11} {m.costs['province']:>12} "
            f"{m.costs['municipality']:>12}  {m.name}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
