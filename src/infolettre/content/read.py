"""Read a month of ``content/``: every ``*.md`` file, validated, into Items and Problems.

A bad file is skipped with its problems (file and line), the others go on: one broken item
never stops an issue. Files that look like items but are not read (« .txt », « .markdown »,
UTF-16 text) are reported too, so nothing a delegate wrote goes missing without a word.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from ..errors import ContentError, Problem, Severity
from ..i18n import _
from ..models import Item, Month
from ..settings import Settings
from .frontmatter import read_document
from .paths import inside_content, month_folder
from .validate import validate


def load_month(settings: Settings, month: str) -> tuple[list[Item], list[Problem]]:
    """Read every item of one month; return the valid items and all problems found."""
    month = Month(month)  # parsed once: the items carry it
    folder = month_folder(settings, month)
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
    return validate(doc, settings, month), doc.problems
