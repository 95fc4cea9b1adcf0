"""Write ``content/``: the only code that does. Items from drafts, notes, attachments.

Every write is durable (temporary file, fsync, rename: ``fsutil``) and never overwrites an
existing file: a name that is taken gets ``-2``, ``-3``…, also when another process took it
meanwhile. Names are made safe (``names``) and images fitted (``images``) on the way in.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..fsutil import deferring, fsync_dir, reserved_names, write_durably
from ..i18n import _
from ..models import ItemDraft
from ..settings import Settings
from .frontmatter_write import HANDLER, comment_lines, item_file_text
from .images import fit_image
from .names import safe_filename, safe_slug
from .paths import month_folder


def write_draft(settings: Settings, month: str, draft: ItemDraft) -> Path:
    """Write a draft as ``content/<month>/<slug>.md`` with its files beside it; never overwrite.

    Attachments go first, the ``.md`` last: a crash in between leaves stray files, never an
    item pointing at a missing image. The slug gets ``-2``, ``-3``… when taken; a file whose
    name is taken gets the slug as prefix. The conversion notes become YAML comments at the
    top of the front matter, where the pivot reads them.
    """
    folder = month_folder(settings, month)
    folder.mkdir(parents=True, exist_ok=True)
    taken = _taken(folder)  # listed once: a run may write thousands of items here
    slug = _free_slug(taken, safe_slug(draft.slug))
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
        placed = write_durably(path, lambda h: h.write(text.encode("utf-8")), no_clobber=True)
        taken.add(f"{slug}.md")  # if not placed: taken meanwhile (another process)
        if placed:
            _LISTED[folder] = (os.stat(folder).st_mtime_ns, frozenset(taken))
            return path
        slug = _free_slug(taken, slug)


def add_note(path: Path, note: str) -> bool:
    """Add a note for the pivot at the top of an item's front matter (a YAML comment).

    Used when another source brings the same news: the item stays one, its file says where
    else it came from. The file is rewritten atomically and otherwise unchanged; returns
    False (nothing written) when it is not a UTF-8 item file with a ``---`` header
    (python-frontmatter's YAML handler detects it), or already carries this note. The note
    is inserted, not the file re-dumped: a delegate's own layout and comments stay.
    """
    if path.is_symlink():  # never read (nor rewrite) what a link points at
        return False
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    line = comment_lines([note])
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    opened = text.find("\n") + 1  # the comment goes right after the opening « --- » line
    if not HANDLER.detect(text[len(bom):]) or not 0 < opened or line.strip() in text:
        return False
    updated = text[:opened] + line + text[opened:]
    write_durably(path, lambda h: h.write(updated.encode("utf-8")))
    return True


def _taken(folder: Path) -> set[str]:
    """Return the names already in ``folder``, casefolded (case-insensitive disks too), and
    those a batch reserved there (``fsutil.deferred_sync``).

    In a batch, the listing is kept while the folder's modification time stays the one seen
    after the last ``write_draft`` (its own names added): a mail run writes hundreds of
    items into a folder of thousands of names. A name another process took unseen (within
    that time's granularity, or between the write and that look) is still refused when the
    file is put in place (``no_clobber``): the message is done again at the next run. Out
    of a batch (feeds, the review app), the folder is listed at each call.
    """
    stamp = os.stat(folder).st_mtime_ns
    cached = _LISTED.get(folder)
    if cached is None or cached[0] != stamp or not deferring():
        cached = (stamp, frozenset(name.casefold() for name in os.listdir(folder)))
        _LISTED.clear()  # one folder at a time: a run writes into one month
        _LISTED[folder] = cached
    return set(cached[1]) | {name.casefold() for name in reserved_names(folder)}


_LISTED: dict[Path, tuple[int, frozenset[str]]] = {}


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


def _item_text(front: dict[str, Any], corps: str, links: list[str], notes: list[str]) -> str:
    """Render the front matter (notes as YAML comments) and the Markdown body of an item."""
    body = corps.strip("\n")
    if links:
        body = (body + "\n\n" if body else "") + "\n\n".join(links)
    return item_file_text(front, body, comment_lines(notes))
