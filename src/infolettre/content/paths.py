"""Where items live: ``content/<YYYY-MM>/``, real folders and files only.

Every path the store reads or writes goes through here, so the two rules hold everywhere:
a month folder is named for a valid month (``models.Month``), and nothing reached through a
symbolic link (or leading out of ``content/``) is read, copied or written.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ContentError
from ..i18n import _
from ..models import Month
from ..settings import Settings


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


def month_folder(settings: Settings, month: str) -> Path:
    """Return ``content/<month>``, refusing a folder that is a link out of ``content/``."""
    folder = settings.paths.contenu / check_month(month)
    if folder.exists() and not inside_content(folder, settings):
        raise ContentError(_("le dossier du numéro {month} est un lien symbolique (ou mène "
                             "hors de content/) : infolettre ne le suit pas.").format(
                               month=month), where=str(folder),
                           fix=_("Remplacez le lien par un vrai dossier, avec les fichiers "
                                 "copiés dedans."))
    return folder
