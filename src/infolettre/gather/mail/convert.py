"""One email → one item draft (or a reason to refuse it): the steps, in order.

Each step reads one aspect of the message (sender, subject, body, key lines, attachments)
and adds front matter, text, files or notes; the helpers live in the sibling modules.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from typing import Any

from ...models import AGENDA, FRONT_MATTER_KEYS, FUNDING, ItemDraft, Source
from ...settings import Settings
from ..replies import clean_reply
from .attachments import MAX_ATTACHMENT_BYTES, Attachment, collect_attachments, filename
from .fields import KeyLines, title_from_body, title_from_subject
from .html import html_to_markdown
from ...mailbox.limits import parse
from .text import CONTROLS, header_text, part_text, slugify
from .trust import automatic_reason, identify, not_an_email

MAX_PARTS = 1000
MAX_TEXT_IN = 1_000_000  # characters of a body part read (HTML included)
MAX_TEXT_OUT = 100_000  # characters of Markdown kept


@dataclass
class Conversion:
    """Either a draft or the reason the message is not an item (never both)."""

    draft: ItemDraft | None = None
    rejection: str | None = None
    message_id: str | None = None

    @property
    def ok(self) -> bool:
        """Tell whether the message became a draft."""
        return self.draft is not None


def convert_message(raw: bytes, settings: Settings, *, month: str,
                    received: datetime | None = None,
                    max_attachment_bytes: int = MAX_ATTACHMENT_BYTES) -> Conversion:
    """Turn one raw message into a draft or a rejection; never raise, whatever the bytes."""
    try:
        return _Converter(raw, settings, month, received, max_attachment_bytes).run()
    except RecursionError:
        return Conversion(rejection="message trop imbriqué (RecursionError) : des milliers de "
                                    "parties les unes dans les autres ; à vérifier par une "
                                    "personne.")
    except Exception as exc:  # noqa: BLE001 - any input must give an answer, not a crash
        return Conversion(rejection=f"message illisible ({type(exc).__name__}) : à vérifier "
                                    f"par une personne.")


class _Converter:
    """Read one message step by step; each step adds front matter, body, files or notes."""

    def __init__(self, raw: bytes, settings: Settings, month: str,
                 received: datetime | None, cap: int):
        self.raw, self.settings, self.month = raw, settings, month
        self.received, self.cap = received, cap
        self.front: dict[str, Any] = {}
        self.notes: list[str] = []
        self.attachments: list[Attachment] = []
        self.event: dict[str, str] = {}

    def run(self) -> Conversion:
        """Reject non-items early, then build the draft step by step."""
        msg = parse(self.bounded())
        message_id = header_text(msg, "Message-ID").strip("<> ") or None
        reason = not_an_email(self.raw, msg) or automatic_reason(msg)
        if reason:
            return Conversion(rejection=reason, message_id=message_id)
        sender = self.who(msg)
        titre = self.subject(msg)
        body_part, parts = self.parts(msg)
        corps = self.key_lines(self.body(body_part))
        self.attachments = collect_attachments(parts, body_part, self.cap, self.notes)
        if not titre:
            titre = title_from_body(corps, self.notes)
        if not titre and not corps and not self.attachments:
            return Conversion(rejection="message vide : ni objet, ni texte, ni pièce jointe.",
                              message_id=message_id)
        self.finish(msg, titre or "Sans titre")
        slug = slugify(self.front["titre"]) or "courriel-" + self.digest()[:8]
        draft = ItemDraft(front_matter=self.front, corps=corps, slug=slug,
                          message_id=message_id, sender=sender, digest=self.digest(),
                          attachments=self.attachments, notes=self.notes)
        return Conversion(draft=draft, message_id=message_id)

    def bounded(self) -> bytes:
        """Cut a message of thousands of MIME parts before parsing (the parser is slow)."""
        head = re.split(rb"\r?\n\r?\n", self.raw[:100_000], maxsplit=1)[0]
        if b"multipart" not in head.lower():
            return self.raw
        lines = re.finditer(rb"\n--", self.raw)
        for count, found in enumerate(lines, start=1):
            if count > MAX_PARTS:
                self.notes.append(f"message de plus de {MAX_PARTS} parties : seules les "
                                  f"{MAX_PARTS} premières ont été lues.")
                return self.raw[:found.start() + 1]
        return self.raw

    def digest(self) -> str:
        """Fingerprint the raw bytes, so the same message is recognised when sent twice."""
        return hashlib.sha256(self.raw).hexdigest()

    def who(self, msg: EmailMessage) -> str:
        """Set organisme, territoire and statut from the registry and the authentication."""
        sender = identify(msg, self.settings)
        self.sender_name = sender.name
        self.front["organisme"] = sender.organisme
        self.front["territoire"] = sender.territoire
        self.notes.extend(sender.notes)
        self.status = sender.status
        return sender.address

    def subject(self, msg: EmailMessage) -> str:
        """Take the title from the subject; a rubrique tag there picks the rubrique."""
        titre, rubrique = title_from_subject(header_text(msg, "Subject"), self.settings,
                                             self.notes)
        if rubrique:
            self.front["rubrique"] = rubrique
        return titre

    def parts(self, msg: EmailMessage) -> tuple[EmailMessage | None, list[EmailMessage]]:
        """Return the body part (text/plain first, else HTML) and every leaf part."""
        leaves = [part for part in msg.walk() if not part.is_multipart()]
        texts = [p for p in leaves if p.get_content_type() in ("text/plain", "text/html")
                 and p.get_content_disposition() != "attachment" and not filename(p)]
        for kind in ("text/plain", "text/html"):
            for part in texts[:50]:
                if part.get_content_type() == kind and part_text(part).strip():
                    return part, leaves
        return None, leaves

    def body(self, part: EmailMessage | None) -> str:
        """Return the new text of the message as Markdown: quotes and signature removed."""
        if part is None:
            self.notes.append("le message n'a pas de texte : rédigez le corps de la nouvelle.")
            return ""
        text = part_text(part)
        if len(text) > MAX_TEXT_IN:
            text = text[:MAX_TEXT_IN]
            self.notes.append("texte très long : seul le début a été lu.")
        if part.get_content_type() == "text/html":
            text = html_to_markdown(text)
            self.notes.append("texte converti depuis le HTML du courriel : vérifiez la mise en "
                              "forme.")
        text = CONTROLS.sub("", text.replace("\t", "    "))
        kept = clean_reply(text, self.sender_name)
        if len(kept) > MAX_TEXT_OUT:
            kept = kept[:MAX_TEXT_OUT]
            self.notes.append("texte très long : tronqué à 100 000 caractères.")
        return kept

    def key_lines(self, corps: str) -> str:
        """Take the leading « Clé : valeur » lines into the front matter; keep the others."""
        keys = KeyLines(self.settings, self.notes)
        corps = keys.read(corps)
        self.front.update(keys.front)
        self.event = keys.event
        return corps

    def finish(self, msg: EmailMessage, titre: str) -> None:
        """Complete the front matter: defaults, event, image, status, in the store's order."""
        f = self.front
        f["titre"] = titre
        if "rubrique" not in f:
            f["rubrique"] = "nouvelles" if "nouvelles" in self.settings.rubriques \
                else next(iter(self.settings.rubriques))
        f.setdefault("date", self.default_date(msg))
        self.evenement(f)
        if f["rubrique"] == FUNDING and "echeance" not in f:
            self.notes.append("appel de projets sans échéance : ajoutez la date limite.")
        self.image(f)
        f["statut"] = self.status.value
        f["source"] = Source.MAIL.value
        self.front = {k: f[k] for k in FRONT_MATTER_KEYS if f.get(k) not in (None, "")}

    def image(self, f: dict[str, Any]) -> None:
        """Illustrate the item with the first image, and ask for its alternative text."""
        images = [a for a in self.attachments if a.kind == "image"]
        if not images:
            return
        f["image"] = images[0].name_safe
        if not f.get("image_alt"):
            self.notes.append(f"image « {images[0].name_safe} » : écrivez son texte "
                              f"alternatif (image_alt), une courte description pour les "
                              f"personnes qui ne la voient pas.")

    def evenement(self, f: dict[str, Any]) -> None:
        """Build the event block from the key lines; note what an agenda item still lacks."""
        debut = self.event.get("debut")
        if debut is None and f["rubrique"] == AGENDA and "date" in self.event:
            debut = self.event["date"]
            self.notes.append("début de l'événement tiré de la ligne « Date » : vérifiez.")
        if debut is None:
            if f["rubrique"] == AGENDA:
                self.notes.append("événement sans date de début : ajoutez une ligne « Début : "
                                  "2026-12-05 10 h 00 » ou complétez « evenement ».")
            if "lieu" in self.event:
                self.notes.append(f"lieu « {self.event['lieu']} » sans date de début : "
                                  f"complétez « evenement ».")
            return
        event = {"debut": debut}
        for key in ("fin", "lieu"):
            if key in self.event:
                event[key] = self.event[key]
        f["evenement"] = event

    def default_date(self, msg: EmailMessage) -> date:
        """Date the item: reception time, else the Date header, else the issue's first day."""
        tz = self.settings.identity.timezone
        when = self.received
        if when is None:
            try:
                when = parsedate_to_datetime(header_text(msg, "Date"))
            except (TypeError, ValueError, IndexError):
                when = None
        if when is not None:
            return (when.astimezone(tz) if when.tzinfo else when).date()
        self.notes.append("date du message introuvable : premier jour du numéro utilisé.")
        return date(int(self.month[:4]), int(self.month[5:7]), 1)
