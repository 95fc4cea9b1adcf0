"""Print version: the complete edition as paged-media HTML, and its PDF (WeasyPrint).

Some readers only get the bulletin on paper. ``print.html`` holds every section of the
issue (the *complete* edition) with CSS for pages: US Letter by default, A4 when
``[impression] format = "a4"``, page numbers, the bulletin's name in the running header, no
heading left alone at the bottom of a page. Paper cannot be clicked, so every link is also
written out as text (« En savoir plus : https://… »), including links inside item bodies,
and an item's own link gets its QR code beside the address (``render.qr``).

Items without a link of their own get no QR code, even when the web archive is configured:
paper already carries their whole text, and a code alone, without an address a reader can
type, would be the one way in to a page that may not be published yet.

``write_pdf`` (``render.pdf``) turns that HTML into a PDF offline.
"""

from __future__ import annotations

import html as html_lib
import re
from typing import Any
from urllib.parse import unquote

import jinja2
from markupsafe import Markup

from ..errors import BuildError
from ..i18n import _
from ..models import COMPLETE, Item
from .environment import render_template
from .markdown import markdown_to_html
from .pdf import font_config, load_weasyprint, local_fetcher, write_pdf  # noqa: F401
from .qr import qr_data_uri

TEMPLATE = "print.html.j2"
#: CSS ``@page`` size for each ``[impression] format`` value.
PAGE_SIZES = {"letter": "letter", "a4": "A4"}

# nh3's output is normalized HTML: one quoted href per <a>, no nested links.
_LINK_RE = re.compile(r'(<a\b[^>]*?\bhref="([^"]*)"[^>]*>)(.*?)(</a>)', re.S | re.I)
_TAG_RE = re.compile(r"<[^>]+>")


# --- helpers the template uses --------------------------------------------------------------

def printable_url(url: str) -> str:
    """Return a URL as a reader would type it: « mailto:a@b » → « a@b », « tel: » dropped."""
    url = url.strip()
    for scheme in ("mailto:", "tel:"):
        if url.lower().startswith(scheme):
            return unquote(url[len(scheme):])
    return url


def _same(text: str, url: str) -> bool:
    """True when a link's text already shows its address (« example.org/x » for https://…)."""
    def norm(value: str) -> str:
        value = value.strip().lower().rstrip("/")
        return re.sub(r"^(https?://)?(www\.)?", "", value)
    return norm(text) == norm(printable_url(url))


def write_out_links(body_html: str) -> str:
    """After each link of sanitized HTML, add its address as text (« texte (https://…) »)."""
    def add_url(match: re.Match[str]) -> str:
        opening, href, inner, closing = match.groups()
        url = printable_url(html_lib.unescape(href))
        text = html_lib.unescape(_TAG_RE.sub("", inner))
        if not url or _same(text, url):
            return match.group(0)
        return (f'{opening}{inner}{closing} <span class="url">'
                f'({html_lib.escape(url, quote=False)})</span>')
    return _LINK_RE.sub(add_url, body_html)


def print_body(item: Item) -> Markup:
    """Return an item's body for paper: sanitized Markdown with every link written out."""
    return Markup(write_out_links(markdown_to_html(item.corps)))


def css_string(text: str) -> Markup:
    """Quote ``text`` as a CSS string (for ``content:``), safe inside a ``<style>`` block."""
    out = []
    for ch in str(text):
        if ch in '"\\<>&' or ord(ch) < 0x20:
            out.append(f"\\{ord(ch):X} ")
        else:
            out.append(ch)
    return Markup('"' + "".join(out) + '"')


# --- HTML --------------------------------------------------------------------------------

def render_print_html(env: jinja2.Environment, ctx: dict[str, Any]) -> str:
    """Render ``print.html.j2``: the complete edition, laid out for paper."""
    paper = ctx.get("paper", "letter")
    if paper not in PAGE_SIZES:
        raise BuildError(_("format de papier inconnu : {paper}.").format(paper=paper),
                         fix=_("Dans infolettre.toml, [impression] format vaut « letter » "
                               "ou « a4 »."))
    issue = ctx["issue"]
    return render_template(
        env, TEMPLATE, **{
            **ctx,
            "edition": issue.edition(COMPLETE),
            "page_size": PAGE_SIZES[paper],
            "print_body": print_body,
            "printable_url": printable_url,
            "css_string": css_string,
            "qr_src": qr_data_uri,
        })
