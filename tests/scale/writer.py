"""A writer process for the concurrency tests: many commands on the same few municipalities.

Run as ``python tests/scale/writer.py URL WORKER COMMANDS SEED``; prints one JSON line with how
many commands of each kind succeeded and how many were refused by a rule.
"""

from __future__ import annotations

import json
import random
import sys
from datetime import date

from mma_core import DomainError, Programme
from mma_core.domain.values import MMA_CATEGORIES

CODES = [
    "GM0358", "GM0361", "GM0362", "GM0363", "GM0370", "GM0373", "GM0375", "GM0376", "GM0377",
    "GM0383", "GM0400", "GM0384", "GM0498", "GM0385", "GM0388", "GM1942", "GM0392", "GM0394",
    "GM0396", "GM0397",
]  # fmt: skip
EVENTS_PER_COMMAND = {"report": 2, "nominate": 1, "withdraw": 1}


def main(url: str, worker: int, commands: int, seed: int) -> None:
    rng = random.Random(seed)
    done = dict.fromkeys(EVENTS_PER_COMMAND, 0)
    refused = dict.fromkeys(EVENTS_PER_COMMAND, 0)
    with Programme.open(url, origin=f"writer-{worker}") as prog:
        for n in range(commands):
            code = rng.choice(CODES)
            kind = rng.choices(["report", "nominate", "withdraw"], weights=[6, 2, 2])[0]
            try:
                if kind == "report":
                    prog.record_report(
                        code,
                        received_on=date(2020, 1 + n % 12, 1 + n % 28),
                        category=rng.choice(MMA_CATEGORIES),
                        reference=f"W{worker}-{n}",
                        by="writer",
                    )
                elif kind == "nominate":
                    prog.nominate_official(
                        code,
                        name=f"Official {worker}-{n}",
                        email=f"o{worker}x{n}@example.nl",
                        on=date(2020, 1, 1),
                        by="writer",
                    )
                else:
                    active = [o.id for o in prog.municipality(code).officials if o.active]
                    if not active:
                        refused[kind] += 1
                        continue
                    prog.withdraw_official(rng.choice(active), on=date(2020, 6, 1), by="writer")
                done[kind] += 1
            except DomainError:
                refused[kind] += 1
    print(json.dumps({"done": done, "refused": refused}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
