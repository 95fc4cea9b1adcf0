"""The same news from two sources is one item: canonical links and near-identical titles.

A table relays a municipality's post, a partner platform republishes it, the organization
also emails it: the pivot must see it once, with every source noted. Two entries are the
same news when their links are the same once the noise is removed (scheme, ``www.``, default
port, fragment, tracking parameters, parameter order, trailing slash), or when their titles
are near-identical in the same issue **and they come from different sources**: one feed
publishing two entries with the same title and different links (a recurring « Avis public :
consultation sur le règlement de zonage ») gives two news. A title alone must be specific
enough to decide: « Assemblée générale annuelle » from two organizations is two items (see
``MIN_TITLE``), and titles whose numbers differ (« Café-rencontre du 12 novembre » and « … du
19 novembre », « Bulletin n° 3 » and « Bulletin n° 4 ») are different news however similar
the rest.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

from ...i18n import _

#: Query parameters that only say where a click came from (Google, Facebook, Mailchimp,
#: HubSpot, Microsoft, Instagram, Yandex, Marketo…): never part of what a page is.
TRACKING = re.compile(
    r"^(utm_\w+|fbclid|gclid|gclsrc|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid|_hsenc|_hsmi|"
    r"__hssc|__hstc|__hsfp|hsctatracking|igshid|yclid|mkt_tok|ref_src|ref_url|"
    r"s_cid|spm|oly_anon_id|oly_enc_id|vero_id|wickedid|_ga|_gl|ncid|sr_share)$", re.I)
#: Titles this similar (0–1, ``difflib`` ratio of the normalized texts) are the same news.
TITLE_RATIO = 0.92
#: A title shorter than this (normalized characters) or with fewer words never matches on
#: its own: too generic (« Offre d'emploi », « Assemblée générale »).
MIN_TITLE, MIN_WORDS = 25, 4


def canonical_url(url: str | None) -> str | None:
    """Return the comparison form of a link (not a URL to visit), or None if not http(s).

    ``HTTPS://www.Exemple.org:443/a/?utm_source=x&b=2&a=1#haut`` and
    ``http://exemple.org/a?a=1&b=2`` both give ``exemple.org/a?a=1&b=2``.
    """
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    host = host[4:] if host.startswith("www.") else host
    if port and port not in (80, 443):
        host = f"{host}:{port}"
    path = re.sub(r"/{2,}", "/", parts.path or "/")
    path = path.rstrip("/") or "/"
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                   if not TRACKING.match(k))
    return host + path + (f"?{urlencode(query)}" if query else "")


def normalized_title(title: str) -> str:
    """Return a title without accents, case, punctuation or extra spaces."""
    text = unicodedata.normalize("NFKD", title or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def titles_match(a: str, b: str) -> bool:
    """Tell whether two normalized titles are the same news (specific and near-identical)."""
    if min(len(a), len(b)) < MIN_TITLE or min(a.count(" "), b.count(" ")) + 1 < MIN_WORDS:
        return False
    if a == b:
        return True
    if _numbers(a) != _numbers(b):
        return False
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    return matcher.real_quick_ratio() >= TITLE_RATIO and matcher.quick_ratio() >= TITLE_RATIO \
        and matcher.ratio() >= TITLE_RATIO


def why_same(why: str) -> str:
    """Say to the pivot why two items are the same news (``why``: « lien » or « titre »)."""
    return _("même lien") if why == "lien" else _("titre presque identique")


def _numbers(title: str) -> tuple[str, ...]:
    """The numbers of a title, in order: a series' issues or dates tell news apart."""
    return tuple(re.findall(r"\d+", title))


@dataclass(frozen=True)
class Known:
    """An item already there (a file, or one written earlier in this run)."""

    path: Path
    titre: str
    lien: str | None
    source: str  # how the pivot knows it: « courriel », « fichier », the feed's name…
    feed: str = ""  # the name of the feed it came from (its « flux » key), "" otherwise


@dataclass
class DuplicateIndex:
    """The items of an issue (and links of the one before), to recognise the same news.

    ``links`` spans the target month and the previous one (a post already published last
    month is not news again); ``titles`` only the target month, as the issue asks.
    """

    links: dict[str, Known] = field(default_factory=dict)
    #: normalized titles by their numbers (titles with other numbers never match)
    titles: dict[tuple[str, ...], list[tuple[str, Known]]] = field(default_factory=dict)

    def add(self, known: Known, *, same_month: bool = True) -> None:
        """Remember an item; its title counts only within the month being gathered."""
        key = canonical_url(known.lien)
        if key:
            self.links.setdefault(key, known)
        if same_month:
            title = normalized_title(known.titre)
            self.titles.setdefault(_numbers(title), []).append((title, known))

    def find(self, titre: str, lien: str | None, *,
             feed: str = "") -> tuple[Known, str] | None:
        """Return the item this one duplicates and why (« lien » or « titre »), or None.

        ``feed`` names the feed the new entry comes from: a title from that same feed is
        not a duplicate (one source, two entries, two links: two news); a link always is.
        """
        key = canonical_url(lien)
        if key and key in self.links:
            return self.links[key], "lien"
        wanted = normalized_title(titre)
        # a ratio ≥ TITLE_RATIO needs lengths this close: skip the others before difflib
        shortest, longest = len(wanted) * TITLE_RATIO / (2 - TITLE_RATIO), \
            len(wanted) * (2 - TITLE_RATIO) / TITLE_RATIO
        for title, known in self.titles.get(_numbers(wanted), ()):
            if feed and known.feed == feed:
                continue
            if shortest <= len(title) <= longest and titles_match(wanted, title):
                return known, "titre"
        return None
