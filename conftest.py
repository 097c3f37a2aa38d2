"""For every test under the repository (tests/ and plugins/*/tests).

``mma`` speaks Dutch unless told otherwise; the suite was written against its English output, so
it runs in English. Tests of the Dutch output ask for it (``--lang nl`` or ``MMA_LANG=nl``).
"""

from __future__ import annotations

import os

os.environ["MMA_LANG"] = "en"
