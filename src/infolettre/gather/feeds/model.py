"""The values that travel between the stages of the feed watch (fetch → parse → items).

Kept apart so each stage depends on plain data, not on the others: ``fetch`` fills
``Fetched``, ``parse`` turns its bytes into ``FeedEntry`` values, ``convert`` makes them
``ItemDraft``s, and ``run`` (the only stage with state and files) ties them together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

#: What we ask a feed server for (feeds first, anything as a last resort: some send text/html).
FEED_ACCEPT = ("application/atom+xml, application/rss+xml, application/rdf+xml, "
               "application/feed+json;q=0.9, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1")
IMAGE_ACCEPT = "image/jpeg, image/png, image/gif, image/webp;q=0.9"


@dataclass(frozen=True)
class Validators:
    """What makes the next request conditional (``If-None-Match``, ``If-Modified-Since``)."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class FetchPolicy:
    """How politely and how long we fetch (``[veille]`` in infolettre.toml)."""

    user_agent: str
    max_concurrent: int = 50  # requests in flight, all hosts together
    per_host: int = 2  # requests in flight to one host name
    connect_timeout: float = 10.0  # s
    read_timeout: float = 20.0  # s, between two chunks
    total_timeout: float = 60.0  # s, for the whole request (a slow drip ends here)
    max_bytes: int = 5 * 1024 * 1024  # decoded body; more is an error, not a truncation
    max_redirects: int = 5


@dataclass(frozen=True)
class FetchRequest:
    """One URL to fetch, with the validators of its last answer (for a feed)."""

    url: str
    validators: Validators = Validators()
    accept: str = FEED_ACCEPT
    max_bytes: int | None = None  # None: the policy's
    #: A URL found in a feed (an image), not chosen by the pivot: refuse any hop to an
    #: address of the local network (loopback, private, link-local…), so a hostile feed
    #: cannot make us reach the machines behind our own firewall.
    public_only: bool = False


@dataclass(frozen=True)
class Fetched:
    """The outcome of one request: a body, « not modified », or a French error.

    ``status`` is ``"ok"`` (``body`` holds the decoded bytes), ``"not_modified"`` (304: the
    stored validators still hold) or ``"error"`` (``error`` says what happened, in French,
    for the pivot: timeout, HTTP code, certificate, too big, too many redirects…).
    """

    url: str  # as requested
    status: str  # "ok" | "not_modified" | "error"
    final_url: str = ""  # after redirects (relative links resolve against it)
    http_status: int | None = None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    validators: Validators = Validators()  # from this answer (keep them for the next)
    error: str = ""
    elapsed: float = 0.0  # s

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True)
class FeedEntry:
    """One entry of a feed, read and cleaned: plain title, safe link, Markdown body."""

    key: str  # "guid:<id>", else "lien:<url>", else "hash:<sha256 of title and date>"
    titre: str  # plain text, one line, entities decoded, no tags
    lien: str | None  # absolute http(s) URL, or None
    publie: datetime | None  # aware (UTC) publication date, else update date, else None
    corps: str  # Markdown, from sanitized HTML (or escaped plain text)
    image_url: str | None = None  # absolute http(s) URL from an enclosure or media tag
    image_alt: str | None = None  # media:description / media:title when given
    debut: datetime | None = None  # event start when the feed says so (aware)
    fin: datetime | None = None
    lieu: str | None = None


@dataclass
class ParsedFeed:
    """A feed read from its bytes: its entries, or the French reason it is not usable.

    ``problem`` set means the whole feed is unusable (an HTML page, not XML at all, no
    entries and a fatal error); ``warnings`` are worth a look but the entries are good
    (ill-formed XML that feedparser recovered, a wrong declared charset).
    """

    titre: str = ""
    entries: list[FeedEntry] = field(default_factory=list)
    problem: str = ""
    warnings: list[str] = field(default_factory=list)
    version: str = ""  # feedparser's: "rss20", "atom10"…; "" for not a feed
