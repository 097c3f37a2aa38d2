"""A writer for the contention test: COMMANDS reports on one municipality, as fast as it can.

Run as ``python tests/scale/contention_writer.py URL WORKER COMMANDS``; prints one JSON line
with how many commands succeeded and how many ended in ConcurrencyConflict.
"""

from __future__ import annotations

import json
import sys
from datetime import date

from mma_core import ConcurrencyConflict, Programme


def main(url: str, worker: int, commands: int) -> None:
    done = conflicts = 0
    with Programme.open(url, origin=f"writer-{worker}") as prog:
        for n in range(commands):
            try:
                prog.record_report(
                    "GM0363",
                    received_on=date(2020, 1 + n % 12, 1 + n % 28),
                    category="fraude",
                    reference=f"C{worker}-{n}",
                    by="writer",
                )
                done += 1
            except ConcurrencyConflict:
                conflicts += 1
    print(json.dumps({"done": done, "conflicts": conflicts}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
