"""``python -m infolettre.cli …``: the same as the ``infolettre`` command."""

import sys

from . import main

sys.exit(main())
