"""« Courriels retenus »: the emailed items the intake held for a person, and the decision.

The mail intake writes a message from an unknown sender, or whose From failed
authentication, as an ordinary item file with ``statut: retenu`` and its reasons as notes
(YAML comments) at the top; its raw bytes are archived (``<donnees>/courriels/``) and the
file is recorded in ``courriels_vus``. Here the pivot sees why each is held and what it
says (``list_held``, ``read_held``), then accepts it (``accept_held``: it becomes
``soumis``, optionally with the address added to its organization in the config) or
rejects it (``reject_held``: ``review.refuse_item``, with no email unless asked).
"""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from pathlib import Path
from urllib.parse import unquote

from ..clock import SYSTEM_CLOCK, Clock
from ..content import inside_content, months
from ..content.edit import read_bytes, replace_item, with_front_values
from ..errors import ContentError
from ..gather.intake import archive_folder
from ..i18n import _
from ..models import Status
from ..settings import Organization, Settings
from ..settings.registry import prepared_address, write_config
from ..state import connect, state_file
from ..state.sendrecords import started_months
from ..state.signatures import SignoffStore
from .review import Entry, _path, read_entry, refuse_item, reviewing

_HEADER = re.compile(r"\A\ufeff?-{3,}[ \t]*\r?\n(.*?)^-{3,}", re.S | re.M)
_RECEIVED = re.compile(r"Reçu par courriel de (.*?) \(Message-ID : (.*)\)\.?$")
_ATTACHMENT = re.compile(r"^Pièce jointe : \[[^\n]*\]\(([^)\s]+)\)[ \t]*$", re.M)
_HELD_LINE = re.compile(rb"^statut[ \t]*:[ \t]*['\"]?retenu['\"]?[ \t]*\r?$", re.M)
#: The headers of the archived message shown to the pivot, in this order.
SHOWN_HEADERS = ("From", "Reply-To", "To", "Date", "Subject", "Message-ID",
                 "Authentication-Results", "Received-SPF")


@dataclass(frozen=True)
class Attachment:
    """A file the message brought, written beside the item."""

    name: str
    size: int
    image: bool


@dataclass
class Held:
    """One held message as the pivot reads it before deciding."""

    entry: Entry
    address: str            # the sender's address ("" when the message had none)
    message_id: str
    reasons: list[str]      # why it is held, as sentences
    notes: list[str]        # every other note of the intake
    guess: Organization | None
    received: datetime | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)

    @property
    def held(self) -> bool:
        return self.entry.statut == Status.HELD.value

    @property
    def forged(self) -> bool:
        """Tell whether the intake noted a failed authentication (a possibly forged From)."""
        return any("usurpé" in reason for reason in self.reasons)


@dataclass(frozen=True)
class Accepted:
    """What « Accepter » did: the organization given, and what became of the address."""

    organisme: str | None
    registry: str | None    # a French sentence about the config, None when not asked


def open_months(settings: Settings) -> list[str]:
    """Return the months of ``content/`` not signed off nor (partly) sent, oldest first."""
    with closing(connect(state_file(settings.paths.donnees))) as conn:
        closed = SignoffStore(conn).signed_months()
    closed |= started_months(settings.paths.donnees)
    return [m for m in months(settings) if m not in closed]


def held_count(settings: Settings) -> int:
    """Count the held items of the open months, reading only their bytes (for the menu)."""
    total = 0
    for month in open_months(settings):
        for path in (settings.paths.contenu / month).glob("*.md"):
            if not path.is_symlink() and path.is_file() and _HELD_LINE.search(
                    path.read_bytes()[:20_000]):
                total += 1
    return total


def list_held(settings: Settings, month: str | None = None) -> list[Held]:
    """Return the held items of ``month``, or of every open month, oldest month first."""
    wanted = [month] if month else open_months(settings)
    found = []
    with closing(connect(state_file(settings.paths.donnees))) as conn:
        for current in wanted:
            folder = settings.paths.contenu / current
            for path in sorted(folder.glob("*.md")) if folder.is_dir() else ():
                entry = read_entry(settings, current, path.stem)
                if entry is not None and entry.statut == Status.HELD.value:
                    found.append(_held(settings, entry, conn, headers=False))
    return found


def read_held(settings: Settings, month: str, slug: str) -> Held | None:
    """Return the held message ``slug`` of ``month`` with its headers and attachments,
    or None when there is no such emailed item (an accepted one is still shown)."""
    entry = read_entry(settings, month, slug)
    if entry is None or (entry.source != "courriel" and entry.statut != Status.HELD.value):
        return None
    with closing(connect(state_file(settings.paths.donnees))) as conn:
        return _held(settings, entry, conn, headers=True)


def _held(settings: Settings, entry: Entry, conn: sqlite3.Connection, *,
          headers: bool) -> Held:
    notes = _notes(entry.path)
    address, message_id = "", ""
    for note in notes:
        found = _RECEIVED.match(note)
        if found:
            address, message_id = entry.submitter or "", found.group(2).strip()
    reasons = [n.removeprefix("À vérifier : ") for n in notes
               if "retenue" in n or "usurpé" in n]
    others = [n.removeprefix("À vérifier : ") for n in notes
              if not _RECEIVED.match(n) and n.removeprefix("À vérifier : ") not in reasons]
    if not reasons:
        reasons = [_("retenue à la main ou pour une raison non notée dans le fichier.")]
    held = Held(entry, address, message_id, reasons, others, guess(settings, entry, address))
    row = _seen(conn, entry.path)
    if row is not None:
        held.received = datetime.fromisoformat(row["vu_le"]).astimezone(
            settings.identity.timezone)
    if headers:
        held.headers = _headers(settings, row["sha256"] if row is not None else None)
        held.attachments = _attachments(settings, entry)
    return held


def _notes(path: Path) -> list[str]:
    """Return the notes of the intake: the YAML comments at the top of the front matter."""
    found = _HEADER.match(read_bytes(path).decode("utf-8", "replace"))
    lines = found.group(1).splitlines() if found else []
    return [line.lstrip("#").strip() for line in lines if line.startswith("#")]


def guess(settings: Settings, entry: Entry, address: str) -> Organization | None:
    """Guess the sender's organization: its name as written, else an address's domain."""
    by_name = settings.organization(entry.organisme)
    if by_name is not None:
        return by_name
    domain = address.rpartition("@")[2].lower()
    if not domain:
        return None
    return next((o for o in settings.organizations
                 if any(c.rpartition("@")[2] == domain for c in o.courriels)), None)


def _seen(conn: sqlite3.Connection, path: Path) -> sqlite3.Row | None:
    """Find the intake's record of the message that wrote ``path`` (None: none, or moved)."""
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute("SELECT sha256, vu_le FROM courriels_vus WHERE chemin = ? "
                            "ORDER BY vu_le DESC LIMIT 1", (str(path),)).fetchone()
    except sqlite3.OperationalError:  # no mail ever received: no table
        return None


def _headers(settings: Settings, digest: str | None) -> list[tuple[str, str]]:
    """Read the shown headers of the archived raw message (none when it is not there)."""
    if not digest or not re.fullmatch(r"[0-9a-f]{64}", digest):
        return []
    raw = archive_folder(settings) / digest[:2] / f"{digest}.eml"
    if raw.is_symlink() or not raw.is_file():
        return []
    with raw.open("rb") as handle:
        message = BytesHeaderParser(policy=default_policy).parsebytes(handle.read(200_000))
    shown = []
    for name in SHOWN_HEADERS:
        for value in message.get_all(name, []):
            try:
                text = " ".join(str(value).split())
            except Exception:  # noqa: BLE001 - a broken header is shown as unreadable
                text = _("(en-tête illisible)")
            shown.append((name, text[:2000]))
    return shown


def _attachments(settings: Settings, entry: Entry) -> list[Attachment]:
    """List the files the item names (its image, its « Pièce jointe » links) found beside it."""
    names = [entry.values["image"]] if isinstance(entry.values.get("image"), str) else []
    names += [unquote(url) for url in _ATTACHMENT.findall(entry.body)]
    found = []
    for name in dict.fromkeys(names):
        path = entry.path.parent / name
        if "/" in name or "\\" in name or name.startswith(".") or "\x00" in name \
                or path.is_symlink() or not inside_content(path, settings) or not path.is_file():
            continue
        found.append(Attachment(name, path.stat().st_size,
                                name == entry.values.get("image")))
    return found


def accept_held(settings: Settings, month: str, slug: str, expected_hash: str, by: str, *,
                organisme: str | None = None, add_to_registry: bool = False,
                clock: Clock = SYSTEM_CLOCK) -> Accepted:
    """Make the held item ``soumis`` if the file is still the one the page showed.

    With ``organisme`` (a name of the registry) the item takes its name and territory; with
    ``add_to_registry`` the sender's address is added to that organization's ``courriels``
    in the configuration file. ``content.edit.StaleItem`` when the file changed since the
    page was read, ``ContentError`` or ``ConfigError`` otherwise: nothing written.
    """
    path = _path(settings, month, slug)
    with reviewing(settings, month, clock) as log:
        held = read_held(settings, month, slug)
        if held is None or not held.held:
            raise ContentError(_("« {slug} » n'est pas un courriel retenu : il a déjà été "
                                 "accepté ou rejeté.").format(slug=slug),
                               fix=_("Rechargez la liste des courriels retenus."))
        org = settings.organization(organisme) if organisme else None
        if organisme and org is None:
            raise ContentError(_("l'organisme « {nom} » n'est pas dans le registre.").format(
                nom=organisme[:120]), fix=_("Choisissez un organisme de la liste."))
        values = {"statut": Status.SUBMITTED.value}
        if org is not None:
            values.update(organisme=org.nom, territoire=org.territoire)
        text = with_front_values(read_bytes(path).decode("utf-8"), values, path)
        registry = _registry(settings, org, held.address) if add_to_registry else None
        config = prepared_address(settings.source, org.nom, held.address) \
            if registry and registry[1] else None  # checked before anything is written
        if registry and registry[1] and config is None:  # added meanwhile, by hand
            registry = _already(held.address, org), False
        replace_item(path, text, expected_hash)  # stale: raises before the config changes
        if config is not None:
            write_config(*config)
        log.record(by, month, slug, "accepte", {
            "organisme": org.nom if org else None,
            "courriel_ajoute": held.address if config is not None else None})
    return Accepted(org.nom if org else None, registry[0] if registry else None)


def _registry(settings: Settings, org: Organization | None,
              address: str) -> tuple[str, bool]:
    """Say what adding ``address`` to ``org`` will do, and whether the file must change."""
    if org is None:
        raise ContentError(_("choisissez l'organisme auquel ajouter l'adresse."))
    if not address:
        raise ContentError(_("ce courriel n'a pas d'adresse d'expéditeur à ajouter."))
    if settings.source is None:
        raise ContentError(_("le fichier de configuration est inconnu : l'adresse n'a pas "
                             "été ajoutée."))
    owner = next((o for o in settings.organizations if address in o.courriels), None)
    if owner is not None and owner.nom != org.nom:
        raise ContentError(_("l'adresse {address} est déjà inscrite pour l'organisme "
                             "« {nom} ».").format(address=address, nom=owner.nom))
    if owner is not None:
        return _already(address, org), False
    return _("l'adresse {address} est ajoutée à « {nom} » dans {file} ; elle sera reconnue "
             "au prochain relevé du courriel.").format(address=address, nom=org.nom,
                                                       file=settings.source.name), True


def _already(address: str, org: Organization) -> str:
    return _("l'adresse {address} était déjà inscrite pour « {nom} ».").format(
        address=address, nom=org.nom)


def reject_held(settings: Settings, month: str, slug: str, by: str, reason: str, *,
                notify: bool = False, clock: Clock = SYSTEM_CLOCK) -> str | None:
    """Refuse the held item with ``reason`` (``review.refuse_item``); the sender may be
    forged, so nobody is written to unless ``notify`` is asked."""
    held = read_held(settings, month, slug)
    if held is None or not held.held:
        raise ContentError(_("« {slug} » n'est pas un courriel retenu : il a déjà été "
                             "accepté ou rejeté.").format(slug=slug),
                           fix=_("Rechargez la liste des courriels retenus."))
    return refuse_item(settings, month, slug, by, reason, notify=notify, clock=clock)
