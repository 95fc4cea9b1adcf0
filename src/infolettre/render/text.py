"""Plain-text part of one edition, from its own template (``email.txt.j2``).

Not a conversion of the HTML: a text reader gets a layout made for text — titles underlined,
bodies wrapped at 72 columns, every link written out as « texte (https://…) », URLs never
broken across lines. User Markdown is read with the same parser as the HTML part
(markdown-it-py, raw HTML off), so both parts agree on what the text says; anything that
looks like an HTML tag in it is dropped rather than shown. French typography: spaces before
« : ; ! ? » and inside guillemets become non-breaking, so a line never starts with « : ».
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

import jinja2

from .environment import render_template
from .excerpt import ELLIPSIS, cut_words
from .markdown import parser

TEMPLATE = "email.txt.j2"
WIDTH = 72
#: Link schemes written out in text; anything else keeps its words and loses its address.
URL_SCHEMES = ("http://", "https://", "mailto:", "tel:")
_TAG = re.compile(r"<!--.*?-->|</?[A-Za-z!][^<>]*>", re.S)
_OPEN_TAG = re.compile(r"<(?=[A-Za-z/!])")
_SCRIPT_SCHEME = re.compile(r"\b(javascript|vbscript|livescript|mocha|data(?=:\s*text/html))"
                            r":", re.I)
_NBSP = "\u00a0"
_BEFORE_PUNCT = re.compile(r"[ \u00a0\u202f]+([:;!?»])")
#: « 1 200 000 $ », « 50 % »: digit groups and units stay on one line.
_DIGIT_GROUP = re.compile(r"(?<=\d) (?=\d{3}(?!\d)|[$%])")
_AFTER_GUILLEMET = re.compile(r"«[ \u00a0\u202f]+")


def render_text(env: jinja2.Environment, ctx: dict[str, Any]) -> str:
    """Render one edition's plain-text part."""
    text = render_template(env, TEMPLATE, **ctx, **text_helpers())
    text = french_spacing(defuse(text))
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def text_helpers() -> dict[str, Any]:
    """Return the functions ``email.txt.j2`` calls besides the shared context."""
    return {"md_text": markdown_to_text, "wrap": wrap,
            "rule": lambda char="-": char * WIDTH, "upfirst": upfirst}


def upfirst(text: str) -> str:
    """Capitalize the first letter only (« samedi 5 décembre » → « Samedi 5 décembre »)."""
    return text[:1].upper() + text[1:]


def defuse(text: str) -> str:
    """Drop tags from text and break script-like URLs, so no mail client can take them in.

    Plain text cannot run anything, but some clients turn what looks like markup or a link
    into one. Tags are removed until none is left (« <scr<script>ipt> » too); a « < » still
    touching a letter gets a space; « javascript: » and the like lose their colon's grip
    (« javascript : »). Words and template syntax (« {{ nom }} ») are kept as typed.
    """
    while True:
        stripped = _TAG.sub("", text)
        if stripped == text:
            break
        text = stripped
    return _SCRIPT_SCHEME.sub(r"\1 :", _OPEN_TAG.sub("< ", text))


def french_spacing(text: str) -> str:
    """Make spaces non-breaking before « : ; ! ? » $ % », inside « », in « 1 200 000 »."""
    text = _BEFORE_PUNCT.sub(lambda m: _NBSP + m.group(1), text)
    text = _DIGIT_GROUP.sub(_NBSP, text)  # « 1 200 000 $ » stays on one line
    return _AFTER_GUILLEMET.sub("«" + _NBSP, text)


def wrap(text: str, width: int | None = WIDTH, indent: str = "", first: str | None = None) -> str:
    """Wrap one paragraph at ``width`` (None: no wrapping) without breaking words or URLs."""
    text = french_spacing(defuse(text))
    first = indent if first is None else first
    if not width:
        return first + " ".join(text.split())
    return textwrap.fill(text, width=width, initial_indent=first, subsequent_indent=indent,
                         break_long_words=False, break_on_hyphens=False)


def excerpt_markdown(source: str, words: int) -> str | None:
    """Return the opening of ``source`` that fits in ``words`` words, as Markdown, with « … ».

    None when the whole text fits. Whole paragraphs and lists are kept (links too); a
    paragraph announcing a list (ending with « : ») keeps it if both fit in twice the
    budget, or goes with it; a first paragraph a third over the budget is kept whole (cut,
    it would lose only its end). When what is kept so far is under half the budget, the next
    paragraph is cut too, as plain text, at a sentence end or else between words
    (``excerpt.cut_words``). The cut ends with « … » when its last block is a paragraph (a
    list ends by itself); a link to the rest always follows it in the templates.
    """
    source = source or ""
    if len(markdown_to_text(source, None, False).split()) <= words:
        return None
    lines = source.splitlines()
    kept: list[tuple[str, str]] = []  # (markdown, plain text)
    count = 0
    for token in parser().parse(source):
        if token.level != 0 or token.nesting < 0 or not token.map:
            continue
        block = "\n".join(lines[token.map[0]:token.map[1]]).strip("\n")
        plain = markdown_to_text(block, None, False)
        announced = bool(kept) and kept[-1][1].rstrip().endswith(":")
        size = len(plain.split())
        if not kept and words < size <= words * 4 // 3:  # a third over: whole, not cut
            kept.append((block, plain))
            break
        if count + size > (2 * words if announced else words):
            if count < words // 2 and token.type == "paragraph_open":
                kept.append((_escape(cut_words(plain, words - count)), plain))
                return "\n\n".join(block for block, _plain in kept)
            break
        count += size
        kept.append((block, plain))
        if count > words:
            break
    while kept and kept[-1][1].rstrip().endswith(":"):
        kept.pop()
    if not kept:
        return _escape(cut_words(markdown_to_text(source, None, False), words))
    last = kept[-1][0]
    ending = "" if re.match(r"\s*([-*+]|\d+[.)])\s", last) else ELLIPSIS
    return "\n\n".join(block for block, _plain in kept) + ending


def _escape(text: str) -> str:
    """Backslash-escape ASCII punctuation so plain text stays plain when read as Markdown."""
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", text)


def markdown_to_text(source: str, width: int | None = WIDTH, urls: bool = True) -> str:
    """Turn user Markdown into readable plain text: paragraphs, bullets, links written out."""
    return _TextWriter(width, urls).write(parser().parse(source or ""))


class _TextWriter:
    """Walk markdown-it block tokens and lay each block out as wrapped text."""

    def __init__(self, width: int | None, urls: bool):
        self.width = width
        self.urls = urls
        self.blocks: list[tuple[str, bool]] = []  # (text, tight: follows the previous item)
        self.prefixes: list[str] = []  # blockquote "> " and list indents, outermost first
        self.lists: list[dict[str, Any]] = []
        self.marker: str | None = None  # list marker waiting for the item's first block
        self.hidden = False

    def write(self, tokens) -> str:
        for token in tokens:
            handler = getattr(self, "on_" + token.type, None)
            if handler:
                handler(token)
        out = ""
        for text, tight in self.blocks:
            out += ("\n" if tight else "\n\n") + text if out else text
        return out

    # containers
    def on_bullet_list_open(self, token):
        self.lists.append({"ordered": False, "n": 0, "seen": 0})

    def on_ordered_list_open(self, token):
        self.lists.append({"ordered": True, "n": int(token.attrGet("start") or 1) - 1,
                           "seen": 0})

    def on_bullet_list_close(self, token):
        self.lists.pop()

    on_ordered_list_close = on_bullet_list_close

    def on_list_item_open(self, token):
        current = self.lists[-1]
        current["n"] += 1
        current["seen"] += 1
        self.marker = f"{current['n']}. " if current["ordered"] else "- "
        self.prefixes.append(" " * len(self.marker))

    def on_list_item_close(self, token):
        self.prefixes.pop()
        self.marker = None

    def on_blockquote_open(self, token):
        self.prefixes.append("> ")

    def on_blockquote_close(self, token):
        self.prefixes.pop()

    # leaves
    def on_paragraph_open(self, token):
        self.hidden = token.hidden  # markdown-it hides the paragraphs of a tight list

    def on_inline(self, token):
        # A tight list's items follow each other line by line; everything else is spaced.
        tight = self.hidden and self.marker is not None and self.lists[-1]["seen"] > 1
        self.add(self.inline(token.children or []), tight=tight)
        self.hidden = False

    def on_fence(self, token):
        self.add_lines(token.content.rstrip("\n").splitlines(), "    ")

    on_code_block = on_fence

    def on_hr(self, token):
        self.add("* * *")

    # helpers
    def add(self, text: str, *, tight: bool = False):
        indent = "".join(self.prefixes)
        first = indent
        if self.marker is not None:
            first = indent[:-len(self.marker)] + self.marker
            self.marker = None
        lines = [wrap(line, self.width, indent=indent, first=first if n == 0 else indent)
                 for n, line in enumerate(text.split("\n"))]
        self.blocks.append(("\n".join(lines), tight))

    def add_lines(self, lines: list[str], extra: str):
        indent = "".join(self.prefixes) + extra
        self.blocks.append(("\n".join(indent + defuse(line) for line in lines), False))
        self.marker = None

    def inline(self, children) -> str:
        out: list[str] = []
        link: list[str | None] = []  # href of each open link
        start: list[int] = []
        for child in children:
            kind = child.type
            if kind in ("text", "code_inline"):
                out.append(child.content)
            elif kind == "softbreak":
                out.append(" ")
            elif kind == "hardbreak":
                out.append("\n")
            elif kind == "image":
                out.append(child.content)
            elif kind == "link_open":
                link.append(child.attrGet("href"))
                start.append(len(out))
            elif kind == "link_close" and link:
                href, begin = link.pop(), start.pop()
                words = "".join(out[begin:])
                out[begin:] = [self.link(words, href)]
        text = "".join(out)
        return "\n".join(" ".join(line.split()) for line in text.split("\n")).strip()

    def link(self, words: str, href: str | None) -> str:
        if not self.urls or not href or not href.lower().startswith(URL_SCHEMES):
            return words
        shown = re.sub(r"^(mailto|tel):", "", href, flags=re.I)
        plain = re.sub(r"^https?://", "", words.strip()).rstrip("/")
        if not words.strip() or plain == re.sub(r"^https?://", "", shown).rstrip("/"):
            return shown
        return f"{words} ({shown})"
