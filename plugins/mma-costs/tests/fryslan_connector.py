"""A process for the Fryslân ceiling test: connects the given municipalities at once.

Run as ``python fryslan_connector.py URL CODE...``; prints one JSON line with the amounts.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime

import mma_costs.plugin

from mma_core.plugin_api import Config, load_plugins, open_programme


def main(url: str, codes: list[str]) -> None:
    config = Config(data={"costs": {"connection": "fryslan-2022"}, "plugins": {}})
    plugins = load_plugins(config, env={}, entry_points=[])
    plugins.register(mma_costs.plugin, "mma-costs")
    charged = {}
    with open_programme(
        url, plugins=plugins, clock=lambda: datetime(2023, 6, 1, 12, tzinfo=UTC)
    ) as prog:
        for code in codes:
            prog.connect(code, on=date(2022, 3, 1), by="coordinator")
            (line,) = [c.line for c in prog.municipality(code, cost_lines=True).costs]
            charged[code] = str(line.amount.amount)
    print(json.dumps(charged))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
