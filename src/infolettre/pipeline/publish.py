"""Publish the web archive: record an approved issue as published, then write the site.

``infolettre publish AAAA-MM`` (and ``send``, before its first message, so that every link
of the messages resolves) takes the issue exactly as it was approved (the sign-off, as for
a send), copies its images and documents into ``[chemins] site``, records a snapshot of
each item (``state.publications``: new, corrected, withdrawn), then regenerates the whole
site from those records, never from ``content/``. Files are written atomically and never
deleted: a permalink, once published, keeps working.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from .. import permalinks
from ..clock import SYSTEM_CLOCK, Clock
from ..content.documents import linked_documents, read_beside
from ..deliver.senders import refuse_items_in_error
from ..errors import BuildError, DeliveryError, InfolettreError, Problem, Severity, cut
from ..fsutil import fsync_dir, write_durably
from ..gather.files import gather_files
from ..i18n import _
from ..models import Issue, Item
from ..organize import organize
from ..publish.model import PublishedIssue, PublishedItem, Site
from ..publish.pages import Assets
from ..publish.site import site_files
from ..render.images import pixel_size
from ..review.signoff import require_signoff
from ..settings import Settings
from ..state import connect, state_file
from ..state.publications import Counts, PublicationStore, StoredIssue
from ..state.runlock import lock_data_dir
from ..state.signatures import SignoffStore


@dataclass(frozen=True)
class PublishResult:
    """What a publication did: where the site is, what was written, what changed."""

    out_dir: Path
    month: str | None  # the issue published (None: the site regenerated only)
    files: tuple[str, ...]  # every file of the site (relative paths)
    written: tuple[str, ...]  # those written this time (new or changed)
    counts: Counts = field(default_factory=Counts)
    problems: list[Problem] = field(default_factory=list)

    @property
    def index(self) -> Path:
        return self.out_dir / permalinks.HOME

    @property
    def pages(self) -> int:
        return sum(f.endswith(".html") for f in self.files)


def require_site(settings: Settings) -> str:
    """Return ``[infolettre] site`` (the public address), or say how to set it."""
    if not settings.identity.site:
        raise BuildError(_("l'adresse publique du site n'est pas configurée : rien n'a été "
                           "publié."), where="[infolettre] site",
                         fix=_("Ajoutez dans infolettre.toml, table [infolettre], l'adresse où "
                               "le dossier du site sera en ligne, par exemple : site = "
                               "\"https://infolettre.example.org\"."))
    return settings.identity.site.rstrip("/")


#: The ``kind`` of the warning that a logo cannot show (no site to load it from).
LOGO_UNSEEN = "logo"


def site_warnings(settings: Settings) -> list[Problem]:
    """Warn about settings of the site that would do nothing (``check`` lists them)."""
    if settings.identity.logo is not None and not settings.identity.site:
        return [Problem(Severity.WARNING,
                        _("[infolettre] logo : le logo ({name}) ne paraîtra pas, car les "
                          "courriels le chargent du site publié, et l'adresse du site n'est "
                          "pas configurée.").format(name=settings.identity.logo.name),
                        kind=LOGO_UNSEEN,
                        fix=_("Ajoutez l'adresse publique du site dans [infolettre] site, ou "
                              "retirez la clé logo."))]
    return []


def publish(settings: Settings, month: str | None = None, *, parution: date | None = None,
            clock: Clock = SYSTEM_CLOCK) -> PublishResult:
    """Publish ``month`` (signed off, unchanged) and regenerate the site; without a month,
    regenerate the site from what was published. Holds the data folder's lock."""
    require_site(settings)
    with lock_data_dir(settings.paths.donnees, f"publish {month or ''}".strip(),
                       tz=settings.identity.timezone, clock=clock):
        return _publish(settings, month, parution=parution, clock=clock)


def _publish(settings: Settings, month: str | None, *, parution: date | None,
             clock: Clock) -> PublishResult:
    """Publish, the lock held (``publish``, and ``send`` before its first message)."""
    require_site(settings)
    out, counts, problems = settings.paths.site, Counts(), []
    with closing(connect(state_file(settings.paths.donnees))) as conn:
        store = PublicationStore(conn)
        if month is not None:
            issue, problems = _signed_issue(settings, month, parution, conn, clock)
            # --- reading ends here; writing begins ---
            _copy_files(issue, settings, out)
            counts = store.record(month, issue.parution, list(issue.items), clock.now())
        stored = store.load()
    if not stored:
        raise BuildError(_("aucun numéro n'a encore été publié : le site serait vide."),
                         where=str(out),
                         fix=_("Approuvez un numéro, puis publiez-le (infolettre publish "
                               "AAAA-MM) ou envoyez-le (infolettre send AAAA-MM)."))
    site = build_site(stored, settings, clock)
    files = site_files(site, settings, scan_assets(site, out))
    written = write_site(out, files)
    return PublishResult(out, month, tuple(sorted(files)), tuple(written), counts, problems)


def _signed_issue(settings: Settings, month: str, parution: date | None,
                  conn: sqlite3.Connection, clock: Clock) -> tuple[Issue, list[Problem]]:
    """Return the issue as approved (items in error, unsigned or changed: refused)."""
    items, problems = gather_files(settings, month)
    refuse_items_in_error(problems, month)
    issue = organize(items, settings, month, parution=parution)
    signoffs = SignoffStore(conn, clock=clock)
    if signoffs.current(month) is None:
        raise DeliveryError(
            _("le numéro {month} n'a pas été approuvé : rien n'a été publié.").format(
                month=month), where=month,
            fix=_("Relisez-le, approuvez-le (infolettre approve {month}, ou la page "
                  "« Approbation »), puis publiez-le : infolettre publish {month}.")
            .format(month=month))
    require_signoff(signoffs, month, issue, settings)
    return issue, problems + list(issue.notices)


def _copy_files(issue: Issue, settings: Settings, out: Path) -> None:
    """Copy the images and the linked documents of the issue's items into the site, and the
    bulletin's logo (``[infolettre] logo``)."""
    for item in issue.items:
        if item.image:
            _copy(item, item.image, out / permalinks.image(item.month, "").rstrip("/"),
                  settings)
        for name in linked_documents(item, settings):
            _copy(item, name, out / permalinks.document(item.month, "").rstrip("/"), settings)
    logo = settings.identity.logo  # the emails load it from here (render.context.logo)
    if logo is not None:
        data = logo.read_bytes()
        write_durably(out / permalinks.logo("").rstrip("/") / logo.name,
                      lambda handle: handle.write(data), sync_dir=False)


def _copy(item: Item, name: str, folder: Path, settings: Settings) -> None:
    """Copy one file beside ``item`` (never through a symbolic link) into ``folder``."""
    try:
        data = read_beside(item, name, settings)
    except PermissionError:
        raise BuildError(_("le fichier « {name} » est un lien symbolique (ou mène hors de "
                           "content/) : il n'est pas publié.").format(name=cut(name)),
                         where=str(item.path),
                         fix=_("Remplacez le lien par une copie du fichier.")) from None
    except OSError:
        raise BuildError(_("fichier introuvable : {name}.").format(name=cut(name)),
                         where=str(item.path),
                         fix=_("Remettez le fichier à côté de la nouvelle.")) from None
    write_durably(folder / name, lambda handle: handle.write(data), sync_dir=False)


def build_site(stored: list[StoredIssue], settings: Settings, clock: Clock) -> Site:
    """Make the ``Site`` of the records: each issue organized again from its snapshots."""
    issues = []
    for record in stored:
        items = tuple(PublishedItem(s.item, s.published_at, s.updated_at, s.withdrawn_at)
                      for s in record.items)
        live = [p.item for p in items if p.withdrawn_at is None]
        issue = organize(live, settings, record.month, parution=record.parution)
        issues.append(PublishedIssue(record.month, record.parution, issue, items,
                                     record.first_published_at, record.last_published_at))
    return Site(tuple(issues), require_site(settings), clock.now())


def scan_assets(site: Site, out: Path) -> Assets:
    """Find what the site holds beside the pages: each item's image (with its size as
    shown, read as the email reads it: ``render.images.pixel_size``) and each month's
    documents."""
    images: dict[str, tuple[int, int] | None] = {}
    for published in site.items:
        item = published.item
        if not item.image:
            continue
        path = out / item.month / "images" / item.image
        if not path.is_file() or path.is_symlink():
            continue
        images[permalinks.image(item.month, item.image)] = pixel_size(path)
    documents = {}
    for issue in site.issues:
        folder = out / issue.month / "documents"
        documents[issue.month] = frozenset(
            p.name for p in folder.iterdir()
            if not p.name.startswith(".") and p.is_file() and not p.is_symlink()
        ) if folder.is_dir() else frozenset()
    return Assets(images, documents)


def write_site(out: Path, files: dict[str, bytes]) -> list[str]:
    """Write the files whose bytes changed (atomically); return their paths. Nothing is
    deleted: the files of earlier publications stay where their links point."""
    written, folders = [], set()
    for path, data in sorted(files.items()):
        target = out / path
        try:
            if target.is_file() and not target.is_symlink() and target.read_bytes() == data:
                continue
        except OSError:
            pass
        write_durably(target, lambda handle, data=data: handle.write(data), sync_dir=False)
        written.append(path)
        folders.add(target.parent)
    for folder in folders:
        fsync_dir(folder)
    return written


#: The ``kind`` of the note ``send`` returns once the issue is published (its command shows
#: it), and of the warning when publishing failed (the scheduler tells the pivot).
PUBLISHED = "publie"
NOT_PUBLISHED = "non-publie"


def publish_before_send(settings: Settings, month: str, *, parution: date | None,
                        clock: Clock) -> list[Problem]:
    """Publish ``month`` for ``send`` (its lock held), when ``[infolettre] site`` is set.

    A failure does not stop the send (the messages matter more than the archive): it
    becomes a warning saying what failed and how to publish again.
    """
    if not settings.identity.site:
        return []
    try:
        result = _publish(settings, month, parution=parution, clock=clock)
    except (InfolettreError, OSError) as exc:
        return [Problem(Severity.WARNING,
                        _("le numéro n'a pas pu être publié sur le site avant l'envoi "
                          "({error}) : les liens des messages vers le site peuvent ne pas "
                          "fonctionner.").format(error=cut(str(exc), 300)),
                        fix=_("Corrigez la cause, puis relancez infolettre publish {month}.")
                        .format(month=month), kind=NOT_PUBLISHED)]
    return [*result.problems, Problem(
        Severity.NOTICE, _("Site publié avant l'envoi : {index} (à mettre en ligne à "
                           "{site}).").format(index=result.index, site=settings.identity.site),
        kind=PUBLISHED)]
