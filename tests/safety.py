"""Render safety: find anything executable or form-like in an output we send or print.

``find_dangers(output, kind)`` returns a list of human-readable findings (empty = safe). It is
deliberately stricter than a browser and knows nothing about where markup came from: every
finding names the tag or attribute, its line and column, and a short excerpt, so a failing
test can say what slipped through.

kind="html" (email HTML, print HTML, any HTML page) — parsed with the stdlib ``html.parser``:

* **Tags flagged everywhere**: script, iframe, object, embed, link, base, form, input,
  button, textarea, select, svg, math, frame, frameset, applet, isindex, keygen, bgsound
  (a ``prefix:name`` tag is checked on its local name too).
* **Tags flagged only inside the body**: ``style`` and ``meta``. Our templates legitimately
  put ``<style>`` blocks and ``<meta charset>`` / ``<meta name=viewport>`` /
  ``<meta http-equiv=Content-Type|X-UA-Compatible>`` in ``<head>``. "Inside the head" means,
  precisely: after the first ``<head>`` start tag and before the first ``</head>`` end tag or
  ``<body>`` start tag, whichever comes first. Everything else counts as body — including the
  whole of a fragment with no ``<head>``, and the gap between ``</head>`` and ``<body>``.
  A second ``<html>``, ``<head>`` or ``<body>`` start tag is itself a finding (something
  closed our document early), and a ``<head>`` seen after the body began never re-opens it.
  In the head, ``<meta http-equiv=refresh>`` is still flagged (it can navigate).
* **Attributes**: any attribute whose name starts with ``on`` (event handlers); any URL
  attribute (href, src, action, formaction, background, poster, xlink:href, srcset, data,
  lowsrc, dynsrc, codebase, cite, longdesc, usemap, ping, manifest, icon, profile) whose
  value — html-unescaped (the parser's one pass, and also a second pass, to catch
  double-encoded values), with every whitespace and control character removed anywhere
  (browsers drop tabs and newlines inside URLs) and case-folded — starts with
  ``javascript:``, ``vbscript:``, ``livescript:``, ``mocha:``, or ``data:`` other than
  ``data:image/(png|gif|jpeg|webp);base64,``. ``srcset`` is checked candidate by candidate.
  ``style=`` attributes (CSS escapes decoded, comments, quotes and whitespace removed) must
  not contain ``expression(``, ``url(javascript:``, ``url(vbscript:``, ``url(data:text/html``,
  ``-moz-binding`` or ``behavior:``; the same holds for the text of ``<style>`` blocks, head
  included.
* **Backstop**: a raw ``<script``-like opening of any tag above that the parser did not
  report as a tag is a finding too (a quirk of ``html.parser`` must not hide a tag a mail
  client might still see) — except inside plain comments and inside a start tag the parser
  did see (its quoted attribute values may legitimately hold an unescaped ``<``).
* **Conditional comments** (``<!--[if mso]> … <![endif]-->``, which Outlook renders) are
  checked as markup, in the head or body context where they appear; other comments are
  ignored (nothing renders them).

kind="text" (the plain-text part): case-insensitively, no ``<script``, ``<iframe``,
``<object``, ``<embed``, ``<style``, ``<link``, ``<meta`` (or their closing ``</…``; a
browser never reads ``< script`` as a tag, so neither do we); no ``on…=`` event attribute
inside something tag-like (``<`` + a letter, ``/`` or ``!``, up to the next ``>`` or end of
line, preceded by a space, ``/`` or a quote); no ``javascript:``, ``vbscript:``,
``livescript:`` or ``data:text/html`` anywhere — as a scheme, i.e. with the colon right
after the name (``javascript :`` is not a URL anywhere). Plain text cannot execute, but a
mail client that "helpfully" renders or links it might, and the issue forbids it.
"""

from __future__ import annotations

import bisect
import html
import re
import unicodedata
from html.parser import HTMLParser

__all__ = ["find_dangers", "scan", "dangerous_url", "dangerous_css"]

ALWAYS_TAGS = frozenset({
    "script", "iframe", "object", "embed", "link", "base", "form", "input", "button",
    "textarea", "select", "svg", "math", "frame", "frameset", "applet", "isindex", "keygen",
    "bgsound",
})
BODY_ONLY_TAGS = frozenset({"style", "meta"})
URL_ATTRS = frozenset({
    "href", "src", "action", "formaction", "background", "poster", "xlink:href", "srcset",
    "data", "lowsrc", "dynsrc", "codebase", "cite", "longdesc", "usemap", "ping", "manifest",
    "icon", "profile",
})
BAD_SCHEMES = ("javascript:", "vbscript:", "livescript:", "mocha:")
SAFE_DATA = re.compile(r"^data:image/(?:png|gif|jpeg|webp);base64,")
BAD_CSS = ("expression(", "url(javascript:", "url(vbscript:", "url(data:text/html",
           "-moz-binding", "behavior:")

_CSS_HEX_ESCAPE = re.compile(r"\\([0-9a-fA-F]{1,6})[ \t\r\n\f]?")
_CSS_CHAR_ESCAPE = re.compile(r"\\(.)", re.S)
_CSS_COMMENT = re.compile(r"/\*.*?(?:\*/|$)", re.S)
_CONDITIONAL = re.compile(r"^\s*\[if\b[^\]]*\]>(.*?)(?:<!\[endif\])?\s*$", re.S | re.I)


def _squash(value: str) -> str:
    """Drop every whitespace and control character, then case-fold."""
    return "".join(ch for ch in value
                   if not ch.isspace() and unicodedata.category(ch) not in ("Cc", "Cf")
                   ).casefold()


def dangerous_url(value: str) -> str | None:
    """Return why a URL attribute value is dangerous, or None.

    ``value`` is what the parser gives (entities already decoded once); it is decoded once
    more, so a double-encoded ``javascript&amp;colon;`` is caught too (stricter than a
    browser, on purpose).
    """
    for candidate in {value, html.unescape(value)}:
        url = _squash(candidate)
        for scheme in BAD_SCHEMES:
            if url.startswith(scheme):
                return f"{scheme} URL"
        if url.startswith("data:") and not SAFE_DATA.match(url):
            return "data: URL (only data:image/png|gif|jpeg|webp;base64 is allowed)"
    return None


def _srcset_urls(value: str) -> list[str]:
    return [part.strip().split()[0] for part in value.split(",") if part.strip()]


def dangerous_css(css: str) -> str | None:
    """Return the dangerous construct found in CSS text (attribute or block), or None."""
    text = html.unescape(css)
    text = _CSS_HEX_ESCAPE.sub(lambda m: _chr(int(m.group(1), 16)), text)
    text = _CSS_CHAR_ESCAPE.sub(lambda m: m.group(1), text)
    text = _CSS_COMMENT.sub("", text)
    text = _squash(text).replace('"', "").replace("'", "")
    for needle in BAD_CSS:
        if needle in text:
            return needle
    return None


def _chr(code: int) -> str:
    try:
        return chr(code)
    except (ValueError, OverflowError):
        return "\ufffd"


def _excerpt(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


class _Scanner(HTMLParser):
    """Walk an HTML document and collect findings (see the module docstring)."""

    def __init__(self, *, in_head: bool = False, body_started: bool = False,
                 base: int = 0):
        super().__init__(convert_charrefs=True)
        self.findings: list[tuple[int, str]] = []  # (offset in the output, message)
        self.line_starts = [0]
        self.in_head = in_head
        self.head_done = body_started
        self.seen: set[str] = set()
        self.root_text = ""
        self.style_depth = 0
        self.tag_spans: list[tuple[int, int]] = []  # every start tag, attributes included
        self.base = base  # offset of this (sub)document in the whole output
        self.text = ""

    # --- helpers -----------------------------------------------------------------------
    def run(self, text: str) -> None:
        self.text = text
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.feed(text)
        self.close()

    def position(self) -> int:
        line, col = self.getpos()
        return self.base + self.line_starts[line - 1] + col

    def flag(self, what: str, excerpt: str | None = None) -> None:
        offset = self.position()
        raw = self.get_starttag_text() if excerpt is None else excerpt
        finding = f"{what} at {_line_col_of(self.root_text, offset)}"
        self.findings.append((offset, f"{finding}: {_excerpt(raw)}" if raw else finding))

    # --- structure ---------------------------------------------------------------------
    def handle_starttag(self, tag, attrs):
        self._tag(tag, attrs)

    def handle_startendtag(self, tag, attrs):
        self._tag(tag, attrs, void=True)

    def _tag(self, tag: str, attrs, void: bool = False) -> None:
        start = self.position()
        self.tag_spans.append((start, start + len(self.get_starttag_text() or "")))
        tag = tag.lower()
        local = tag.rsplit(":", 1)[-1]
        if tag in ("html", "head", "body"):
            if tag in self.seen:
                self.flag(f"second <{tag}> start tag")
            self.seen.add(tag)
            if tag == "head" and not self.head_done:
                self.in_head = True
            elif tag == "body":
                self.in_head = False
                self.head_done = True
        if tag in ALWAYS_TAGS or local in ALWAYS_TAGS:
            self.flag(f"<{tag}> tag")
        elif tag in BODY_ONLY_TAGS or local in BODY_ONLY_TAGS:
            if not self.in_head:
                self.flag(f"<{tag}> tag inside the body")
        if local == "meta":
            equiv = next((v or "" for k, v in attrs if k.lower() == "http-equiv"), "")
            if equiv.strip().lower() == "refresh":
                self.flag("<meta http-equiv=refresh>")
        if local == "style" and not void:
            self.style_depth += 1
        for name, value in attrs:
            self._attr(tag, name.lower(), value or "")

    def _attr(self, tag: str, name: str, value: str) -> None:
        local = name.rsplit(":", 1)[-1]
        if local.startswith("on"):
            self.flag(f"event attribute {name}= on <{tag}>")
        if name in URL_ATTRS or local in ("href", "src"):
            urls = _srcset_urls(value) if name == "srcset" else [value]
            for url in urls:
                why = dangerous_url(url)
                if why:
                    self.flag(f"{why} in {name}= on <{tag}>")
        if name == "style":
            why = dangerous_css(value)
            if why:
                self.flag(f"style= containing {why!r} on <{tag}>")

    def handle_endtag(self, tag):
        tag = tag.lower()
        if tag == "head" and self.in_head:
            self.in_head = False
            self.head_done = True
        if tag.rsplit(":", 1)[-1] == "style" and self.style_depth:
            self.style_depth -= 1

    def handle_data(self, data):
        if self.style_depth:
            why = dangerous_css(data)
            if why:
                self.flag(f"<style> block containing {why!r}", excerpt="")

    def handle_comment(self, data):
        match = _CONDITIONAL.match(data)
        if not match:
            return
        start = self.position() + 4 + match.start(1)  # "<!--" then the "[if …]>" prefix
        inner = _Scanner(in_head=self.in_head, body_started=self.head_done, base=start)
        inner.root_text = self.root_text
        inner.seen = set(self.seen)
        inner.run(match.group(1))
        self.tag_spans += inner.tag_spans
        self.findings += [(o, f"{f} (in a conditional comment)") for o, f in inner.findings]

    def unknown_decl(self, data):  # <![CDATA[ … ]]> and friends: browsers treat as comment
        pass


_PLAIN_COMMENT = re.compile(r"<!--(?!\s*\[if\b).*?-->", re.S | re.I)
_RAW_ALWAYS = re.compile(r"<\s*(%s)(?![\w-])" % "|".join(sorted(ALWAYS_TAGS)), re.I)


def _backstop(output: str, tag_spans: list[tuple[int, int]]) -> list[tuple[int, str]]:
    """Flag ``<script``-like text the parser did not see as a tag (parser differential).

    Skipped: plain comments, and anything inside a start tag the parser did see — its own
    opening (already judged) and its quoted attribute values, where HTML serializers
    legitimately leave ``<`` unescaped (``aria-label="… <script> …"`` is only text).
    """
    skip = sorted([m.span() for m in _PLAIN_COMMENT.finditer(output)] + tag_spans)
    starts = [a for a, _b in skip]
    found = []
    for m in _RAW_ALWAYS.finditer(output):
        i = bisect.bisect_right(starts, m.start()) - 1
        # spans may nest (a tag inside a conditional comment is not in a plain comment)
        if any(a <= m.start() < b for a, b in skip[max(0, i - 3):i + 1]):
            continue
        found.append((m.start(), f"raw '<{m.group(1).lower()}' not parsed as a tag "
                                 f"(html.parser differential) at "
                                 f"{_line_col_of(output, m.start())}: "
                                 f"{_excerpt(output[m.start():m.start() + 80])}"))
    return found


_TEXT_TAG = re.compile(r"</?(script|iframe|object|embed|style|link|meta)(?![\w-])", re.I)
_TAG_LIKE = re.compile(r"<[A-Za-z/!][^<>\n]*>?")
_TEXT_EVENT = re.compile(r"(?:^|[\s/\"'])(on\w+\s*=\s*[\"']?)", re.I)
_TEXT_SCHEME = re.compile(r"\b(?:javascript|vbscript|livescript):|\bdata:text/html", re.I)


def _line_col_of(text: str, pos: int) -> str:
    line = text.count("\n", 0, pos) + 1
    return f"line {line}, col {pos - (text.rfind(chr(10), 0, pos) + 1) + 1}"


def _text_dangers(text: str) -> list[tuple[int, str]]:
    found = []
    for m in _TEXT_TAG.finditer(text):
        found.append((m.start(), f"<{m.group(1).lower()} in text at {_line_col_of(text, m.start())}: "
                     f"{_excerpt(text[m.start():m.start() + 80])}"))
    for tag in _TAG_LIKE.finditer(text):
        for m in _TEXT_EVENT.finditer(tag.group(0)):
            found.append((tag.start(), f"event attribute {m.group(1).strip()} in tag-like "
                                       f"text at {_line_col_of(text, tag.start())}: "
                                       f"{_excerpt(tag.group(0))}"))
    for m in _TEXT_SCHEME.finditer(text):
        found.append((m.start(), f"{_squash(m.group(0))} in text at "
                                 f"{_line_col_of(text, m.start())}: "
                                 f"{_excerpt(text[max(0, m.start() - 20):m.end() + 40])}"))
    return sorted(found)


def scan(output: str, kind: str) -> list[tuple[int, str]]:
    """Like ``find_dangers``, with the character offset of each finding in ``output``."""
    if kind == "text":
        return _text_dangers(output)
    if kind != "html":
        raise ValueError(f"kind must be 'html' or 'text', not {kind!r}")
    scanner = _Scanner()
    scanner.root_text = output
    scanner.run(output)
    return sorted(scanner.findings + _backstop(output, scanner.tag_spans))


def find_dangers(output: str, kind: str) -> list[str]:
    """Return every dangerous construct in ``output`` ("html" or "text"); empty when safe."""
    return [message for _offset, message in scan(output, kind)]
