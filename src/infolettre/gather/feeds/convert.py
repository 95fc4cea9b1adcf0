"""One feed entry → one item draft, the same ``ItemDraft`` an email becomes.

Pure: the entry, its feed's settings and the time of the fetch in, a draft out. A feed in
« revue » trust gives items « soumis » (the pivot approves them); a feed in « auto » trust
gives items « approuve » — unless the item would not be valid as published (an agenda entry
without its event, a call for projects without a deadline, an image without alternative
text…): then it waits as « soumis » with a note saying why. The entry's image is fetched by
the run stage, which calls ``with_image``.
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import datetime
from typing import Any

from ...content import safe_filename
from ...i18n import _
from ...dates import long_date
from ...models import (AGENDA, FRONT_MATTER_KEYS, FUNDING, REGIONAL, Attachment, ItemDraft,
                       Source, Status)
from ...settings import FeedSource, Settings
from ..mail.text import slugify
from .model import FeedEntry
from .parse import MORE, SHORTENED, UNTITLED



def entry_to_draft(entry: FeedEntry, feed: FeedSource, settings: Settings, *, month: str,
                   fetched_at: datetime) -> ItemDraft:
    """Build the draft ``store.write_draft`` writes for one feed entry."""
    tz = settings.identity.timezone
    notes: list[str] = []
    blockers: list[str] = []  # why an « auto » entry cannot be published directly
    front: dict[str, Any] = {
        "titre": entry.titre or UNTITLED,
        "organisme": feed.organization,
        "territoire": feed.territoire,
        "rubrique": feed.rubrique,
    }
    if entry.publie is not None:
        front["date"] = _local(entry.publie, tz).date()
    else:
        front["date"] = _local(fetched_at, tz).date()
        notes.append("entrée sans date de publication : date de lecture du flux utilisée.")
    if entry.debut is not None:
        event = {"debut": _local(entry.debut, tz).strftime("%Y-%m-%d %H:%M")}
        if entry.fin is not None and entry.fin >= entry.debut:
            event["fin"] = _local(entry.fin, tz).strftime("%Y-%m-%d %H:%M")
        if entry.lieu:
            event["lieu"] = entry.lieu
        front["evenement"] = event
    if entry.lien:
        front["lien"] = entry.lien
    _check(front, feed, settings, blockers)
    auto = feed.confiance == "auto"
    if auto and not blockers:
        front["statut"] = Status.APPROVED.value
    else:
        front["statut"] = Status.SUBMITTED.value
        if auto:
            notes.insert(0, _("flux « {name} » publié sans relecture, mais cette entrée "
                              "attend la vôtre (statut « soumis ») : {why}.").format(
                                  name=feed.nom, why=" ; ".join(blockers)))
        else:
            notes.extend(blockers)
    front["source"] = Source.FEED.value
    front["flux"] = feed.nom
    corps = entry.corps
    last = corps.rsplit("\n", 1)[-1]
    if last == SHORTENED or last.startswith(f"[{MORE}]("):
        notes.append(_("texte abrégé : l'entrée dépassait 4 000 caractères ; la suite est sur "
                       "le site."))
    origin = _origin(entry, feed, tz)
    slug = slugify(front["titre"]) or "flux-" + hashlib.sha256(
        entry.key.encode("utf-8", "replace")).hexdigest()[:8]
    draft = ItemDraft(front_matter=_ordered(front), corps=corps, slug=slug, message_id=None,
                      sender=feed.nom,
                      digest=hashlib.sha256((feed.url + entry.key).encode("utf-8", "replace"))
                      .hexdigest(),
                      attachments=[], notes=notes, origin=origin)
    return draft


def with_image(draft: ItemDraft, name: str, data: bytes, content_type: str,
               alt: str | None) -> ItemDraft:
    """Return ``draft`` illustrated with the fetched image (a new draft; the old is unchanged).

    Without alternative text, an approved item goes back to « soumis » with a note: the
    store refuses an approved item whose image has no ``image_alt``.
    """
    safe = safe_filename(name, content_type, 1)
    front = dict(draft.front_matter)
    notes = list(draft.notes)
    front["image"] = safe
    alt = " ".join((alt or "").split())
    if alt:
        front["image_alt"] = alt
    else:
        front.pop("image_alt", None)
        notes.append(_("image « {name} » : écrivez son texte alternatif (image_alt), une "
                       "courte description pour les personnes qui ne la voient pas.").format(
                           name=safe))
        if front.get("statut") == Status.APPROVED.value:
            front["statut"] = Status.SUBMITTED.value
            notes.append(_("l'image n'a pas de texte alternatif : l'entrée attend votre "
                           "relecture (statut « soumis ») au lieu d'être publiée directement."))
    attachments = [a for a in draft.attachments if a.kind != "image"]
    attachments.append(Attachment(name_safe=safe, content_type=content_type, data=data,
                                  kind="image"))
    return dataclasses.replace(draft, front_matter=_ordered(front), attachments=attachments,
                               notes=notes)


def _check(front: dict[str, Any], feed: FeedSource, settings: Settings,
           blockers: list[str]) -> None:
    """Collect what would make the item invalid if published as is."""
    rubrique = front["rubrique"]
    if rubrique not in settings.rubriques:
        blockers.append(_("rubrique « {name} » inconnue dans infolettre.toml").format(
            name=rubrique))
    territoire = front["territoire"]
    if territoire != REGIONAL and territoire not in settings.territories:
        blockers.append(_("territoire « {name} » inconnu dans infolettre.toml").format(
            name=territoire))
    if settings.organization(feed.organization) is None:
        blockers.append(_("organisme « {name} » absent du registre").format(
            name=feed.organization))
    if rubrique == AGENDA and "evenement" not in front:
        blockers.append(_("élément de l'agenda sans date d'événement : complétez "
                          "« evenement » (début, fin, lieu)"))
    if rubrique == FUNDING:
        blockers.append(_("appel de projets sans échéance : ajoutez la date limite "
                          "(echeance)"))
    if front["titre"] == UNTITLED:
        blockers.append(_("entrée sans titre : écrivez-en un"))
    # (the image, and its alternative text, are checked by ``with_image`` once fetched)


def _origin(entry: FeedEntry, feed: FeedSource, tz) -> str:
    if entry.publie is None:
        return _("Reçu du flux « {name} » ({url}).").format(name=feed.nom, url=feed.url)
    return _("Reçu du flux « {name} » ({url}), entrée publiée le {date}.").format(
        name=feed.nom, url=feed.url, date=long_date(_local(entry.publie, tz)))


def _local(when: datetime, tz) -> datetime:
    return when.astimezone(tz) if when.tzinfo else when


def _ordered(front: dict[str, Any]) -> dict[str, Any]:
    """Keep the store's key order; drop empty values."""
    return {k: front[k] for k in FRONT_MATTER_KEYS if front.get(k) not in (None, "")}
