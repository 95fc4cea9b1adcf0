"""When each stage of infolettre runs (APScheduler 3.x) — to come.

The scheduler will only decide *when* things happen (gather mail and feeds, remind the
pivot, send the signed-off issue on the first Tuesday of the month); it will hold no logic
of its own: every job calls a function of ``infolettre.pipeline``. Until then, run the
stages by hand with the ``infolettre`` command (see README.md).
"""

from __future__ import annotations

import sys


def main() -> int:
    """Explain that scheduling is not available yet, rather than pretending to run."""
    print("La planification automatique n'est pas encore disponible : lancez les étapes avec "
          "la commande « infolettre » (voir README.md).", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
