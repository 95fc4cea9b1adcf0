"""Build one issue: gather the files → organize → render, then write ``build/<YYYY-MM>/``.

Apart from the other actions on an issue (``issue``): building needs neither the ledger,
the sending nor the web archive, so ``infolettre build`` imports only what it uses.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from ..errors import Problem
from ..gather.files import gather_files
from ..models import RenderedIssue
from ..organize import organize
from ..render import render_issue
from ..render.outputs import (BuildResult, default_out_dir, hand_over_print,
                              refuse_preview_over_build, write_outputs)
from ..render.pdfjob import PdfJob
from ..settings import Settings


def prepare(settings: Settings, month: str, *, parution: date | None = None,
            preview: bool = False, pdf_job: PdfJob | None = None
            ) -> tuple[RenderedIssue, list[Problem]]:
    """Gather, organize and render one issue in memory (no file of the build written).

    ``pdf_job`` gets the print HTML as soon as it is rendered, before the emails.
    """
    items, problems = gather_files(settings, month)
    issue = organize(items, settings, month, parution=parution, preview=preview)
    on_print = None
    if pdf_job is not None:
        def on_print(html: str) -> None:
            hand_over_print(pdf_job, issue, html, settings)
    rendered = render_issue(issue, settings, on_print=on_print)
    return rendered, problems + list(issue.notices)


def build(settings: Settings, month: str, *, out: Path | None = None,
          parution: date | None = None, preview: bool = False, pdf: bool = True,
          pdf_job: PdfJob | None = None) -> BuildResult:
    """Build one issue into ``build/<YYYY-MM>/``: every edition, print, and an index.

    A preview goes to ``apercu/<YYYY-MM>/`` (or ``out``), never over the approved build.
    ``pdf_job``: a ``render.pdfjob.PdfJob`` started by the caller, which lays the PDF out
    in a second process (``infolettre build``); without it, the PDF is laid out here.
    """
    out = out or default_out_dir(settings, month, preview=preview)
    if preview:
        refuse_preview_over_build(out, settings, month)
    rendered, problems = prepare(settings, month, parution=parution, preview=preview,
                                 pdf_job=pdf_job if pdf else None)
    result = BuildResult(month, out, rendered, problems)
    # --- reading ends here; writing begins ---
    write_outputs(result, settings, pdf=pdf, pdf_job=pdf_job)
    return result
