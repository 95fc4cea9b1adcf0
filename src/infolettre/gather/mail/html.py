"""HTML bodies → Markdown, for delegates whose client sends only HTML.

nh3 first removes everything unsafe (scripts, styles, attributes other than links); a small
parser then writes the Markdown the bulletin's items use: emphasis, links, lists, quotes.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3

from ...models import safe_link

_HTML_TAGS = {"p", "br", "strong", "b", "em", "i", "a", "code", "ul", "ol", "li", "blockquote", "h1",
              "h2", "h3", "h4", "h5", "h6", "div", "hr", "pre", "table", "tr", "td", "th"}
_BLOCKS = {"p", "div", "ul", "ol", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
           "pre", "table", "tr"}
_ESCAPE = re.compile(r"([\\`*_\[\]<])")


def html_to_markdown(html: str) -> str:
    """Convert an HTML body to Markdown, after nh3 removed everything unsafe."""
    clean = nh3.clean(html, tags=_HTML_TAGS, attributes={"a": {"href"}},
                      url_schemes={"http", "https", "mailto"}, link_rel=None,
                      clean_content_tags={"script", "style", "title", "head"})
    writer = _MarkdownWriter()
    writer.feed(clean)
    writer.close()
    return writer.result()


class _MarkdownWriter(HTMLParser):
    """Write Markdown while walking sanitized HTML; inline wrappers use a buffer stack."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, list[str], str | None]] = [("root", [], None)]
        self.lists: list[list] = []
        self.pre = 0

    def out(self, text: str) -> None:
        """Append Markdown to the innermost open wrapper, so it can be wrapped on close."""
        self.stack[-1][1].append(text)

    def handle_starttag(self, tag, attrs):
        if tag in _BLOCKS or tag == "li":
            self.out(_break(tag, bool(self.lists)))
        if tag == "code" and self.pre:
            return  # a code block: the <pre> already keeps it as it is
        if tag in ("strong", "b", "em", "i", "a", "code", "blockquote", "h1", "h2", "h3", "h4",
                   "h5", "h6"):
            href = dict(attrs).get("href") if tag == "a" else None
            self.stack.append((tag, [], href))
        elif tag in ("ul", "ol"):
            self.lists.append([tag, 0])
        elif tag == "li":
            kind = self.lists[-1] if self.lists else ["ul", 0]
            kind[1] += 1
            indent = "\x01" * max(len(self.lists) - 1, 0)
            self.out(f"{indent}{kind[1]}. " if kind[0] == "ol" else f"{indent}- ")
        elif tag == "br":
            self.out("\x00")
        elif tag == "hr":
            self.out("\n\n---\n\n")
        elif tag in ("td", "th"):
            self.out(" ")
        elif tag == "pre":
            self.pre += 1

    def handle_endtag(self, tag):
        if tag == "code" and self.pre:
            return
        if tag in ("ul", "ol") and self.lists:
            self.lists.pop()
        if tag == "pre":
            self.pre = max(self.pre - 1, 0)
        if len(self.stack) > 1 and self.stack[-1][0] == tag:
            name, parts, href = self.stack.pop()
            self.out(_wrap(name, "".join(parts), href))
        if tag in _BLOCKS:
            self.out(_break(tag, bool(self.lists)))

    def handle_data(self, data):
        if self.pre:
            self.out(_ESCAPE.sub(r"\\\1", data).replace("\n", "\x00"))
        else:
            self.out(_ESCAPE.sub(r"\\\1", re.sub(r"\s+", " ", data)))

    def result(self) -> str:
        """Close what the HTML left open and turn the placeholder marks into Markdown."""
        while len(self.stack) > 1:
            name, parts, href = self.stack.pop()
            self.out(_wrap(name, "".join(parts), href))
        text = "".join(self.stack[0][1])
        lines = [line.strip() for line in text.split("\n")]
        text = "\n".join(lines)
        text = re.sub(r"\n{3,}", "\n\n", text).strip()
        text = re.sub(r" *\x00 *", "\x00", text)
        text = re.sub(r"\x00+$", "", re.sub(r"(?m)\x00+(?=\n|$)", "", text))
        text = re.sub(r"\x00{2,}", "\n\n", text).replace("\x00", "  \n")
        text = re.sub(r"(?m)^([#>])", r"\\\1", text)
        return text.replace("\x01", "   ").replace("\x02", ">").replace("\x03", "#")


def _break(tag: str, in_list: bool) -> str:
    """Return the line breaks a block tag makes (none around a nested list)."""
    if tag in ("ul", "ol") and in_list:
        return ""
    return "\n" if tag in ("tr", "li") else "\n\n"


def _wrap(tag: str, inner: str, href: str | None) -> str:
    """Render one inline wrapper (or a quote, a heading) around its Markdown content."""
    text = inner.strip()
    if not text:
        return inner if tag not in ("a",) else ""
    # « <b>gras </b>suite » : the space stays outside the marks (« **gras** suite »).
    before = " " if inner[:1].isspace() else ""
    after = " " if inner[-1:].isspace() else ""
    if tag in ("strong", "b"):
        return f"{before}**{text}**{after}"
    if tag in ("em", "i"):
        return f"{before}*{text}*{after}"
    if tag == "code":
        plain = text.replace("\\", "").replace("`", "'")
        return f"{before}`{plain}`{after}"
    if tag == "a":
        link = safe_link(href)
        if not link:
            return f"{before}{text}{after}"
        link = link.replace("(", "%28").replace(")", "%29")
        plain = text.replace("\\", "")
        shown = f"<{link}>" if plain in (href, href.removeprefix("mailto:")) else \
            f"[{text}]({link})"
        return f"{before}{shown}{after}"
    if tag == "blockquote":
        body = text.replace("\x00", "\n")
        return "\n\n" + "\n".join(f"\x02 {line}".rstrip() for line in body.split("\n")) + "\n\n"
    if tag in ("h1", "h2", "h3", "h4"):
        return "\n\n\x03\x03\x03 " + " ".join(text.replace("\x00", " ").split()) + "\n\n"
    return "\n\n**" + " ".join(text.replace("\x00", " ").split()) + "**\n\n"

