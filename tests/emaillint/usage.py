"""What an email document uses, named with caniemail's keys (tables and a scanner).

``caniemail.lint`` judges the result. Every element, attribute, inline style, ``<style>``
block (selectors, at-rules, ``@media``) and the HTML inside Outlook's conditional comments
is mapped to a caniemail key with the explicit tables below; a thing no table maps is
recorded as unmapped, so the tables stay complete.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

# --- mapping tables -----------------------------------------------------------------------

#: HTML elements → caniemail key; None: no entry in caniemail (reason in the comment).
TAGS: dict[str, str | None] = {
    "a": None,  # plain links: everywhere (mailto: and #anchors are checked on href)
    "abbr": "html-abbr", "acronym": "html-acronym", "address": "html-address",
    "audio": "html-audio", "bdi": "html-bdi", "blockquote": "html-blockquote",
    "body": "html-body", "button": "html-button-submit", "code": "html-code",
    "del": "html-del", "dfn": "html-dfn", "dialog": "html-dialog", "div": "html-div",
    "dl": "html-lists", "dt": "html-lists", "dd": "html-lists", "form": "html-form",
    "h1": "html-h1-h6", "h2": "html-h1-h6", "h3": "html-h1-h6", "h4": "html-h1-h6",
    "h5": "html-h1-h6", "h6": "html-h1-h6", "hr": "html-hr", "img": "html-img",
    "li": "html-lists", "link": "html-link", "marquee": "html-marquee", "meter": "html-meter",
    "object": "html-object", "ol": "html-lists", "p": "html-p", "picture": "html-picture",
    "pre": "html-pre", "progress": "html-progress", "rp": "html-rp", "rt": "html-rt",
    "ruby": "html-ruby", "select": "html-select", "small": "html-small", "span": "html-span",
    "strike": "html-strike", "s": "html-strike", "strong": "html-strong",
    "style": "html-style", "svg": "html-svg", "table": "html-table", "tbody": "html-table",
    "thead": "html-table", "tfoot": "html-table", "tr": "html-table", "td": "html-table",
    "th": "html-table", "textarea": "html-textarea", "ul": "html-lists", "video": "html-video",
    "wbr": "html-wbr",
    **dict.fromkeys(("article", "aside", "details", "figcaption", "figure", "footer",
                     "header", "main", "mark", "nav", "section", "summary", "time"),
                    "html-semantics"),
    # Document structure and basic inline markup: no caniemail entry, supported everywhere.
    **dict.fromkeys(("html", "head", "title", "meta", "br", "b", "i", "em", "u", "sup",
                     "sub", "center", "font", "caption", "colgroup", "col"), None),
    # Inside <!--[if mso]> only: Office XML that Outlook alone reads (DPI, PNG settings).
    **dict.fromkeys(("noscript", "xml", "o:officedocumentsettings", "o:allowpng",
                     "o:pixelsperinch"), None),
}

#: HTML attributes → caniemail key; None: no entry (reason in the comment).
ATTRIBUTES: dict[str, str | None] = {
    "align": "html-align", "aria-describedby": "html-aria-describedby",
    "aria-hidden": "html-aria-hidden", "aria-label": "html-aria-label",
    "aria-labelledby": "html-aria-labelledby", "aria-live": "html-aria-live",
    "background": "html-background", "cellpadding": "html-cellpadding",
    "cellspacing": "html-cellspacing", "dir": "html-dir", "height": "html-height",
    "hidden": "html-hidden", "inert": "css-inert-attribute", "lang": "html-lang",
    "loading": "html-loading-attribute", "popover": "html-popover",
    "required": "html-required", "role": "html-role", "srcset": "html-srcset",
    "target": "html-target", "valign": "html-valign", "width": "html-width",
    # Checked through their values (links, image formats, CSS) or without client impact:
    # no caniemail entry for the attribute itself.
    **dict.fromkeys(("href", "src", "alt", "class", "id", "style", "title", "rel", "type",
                     "border", "bgcolor", "http-equiv", "content", "name", "charset",
                     "xmlns", "xmlns:v", "xmlns:o", "media", "start", "colspan", "rowspan",
                     # ARIA landmark description MJML puts on its wrapper (« email »).
                     "aria-roledescription"), None),
}

#: CSS properties whose caniemail key is not simply ``css-<property>``.
PROPERTY_KEYS: dict[str, str | None] = {
    **dict.fromkeys(("margin-top", "margin-right", "margin-bottom", "margin-left"),
                    "css-margin"),
    **dict.fromkeys(("padding-top", "padding-right", "padding-bottom", "padding-left"),
                    "css-padding"),
    **dict.fromkeys(("border-top", "border-right", "border-bottom", "border-left",
                     "border-width", "border-style", "border-color", "border-top-color",
                     "border-top-style", "border-top-width", "border-bottom-color",
                     "border-bottom-style", "border-bottom-width", "border-left-color",
                     "border-left-style", "border-left-width", "border-right-color",
                     "border-right-style", "border-right-width"), "css-border"),
    **dict.fromkeys(("border-top-left-radius", "border-top-right-radius",
                     "border-bottom-left-radius", "border-bottom-right-radius"),
                    "css-border-radius"),
    **dict.fromkeys(("margin-block-start", "margin-block-end"), "css-margin-block-start-end"),
    **dict.fromkeys(("margin-inline-start", "margin-inline-end"),
                    "css-margin-inline-start-end"),
    **dict.fromkeys(("padding-block-start", "padding-block-end"),
                    "css-padding-block-start-end"),
    **dict.fromkeys(("padding-inline-start", "padding-inline-end"),
                    "css-padding-inline-start-end"),
    **dict.fromkeys(("top", "right", "bottom", "left"), "css-left-right-top-bottom"),
    "row-gap": "css-gap", "column-gap": "css-gap",
    "column-width": "css-column-layout-properties", "column-rule": "css-column-layout-properties",
    "grid-template-columns": "css-grid-template", "grid-template-rows": "css-grid-template",
    # No caniemail entry: basic text properties every client honours.
    "color": None, "font-family": None, "font-style": None, "font-variant": None,
}
#: Vendor prefixes: properties read only by one engine (Outlook's Word, WebKit, IE).
VENDOR_PREFIXES = ("mso-", "-webkit-", "-ms-", "-moz-")

_MEDIA_FEATURES = {"prefers-color-scheme": "css-at-media-prefers-color-scheme",
                   "prefers-reduced-motion": "css-at-media-prefers-reduced-motion",
                   "orientation": "css-at-media-orientation", "hover": "css-at-media-hover",
                   "device-pixel-ratio": "css-at-media-device-pixel-ratio"}
_AT_RULES = {"media": "css-at-media", "font-face": "css-at-font-face",
             "import": "css-at-import", "keyframes": "css-at-keyframes",
             "supports": "css-at-supports"}
_PSEUDO_ELEMENTS = {"before", "after", "first-letter", "first-line", "marker", "placeholder"}
_FUNCTIONS = {"rgb": "css-rgb", "rgba": "css-rgba", "calc": "css-unit-calc",
              "var": "css-variables", "min": "css-function-min", "max": "css-function-max",
              "clamp": "css-function-clamp", "light-dark": "css-function-light-dark",
              "linear-gradient": "css-linear-gradient", "radial-gradient": "css-radial-gradient",
              "conic-gradient": "css-conic-gradient", "lch": "css-modern-color",
              "oklch": "css-modern-color", "lab": "css-modern-color", "oklab": "css-modern-color"}
_UNITS = {"px": "css-unit-px", "%": "css-unit-percent", "em": "css-unit-em",
          "rem": "css-unit-rem", "ex": "css-unit-ex", "ch": "css-unit-ch", "vw": "css-unit-vw",
          "vh": "css-unit-vh", "vmin": "css-unit-vmin", "vmax": "css-unit-vmax",
          "cm": "css-unit-cm", "mm": "css-unit-mm", "in": "css-unit-in", "pt": "css-unit-pt",
          "pc": "css-unit-pc"}
_IMAGE_TYPES = {"jpg": "image-jpg", "jpeg": "image-jpg", "png": "image-png",
                "gif": "image-gif", "webp": "image-webp", "svg": "image-svg",
                "avif": "image-avif", "bmp": "image-bmp", "ico": "image-ico",
                "tif": "image-tiff", "tiff": "image-tiff", "heic": "image-heif",
                "heif": "image-heif", "apng": "image-apng"}

_NUMBER_UNIT = re.compile(r"(?<![\w#.-])-?(?:\d+\.?\d*|\.\d+)(px|%|r?em|ex|ch|v(?:w|h|min|max)"
                          r"|cm|mm|in|pt|pc)(?![\w-])", re.I)
_FUNCTION = re.compile(r"([a-z-]+)\(", re.I)
_CONDITIONAL = re.compile(r"^\[if [^\]]*\]>(.*)<!\[endif\]$", re.S | re.I)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)



class Usage:
    """What a document uses: caniemail keys with examples, and things no table maps."""

    def __init__(self, features: dict[str, Any]):
        self.features = features
        self.used: dict[str, list[str]] = {}
        self.unmapped: dict[str, str] = {}

    def add(self, key: str, evidence: str) -> None:
        examples = self.used.setdefault(key, [])
        if len(examples) < 3 and evidence not in examples:
            examples.append(evidence)

    def property(self, prop: str, evidence: str) -> None:
        if prop.startswith(VENDOR_PREFIXES):
            return
        if prop in PROPERTY_KEYS:
            key = PROPERTY_KEYS[prop]
        elif f"css-{prop}" in self.features:
            key = f"css-{prop}"
        else:
            self.unmapped.setdefault(f"CSS property {prop}", evidence)
            return
        if key:
            self.add(key, evidence)


class Scanner(HTMLParser):
    """Walk elements, attributes, inline styles, <style> blocks and [if mso] HTML."""

    def __init__(self, usage: Usage):
        super().__init__(convert_charrefs=True)
        self.usage = usage
        self.in_style = False

    def run(self, html: str) -> None:
        self.feed(html)
        self.close()

    def handle_decl(self, decl: str) -> None:
        if decl.lower().startswith("doctype"):
            self.usage.add("html-doctype", f"<!{decl}>")

    def handle_comment(self, data: str) -> None:
        self.usage.add("html-comments", "<!-- -->")
        match = _CONDITIONAL.match(data.strip())
        if match:  # HTML that Outlook (mso) or old IE renders: lint it too
            Scanner(self.usage).run(match.group(1))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.element(tag)
        for name, value in attrs:
            self.attribute(tag, name, value or "")
        self.in_style = tag == "style"

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag: str) -> None:
        self.in_style = False

    def handle_data(self, data: str) -> None:
        if self.in_style and data.strip():
            scan_stylesheet(data, self.usage)

    def element(self, tag: str) -> None:
        if tag not in TAGS:
            self.usage.unmapped.setdefault(f"element <{tag}>", f"<{tag}>")
        elif TAGS[tag]:
            self.usage.add(TAGS[tag], f"<{tag}>")

    def attribute(self, tag: str, name: str, value: str) -> None:
        if name not in ATTRIBUTES:
            self.usage.unmapped.setdefault(f"attribute {name}", f"<{tag} {name}>")
        elif ATTRIBUTES[name]:
            self.usage.add(ATTRIBUTES[name], f"<{tag} {name}>")
        if name == "style":
            scan_declarations(value, self.usage, f"<{tag} style>")
        elif name == "media" and tag == "style":
            scan_media(value, self.usage, f"<style media=\"{value}\">")
        elif name == "href":
            if value.lower().startswith("mailto:"):
                self.usage.add("html-mailto-links", "<a href=mailto:>")
            elif value.startswith("#"):
                self.usage.add("html-anchor-links", "<a href=#>")
        elif name == "src" and tag == "img":
            self.image(value)

    def image(self, src: str) -> None:
        if src.lower().startswith("data:"):
            self.usage.add("image-base64", "<img src=data:>")
            return
        ext = src.split("?")[0].rsplit(".", 1)[-1].lower()
        if ext in _IMAGE_TYPES:
            self.usage.add(_IMAGE_TYPES[ext], f"<img src=….{ext}>")


# --- CSS -------------------------------------------------------------------------------------

def scan_stylesheet(css: str, usage: Usage) -> None:
    """Record the at-rules, selectors and declarations of a ``<style>`` block."""
    if _CSS_COMMENT.search(css):
        usage.add("css-comments", "<style> /* */")
    css = _CSS_COMMENT.sub("", css)
    pos = 0
    while True:
        brace = css.find("{", pos)
        if brace < 0:
            _statements(css[pos:], usage)
            return
        prelude = css[pos:brace]
        if ";" in prelude:  # @import …; @charset …; before the next block
            head, prelude = prelude.rsplit(";", 1)
            _statements(head, usage)
        end = _matching(css, brace)
        body = css[brace + 1:end]
        prelude = prelude.strip()
        if prelude.startswith("@"):
            name = re.match(r"@([\w-]+)", prelude).group(1).lower()
            key = _AT_RULES.get(name)
            if key is None:
                usage.unmapped.setdefault(f"at-rule @{name}", prelude)
            else:
                usage.add(key, f"<style> {prelude}")
            if name == "media":
                scan_media(prelude, usage, f"<style> {prelude}")
            if name in ("media", "supports"):
                scan_stylesheet(body, usage)
            elif name == "font-face":
                scan_declarations(body, usage, "@font-face")
        elif prelude:
            scan_selectors(prelude, usage)
            scan_declarations(body, usage, f"<style> {prelude}")
        pos = end + 1


def _statements(text: str, usage: Usage) -> None:
    for statement in text.split(";"):
        match = re.match(r"\s*@([\w-]+)", statement)
        if match:
            name = match.group(1).lower()
            if name in _AT_RULES:
                usage.add(_AT_RULES[name], statement.strip())
            elif name != "charset":
                usage.unmapped.setdefault(f"at-rule @{name}", statement.strip())


def _matching(css: str, brace: int) -> int:
    depth = 0
    for i in range(brace, len(css)):
        if css[i] == "{":
            depth += 1
        elif css[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    return len(css)


def scan_media(query: str, usage: Usage, evidence: str) -> None:
    """Record ``@media`` and the media features a query tests."""
    usage.add("css-at-media", evidence)
    for feature, key in _MEDIA_FEATURES.items():
        if feature in query.lower():
            usage.add(key, evidence)


def scan_selectors(prelude: str, usage: Usage) -> None:
    """Record the selector features of a rule: combinators, classes, chaining, pseudo…"""
    selectors = [s.strip() for s in prelude.split(",") if s.strip()]
    if len(selectors) > 1:
        usage.add("css-selector-grouping", prelude)
    for selector in selectors:
        for colons, name in re.findall(r"(::?)([a-zA-Z-]+)", selector):
            kind = "element" if colons == "::" or name in _PSEUDO_ELEMENTS else "class"
            usage.add(f"css-pseudo-{kind}-{name.lower()}", selector)
        bare = re.sub(r"::?[a-zA-Z-]+(\([^)]*\))?", "", selector)
        if "[" in bare:
            usage.add("css-selector-attribute", selector)
        bare = re.sub(r"\[[^\]]*\]", "[]", bare)
        for symbol, key in ((">", "css-selector-child"), ("+", "css-selector-adjacent-sibling"),
                            ("~", "css-selector-general-sibling")):
            if symbol in bare:
                usage.add(key, selector)
        compounds = [c for c in re.split(r"\s*[>+~]\s*|\s+", bare.strip()) if c]
        if len(compounds) > 1 and re.search(r"[^\s>+~]\s+[^\s>+~]", bare.strip()):
            usage.add("css-selector-descendant", selector)
        for compound in compounds:
            _compound(compound, selector, usage)


def _compound(compound: str, selector: str, usage: Usage) -> None:
    if compound.startswith("*"):
        usage.add("css-selector-universal", selector)
    elif re.match(r"[a-zA-Z]", compound):
        usage.add("css-selector-type", selector)
    classes, ids = compound.count("."), compound.count("#")
    if classes:
        usage.add("css-selector-class", selector)
    if ids:
        usage.add("css-selector-id", selector)
    # caniemail's « chaining » is .foo.bar: two or more class/id/attribute parts together.
    if classes + ids + compound.count("[]") > 1:
        usage.add("css-selector-chaining", selector)


def scan_declarations(block: str, usage: Usage, evidence: str) -> None:
    """Record the properties, units, functions and keywords of ``prop: value`` pairs."""
    if _CSS_COMMENT.search(block):
        usage.add("css-comments", evidence)
        block = _CSS_COMMENT.sub("", block)
    for declaration in block.split(";"):
        if ":" not in declaration:
            continue
        prop, value = (part.strip() for part in declaration.split(":", 1))
        prop, lower = prop.lower(), value.lower()
        where = f"{evidence} {prop}:{value}"
        usage.property(prop, where)
        if prop.startswith(VENDOR_PREFIXES):
            continue
        if "!important" in lower:
            usage.add("css-important", where)
        for unit in _NUMBER_UNIT.findall(value):
            usage.add(_UNITS[unit.lower()], where)
        for function in _FUNCTION.findall(lower):
            if function in _FUNCTIONS:
                usage.add(_FUNCTIONS[function], where)
            elif function == "url" and prop.startswith("background"):
                usage.add("css-background-image", where)
        _keywords(prop, lower, where, usage)


def _keywords(prop: str, value: str, where: str, usage: Usage) -> None:
    if prop == "display":
        keyword = value.replace("!important", "").strip()
        if keyword == "none":
            usage.add("css-display-none", where)
        elif keyword in ("flex", "inline-flex"):
            usage.add("css-display-flex", where)
        elif keyword in ("grid", "inline-grid"):
            usage.add("css-display-grid", where)
    if re.search(r"\binitial\b", value):
        usage.add("css-unit-initial", where)
    if "system-ui" in value:
        usage.add("css-sytem-ui", where)
