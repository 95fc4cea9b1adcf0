"""Render stage: an organized ``Issue`` → email HTML, plain text and print, per edition.

Each edition is rendered once (Jinja2 → MJML → HTML, and its text part); per-recipient
values stay as placeholders until delivery. ``render_issue`` is the stage's one entry point.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..models import Issue, RenderedIssue
    from ..settings import Settings
    from .personalize import Placeholders


def render_issue(issue: Issue, settings: Settings,
                 placeholders: Placeholders | None = None, *,
                 on_print: Callable[[str], None] | None = None) -> RenderedIssue:
    """Render every edition of ``issue`` and its print version.

    The print version comes first, and ``on_print`` gets it at once: the PDF is laid out
    in a second process while the emails are rendered (``render.pdfjob``).
    """
    # Imported here, not above: the process that lays out the PDF (``pdfjob``) imports
    # ``render.pdf`` alone, without Jinja2, Markdown and the email's libraries.
    from ..models import RenderedEdition, RenderedIssue
    from .context import base_context, edition_context
    from .email import render_email_html
    from .environment import make_environment
    from .personalize import Placeholders
    from .print import render_print_html
    from .text import render_text

    placeholders = placeholders or Placeholders()
    env = make_environment(settings.paths.gabarits)
    base = base_context(issue, settings, placeholders)
    print_html = render_print_html(env, base)
    if on_print is not None:
        on_print(print_html)
    editions = []
    for edition in issue.editions:
        ctx = edition_context(base, issue, edition, settings)
        editions.append(RenderedEdition(
            slug=edition.slug, titre=edition.titre, subject=ctx["subject"],
            html=render_email_html(env, ctx, settings), text=render_text(env, ctx)))
    return RenderedIssue(issue=issue, editions=tuple(editions),
                         print_html=print_html, placeholders=placeholders)
