"""``python -m mma_core.cli``: the same as the ``mma`` console script."""

from mma_core.cli import main

main()
