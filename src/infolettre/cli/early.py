"""Start the PDF's process before anything else when the command is ``infolettre build``.

The PDF is the longest path of a build (``render.pdfjob``): its process loads WeasyPrint
for ~0.3 s before it can lay anything out. Started here, from ``cli/__init__``, it begins
~0.2 s sooner than from the ``build`` command, whose Click, Rich and settings come first.
Only the ``infolettre`` command's own process does this (``sys.argv[0]`` is the
``infolettre`` script, or ``-m`` while ``python -m infolettre.cli`` finds its module): a
program that imports the CLI, tests included, starts nothing. The arguments are read just
enough to recognize ``build`` with its PDF; anything unusual, and nothing starts early (the
command starts its process itself). A process the command does not take is stopped at exit.
"""

from __future__ import annotations

import atexit
import sys
from pathlib import Path

from ..render.pdfjob import PdfJob

#: The group's options that take a value (``cli.frame.app``), and those that do not.
_WITH_VALUE = ("--config", "-c")
_FLAGS = ("--debug", "--strict")

_started: PdfJob | None = None


def command_of(args: list[str]) -> tuple[str | None, list[str]]:
    """Return the command named by ``args`` (after the group's options) and its arguments;
    (None, []) when they are anything but plain."""
    rest = list(args)
    while rest and rest[0].startswith("-"):
        option = rest.pop(0)
        if option in _WITH_VALUE:
            if not rest:
                return None, []
            rest.pop(0)
        elif not (option in _FLAGS or option.startswith("--config=")):
            return None, []
    return (rest[0], rest[1:]) if rest else (None, [])


def wants_pdf(argv: list[str]) -> bool:
    """Tell whether ``argv`` is the ``infolettre`` command building an issue with its PDF."""
    if not argv or Path(argv[0]).stem not in ("infolettre", "-m"):
        return False
    command, rest = command_of(argv[1:])
    return command == "build" and not {"--sans-pdf", "--help", "-h"} & set(rest)


def start(argv: list[str] | None = None) -> None:
    """Start the PDF's process now if this process is ``infolettre build``."""
    global _started
    if _started is None and wants_pdf(sys.argv if argv is None else argv):
        try:
            _started = PdfJob()
        except OSError:  # no process to be had: the build lays the PDF out itself
            return
        atexit.register(_started.close)


def pdf_job() -> PdfJob | None:
    """The PDF's process for the ``build`` command: the one started early, else a new one;
    None when no process can be started (the PDF is then laid out in this one)."""
    global _started
    job, _started = _started, None
    if job is not None:
        return job
    try:
        return PdfJob()
    except OSError:
        return None
