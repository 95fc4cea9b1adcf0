"""User Markdown → safe HTML: markdown-it-py with raw HTML off, then nh3.

Anything a person or a feed wrote goes through here before a template sees it. Raw HTML in
Markdown is shown as text; what remains is cleaned against a small allow-list that email
clients and print both support. Template syntax (``{{ }}``, ``{% %}``) is plain text here and
stays plain text: templates receive this HTML as data and never evaluate it.
"""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml as escape_html

from .. import models

ALLOWED_TAGS = {"p", "br", "strong", "b", "em", "i", "a", "ul", "ol", "li",
                "blockquote", "h3", "h4", "code", "hr"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
#: What an item's ``lien`` may be: the item's rule (``models``), checked again at render.
SAFE_LINK = models.SAFE_LINK
safe_link = models.safe_link


@lru_cache(maxsize=1)
def parser() -> MarkdownIt:
    """Return the one Markdown parser of user text (HTML part and text part agree)."""
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False,
                                   "breaks": False})
    # MRML drops a newline between two inline tags: render soft breaks as a space.
    md.add_render_rule("softbreak", lambda *args: " ")
    # Headings inside an item stay below the item's own title.
    md.add_render_rule("heading_open", _heading_open)
    md.add_render_rule("heading_close", _heading_close)
    # Images in a body are not fetched (no remote loads in a mail client): keep their alt text.
    md.add_render_rule("image", _image_alt)
    return md


def _demote(level: str) -> str:
    return "h3" if level in ("h1", "h2", "h3") else "h4"


def _heading_open(self, tokens, idx, options, env) -> str:
    return f"<{_demote(tokens[idx].tag)}>"


def _heading_close(self, tokens, idx, options, env) -> str:
    return f"</{_demote(tokens[idx].tag)}>\n"


def _image_alt(self, tokens, idx, options, env) -> str:
    alt = "".join(t.content for t in tokens[idx].children or ()) or tokens[idx].content
    return f"[{escape_html(alt)}]" if alt else ""


def sanitize_html(html: str) -> str:
    """Clean HTML from any outside source against the allow-list (links open safely)."""
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes=URL_SCHEMES, link_rel="noopener noreferrer",
                     strip_comments=True)


@lru_cache(maxsize=4096)
def markdown_to_html(text: str) -> str:
    """Render user Markdown to sanitized HTML (cached: an item shows in several editions)."""
    return sanitize_html(parser().render(text or "")).strip()
