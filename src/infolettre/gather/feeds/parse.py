"""Feed bytes → ``ParsedFeed``: feedparser reads, then we clean each entry for the bulletin.

Pure: bytes and headers in, values out, never an exception. feedparser decodes the bytes
(charset from the headers and the XML declaration) and resolves the entries' own links
against the feed's URL; its HTML sanitizer and its resolution of links *inside* HTML are off
(~40 % of its time, for what nh3 does anyway): every HTML value goes through ``markup``
(relative links resolved against the value's ``xml:base`` or the feed's URL, then nh3 with
our allow-list in ``html_to_markdown``) before it becomes an entry's body. Titles become
plain text (nh3 again), links absolute http(s) URLs, dates aware UTC datetimes.
"""

from __future__ import annotations

import hashlib
import html
import io
import re
import xml.sax
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

import feedparser
import nh3

from ...i18n import _
from ...models import safe_link
from ..mail.text import CONTROLS
from .baseuri import remember_base_joins
from .markup import DROPPED_WITH_CONTENT, entry_markdown
from .model import FeedEntry, ParsedFeed

MAX_ENTRIES = 500  # entries read from one feed (a feed is a window, not an archive)
MAX_TITLE = 200  # characters of a title
MAX_BODY = 4000  # characters of Markdown kept before « (suite sur le site) »
MAX_HTML_IN = 300_000  # characters of one HTML value converted (more is cut first)
MAX_ALT = 300
SUMMARY_WORDS = 12  # words of the body that make a title when the entry has none
UNTITLED = "Sans titre"
MORE = "(suite sur le site)"
SHORTENED = "(texte abrégé)"
#: Event times written without an offset are read in the bulletin's region.
LOCAL_TZ = ZoneInfo("America/Montreal")

_HTML_TYPES = ("text/html", "application/xhtml+xml", "html", "xhtml")
_SPACES = re.compile(r"\s+")
#: A character that is not Markdown markup alone (rules, emphasis, quotes, escapes) nor a
#: space: a text without one says nothing.
_WORD_CHAR = re.compile(r"[^\s\-*_=#>|`~\\+]")
_MD_INLINE = re.compile(r"([\\`*_\[\]<>&!|~])")
_MD_LINE_START = re.compile(r"^(\s*)([#>+=-]|\d+[.)])", re.MULTILINE)
_WORDPRESS = re.compile(
    r"^\s*(?:\*?)(?:the post\b.{0,400}?\bappeared first on\b|cet article\b.{0,400}?"
    r"\best apparu en premier sur\b).{0,400}$", re.IGNORECASE | re.DOTALL)

remember_base_joins()  # ~1 ms of each feed's ~8, same results (see baseuri)


def parse_feed(body: bytes, headers: Mapping[str, str], url: str) -> ParsedFeed:
    """Read a feed's bytes into cleaned entries, or say in French why it is not usable."""
    try:
        return _parse(body, headers, url)
    except RecursionError:
        return ParsedFeed(problem=_("flux trop imbriqué (RecursionError) : illisible."))
    except Exception as exc:  # noqa: BLE001 - any input must give an answer, not a crash
        return ParsedFeed(problem=_("flux illisible ({type}) : vérifiez l'adresse du flux ou "
                                    "signalez-le au site qui le publie.").format(
                                        type=type(exc).__name__))


def _parse(body: bytes, headers: Mapping[str, str], url: str) -> ParsedFeed:
    lower = {str(k).lower(): str(v) for k, v in (headers or {}).items()}
    # No Content-Type (a file, a test): XML, whose own declaration then gives the charset.
    lower.setdefault("content-type", "application/xml")
    if _looks_like_json(body, lower.get("content-type", "")):
        return ParsedFeed(problem=_("flux JSON (JSON Feed) : ce format n'est pas pris en "
                                    "charge ; demandez au site l'adresse de son flux RSS ou "
                                    "Atom."))
    parsed = feedparser.parse(io.BytesIO(body), response_headers={**lower, "content-location": url},
                              sanitize_html=False, resolve_relative_uris=False)
    version = parsed.get("version") or ""
    exc = parsed.get("bozo_exception") if parsed.get("bozo") else None
    raw_entries = parsed.get("entries") or []
    result = ParsedFeed(version=version, titre=_plain(_detail(parsed.get("feed") or {}, "title")))
    ill_formed = _("flux mal formé : {why}.")
    if not version and not raw_entries:
        if exc is not None and not _looks_like_html(body, lower["content-type"]) \
                and not isinstance(exc, feedparser.NonXMLContentType):
            result.problem = ill_formed.format(why=_why(exc))
        else:
            result.problem = _("ce n'est pas un flux RSS ou Atom (page HTML ?) : vérifiez "
                               "l'adresse du flux, souvent terminée par /feed, /rss ou .xml.")
        return result
    if exc is not None and not raw_entries:
        result.problem = ill_formed.format(why=_why(exc))
        return result
    if isinstance(exc, feedparser.CharacterEncodingOverride):
        result.warnings.append(_("encodage déclaré incorrect : lu comme {encoding} ; vérifiez "
                                 "les accents.").format(encoding=parsed.get("encoding") or "?"))
    elif isinstance(exc, feedparser.NonXMLContentType):
        result.warnings.append(_("le serveur annonce ce flux comme « {type} » et non comme du "
                                 "XML : lu quand même.").format(type=lower["content-type"]))
    elif exc is not None:
        result.warnings.append(_("flux mal formé mais lisible : {why} ; {n} entrée(s) "
                                 "récupérée(s).").format(why=_why(exc), n=len(raw_entries)))
    if len(raw_entries) > MAX_ENTRIES:
        result.warnings.append(_("flux de {n} entrées : seules les {max} premières ont été "
                                 "lues.").format(n=len(raw_entries), max=MAX_ENTRIES))
    failed = empty = 0
    for raw in raw_entries[:MAX_ENTRIES]:
        try:
            entry = _entry(raw, url)
        except Exception:  # noqa: BLE001 - one odd entry must not lose the others
            failed += 1
            continue
        if entry.titre == UNTITLED and not entry.lien and not entry.corps:
            empty += 1  # nothing to show (markup alone, « <hr> », is no text): what a
            # broken feed leaves when its XML stops early
        else:
            result.entries.append(entry)
    if failed:
        result.warnings.append(_("{n} entrée(s) illisible(s) ignorée(s).").format(n=failed))
    if empty:
        result.warnings.append(_("{n} entrée(s) vide(s) (ni titre, ni lien, ni texte) "
                                 "ignorée(s).").format(n=empty))
    if exc is not None and not result.entries:
        result.problem = _("flux mal formé : {why} ; aucune entrée lisible.").format(
            why=_why(exc))
        return result
    if raw_entries and not result.entries:
        result.problem = _("aucune entrée utilisable : chaque entrée du flux est illisible ou "
                           "sans titre, sans lien et sans texte ; signalez-le au site qui le "
                           "publie.")
        return result
    if not result.entries and not raw_entries:
        result.warnings.append(_("le flux ne contient aucune entrée pour l'instant."))
    return result


def _looks_like_json(body: bytes, content_type: str) -> bool:
    start = body[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    return "json" in content_type.lower() or start.startswith((b"{", b"["))


def _looks_like_html(body: bytes, content_type: str) -> bool:
    start = body[:2048].lower()
    if any(tag in start for tag in (b"<rss", b"<feed", b"<rdf:rdf", b"<channel")):
        return False
    return "text/html" in content_type.lower() or b"<!doctype html" in start or b"<html" in start


def _why(exc: BaseException) -> str:
    """Say briefly, in French, what feedparser found wrong."""
    if isinstance(exc, xml.sax.SAXParseException):
        return _("XML invalide ligne {line}, colonne {column} ({detail})").format(
            line=exc.getLineNumber(), column=exc.getColumnNumber(), detail=exc.getMessage())
    if isinstance(exc, feedparser.CharacterEncodingUnknown):
        return _("encodage des caractères inconnu")
    if isinstance(exc, feedparser.CharacterEncodingOverride):
        return _("encodage déclaré incorrect")
    if isinstance(exc, feedparser.NonXMLContentType):
        return _("le serveur ne l'annonce pas comme du XML (Content-Type)")
    if isinstance(exc, feedparser.UndeclaredNamespace):
        return _("préfixe XML non déclaré")
    text = " ".join(str(exc).split())[:150]
    return f"{type(exc).__name__}" + (f" ({text})" if text else "")


# --- one entry ---------------------------------------------------------------------------

def _entry(raw: Mapping[str, Any], url: str) -> FeedEntry:
    lien = _absolute(raw.get("link"), url)
    # dict.get: FeedParserDict would answer « updated » with « published » (and warn)
    publie = _when(dict.get(raw, "published_parsed")) or _when(dict.get(raw, "updated_parsed"))
    image_url, from_media = _image(raw, url)
    corps, alt_source = _body(raw, lien, url, skip_alt=from_media)
    # markup alone (« <hr> » → « --- ») is neither a title nor a text
    corps = corps if _has_words(corps) else ""
    titre = _plain(_detail(raw, "title"))
    if not _has_words(titre):
        titre = _first_words(corps) or UNTITLED
    image_alt = None
    if image_url and from_media:
        image_alt = _cut(_plain((alt_source or "", "text/plain")), MAX_ALT) or None
    debut, fin, lieu = _event(raw)
    return FeedEntry(key=_key(raw, lien, titre), titre=titre, lien=lien, publie=publie,
                     corps=corps, image_url=image_url, image_alt=image_alt, debut=debut,
                     fin=fin, lieu=lieu)


def _key(raw: Mapping[str, Any], lien: str | None, titre: str) -> str:
    guid = " ".join(str(raw.get("id") or "").split())
    if guid:
        return f"guid:{guid[:500]}"
    link = " ".join(str(raw.get("link") or "").split())
    if lien or link:
        return f"lien:{(lien or link)[:500]}"
    when = dict.get(raw, "published") or dict.get(raw, "updated") or ""
    return "hash:" + hashlib.sha256(f"{titre}\n{when}".encode("utf-8", "replace")).hexdigest()


def _detail(obj: Mapping[str, Any], name: str) -> tuple[str, str]:
    """Return a text field and its type (``text/html``, ``text/plain``…)."""
    detail = obj.get(f"{name}_detail")
    if detail:  # (without it, feedparser may answer « summary » with the content)
        value = detail.get("value")
        return (value if isinstance(value, str) else ""), str(detail.get("type") or "text/html")
    value = obj.get(name) if name == "title" else None
    return (value if isinstance(value, str) else ""), "text/html"


def _plain(field: tuple[str, str]) -> str:
    """Turn a title-like value into one line of plain text (tags out, entities decoded)."""
    value, kind = field
    if not value:
        return ""
    value = value[:20_000]
    if kind in _HTML_TYPES or "<" in value or "&" in value:
        # Even a « text » title often carries escaped markup (« &lt;b&gt; »): tags out.
        value = html.unescape(nh3.clean(value, tags=set(),
                                        clean_content_tags=set(DROPPED_WITH_CONTENT)))
    value = CONTROLS.sub("", value)
    return _cut(_SPACES.sub(" ", value).strip(), MAX_TITLE)


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    head = text[:limit - 1]
    head = head.rsplit(" ", 1)[0] if " " in head[limit // 2:] else head
    return head.rstrip(" ,;:.-") + " …"


def _has_words(text: str) -> bool:
    """Tell whether a text says something: more than Markdown markup (« --- », « * * * »)."""
    return _WORD_CHAR.search(text) is not None


def _first_words(corps: str) -> str:
    text = re.sub(r"[\\*_`#>\[\]()<]", " ", corps)
    text = re.sub(r"https?://\S+", " ", text)
    words = [w for w in text.split() if _has_words(w)]  # « --- » is no word
    if not words:
        return ""
    title = " ".join(words[:SUMMARY_WORDS])
    return _cut(title + (" …" if len(words) > SUMMARY_WORDS else ""), MAX_TITLE)


def _absolute(link: Any, base: str) -> str | None:
    """Return ``link`` made absolute against the feed URL, if it is http(s); else None."""
    if not isinstance(link, str) or not link.strip():
        return None
    try:
        full = urljoin(base, link.strip().replace(" ", "%20"))
    except ValueError:
        return None
    if not re.match(r"^https?://[^/\s]", full, re.IGNORECASE):
        return None
    scheme, rest = full.split(":", 1)
    return safe_link(scheme.lower() + ":" + rest)


def _when(value: Any) -> datetime | None:
    """feedparser's UTC ``struct_time`` → aware UTC datetime (None if impossible)."""
    if value is None:
        return None
    try:
        return datetime(*tuple(value)[:6], tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _body(raw: Mapping[str, Any], lien: str | None, url: str, *,
          skip_alt: bool) -> tuple[str, str]:
    """Return the entry's body as Markdown, and the text that may describe its image.

    Relative links in it resolve against the value's ``xml:base`` (feedparser's ``base``),
    else the feed's ``url``.
    """
    summary, summary_type = _detail(raw, "summary")
    base = (raw.get("summary_detail") or {}).get("base") or url
    contents = [c for c in (raw.get("content") or []) if isinstance(c.get("value"), str)]
    alt_source = ""
    if skip_alt:
        # feedparser files media:description under content (text/plain) when the item also
        # has a description: that text describes the image, it is not the body.
        plain = [c for c in contents if c.get("type") == "text/plain" and c["value"].strip()]
        if plain and len(plain[-1]["value"]) <= 1000:
            alt_source = plain[-1]["value"]
            contents = [c for c in contents if c is not plain[-1]]
    value, kind = summary, summary_type
    if contents and len(contents[0]["value"]) > len(summary or ""):
        value, kind = contents[0]["value"], str(contents[0].get("type") or "text/html")
        base = contents[0].get("base") or url
    value = (value or "")[:MAX_HTML_IN]
    if kind == "text/plain":
        corps = _escape_markdown(value)
    else:
        corps = entry_markdown(value, base)
    corps = CONTROLS.sub("", corps.replace("\r\n", "\n").replace("\t", "    ")).strip()
    corps = _drop_wordpress_footer(corps)
    return _shorten(corps, lien), alt_source


def _escape_markdown(text: str) -> str:
    """Make plain text show literally in Markdown (``*``, ``<b>``, ``&amp;`` stay as typed)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    text = re.sub(r"(?m)^[ \t]+", "", text)  # an indented paragraph is not code
    text = _MD_INLINE.sub(r"\\\1", text)
    # a line break the author typed stays one (Markdown would join the lines)
    text = re.sub(r"(?<=\S)[ \t]*\n(?=[ \t]*\S)", "  \n", text)
    return _MD_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2)
                              if not m.group(2)[0].isdigit()
                              else m.group(1) + m.group(2)[:-1] + "\\" + m.group(2)[-1], text)


def _drop_wordpress_footer(corps: str) -> str:
    """Remove WordPress's « The post … appeared first on … » closing paragraph."""
    head, sep, last = corps.rpartition("\n\n")
    if _WORDPRESS.match(last):
        return head.rstrip() if sep else ""
    return corps


def _shorten(corps: str, lien: str | None) -> str:
    """Cut a very long body at a paragraph boundary and point to the rest on the site."""
    if len(corps) <= MAX_BODY:
        return corps
    kept, size = [], 0
    for paragraph in corps.split("\n\n"):
        if size + len(paragraph) > MAX_BODY:
            break
        kept.append(paragraph)
        size += len(paragraph) + 2
    if not kept:  # one huge paragraph: cut at a space
        head = corps[:MAX_BODY]
        head = head.rsplit(" ", 1)[0] if " " in head[MAX_BODY // 2:] else head
        kept = [head.rstrip("\\") + " …"]
    if lien:
        link = lien.replace("(", "%28").replace(")", "%29")
        kept.append(f"[{MORE}]({link})")
    else:
        kept.append(SHORTENED)
    return "\n\n".join(kept)


def _image(raw: Mapping[str, Any], base: str) -> tuple[str | None, bool]:
    """Return the entry's image URL, and whether it came from a media tag (with a caption)."""
    for enclosure in raw.get("enclosures") or []:
        if str(enclosure.get("type") or "").lower().startswith("image/"):
            found = _absolute(enclosure.get("href") or enclosure.get("url"), base)
            if found:
                return found, False
    for media in raw.get("media_content") or []:
        kind = str(media.get("type") or "").lower()
        if media.get("medium") == "image" or kind.startswith("image/"):
            found = _absolute(media.get("url"), base)
            if found:
                return found, True
    for thumb in raw.get("media_thumbnail") or []:
        found = _absolute(thumb.get("url"), base)
        if found:
            return found, True
    return None, False


def _event(raw: Mapping[str, Any]) -> tuple[datetime | None, datetime | None, str | None]:
    """Read the RSS event module (``ev:startdate``, ``ev:enddate``, ``ev:location``)."""
    debut = _iso(raw.get("ev_startdate"))
    if debut is None:
        return None, None, None
    fin = _iso(raw.get("ev_enddate"))
    if fin is not None and fin < debut:
        fin = None
    lieu = _plain((str(raw.get("ev_location") or ""), "text/plain")) or None
    return debut, fin, lieu


def _iso(value: Any) -> datetime | None:
    """An ISO 8601 date or date-time → aware datetime (local time when no offset is given)."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=LOCAL_TZ)
