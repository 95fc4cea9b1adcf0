"""« Aperçus »: the month's preview build, rebuilt only when what it is made of changed.

``preview`` returns the editions of ``apercu/<YYYY-MM>/`` (the folder of ``build
--preview``), building them first when the month's files, the configuration or the
templates changed since the last preview. What the preview was built from is a
*fingerprint* kept beside it (``apercu.json``): a SHA-256 over

- every file of ``content/<YYYY-MM>/`` (name and bytes; a symbolic link by its target,
  never followed), so an edit, an added photo, a moved or deleted item all count;
- the configuration as loaded (``repr(settings)``) and the bytes of ``infolettre.toml``
  (and of the logo, ``[infolettre] logo``: the preview shows its copy);
- every template of ``templates/`` except the app's own (``templates/web/``);
- the version of infolettre.

Hashes rather than modification times: a copy, ``git checkout``, ``rsync -a`` or an edit
within the same second as the last build can leave an mtime unchanged (or change it with
nothing new), and the files are few and small (a month reads in milliseconds). The print
PDF (WeasyPrint: seconds) is made only when asked (``preview_pdf``) and thrown away with
a stale preview. The JSON keeps the editions and the build's problems, so a page shown
again reads nothing else. One build at a time in a server process (a lock).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..content import month_folder
from ..errors import Problem, Severity
from ..fsutil import atomic_write_text
from ..models import COMPLETE
from ..render.email import too_heavy, weight_label
from ..render.outputs import default_out_dir
from ..render.print import write_pdf
from ..settings import Settings
from .issue import build

#: Beside the preview's files: what it was built from, its editions and problems.
RECORD = "apercu.json"
_BUILDING = threading.Lock()


@dataclass(frozen=True)
class PreviewEdition:
    """One edition of the preview: its files are ``<slug>.html`` and ``<slug>.txt``."""

    slug: str
    titre: str
    subject: str
    size: int  # bytes of its HTML, before each recipient's greeting and link
    too_heavy: bool  # Gmail would clip it (over ``[limites]``, 102 KB by default)
    weight: str  # « 41,2 Ko », or with the clipping warning


@dataclass(frozen=True)
class Preview:
    """The month's preview as built: its folder, editions (complete first), problems."""

    month: str
    folder: Path
    editions: tuple[PreviewEdition, ...]
    problems: tuple[Problem, ...]
    rebuilt: bool  # built by this call (False: the files on disk were up to date)

    def edition(self, slug: str | None) -> PreviewEdition | None:
        """Return the edition named ``slug`` (a name of this list, never a path), or None."""
        return next((e for e in self.editions if e.slug == slug), None)

    def html(self, edition: PreviewEdition) -> Path:
        return self.folder / f"{edition.slug}.html"

    def text(self, edition: PreviewEdition) -> Path:
        return self.folder / f"{edition.slug}.txt"

    @property
    def print_html(self) -> Path:
        return self.folder / "print.html"

    @property
    def pdf(self) -> Path:
        return self.folder / "print.pdf"

    @property
    def has_pdf(self) -> bool:
        """Tell whether the print PDF is already made (else ``preview_pdf`` makes it)."""
        return self.pdf.is_file()

    def image(self, name: str) -> Path | None:
        """Return the preview's image named ``name`` (listed in ``images/``), or None."""
        folder = self.folder / "images"
        try:
            names = set(os.listdir(folder))
        except OSError:
            return None
        path = folder / name
        return path if name in names and not path.is_symlink() and path.is_file() else None


def preview(settings: Settings, month: str) -> Preview:
    """Return the month's preview, built again first if its inputs changed since.

    ``InfolettreError`` (the build's own: an image missing, no such month) when it cannot
    be built; nothing is recorded then, so the next call tries again.
    """
    with _BUILDING:
        folder = default_out_dir(settings, month, preview=True)
        stamp = fingerprint(settings, month)
        recorded = _read_record(folder)
        if recorded is not None and recorded.get("empreinte") == stamp \
                and _complete(folder, recorded):
            return _from_record(month, folder, recorded, rebuilt=False)
        (folder / "print.pdf").unlink(missing_ok=True)  # of the old preview: made on demand
        result = build(settings, month, preview=True, pdf=False)
        record = _record(stamp, result, settings)
        atomic_write_text(folder / RECORD, json.dumps(record, ensure_ascii=False, indent=1))
        return _from_record(month, folder, record, rebuilt=True)


def preview_pdf(settings: Settings, month: str) -> Path:
    """Return the print PDF of the month's preview, made now if it is not yet."""
    shown = preview(settings, month)
    with _BUILDING:
        if not shown.has_pdf:
            write_pdf(shown.print_html.read_text(encoding="utf-8"), shown.folder, shown.pdf)
    return shown.pdf


def fingerprint(settings: Settings, month: str) -> str:
    """Return the SHA-256 of what the month's preview is made of (see the module's text)."""
    digest = hashlib.sha256()
    digest.update(f"infolettre {__version__}\0{settings!r}\0".encode())
    if settings.source is not None and Path(settings.source).is_file():
        digest.update(Path(settings.source).read_bytes())
    logo = settings.identity.logo
    if logo is not None and logo.is_file():
        digest.update(b"logo\0" + logo.read_bytes())
    _hash_tree(digest, "content", month_folder(settings, month), skip=None)
    _hash_tree(digest, "templates", settings.paths.gabarits, skip="web")
    return digest.hexdigest()


def _hash_tree(digest, label: str, root: Path, *, skip: str | None) -> None:
    """Add every file under ``root`` (sorted; links by their target) to ``digest``."""
    if not root.is_dir():
        digest.update(f"\0{label}: absent\0".encode())
        return
    for folder, dirs, files in os.walk(root):  # does not descend into linked folders
        dirs[:] = sorted(d for d in dirs if not (skip and Path(folder) == root and d == skip))
        for name in sorted(files + [d for d in dirs if (Path(folder) / d).is_symlink()]):
            path = Path(folder) / name
            digest.update(f"\0{label}/{path.relative_to(root).as_posix()}\0".encode())
            if path.is_symlink():
                digest.update(b"-> " + os.readlink(path).encode())
            elif path.is_file():
                digest.update(hashlib.sha256(path.read_bytes()).digest())


def _record(stamp: str, result, settings: Settings) -> dict:
    """Say what was built from what: the fingerprint, the editions, the problems."""
    editions = sorted(result.rendered.editions, key=lambda e: e.slug != COMPLETE)
    return {
        "empreinte": stamp,
        "editions": [{"slug": e.slug, "titre": e.titre, "subject": e.subject,
                      "size": len(e.html.encode("utf-8")),
                      "too_heavy": too_heavy(len(e.html.encode("utf-8")), settings),
                      "weight": weight_label(e.html, settings)} for e in editions],
        "problems": [{"severity": p.severity.value, "message": p.message,
                      "path": None if p.path is None else str(p.path), "line": p.line,
                      "fix": p.fix} for p in result.problems]}


def _read_record(folder: Path) -> dict | None:
    """Read ``apercu.json``; None when absent or unreadable (the preview is built again)."""
    try:
        record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _complete(folder: Path, record: dict) -> bool:
    """Tell whether every file the record lists is still there (a hand-tidied folder)."""
    try:
        slugs = [e["slug"] for e in record["editions"]]
    except (KeyError, TypeError):
        return False
    return (folder / "print.html").is_file() and all(
        (folder / f"{slug}.{ext}").is_file() for slug in slugs for ext in ("html", "txt"))


def _from_record(month: str, folder: Path, record: dict, *, rebuilt: bool) -> Preview:
    """Make the ``Preview`` that ``record`` describes."""
    editions = tuple(PreviewEdition(**e) for e in record["editions"])
    problems = tuple(Problem(Severity(p["severity"]), p["message"],
                             None if p["path"] is None else Path(p["path"]), p["line"],
                             p["fix"]) for p in record["problems"])
    return Preview(str(month), folder, editions, problems, rebuilt)
