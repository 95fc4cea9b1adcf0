"""The typed schema of ``infolettre.toml``: one frozen dataclass per table, each key with
its type and documented default (the sample file comments every key for the staff).

Nothing here reads a file: ``reader`` checks the parsed TOML key by key and builds these.
The ``[smtp]`` table's schema is ``smtp.SmtpConfig``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.utils import parseaddr
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

from ..i18n import _
from ..models import REGIONAL
from .bounces import Bounces
from .calendar import Calendar
from .smtp import SmtpConfig

ENV_CONFIG = "INFOLETTRE_CONFIG"
DEFAULT_CONFIG = Path("infolettre.toml")
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
PAPER_SIZES = ("letter", "a4")
#: Gmail clips a message whose HTML is over 102 KB (102 × 1024 bytes).
GMAIL_CLIP_BYTES = 102 * 1024
#: Control characters (CR and LF first) never belong in a setting: in a header (From,
#: Reply-To, Subject, List-Id), an SMTP or IMAP command, they would start a new line the
#: file's author never wrote (« Bcc: … »). Only a postal address may span lines.
CONTROL_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


@dataclass(frozen=True)
class Identity:
    """Who publishes the bulletin: shown in every footer (Canada's anti-spam law)."""

    nom: str
    region: str
    expediteur: str
    repondre_a: str
    adresse_postale: str
    site: str | None = None
    langue: str = "fr_CA"
    fuseau: str = "America/Montreal"
    logo: Path | None = None  # PNG, JPEG or GIF (settings.logo), shown when ``site`` is set

    @cached_property
    def sender_address(self) -> str:
        """Return the bare address of ``expediteur`` (``a@b``), parsed once (used per message)."""
        return parseaddr(self.expediteur)[1]

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.fuseau)


@dataclass(frozen=True)
class Organization:
    """A member organization or table allowed to publish (``settings/organizations.py``).

    ``courriels`` are private (who may submit); only the four public keys reach the site.
    """

    nom: str
    courriels: tuple[str, ...]
    territoire: str
    table: str | None = None
    relance: bool = False            # opt-in: a friendly reminder when silent
    site_web: str | None = None
    courriel_public: str | None = None
    telephone_public: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class Paths:
    """Where things live; every path is absolute once loaded."""

    contenu: Path
    gabarits: Path
    sortie: Path
    boite_envoi: Path
    destinataires: Path
    donnees: Path
    site: Path  # infolettre publish writes the web archive here (published as [infolettre] site)


@dataclass(frozen=True)
class Unsubscribe:
    """How people leave the list: a mailbox (always) and a web page (with the review app)."""

    courriel: str  # the address of mailto: unsubscribe links (default: repondre_a)
    url: str | None = None  # https page that checks the signed token (RFC 8058 one-click)
    maildir: Path | None = None  # where mailto: requests arrive, read by `desabonnements`


@dataclass(frozen=True)
class Dkim:
    """DKIM signing of sent messages (no [dkim] table: messages are not signed)."""

    selecteur: str
    domaine: str
    cle: Path


IMAP_SECURITY = ("tls", "starttls")
#: What happens on the IMAP server to a processed message (a failed one always goes to
#: dossier_a_verifier): moved to dossier_traite, or marked read with a keyword and left.
AFTER_PROCESSING = ("deplacer", "marquer")


@dataclass(frozen=True)
class MailIntake:
    """Where delegates' emails arrive (``[courriel_entrant]``): a Maildir, an IMAP box, or both.

    The IMAP password is never in the file: it comes from ``INFOLETTRE_IMAP_PASSWORD``.
    """

    maildir: Path | None = None  # a local Maildir read by `infolettre gather mail`
    imap_hote: str | None = None  # IMAP server; none: no IMAP polling
    imap_port: int = 993  # 993 for tls, 143 for starttls
    imap_securite: str = "tls"  # tls | starttls (never in clear)
    imap_utilisateur: str | None = None  # login (defaults to none: the IMAP side will ask)
    imap_dossier: str = "INBOX"  # the folder read on the server
    dossier_traite: str = "Traité"  # where a processed message is moved
    apres_traitement: str = "deplacer"  # deplacer (to dossier_traite) | marquer (flag, stays)
    dossier_a_verifier: str = "À vérifier"  # where a message that failed waits for a person
    taille_max_piece_jointe_mo: int = 10  # an attachment over this size is dropped, with a note
    #: A short French reply to a known, authenticated sender once their item is written
    #: (never to strangers or automatic mail; at most 3 per address per day).
    accuse_reception: bool = True
    #: The authserv-id(s) our receiving server writes in Authentication-Results (RFC 8601),
    #: e.g. « mx.example.org »: only those results are believed (a sender can write any
    #: header). Unset: no « pass » is believed, and ``check`` says so.
    authserv_id: tuple[str, ...] = ()

    @property
    def max_attachment_bytes(self) -> int:
        """Return the attachment cap in bytes."""
        return self.taille_max_piece_jointe_mo * 1024 * 1024


#: How much a feed is trusted: « revue » entries wait for the pivot (« soumis »), « auto »
#: entries arrive approved (still checked like any file; a doubtful one waits instead).
FEED_TRUST = ("revue", "auto")


@dataclass(frozen=True)
class FeedSource:
    """One RSS/Atom feed watched for the bulletin (``[[flux]]``)."""

    url: str
    nom: str  # shown to the pivot, written as ``flux:`` in each item
    territoire: str  # a territory slug or « regional »
    rubrique: str  # default rubrique of its entries
    confiance: str = "revue"  # revue | auto
    organisme: str | None = None  # the registry's name, when it differs from ``nom``

    @property
    def organization(self) -> str:
        """Return the organization its items are credited to."""
        return self.organisme or self.nom


@dataclass(frozen=True)
class Watch:
    """How feeds are fetched (``[veille]``): politeness, limits, when to warn the pivot."""

    contact: str = ""  # in the User-Agent, so a webmaster can reach us (default: repondre_a)
    simultanes: int = 50  # requests in flight, all feeds together (2 at most per server)
    par_hote: int = 2  # requests in flight to one server
    delai_connexion_s: float = 10.0
    delai_lecture_s: float = 20.0
    delai_total_s: float = 60.0
    taille_max_mo: int = 5  # a bigger answer is an error (never truncated)
    redirections_max: int = 5
    alerte_apres: int = 3  # consecutive failures before the pivot is warned
    entrees_max: int = 30  # new entries taken from one feed in one run (the newest)
    #: Fetch feed images served from the local network (loopback, private addresses): off,
    #: so a hostile feed cannot point us at our own machines; on for tests and intranets.
    images_reseau_local: bool = False


@dataclass(frozen=True)
class Application:
    """The pivot's review app (``[application]``): where people reach it.

    ``url`` is its public address (behind the HTTPS proxy): links in the pivot's emails
    point there, and with https:// the session cookie is sent over HTTPS only.
    """

    url: str | None = None
    hote: str = "127.0.0.1"  # where ``infolettre serve`` listens (the proxy's side)
    port: int = 8000

    @property
    def https(self) -> bool:
        return bool(self.url and self.url.startswith("https://"))


@dataclass(frozen=True)
class Settings:
    """Everything ``infolettre.toml`` says, validated."""

    identity: Identity
    territories: dict[str, str]
    rubriques: dict[str, str]
    organizations: tuple[Organization, ...]
    paths: Paths
    paper: str = "letter"
    max_email_bytes: int = GMAIL_CLIP_BYTES
    smtp: SmtpConfig | None = None  # no [smtp] table: messages go to outbox/
    unsubscribe: Unsubscribe | None = None  # filled at load (defaults to repondre_a)
    dkim: Dkim | None = None
    mail_intake: MailIntake = MailIntake()  # [courriel_entrant]
    feeds: tuple[FeedSource, ...] = ()  # [[flux]]
    watch: Watch = Watch()  # [veille]
    application: Application = Application()  # [application]
    calendar: Calendar = Calendar()  # [calendrier]
    bounces: Bounces | None = None  # [rebonds]; none: no VERP, no bounce reading
    source: Path | None = field(default=None, compare=False)

    def territory_name(self, slug: str) -> str:
        """Return the display name of a territory slug (``regional`` included)."""
        if slug == REGIONAL:
            return _("Régional")
        return self.territories[slug]

    def organization(self, name: str) -> Organization | None:
        """Find an organization by name, ignoring case and surrounding spaces."""
        wanted = name.strip().casefold()
        return next((o for o in self.organizations if o.nom.casefold() == wanted), None)

    def rubrique_rank(self, slug: str) -> int:
        """Return the display position of a rubrique (its order in the file)."""
        return list(self.rubriques).index(slug)
