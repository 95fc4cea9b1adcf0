"""When each stage of infolettre runs: ``python scheduler.py`` (APScheduler 3.x).

The calendar of ``[calendrier]`` (infolettre.toml) in the foreground: mail and feed
readings, the call for news, the reminder, the deadline with its preview, the send of the
signed-off issue, retries of deferred messages, the daily backup. ``--une-fois`` runs what
is due now and exits (cron, a systemd timer); ``--prochaines N`` prints the next steps.
This file holds no logic: ``infolettre.cli.scheduler`` wires APScheduler to the pipeline's
functions (``infolettre.pipeline.schedule``). See README.md, « Le calendrier ».
"""

from __future__ import annotations

import sys
from pathlib import Path

try:
    from infolettre.cli.scheduler import main
except ModuleNotFoundError:  # run from a clone without installing: use its src/
    sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))
    from infolettre.cli.scheduler import main

if __name__ == "__main__":
    sys.exit(main())
