"""The model every stage passes along: Item → Issue (sections, editions) → rendered outputs.

Every source (file, email, feed) yields the same ``Item``; organize turns approved items into
an ``Issue``; render turns each ``Edition`` into email, text and print outputs.
"""

from __future__ import annotations

import html
import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

from .errors import ContentError, Problem
from .i18n import _

#: Territory slug of items and recipients that concern the whole region.
REGIONAL = "regional"
#: Slug of the edition with every section (regional bodies, print, web archive).
COMPLETE = "complete"
#: Rubriques with a section of their own, ordered by date rather than by territory.
AGENDA = "agenda"
FUNDING = "financement"


class Status(str, Enum):
    """Review status, written back in the front matter as ``statut:``."""

    SUBMITTED = "soumis"
    APPROVED = "approuve"
    REFUSED = "refuse"
    HELD = "retenu"


#: The front-matter keys of an item, in the order they are written (every source, one list).
FRONT_MATTER_KEYS = ("titre", "organisme", "territoire", "rubrique", "date", "evenement",
                     "echeance", "lien", "image", "image_alt", "statut", "source", "flux")

#: What an item's ``lien`` may be: checked by the content store, and again at render.
SAFE_LINK = re.compile(r"^(https?://|mailto:)[^\s<>\"]+$", re.I)


def safe_link(url: str | None) -> str | None:
    """Return ``url`` if it may be shown as a link (https, http, mailto), else None.

    The store refuses other links; render checks again so a bad one that came by another
    path (a feed, a future source) never reaches an ``href`` or the text part.
    """
    return url if url and SAFE_LINK.match(url) else None


_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


class Month(str):
    """An issue's month, « AAAA-MM », checked once where it enters (argument, folder, file).

    A ``str``, so paths, SQL and messages use it as written; the arithmetic lives here only.
    """

    def __new__(cls, text: str) -> Month:
        if isinstance(text, Month):
            return text
        if not isinstance(text, str) or not _MONTH.fullmatch(text):
            raise ContentError(_("« {month} » n'est pas un numéro valide.").format(
                month=str(text)[:40]), fix=_("Écrivez l'année et le mois ainsi : 2026-12."))
        return super().__new__(cls, text)

    @classmethod
    def is_valid(cls, text: str) -> bool:
        """Tell whether ``text`` names a month (« 2026-12 », not « 2026-13 » nor « 26-12 »)."""
        return isinstance(text, str) and _MONTH.fullmatch(text) is not None

    @classmethod
    def of(cls, day: date) -> Month:
        """The month of a day: ``date(2026, 12, 4)`` → « 2026-12 »."""
        return cls(f"{day.year:04d}-{day.month:02d}")

    @property
    def year(self) -> int:
        return int(self[:4])

    @property
    def number(self) -> int:
        return int(self[5:])

    @property
    def first_day(self) -> date:
        """The 1st of the month: an issue's publication date unless one is given."""
        return date(self.year, self.number, 1)

    def next(self) -> Month:
        """« 2026-12 » → « 2027-01 »."""
        return Month(f"{self.year + 1:04d}-01" if self.number == 12
                     else f"{self.year:04d}-{self.number + 1:02d}")

    def previous(self) -> Month:
        """« 2027-01 » → « 2026-12 »."""
        return Month(f"{self.year - 1:04d}-12" if self.number == 1
                     else f"{self.year:04d}-{self.number - 1:02d}")


class Source(str, Enum):
    FILE = "fichier"
    MAIL = "courriel"
    FEED = "rss"


@dataclass(frozen=True)
class Event:
    """When and where an agenda item happens (times are aware, America/Montreal)."""

    debut: datetime
    fin: datetime | None = None
    lieu: str | None = None

    @property
    def all_day(self) -> bool:
        return self.debut.hour == 0 and self.debut.minute == 0 and self.fin is None


@dataclass(frozen=True)
class Item:
    """One news item, event, call for projects or resource, whatever its source."""

    slug: str
    month: str  # "YYYY-MM", the issue it belongs to
    titre: str
    organisme: str
    territoire: str  # a territory slug or REGIONAL
    rubrique: str
    date: date
    corps: str = ""  # Markdown, as written
    statut: Status = Status.SUBMITTED
    source: Source = Source.FILE
    evenement: Event | None = None
    echeance: date | None = None
    lien: str | None = None
    image: str | None = None
    image_alt: str | None = None
    path: Path | None = field(default=None, compare=False)

    @property
    def approved(self) -> bool:
        return self.statut is Status.APPROVED


@dataclass(frozen=True)
class Attachment:
    """A file that came with a draft (an email's attachment, a feed's image), saved beside it."""

    name_safe: str
    content_type: str
    data: bytes
    kind: str  # "image" | "document"
    note: str = ""


@dataclass
class ItemDraft:
    """What every source produces: the content store writes it as ``content/<month>/<slug>.md``.

    An email, a feed entry (a future source too) becomes this before it becomes a file; the
    store alone turns it into a file, so a source never writes ``content/`` itself.
    """

    front_matter: dict[str, Any]
    corps: str
    slug: str
    message_id: str | None
    sender: str
    digest: str
    attachments: list[Attachment] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: The first note, saying where the item came from (default: « Reçu par courriel de… »).
    origin: str = ""


class SectionKind(str, Enum):
    """How a section is laid out: full items, headlines, dated events or deadlines."""

    FULL = "complet"
    HEADLINES = "manchettes"
    AGENDA = "agenda"
    FUNDING = "financement"


@dataclass(frozen=True)
class Group:
    """Items under one subheading (a rubrique, or a territory in headlines)."""

    key: str
    titre: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Section:
    """A titled part of an edition."""

    key: str
    titre: str
    kind: SectionKind
    groups: tuple[Group, ...]
    intro: str = ""

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(i for g in self.groups for i in g.items)

    def __bool__(self) -> bool:
        return any(g.items for g in self.groups)


@dataclass(frozen=True)
class Edition:
    """What one set of readers receives: a territory's edition or the complete one."""

    slug: str  # territory slug or COMPLETE
    titre: str
    sections: tuple[Section, ...]

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(i for s in self.sections for i in s.items)


@dataclass(frozen=True)
class Issue:
    """One month's numéro, organized: the input of render."""

    month: str
    parution: date
    items: tuple[Item, ...]
    editions: tuple[Edition, ...]
    notices: tuple[Problem, ...] = ()
    preview: bool = False

    def edition(self, slug: str) -> Edition:
        return next(e for e in self.editions if e.slug == slug)

    def edition_slug_for(self, recipient: Recipient) -> str:
        """Say which edition ``recipient`` reads by email: their territory's, else complete.

        Organize's rule, kept with the issue it organized: regional recipients (and
        territories with no edition this month) get the complete edition, so nobody is left
        without a bulletin.
        """
        slugs = {e.slug for e in self.editions}
        if recipient.territoire != REGIONAL and recipient.territoire in slugs:
            return recipient.territoire
        return COMPLETE


@dataclass(frozen=True)
class Recipient:
    """One line of ``recipients.csv``."""

    email: str
    nom: str = ""
    organisme: str = ""
    territoire: str = REGIONAL
    format: str = "courriel"  # courriel | poste | les-deux
    langue: str = "fr_CA"
    adresse_postale: str = ""

    @property
    def wants_email(self) -> bool:
        return self.format in ("courriel", "les-deux")

    @property
    def wants_paper(self) -> bool:
        return self.format in ("poste", "les-deux")


@dataclass(frozen=True)
class UnsubscribeLinks:
    """The ways one recipient can unsubscribe: a mailto, and a signed HTTPS link (RFC 8058)
    when the web page is configured. ``unsubscribe`` makes them, ``deliver`` writes them."""

    mailto: str
    https: str | None = None

    @property
    def preferred(self) -> str:
        """Return the link shown in the footer: one click when there is one."""
        return self.https or self.mailto


#: The per-recipient fields templates may use, through ``placeholder(name)``. ``images`` is
#: the base URL of the issue's images: ``images/`` beside the files of build/, the published
#: archive (``[infolettre] site``) in a sent message.
FIELDS = ("salutation", "courriel", "desabonnement", "images")


@dataclass(frozen=True)
class Placeholders:
    """Tokens standing for per-recipient values in a rendered edition.

    An edition is compiled once; the greeting, address and unsubscribe link of each
    recipient are substituted afterwards (``render`` places the tokens, ``deliver`` fills
    them). The nonce is drawn per build, so text in a submission can never forge one.
    """

    nonce: str = field(default_factory=lambda: secrets.token_hex(8))

    def token(self, name: str) -> str:
        """Return the token for ``name`` (one of ``FIELDS``)."""
        if name not in FIELDS:
            raise KeyError(name)
        return f"@@{self.nonce}:{name}@@"

    def fill(self, rendered: str, values: dict[str, str], *, escape_html: bool) -> str:
        """Replace every token by its value, HTML-escaped when filling HTML."""
        for name in FIELDS:
            value = values.get(name, "")
            rendered = rendered.replace(self.token(name),
                                        html.escape(value) if escape_html else value)
        return rendered


@dataclass(frozen=True)
class RenderedEdition:
    """An edition rendered once; per-recipient values are filled in later by ``personalize``."""

    slug: str
    titre: str
    subject: str
    html: str
    text: str


@dataclass(frozen=True)
class RenderedIssue:
    """Everything render produced for one issue."""

    issue: Issue
    editions: tuple[RenderedEdition, ...]
    print_html: str
    placeholders: Placeholders = field(default_factory=lambda: Placeholders())

    def edition(self, slug: str) -> RenderedEdition:
        return next(e for e in self.editions if e.slug == slug)
