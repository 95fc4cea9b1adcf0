"""Content files ↔ Items: ``content/<YYYY-MM>/<slug>.md`` is where every item lives.

Reading validates each file against the settings (registry, territories, rubriques, dates)
and reports every problem with its file and line; a bad file is skipped, the others go on.
"""

from __future__ import annotations

import difflib
import io
import os
import re
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import yaml

from .errors import ContentError, Problem, Severity, cut
from .frontmatter_reader import RawDocument, read_document
from .fsutil import fsync_dir, write_durably
from .i18n import _
from .models import (AGENDA, FRONT_MATTER_KEYS, FUNDING, REGIONAL, Event, Item, Month, Source,
                     Status)
from .render.markdown import safe_link
from .settings import Settings, plain

if TYPE_CHECKING:
    from .gather.mail import ItemDraft

REVIEWABLE = (Status.SUBMITTED.value, Status.HELD.value)
KNOWN_KEYS = FRONT_MATTER_KEYS
IMAGE_MAX_WIDTH = 1200  # px: wide enough for the email and the printed page
_IMAGE_SAVE: dict[str, dict[str, Any]] = {
    "JPEG": {"quality": 85, "progressive": True, "optimize": True},
    "PNG": {"optimize": True},
    "GIF": {},
    "WEBP": {"quality": 85},
}
_IMAGE_METADATA = ("exif", "xmp", "XML:com.adobe.xmp", "comment", "photoshop", "iptc")
DATETIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{1,2})\s*(?::|h)\s*(\d{2})?(?::\d{2})?)?\s*$", re.I)


def months(settings: Settings) -> list[str]:
    """List the issue months present in ``content/``, oldest first."""
    root = settings.paths.contenu
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and Month.is_valid(p.name))


def latest_month(settings: Settings) -> str:
    """Return the most recent month folder, the default issue of every command."""
    found = months(settings)
    if not found:
        raise ContentError(_("aucun dossier de numéro (AAAA-MM) dans {path}.")
                           .format(path=settings.paths.contenu),
                           fix=_("Créez par exemple content/2026-12/ et placez-y les "
                                 "nouvelles en Markdown."))
    return found[-1]


def check_month(month: str) -> Month:
    """Validate a ``YYYY-MM`` argument (``Month``, which says how to write it)."""
    return Month(month)


def inside_content(path: Path, settings: Settings) -> bool:
    """Tell whether ``path`` is a real file or folder of ``content/``, not a symbolic link.

    A link could make the bulletin read, copy or publish any file of the machine (a
    password file as an « image »): ``content/`` holds only real files, and nothing in it
    may lead out of it.
    """
    if path.is_symlink():
        return False
    try:
        path.resolve().relative_to(settings.paths.contenu.resolve())
    except (ValueError, OSError, RuntimeError):
        return False
    return True


def _month_folder(settings: Settings, month: str) -> Path:
    """Return ``content/<month>``, refusing a folder that is a link out of ``content/``."""
    folder = settings.paths.contenu / check_month(month)
    if folder.exists() and not inside_content(folder, settings):
        raise ContentError(_("le dossier du numéro {month} est un lien symbolique (ou mène "
                             "hors de content/) : infolettre ne le suit pas.").format(
                               month=month), where=str(folder),
                           fix=_("Remplacez le lien par un vrai dossier, avec les fichiers "
                                 "copiés dedans."))
    return folder


def load_month(settings: Settings, month: str) -> tuple[list[Item], list[Problem]]:
    """Read every item of one month; return the valid items and all problems found."""
    folder = _month_folder(settings, month)
    if not folder.is_dir():
        raise ContentError(_("le dossier du numéro {month} est introuvable.").format(month=month),
                           where=str(folder),
                           fix=_("Vérifiez le mois demandé ou créez le dossier."))
    items, problems = [], []
    for path in sorted(folder.glob("*.md")):
        if not inside_content(path, settings):
            problems.append(Problem(Severity.ERROR, _(
                "ce fichier est un lien symbolique (ou mène hors de content/) : il n'est pas "
                "lu."), path, None, _("Remplacez le lien par une copie du fichier.")))
            continue
        item, found = read_item(path, settings, month)
        problems.extend(found)
        if item is not None:
            items.append(item)
    problems.extend(stray_texts(folder, items))
    return items, problems


#: Extensions of files written as items but not read as such (only ``*.md`` is).
TEXT_SUFFIXES = {".md", ".markdown", ".mdown", ".mkd", ".mkdn", ".mdwn", ".mdtxt", ".txt",
                 ".text"}


def stray_texts(folder: Path, items: list[Item]) -> list[Problem]:
    """Warn about text files of the month that are not read: « .markdown », « .txt », « .MD ».

    Only ``*.md`` files are items; one saved as ``atelier.markdown`` or ``souper.txt``
    (or ``frigo.MD``) would otherwise be missing from the issue without a word. Hidden
    files are left alone, and so are images and attachments, which sit beside the items:
    a ``.txt`` an item links to (« Pièce jointe : [horaire.txt](horaire.txt) ») is one.
    """
    found = []
    for path in sorted(folder.iterdir()):
        suffix = path.suffix.lower()
        if path.name.startswith(".") or path.suffix == ".md" or suffix not in TEXT_SUFFIXES \
                or not path.is_file() or _linked(path.name, items):
            continue
        base = path.stem[:-3] if path.stem.lower().endswith(".md") else path.stem  # x.md.txt
        found.append(Problem(
            Severity.WARNING, _("fichier ignoré : seuls les fichiers « .md » sont lus comme "
                                "des nouvelles."), path,
            fix=_("Si c'est une nouvelle, renommez-le en « {name} ».").format(
                name=f"{base}.md")))
    return found


def _linked(name: str, items: list[Item]) -> bool:
    """Tell whether an item links to the file ``name`` (an attachment beside it)."""
    targets = (f"]({quote(name)})", f"]({name})")
    return any(t in item.corps for item in items for t in targets)


def utf16(path: Path) -> bool:
    """Tell whether a file looks like UTF-16 text (a byte-order mark, or every other byte 0)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    if len(head) < 8:
        return False
    even, odd = head[0::2].count(0), head[1::2].count(0)
    half = len(head) // 2
    return (odd >= 0.4 * half and even <= 0.01 * half) or \
        (even >= 0.4 * half and odd <= 0.01 * half)


def read_item(path: Path, settings: Settings, month: str) -> tuple[Item | None, list[Problem]]:
    """Read and validate one content file; the item is None when it has an error."""
    doc = read_document(path)
    if not doc.ok:
        if utf16(path):  # (its NUL bytes would otherwise say « not a text »)
            return None, [Problem(
                Severity.ERROR, _("ce fichier est en UTF-16 (« Unicode » dans le Bloc-notes ou "
                                  "Word) : infolettre lit seulement l'UTF-8."), path,
                fix=_("Ouvrez-le et enregistrez-le en UTF-8 (dans le Bloc-notes : « Enregistrer "
                      "sous », puis Codage : UTF-8)."))]
        return None, doc.problems
    item = _Validator(doc, settings, month).item()
    return (item if doc.ok else None), doc.problems


def write_draft(settings: Settings, month: str, draft: ItemDraft) -> Path:
    """Write a draft as ``content/<month>/<slug>.md`` with its files beside it; never overwrite.

    Attachments go first, the ``.md`` last: a crash in between leaves stray files, never an
    item pointing at a missing image. The slug gets ``-2``, ``-3``… when taken; a file whose
    name is taken gets the slug as prefix. The conversion notes become YAML comments at the
    top of the front matter, where the pivot reads them.
    """
    folder = _month_folder(settings, month)
    folder.mkdir(parents=True, exist_ok=True)
    taken = _taken(folder)  # listed once: a run may write thousands of items here
    slug = _free_slug(taken, _safe_slug(draft.slug))
    front, links, fitted = dict(draft.front_matter), [], []
    for attachment in draft.attachments:
        data = attachment.data
        if attachment.kind == "image":
            data, note = fit_image(attachment.data)
            if note:
                fitted.append(note.format(name=attachment.name_safe))
        name = _write_attachment(folder, slug, attachment.name_safe, data, taken)
        if attachment.kind == "image" and front.get("image") == attachment.name_safe:
            front["image"] = name
        elif attachment.kind != "image":
            links.append(_("Pièce jointe : [{name}]({url})").format(
                name=re.sub(r"([\\\[\]*_`])", r"\\\1", name), url=quote(name)))
    origin = draft.origin or _("Reçu par courriel de {sender} (Message-ID : {mid}).").format(
        sender=draft.sender or "?", mid=draft.message_id or "—")
    notes = [origin, *(_("À vérifier : {note}").format(note=n)
                       for n in (*draft.notes, *fitted))]
    text = _item_text(front, draft.corps, links, notes)
    while True:
        path = folder / f"{slug}.md"
        if write_durably(path, lambda h: h.write(text.encode("utf-8")), no_clobber=True):
            return path
        taken.add(f"{slug}.md")  # taken meanwhile (another process): the next free one
        slug = _free_slug(taken, slug)


def add_note(path: Path, note: str) -> bool:
    """Add a note for the pivot at the top of an item's front matter (a YAML comment).

    Used when another source brings the same news: the item stays one, its file says where
    else it came from. The file is rewritten atomically and otherwise unchanged; returns
    False (nothing written) when it is not a UTF-8 item file with a ``---`` header, or
    already carries this note.
    """
    if path.is_symlink():  # never read (nor rewrite) what a link points at
        return False
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    line = f"# {' '.join(note.split())}\n"
    match = re.match(r"\A(\ufeff?-{3,}[ \t]*\r?\n)", text)
    if match is None or line.strip() in text:
        return False
    updated = text[:match.end()] + line + text[match.end():]
    write_durably(path, lambda h: h.write(updated.encode("utf-8")))
    return True


def _safe_slug(slug: str) -> str:
    """Keep a slug to lowercase letters, digits and dashes (never a path)."""
    return re.sub(r"[^a-z0-9-]+", "-", slug.lower()).strip("-")[:80] or "courriel"


def _taken(folder: Path) -> set[str]:
    """Return the names already in ``folder``, casefolded (case-insensitive disks too)."""
    return {name.casefold() for name in os.listdir(folder)}


def _free_slug(taken: set[str], slug: str) -> str:
    """Return ``slug``, else ``slug-2``, ``slug-3``…: the first with no ``.md`` in ``taken``."""
    candidate, n = slug, 1
    while f"{candidate}.md" in taken:
        n += 1
        candidate = f"{slug}-{n}"
    return candidate


def _write_attachment(folder: Path, slug: str, name: str, data: bytes,
                      taken: set[str]) -> str:
    """Write one attachment beside the item under a free, safe name; return that name.

    ``taken`` (the folder's names, casefolded) gets the new name.
    """
    from .gather.mail import safe_filename

    name = safe_filename(name, "", 0)
    if name.casefold().endswith(".md"):  # never a file the store would read as an item
        name += ".txt"
    if name.casefold() in taken:
        name = f"{slug}-{name}"
    stem, dot, ext = name.rpartition(".") if "." in name else (name, "", "")
    candidate, n = name, 1
    while True:
        if candidate.casefold() not in taken and write_durably(
                folder / candidate, lambda h: h.write(data), no_clobber=True, sync_dir=False):
            fsync_dir(folder)
            taken.add(candidate.casefold())
            return candidate
        n += 1
        candidate = f"{stem}-{n}{dot}{ext}"


def fit_image(data: bytes) -> tuple[bytes, str | None]:
    """Ready an emailed image for the bulletin: upright, at most ``IMAGE_MAX_WIDTH`` wide,
    without its metadata (EXIF, GPS position), in its own format.

    EXIF orientation is applied first, then an image wider than the limit is scaled down
    (Lanczos). A JPEG is saved at quality 85, progressive; a PNG optimized; an animated
    image is left as it came. An image already upright, narrow enough and carrying no
    metadata keeps its bytes. Returns the bytes to write and, for an image Pillow cannot
    read, a note (``{name}`` to fill in) — the file is then kept unchanged, as a document.
    """
    from PIL import Image, ImageOps

    try:
        with Image.open(io.BytesIO(data)) as opened:
            fmt = opened.format
            if getattr(opened, "is_animated", False):
                return data, None  # an animated GIF (or WebP, PNG): left as it came
            opened.load()
            exif = opened.getexif()
            metadata = bool(exif) or any(k in opened.info for k in _IMAGE_METADATA)
            image = ImageOps.exif_transpose(opened) or opened
            if fmt not in _IMAGE_SAVE or (image.width <= IMAGE_MAX_WIDTH and not metadata):
                return data, None
            if image.width > IMAGE_MAX_WIDTH:
                if image.mode in ("P", "1"):  # palette: resample in full colour
                    image = image.convert("RGBA" if "transparency" in image.info else "RGB")
                height = max(1, round(image.height * IMAGE_MAX_WIDTH / image.width))
                image = image.resize((IMAGE_MAX_WIDTH, height), Image.Resampling.LANCZOS)
            options = dict(_IMAGE_SAVE[fmt])
            if opened.info.get("icc_profile"):  # colours, not metadata: kept
                options["icc_profile"] = opened.info["icc_profile"]
            if fmt == "JPEG" and image.mode not in ("RGB", "L", "CMYK"):
                image = image.convert("RGB")
            out = io.BytesIO()
            image.save(out, format=fmt, **options)
            return out.getvalue(), None
    except Exception:  # noqa: BLE001 - a broken image is kept as is, for a person to see
        return data, ("image « {name} » illisible (fichier abîmé ou format inconnu) : "
                      "gardée telle quelle, sans redimensionnement. Vérifiez-la, ou "
                      "demandez une autre copie à l'expéditeur.")


def _item_text(front: dict[str, Any], corps: str, links: list[str], notes: list[str]) -> str:
    """Render the front matter (notes as YAML comments) and the Markdown body of an item."""
    comments = "".join(f"# {' '.join(str(note).split())}\n" for note in notes)
    header = yaml.safe_dump(front, allow_unicode=True, sort_keys=False, width=1000)
    body = corps.strip("\n")
    if links:
        body = (body + "\n\n" if body else "") + "\n\n".join(links)
    return f"---\n{comments}{header}---\n{body}\n"


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


def _choices(options) -> str:
    return ", ".join(f"« {o} »" for o in options)


class _Validator:
    """Turn a RawDocument into an Item, recording each problem with its line."""

    def __init__(self, doc: RawDocument, settings: Settings, month: str):
        self.doc, self.settings, self.month = doc, settings, month
        self.v = doc.values
        self.tz = settings.identity.timezone
        statut = self.v.get("statut")
        #: A submission written « soumis » or « retenu » waits for the pivot: what only the
        #: pivot can settle (organisme, alt text) is a warning; « approuve » makes it an error.
        self.reviewable = isinstance(statut, str) and _choice(statut) in REVIEWABLE

    def text(self, key: str, *, required: bool = False) -> str | None:
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
        for key in self.v:
            if key not in KNOWN_KEYS:
                close = difflib.get_close_matches(key, KNOWN_KEYS, n=1)
                hint = (_("Vouliez-vous dire « {k} » ?").format(k=close[0]) if close
                        else _("Champs reconnus : {keys}.").format(keys=", ".join(KNOWN_KEYS)))
                self.doc.warn(_("champ inconnu « {key} », ignoré.").format(key=cut(key)),
                              key=key,
                              fix=hint)

    def organization(self) -> str | None:
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
        slug = self.text("rubrique", required=True)
        if slug is not None and slug not in self.settings.rubriques:
            self.doc.error(_("rubrique « {slug} » inconnue.").format(slug=cut(slug)),
                           key="rubrique",
                           fix=_("Choix possibles : {choices}.").format(
                               choices=_choices(self.settings.rubriques)))
            return None
        return slug

    def date_field(self, key: str, *, required: bool = False) -> date | None:
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
        lien = self.text("lien")
        if lien and not safe_link(lien):
            self.doc.error(_("lien invalide : {lien}.").format(lien=cut(lien)), key="lien",
                           fix=_("Un lien commence par https:// (ou mailto:) et n'a pas "
                                 "d'espace."))
            return None
        return lien

    def image(self) -> tuple[str | None, str | None]:
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
