"""The review actions on the items of a month: list, show, approve, refuse, edit, move.

What the review app's « Les nouvelles » pages call (one function per action; the command
line may call them too). Every change goes through the content store (``content.edit``),
under the data folder's run lock (a gather, which writes ``content/`` too, or a send never
runs meanwhile), and is recorded in the review journal (``state.audit``) with who did it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from ..clock import SYSTEM_CLOCK, Clock
from ..content import read_document, read_item
from ..content.edit import file_hash, item_path, move_item as store_move, set_front_value
from ..errors import ContentError, Problem, Severity
from ..events import item_reviewed
from ..i18n import _
from ..models import REGIONAL, Item, Month, Status
from ..settings import Settings
from ..state import connect, state_file
from ..state.audit import AuditLog, AuditRow
from ..state.runlock import lock_data_dir
from .review_mail import notify_refusal

#: How each source is named in the list (the item's ``source``; a feed's is « flux »).
SOURCES = {"fichier": "fichier", "courriel": "courriel", "rss": "flux"}
_RECEIVED = re.compile(r"^#[ \t]*Reçu par courriel de (.+?) \(Message-ID", re.M)


@dataclass(frozen=True)
class Filters:
    """What the list shows: every value None means « all »."""

    statut: str | None = None
    territoire: str | None = None
    rubrique: str | None = None
    source: str | None = None


@dataclass
class Entry:
    """One item file of a month as the reviewer sees it, valid or not."""

    month: Month
    slug: str
    path: Path
    file_name: str          # relative to content/
    values: dict[str, Any]  # the front matter as written
    body: str
    hash: str               # sha256 of the file's bytes, as read
    item: Item | None
    problems: list[Problem]
    territoire: str
    source: str
    submitter: str | None   # the address an emailed item came from
    history: list[AuditRow] = field(default_factory=list)

    @property
    def titre(self) -> str:
        return str(self.values.get("titre") or self.slug)

    @property
    def organisme(self) -> str:
        return str(self.values.get("organisme") or "")

    @property
    def statut(self) -> str:
        return self.item.statut.value if self.item else str(self.values.get("statut") or "")

    @property
    def rubrique(self) -> str:
        return str(self.values.get("rubrique") or "")

    @property
    def ready(self) -> bool:
        """Tell whether the item waits only for a yes: submitted, valid, nothing to check
        (no error, no warning). What « Approuver les nouvelles sans problème » approves."""
        return (self.statut == Status.SUBMITTED.value and self.item is not None
                and not any(p.severity in (Severity.ERROR, Severity.WARNING)
                            for p in self.problems))


def read_entry(settings: Settings, month: str, slug: str) -> Entry | None:
    """Return the item ``slug`` of ``month``, or None when no such real item file exists."""
    if not Month.is_valid(month):
        return None
    try:
        path = item_path(settings, Month(month), slug)
    except ContentError:  # the month's folder is a link out of content/: not followed
        return None
    return _entry(settings, Month(month), path) if path else None


def _entry(settings: Settings, month: Month, path: Path) -> Entry:
    raw = path.read_bytes()
    doc = read_document(path)
    item, problems = read_item(path, settings, month)
    values = doc.values
    territoire = item.territoire if item else _territory(settings, values)
    source = SOURCES.get(item.source.value if item else str(values.get("source", "")),
                         "flux" if values.get("flux") else "fichier")
    found = _RECEIVED.search(raw.decode("utf-8", "replace"))
    submitter = parseaddr(found.group(1))[1] or None if found else None
    return Entry(month, path.stem, path, path.relative_to(settings.paths.contenu).as_posix(),
                 values, doc.body, file_hash(raw), item, problems, territoire, source,
                 submitter if source == "courriel" else None)


def _territory(settings: Settings, values: dict[str, Any]) -> str:
    """Guess the territory of an item that does not validate (to file it and check rights)."""
    written = values.get("territoire")
    if isinstance(written, str) and (written in settings.territories or written == REGIONAL):
        return written
    org = settings.organization(str(values.get("organisme") or ""))
    return org.territoire if org else REGIONAL


def list_items(settings: Settings, month: str, filters: Filters = Filters(), *,
               only_territory: str | None = None) -> list[tuple[str, str, list[Entry]]]:
    """Return the month's items by section, régional first then each territory in the
    config's order, like the complete edition: ``(key, title, entries)`` per section."""
    month = Month(month)
    folder = settings.paths.contenu / month
    entries = []
    for path in sorted(folder.glob("*.md")) if folder.is_dir() else ():
        entry = read_entry(settings, month, path.stem)
        if entry and _matches(entry, filters) and only_territory in (None, entry.territoire):
            entries.append(entry)
    sections = []
    for key in (REGIONAL, *settings.territories):
        found = [e for e in entries if e.territoire == key]
        if found:
            sections.append((key, settings.territory_name(key), found))
    return sections


def _matches(entry: Entry, filters: Filters) -> bool:
    return all(wanted in (None, "", value) for wanted, value in (
        (filters.statut, entry.statut), (filters.territoire, entry.territoire),
        (filters.rubrique, entry.rubrique), (filters.source, entry.source)))


def item_history(settings: Settings, month: str, slug: str) -> list[AuditRow]:
    """Return the review journal of one item, newest first, following its moves."""
    with closing(connect(state_file(settings.paths.donnees))) as conn:
        log, months, todo = AuditLog(conn), set(), [month]
        while todo:
            current = todo.pop()
            months.add(current)
            for row in log.history(slug, (current,)):
                came_from = row.detail.get("de") if row.action == "deplace" else None
                if came_from and came_from not in months:
                    todo.append(came_from)
        tz = settings.identity.timezone
        return [dataclasses.replace(row, when=row.when.astimezone(tz))
                for row in log.history(slug, tuple(sorted(months)))]


class Journal:
    """The review journal of one action: each row recorded is announced
    (``events.item_reviewed``) once written."""

    def __init__(self, settings: Settings, log: AuditLog):
        self.settings, self.log = settings, log

    def record(self, by: str, month: str, slug: str, action: str,
               detail: dict[str, Any] | None = None) -> None:
        """Append the row, then tell whoever listens for the project."""
        self.log.record(by, month, slug, action, detail)
        item_reviewed.send(self.settings, month=month, slug=slug, action=action, by=by,
                           detail=detail or {})


@contextmanager
def reviewing(settings: Settings, month: str, clock: Clock):
    """Hold the run lock and open the review journal for one action."""
    with lock_data_dir(settings.paths.donnees, f"review {month}",
                       tz=settings.identity.timezone, clock=clock), \
            closing(connect(state_file(settings.paths.donnees))) as conn:
        yield Journal(settings, AuditLog(conn, clock=clock))


def approve_items(settings: Settings, month: str, slugs: Iterable[str], by: str, *,
                  clock: Clock = SYSTEM_CLOCK) -> list[str]:
    """Write ``statut: approuve`` in each item named (a missing one is refused); return the
    slugs changed (an item already approved is left as it is, and not recorded)."""
    month = Month(month)
    paths = [(slug, _path(settings, month, slug)) for slug in dict.fromkeys(slugs)]
    changed = []
    with reviewing(settings, month, clock) as log:
        for slug, path in paths:
            if set_front_value(path, "statut", Status.APPROVED.value):
                log.record(by, month, slug, "approuve")
                changed.append(slug)
    return changed


def refuse_item(settings: Settings, month: str, slug: str, by: str, reason: str, *,
                notify: bool = False, clock: Clock = SYSTEM_CLOCK) -> str | None:
    """Write ``statut: refuse`` with the reason in the journal; with ``notify``, tell the
    sender of an emailed item by mail. Returns what became of that message (None: none)."""
    reason = " ".join(reason.split())
    if not reason:
        raise ContentError(_("indiquez la raison du refus."),
                           fix=_("Écrivez en une phrase pourquoi la nouvelle est refusée."))
    month = Month(month)
    path = _path(settings, month, slug)
    with reviewing(settings, month, clock) as log:
        set_front_value(path, "statut", Status.REFUSED.value)
        entry = read_entry(settings, month, slug)
        outcome = notify_refusal(settings, entry, reason, clock) if notify else None
        log.record(by, month, slug, "refuse", {"raison": reason, "courriel": outcome})
    return outcome


def move_item(settings: Settings, month: str, slug: str, to: str, by: str, *,
              clock: Clock = SYSTEM_CLOCK) -> Path:
    """Move an item (with its image) to the folder of the month ``to``; return its path."""
    month, to = Month(month), Month(to)
    if to == month:
        raise ContentError(_("la nouvelle est déjà dans le numéro {month}.").format(month=to))
    path = _path(settings, month, slug)
    image = read_document(path).values.get("image")
    image = image if isinstance(image, str) else None
    shared = image is not None and any(
        read_document(other).values.get("image") == image
        for other in path.parent.glob("*.md") if other != path and not other.is_symlink())
    with reviewing(settings, month, clock) as log:
        target = store_move(settings, path, to, image, image_shared=shared)
        log.record(by, to, slug, "deplace", {"de": month, "vers": to})
    return target


def _path(settings: Settings, month: Month, slug: str) -> Path:
    try:
        path = item_path(settings, month, slug)
    except ContentError:
        path = None
    if path is None:
        raise ContentError(_("la nouvelle « {slug} » est introuvable dans le numéro {month}.")
                           .format(slug=slug[:80], month=month),
                           fix=_("Rechargez la liste des nouvelles."))
    return path
