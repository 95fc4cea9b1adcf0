"""Sign-off: the pivot approves an issue as it is; ``send`` refuses it if it changed since.

An approval records a **fingerprint** of what goes out: the SHA-256 of one canonical JSON
document (``serialize``), UTF-8, keys sorted, no spaces, ``ensure_ascii=False``::

    {"version": 1, "month": "2026-12", "parution": "2026-12-01",
     "settings": {"identity": {...every [infolettre] key...},
                  "territories": [[slug, name], ...], "rubriques": [[slug, name], ...]},
     "items": [{"slug", "titre", "organisme", "territoire", "rubrique", "date", "corps",
                "evenement": {"debut", "fin", "lieu"} | null, "echeance", "lien", "image",
                "image_alt", "image_sha256"}, ...]}

``items`` are ``issue.items`` (approved only, already in the order of the editions); dates
and times are ISO 8601 (with their UTC offset); ``image_sha256`` is the SHA-256 of the image
file's bytes (null when there is no image, or no file to read). Left out on purpose: review
status of items that are not in the issue, file paths, modification times, the source of an
item. Not covered either: templates and the print format (a change of program, not of
content). Territories and rubriques are lists of pairs because their order is shown.

Each approval also stores one fingerprint per item and one of the settings and date, so a
refusal can say *which* items were changed, added or removed since. Approvals are history
rows: the latest one of a month is the one in force.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from ..errors import DeliveryError
from ..i18n import _, ngettext
from ..models import Issue, Item
from ..dates import long_date, month_title, time_of_day
from ..settings import Settings
from ..state.signatures import (MIGRATIONS, Fingerprint, ItemPrint,  # noqa: F401
                                Signoff, SignoffStore)

#: Bumped when the serialization changes (every older sign-off then no longer matches).
VERSION = 1
#: How many titles a refusal lists before « et N autres ».
SHOWN_TITLES = 8

def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical(value: Any) -> bytes:
    """Encode plain values the one way they are hashed (sorted keys, no spaces, UTF-8)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def image_digest(item: Item) -> str | None:
    """Hash the bytes of the item's image file; None when there is no image file."""
    if not item.image or item.path is None:
        return None
    try:
        return _sha256((item.path.parent / item.image).read_bytes())
    except OSError:
        return None


def item_record(item: Item) -> dict[str, Any]:
    """Return what readers see of one item, as plain values."""
    event = item.evenement
    return {
        "slug": item.slug, "titre": item.titre, "organisme": item.organisme,
        "territoire": item.territoire, "rubrique": item.rubrique, "date": _iso(item.date),
        "corps": item.corps,
        "evenement": None if event is None else {
            "debut": _iso(event.debut), "fin": _iso(event.fin), "lieu": event.lieu},
        "echeance": _iso(item.echeance), "lien": item.lien, "image": item.image,
        "image_alt": item.image_alt, "image_sha256": image_digest(item),
    }


def settings_record(settings: Settings) -> dict[str, Any]:
    """Return the settings that change what readers see, as plain values.

    The logo (``[infolettre] logo``) counts by its name and bytes, and only when there is
    one: a configuration without a logo keeps the fingerprints it had before the key existed.
    """
    identity = asdict(settings.identity)
    logo = identity.pop("logo", None)
    record = {"identity": identity,
              "territories": [list(p) for p in settings.territories.items()],
              "rubriques": [list(p) for p in settings.rubriques.items()]}
    if logo is not None:
        try:
            digest = _sha256(logo.read_bytes())
        except OSError:
            digest = None
        record["logo"] = {"name": logo.name, "sha256": digest}
    return record


def serialize(issue: Issue, settings: Settings) -> bytes:
    """Return the canonical document whose SHA-256 is the issue's fingerprint."""
    return canonical({"version": VERSION, "month": issue.month,
                      "parution": _iso(issue.parution), "settings": settings_record(settings),
                      "items": [item_record(i) for i in issue.items]})


def fingerprint(issue: Issue, settings: Settings) -> Fingerprint:
    """Fingerprint the issue as a whole, its settings and date, and each item."""
    head = {"version": VERSION, "month": issue.month, "parution": _iso(issue.parution),
            "settings": settings_record(settings)}
    items = tuple(ItemPrint(i.slug, i.titre, _sha256(canonical(item_record(i))))
                  for i in issue.items)
    return Fingerprint(issue.month, _sha256(serialize(issue, settings)),
                       _sha256(canonical(head)), items)


def issue_fingerprint(issue: Issue, settings: Settings) -> str:
    """Return the SHA-256 (hex) of the canonical serialization of what goes out."""
    return _sha256(serialize(issue, settings))


def approve_issue(store: SignoffStore, issue: Issue, settings: Settings, by: str,
                  when: datetime | None = None) -> Signoff:
    """Sign off the issue as it is now (``infolettre approve`` and the review app)."""
    if issue.preview:
        raise ValueError("a preview issue (with unapproved items) cannot be signed off")
    if not by.strip():
        raise DeliveryError(_("l'approbation doit être signée d'un nom."), where=issue.month,
                            fix=_("Indiquez qui approuve, par exemple : infolettre approve "
                                  "{month} --par \"Julie Roy\".").format(month=issue.month))
    return store.approve(issue.month, fingerprint(issue, settings), by, when)


def require_signoff(store: SignoffStore, month: str, issue: Issue, settings: Settings) -> None:
    """Raise ``DeliveryError`` unless ``issue`` is exactly what was last approved."""
    if issue.month != month:
        raise ValueError(f"issue of {issue.month} checked for {month}")
    if issue.preview:
        raise DeliveryError(_("un aperçu (avec les nouvelles non approuvées) ne s'envoie pas."),
                            where=month, fix=_("Envoyez le numéro sans --preview."))
    signed = store.current(month)
    if signed is None:
        raise DeliveryError(
            _("le numéro de {title} n'a pas été approuvé ; rien n'a été envoyé.").format(
                title=month_title(month)), where=month,
            fix=_("Relisez le numéro (infolettre build {month}), puis lancez « infolettre "
                  "approve {month} » après relecture.").format(month=month))
    now = fingerprint(issue, settings)
    if now.digest != signed.fingerprint:
        raise DeliveryError(changed_message(signed, now, settings), where=month,
                            fix=_("Relisez les changements (infolettre build {month}), puis "
                                  "approuvez de nouveau : infolettre approve {month}.")
                            .format(month=month))


def changed_message(signed: Signoff, now: Fingerprint, settings: Settings) -> str:
    """Say, in French, what changed between the approval and the issue as it is now."""
    local = signed.signed_at.astimezone(settings.identity.timezone)
    head = _("le numéro de {title} a changé depuis son approbation par {by} le {day} à "
             "{time} ; rien n'a été envoyé.").format(
        title=month_title(signed.month), by=signed.signed_by, day=long_date(local),
        time=time_of_day(local))
    return head + " " + _("Changements : {details}.").format(
        details=" ; ".join(change_details(signed, now)))


def change_details(signed: Signoff, now: Fingerprint) -> list[str]:
    """List, in French, the items changed, added and removed since the approval, and more."""
    before = {p.slug: p for p in signed.items}
    after = {p.slug: p for p in now.items}
    changed = [p.titre for p in now.items
               if p.slug in before and before[p.slug].digest != p.digest]
    added = [p.titre for p in now.items if p.slug not in before]
    removed = [p.titre for p in signed.items if p.slug not in after]
    parts = [
        (changed, ngettext("{n} nouvelle modifiée : {titles}", "{n} nouvelles modifiées : "
                           "{titles}", len(changed))),
        (added, ngettext("{n} nouvelle ajoutée : {titles}", "{n} nouvelles ajoutées : {titles}",
                         len(added))),
        (removed, ngettext("{n} nouvelle retirée : {titles}", "{n} nouvelles retirées : "
                           "{titles}", len(removed))),
    ]
    details = [text.format(n=len(titles), titles=_titles(titles)) for titles, text in parts
               if titles]
    if now.settings_digest != signed.settings_fingerprint:
        details.append(_("la configuration (identité, territoires ou rubriques) ou la date de "
                         "parution a changé"))
    if not details:
        details.append(_("l'ordre des nouvelles a changé"))
    return details


def _titles(titles: list[str]) -> str:
    shown = ", ".join(f"« {t} »" for t in titles[:SHOWN_TITLES])
    rest = len(titles) - SHOWN_TITLES
    if rest > 0:
        shown += " " + ngettext("et {n} autre", "et {n} autres", rest).format(n=rest)
    return shown


@dataclass(frozen=True)
class Reach:
    """How far the sending of an issue went, as the delivery ledger counts it."""

    sent: int = 0        # accepted by the server: they have this issue
    waiting: int = 0     # planned, not reached yet: they get the version approved when sent
    uncertain: int = 0   # on their way when a send stopped: probably received
    failed: int = 0      # refused for good: they get no version

    @property
    def started(self) -> bool:
        return self.sent + self.uncertain > 0


def resend_notice(store: SignoffStore, issue: Issue, settings: Settings,
                  reach: Reach) -> str | None:
    """Say who a new approval of an issue already (partly) sent will and will not reach.

    Return None when nothing went out yet, or when the issue is unchanged since its
    approval in force (approving it again changes nothing for anyone).
    """
    if not reach.started:
        return None
    now = fingerprint(issue, settings)
    signed = store.current(issue.month)
    if signed is not None and signed.fingerprint == now.digest:
        return None
    parts = [ngettext("le numéro de {title} a déjà été envoyé à {n} personne : elle ne "
                      "recevra pas cette nouvelle version.",
                      "le numéro de {title} a déjà été envoyé à {n} personnes : elles ne "
                      "recevront pas cette nouvelle version.", reach.sent)
             .format(title=month_title(issue.month), n=reach.sent)]
    if reach.waiting:
        parts.append(ngettext("{n} personne pas encore jointe recevra la nouvelle version, "
                              "comme les personnes ajoutées à la liste d'ici l'envoi.",
                              "{n} personnes pas encore jointes recevront la nouvelle version, "
                              "comme les personnes ajoutées à la liste d'ici l'envoi.",
                              reach.waiting).format(n=reach.waiting))
    else:
        parts.append(_("Toute la liste l'a déjà reçu : seules les personnes qui y seront "
                       "ajoutées d'ici un prochain envoi recevraient la nouvelle version."))
    if reach.uncertain:
        parts.append(ngettext(
            "{n} envoi incertain (sans doute reçu) ne sera pas refait.",
            "{n} envois incertains (sans doute reçus) ne seront pas refaits.",
            reach.uncertain).format(n=reach.uncertain))
    if reach.failed:
        parts.append(ngettext("{n} échec définitif ne recevra aucune version.",
                              "{n} échecs définitifs ne recevront aucune version.",
                              reach.failed).format(n=reach.failed))
    if signed is None:
        parts.append(_("L'approbation précédente est introuvable : les changements ne peuvent "
                       "pas être nommés."))
    else:
        local = signed.signed_at.astimezone(settings.identity.timezone)
        parts.append(_("Changements depuis l'approbation par {by} le {day} : {details}.")
                     .format(by=signed.signed_by, day=long_date(local),
                             details=" ; ".join(change_details(signed, now))))
    return " ".join(parts)
