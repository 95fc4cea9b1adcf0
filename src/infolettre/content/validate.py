"""Check one item's front matter against the settings, and turn it into an ``Item``.

Each rule reports a Problem at the line of its key, in French, saying how to fix it; the
validator goes on after a problem, so one reading lists everything wrong with a file. A
submission still waiting for the pivot (``soumis``, ``retenu``) is judged more gently than an
approved one: what only the pivot can settle (an organization outside the registry, an
image's alternative text) is a warning until it is approved.
"""

from __future__ import annotations

import difflib
import re
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from ..errors import cut
from ..i18n import _
from ..models import (AGENDA, FRONT_MATTER_KEYS, FUNDING, REGIONAL, Event, Item, Source, Status,
                      safe_link)
from ..settings import Settings, plain
from .frontmatter import RawDocument
from .paths import inside_content

#: Statuses of a submission still waiting for the pivot's review.
REVIEWABLE = (Status.SUBMITTED, Status.HELD)
KNOWN_KEYS = FRONT_MATTER_KEYS
DATETIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{1,2})\s*(?::|h)\s*(\d{2})?(?::\d{2})?)?\s*$", re.I)


def validate(doc: RawDocument, settings: Settings, month: str) -> Item | None:
    """Return the item ``doc`` describes, or None; every problem goes to ``doc.problems``."""
    item = Validator(doc, settings, month).item()
    return item if doc.ok else None


def to_datetime(value: Any, tz: ZoneInfo) -> datetime | None:
    """Accept a date, a datetime or « 2026-12-05 10:00 » / « 2026-12-05 10h30 »; None if not."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    if isinstance(value, date):
        return datetime.combine(value, time(0, 0), tz)
    match = DATETIME_RE.match(str(value)) if isinstance(value, str) else None
    if not match:
        return None
    y, m, d, hh, mm = match.groups()
    try:
        return datetime(int(y), int(m), int(d), int(hh or 0), int(mm or 0), tzinfo=tz)
    except ValueError:
        return None


def to_date(value: Any) -> date | None:
    """Accept a date (or a datetime's date) or an « AAAA-MM-JJ » string; None if not."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _choice(value: str) -> str:
    """Read a choice the way it was meant: « Approuvé » is ``approuve``."""
    return plain(value).strip().casefold()


def _status(value: Any) -> Status | None:
    """Read a ``statut`` value as a Status, or None when it is not one (the rule reports it)."""
    if not isinstance(value, str):
        return None
    try:
        return Status(_choice(value))
    except ValueError:
        return None


def _choices(options) -> str:
    """List the allowed values of a field, quoted, for an error message."""
    return ", ".join(f"« {o} »" for o in options)


class Validator:
    """Turn a RawDocument into an Item, recording each problem with its line."""

    def __init__(self, doc: RawDocument, settings: Settings, month: str):
        self.doc, self.settings, self.month = doc, settings, month
        self.v = doc.values
        self.tz = settings.identity.timezone
        #: A submission written « soumis » or « retenu » waits for the pivot: what only the
        #: pivot can settle (organisme, alt text) is a warning; « approuve » makes it an error.
        self.reviewable = _status(self.v.get("statut")) in REVIEWABLE

    def text(self, key: str, *, required: bool = False) -> str | None:
        """Return a plain text value, or None (absent, blank, or a list where text belongs)."""
        value = self.v.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.doc.error(_("le champ « {key} » est obligatoire.").format(key=key),
                               line=1, fix=_("Ajoutez une ligne « {key}: … » dans l'en-tête.")
                               .format(key=key))
            return None
        if isinstance(value, (dict, list)):
            self.doc.error(_("« {key} » doit être un texte simple.").format(key=key), key=key,
                           fix=_("Écrivez la valeur sur la même ligne, entre guillemets au "
                                 "besoin."))
            return None
        return str(value).strip()

    def item(self) -> Item | None:
        """Check every field in turn (all problems, not the first), then build the Item."""
        self.unknown_keys()
        titre = self.text("titre", required=True)
        organisme = self.organization()
        territoire = self.territory(organisme)
        rubrique = self.rubrique()
        when = self.date_field("date", required=True)
        event = self.event(rubrique)
        echeance = self.date_field("echeance", required=rubrique == FUNDING and
                                   not self.reviewable)
        if rubrique == FUNDING and echeance is None and self.reviewable:
            self.doc.warn(_("un appel de financement sans « echeance » ne paraîtra pas."),
                          line=1, fix=_("Ajoutez « echeance: AAAA-MM-JJ » avant d'approuver."))
        statut = self.enum("statut", Status, Status.SUBMITTED)
        source = self.enum("source", Source, Source.FILE)
        lien = self.link()
        image, image_alt = self.image()
        if not self.doc.ok:
            return None
        return Item(slug=self.doc.path.stem, month=self.month, titre=titre, organisme=organisme,
                    territoire=territoire, rubrique=rubrique, date=when, corps=self.doc.body,
                    statut=statut, source=source, evenement=event, echeance=echeance, lien=lien,
                    image=image, image_alt=image_alt, path=self.doc.path)

    def unknown_keys(self) -> None:
        """Warn about keys no one reads (a typo loses a value silently otherwise)."""
        for key in self.v:
            if key not in KNOWN_KEYS:
                close = difflib.get_close_matches(key, KNOWN_KEYS, n=1)
                hint = (_("Vouliez-vous dire « {k} » ?").format(k=close[0]) if close
                        else _("Champs reconnus : {keys}.").format(keys=", ".join(KNOWN_KEYS)))
                self.doc.warn(_("champ inconnu « {key} », ignoré.").format(key=cut(key)),
                              key=key,
                              fix=hint)

    def organization(self) -> str | None:
        """Match ``organisme`` with the registry, which decides who may publish."""
        name = self.text("organisme", required=True)
        if name is None:
            return None
        org = self.settings.organization(name)
        if org is None:
            names = [o.nom for o in self.settings.organizations]
            close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
            hint = (_("Vouliez-vous dire « {name} » ?").format(name=close[0]) if close else
                    _("Organismes inscrits : {names}.").format(names=_choices(names)))
            report = self.doc.warn if self.reviewable else self.doc.error
            report(_("organisme « {name} » absent du registre.").format(name=cut(name)),
                   key="organisme",
                   fix=hint + " " + _("Un nouvel organisme s'ajoute dans "
                                      "[[organismes]] de infolettre.toml."))
            return name if self.reviewable else None
        return org.nom

    def territory(self, organisme: str | None) -> str | None:
        """Return the territory written, else the organization's: it picks the editions."""
        slug = self.text("territoire")
        if slug is None:
            org = self.settings.organization(organisme) if organisme else None
            if org is None and organisme is not None:  # a held item from outside the registry
                self.doc.warn(_("territoire inconnu pour un organisme hors du registre : "
                                "« regional » utilisé."), key="organisme",
                              fix=_("Ajoutez « territoire: » avec le bon territoire avant "
                                    "d'approuver."))
                return REGIONAL
            return org.territoire if org else None
        if slug != REGIONAL and slug not in self.settings.territories:
            self.doc.error(_("territoire « {slug} » inconnu.").format(slug=cut(slug)),
                           key="territoire",
                           fix=_("Choix possibles : {choices}.").format(
                               choices=_choices([REGIONAL, *self.settings.territories])))
            return None
        return slug

    def rubrique(self) -> str | None:
        """Check ``rubrique`` against the settings: it decides the section of the item."""
        slug = self.text("rubrique", required=True)
        if slug is not None and slug not in self.settings.rubriques:
            self.doc.error(_("rubrique « {slug} » inconnue.").format(slug=cut(slug)),
                           key="rubrique",
                           fix=_("Choix possibles : {choices}.").format(
                               choices=_choices(self.settings.rubriques)))
            return None
        return slug

    def date_field(self, key: str, *, required: bool = False) -> date | None:
        """Read a date that must exist (« 2026-02-30 » is an error, not a guess)."""
        raw = self.v.get(key)
        if raw is None:
            if required:
                self.doc.error(_("le champ « {key} » est obligatoire ici.").format(key=key),
                               line=1, fix=_("Ajoutez « {key}: AAAA-MM-JJ » dans l'en-tête.")
                               .format(key=key))
            return None
        value = to_date(raw)
        if value is None:
            self.doc.error(_("« {key} » n'est pas une date valide : {raw}.").format(
                               key=key, raw=cut(raw)), key=key,
                           fix=_("Écrivez une date qui existe, ainsi : 2026-12-05."))
        return value

    def event(self, rubrique: str | None) -> Event | None:
        """Read ``evenement`` (start, end, place): the agenda sorts and shows items by it."""
        raw = self.v.get("evenement")
        if raw is None:
            if rubrique == AGENDA:
                report = self.doc.warn if self.reviewable else self.doc.error
                report(_("un élément de l'agenda doit avoir un « evenement »."), line=1,
                       fix=_("Ajoutez par exemple : evenement: {{debut: \"2026-12-05 "
                             "10:00\", fin: \"2026-12-05 14:00\", lieu: \"Salle "
                             "municipale\"}}"))
            return None
        if not isinstance(raw, dict) or "debut" not in raw:
            self.doc.error(_("« evenement » doit indiquer au moins « debut »."), key="evenement",
                           fix=_("Exemple : evenement: {{debut: \"2026-12-05 10:00\", fin: "
                                 "\"2026-12-05 14:00\", lieu: \"Salle municipale\"}}"))
            return None
        debut = to_datetime(raw.get("debut"), self.tz)
        fin = to_datetime(raw["fin"], self.tz) if raw.get("fin") is not None else None
        if debut is None or (raw.get("fin") is not None and fin is None):
            self.doc.error(_("date ou heure d'événement invalide."), key="evenement",
                           fix=_("Écrivez « AAAA-MM-JJ HH:MM », par exemple "
                                 "« 2026-12-05 10:00 », avec une date qui existe."))
            return None
        if fin is not None and fin < debut:
            self.doc.error(_("l'événement finit avant de commencer."), key="evenement",
                           fix=_("Vérifiez « debut » et « fin »."))
            return None
        lieu = raw.get("lieu")
        return Event(debut=debut, fin=fin, lieu=str(lieu).strip() if lieu else None)

    def enum(self, key: str, kind, default):
        """Read a choice among an enum's values (« Approuvé » is ``approuve``), or list them."""
        raw = self.text(key)
        if raw is None:
            return default
        try:
            return kind(_choice(raw))
        except ValueError:
            self.doc.error(_("« {key} » vaut « {raw} »").format(key=key, raw=cut(raw)), key=key,
                           fix=_("Choix possibles : {choices}.").format(
                               choices=_choices(m.value for m in kind)))
            return default

    def link(self) -> str | None:
        """Keep ``lien`` only if it is safe to show as a link (``models.safe_link``)."""
        lien = self.text("lien")
        if lien and not safe_link(lien):
            self.doc.error(_("lien invalide : {lien}.").format(lien=cut(lien)), key="lien",
                           fix=_("Un lien commence par https:// (ou mailto:) et n'a pas "
                                 "d'espace."))
            return None
        return lien

    def image(self) -> tuple[str | None, str | None]:
        """Check the image: a real file beside the item, never a path or a link, with alt text."""
        image, alt = self.text("image"), self.text("image_alt")
        if image is None:
            return None, None
        if "/" in image or "\\" in image or image.startswith("."):
            self.doc.error(_("nom d'image invalide : {image}.").format(image=cut(image)),
                           key="image",
                           fix=_("Placez l'image à côté du fichier .md et indiquez seulement "
                                 "son nom (ex. frigo.jpg)."))
        elif not inside_content(self.doc.path.parent / image, self.settings):
            self.doc.error(_("l'image « {image} » est un lien symbolique (ou mène hors de "
                             "content/) : elle n'est pas reprise.").format(image=cut(image)),
                           key="image", fix=_("Remplacez le lien par une copie de l'image, "
                                              "à côté de la nouvelle."))
        elif not (self.doc.path.parent / image).is_file():
            self.doc.error(_("image introuvable : {image}.").format(image=cut(image)), key="image",
                           fix=_("Placez le fichier image dans le même dossier que la "
                                 "nouvelle, ou retirez la ligne « image: »."))
        if not alt:
            report = self.doc.warn if self.reviewable else self.doc.error
            report(_("l'image n'a pas de texte alternatif."), key="image",
                   fix=_("Ajoutez « image_alt: » avec une courte description de "
                         "l'image, pour les personnes qui ne la voient pas."))
        return image, alt
