"""An entry's HTML → Markdown, with its relative links resolved: what feedparser no longer does.

feedparser can sanitize HTML and resolve relative links itself, but that is ~40 % of its
parsing time (a second pure-Python HTML parser over every value), and nh3 runs anyway:
``html_to_markdown`` keeps only our allow-list (links: http, https and mailto only) — it is
what makes a body safe, with or without feedparser's pass. So ``parse`` calls feedparser
with both off, and this module does what they did that still matters to us:

* **relative links** (``<a href="../plan.pdf">``) are resolved against the value's base:
  the ``xml:base`` in force where the value was, which feedparser still reports as the
  value's ``base``, else the feed's URL (only absolute links survive ``safe_link``);
* **elements whose inside is not text** (``<iframe>``, ``<noscript>``, ``<textarea>``,
  ``<noembed>``…: HTML reads their content as raw text) are removed *with* that content,
  which would otherwise reach the bulletin as literal markup (« <b>x</b> »). feedparser's
  own parser did not treat them as raw text, so its pass hid this.

The extra nh3 pass costs ~45 µs, so it runs only when the value has something to resolve or
to remove (``_NEEDS_PASS``, deliberately broad); when it does not, the value goes straight
to ``html_to_markdown``. Either way every value goes through ``html_to_markdown``'s nh3.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

import nh3

from ..mail.html import html_to_markdown

#: Removed with everything inside them: what HTML reads as raw text (or as a template),
#: scripts and styles. (``<object>``'s inside is its fallback, real HTML: its text stays.)
DROPPED_WITH_CONTENT = frozenset({
    "script", "style", "title", "head", "iframe", "noscript", "noembed", "noframes", "xmp",
    "textarea", "plaintext", "template"})
#: The first pass keeps nh3's default (safe) tags: ``html_to_markdown`` narrows them later.
_TAGS = frozenset(nh3.ALLOWED_TAGS) - DROPPED_WITH_CONTENT
_SCHEMES = {"http", "https", "mailto"}
_ABSOLUTE = re.compile(r"^\s*(?:https?://|mailto:)", re.IGNORECASE)
#: A value needs the first pass when it has an ``href`` that is not plainly absolute, or one
#: of the elements removed with their content (a tag name cannot be written with entities,
#: and nothing may stand between « < » and it). Broad on purpose: a miss would only leave a
#: relative link as plain text, since ``html_to_markdown`` drops non-http(s) links anyway.
_NEEDS_PASS = re.compile(r"href\s*=\s*(?![\"']?(?:https?://|mailto:))|<(?:%s)\b"
                         % "|".join(sorted(DROPPED_WITH_CONTENT)), re.IGNORECASE)


def entry_markdown(value: str, base: str) -> str:
    """The Markdown of an entry's HTML ``value`` whose relative links are against ``base``."""
    if _NEEDS_PASS.search(value):
        value = nh3.clean(value, tags=set(_TAGS), clean_content_tags=set(DROPPED_WITH_CONTENT),
                          attributes={"a": {"href"}}, attribute_filter=_resolver(base),
                          url_schemes=_SCHEMES, link_rel=None, strip_comments=True)
    return html_to_markdown(value)


def absolute_href(href: str, base: str) -> str | None:
    """``href`` made absolute against ``base`` when it is http(s) or mailto; else None.

    nh3 does not check the scheme of what an attribute filter returns: this does.
    """
    href = href.strip()
    if not _ABSOLUTE.match(href):
        try:
            href = urljoin(base, href)
        except ValueError:  # « http://[ » and the like
            return None
    return href if _ABSOLUTE.match(href) else None


def _resolver(base: str):
    def resolve(element: str, attribute: str, value: str) -> str | None:
        if element == "a" and attribute == "href":
            return absolute_href(value, base)
        return value
    return resolve
