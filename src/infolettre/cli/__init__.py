"""The ``infolettre`` command: it only parses arguments, calls ``infolettre.pipeline`` (one
function per user action, the same the scheduler and the review app call) and prints.

``frame`` holds the group (``app``), the consoles and ``main`` (the one place errors are
caught); the commands are grouped by what they act on: ``issue`` (check, build, send,
status, approve, postal), ``gather`` (mail, feeds, feed health), ``data`` (unsubscribes,
backup), ``site`` (publish), ``bounces``, ``circulation``.
"""

from . import early

early.start()  # ``infolettre build``: the PDF's process, before the imports below (cli.early)

# Each module registers its commands.
from . import bounces, circulation, data, gather, issue, site, web  # noqa: E402,F401
from .frame import app, main, state

__all__ = ["app", "main", "state"]
