"""The files of a build: each edition's HTML and text, print HTML/PDF, images, index.html.

``build/<YYYY-MM>/`` is what the pivot previews and what is published as the web archive
(email photos load from it). Per-recipient placeholders are filled with neutral values.
A preview (``--preview``: unapproved items shown, stamped « Aperçu ») goes to
``apercu/<YYYY-MM>/`` beside ``build/``: never over the approved build, whose print PDF
goes to the printer, nor inside what is published.
A preview whose email is over Gmail's limit is written all the same, marked in the
index and with a warning, so the pivot can see what to cut (a final build refuses it).
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from .. import permalinks
from ..errors import BuildError, Problem, Severity, cut
from ..fsutil import atomic_write_text, write_durably
from ..i18n import _
from ..models import Issue, RenderedIssue
from ..settings import Settings
from .context import IMAGES_DIR
from .email import kilobytes, too_heavy, too_heavy_fix, too_heavy_message, weight_label
from .environment import make_environment, render_template
from .pdf import write_pdf
from .pdfjob import PdfJob, PdfJobLost
from .text import upfirst


@dataclass
class BuildResult:
    """What a build produced and what the pivot should look at."""

    month: str
    out_dir: Path
    rendered: RenderedIssue
    problems: list[Problem] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.WARNING]


def preview_values(settings: Settings) -> dict[str, str]:
    """Return the per-recipient values shown in the files of ``build/`` (no real person)."""
    # « Envoyé à … » names each person's address in a sent copy; here, what will stand there.
    return {"salutation": _("Bonjour,"), "courriel": _("(l'adresse de chaque personne)"),
            "desabonnement": f"mailto:{settings.identity.repondre_a}", "images": f"{IMAGES_DIR}/"}


def write_outputs(result: BuildResult, settings: Settings, *, pdf: bool,
                  pdf_job: PdfJob | None = None) -> None:
    """Write each edition's HTML and text, the print files, images and index.html.

    With ``pdf_job`` (``render.pdfjob``), the PDF was laid out by that second process while
    this one rendered the emails (handed over by ``hand_over_print``): it is written here, at
    its turn among the files.
    """
    out, rendered = result.out_dir, result.rendered
    values = preview_values(settings)
    fill = rendered.placeholders.fill
    copy_images(rendered, out / IMAGES_DIR, settings)
    logo = copy_logo(out / IMAGES_DIR, settings)
    for edition in rendered.editions:
        html_path, text_path = out / f"{edition.slug}.html", out / f"{edition.slug}.txt"
        html = fill(edition.html, values, escape_html=True)
        atomic_write_text(html_path, html.replace(*logo) if logo else html)
        atomic_write_text(text_path, fill(edition.text, values, escape_html=False))
        result.files += [html_path, text_path]
    result.problems += size_warnings(result, settings)
    print_path = out / "print.html"
    atomic_write_text(print_path, rendered.print_html)
    result.files.append(print_path)
    if pdf:
        if pdf_job is not None:
            if not pdf_job.submitted:
                hand_over_print(pdf_job, rendered.issue, rendered.print_html, settings)
            pdf_job.commit(out / "print.pdf")
            try:
                pdf_job.wait()
            except PdfJobLost:  # its process is gone: the PDF is laid out here, as without
                write_pdf(rendered.print_html, out, out / "print.pdf")
        else:
            write_pdf(rendered.print_html, out, out / "print.pdf")
        result.files.append(out / "print.pdf")
    index = out / "index.html"
    atomic_write_text(index, render_index(result, settings))
    result.files.append(index)


def size_warnings(result: BuildResult, settings: Settings) -> list[Problem]:
    """Warn about each edition over the limit (only a preview gets this far with one)."""
    found = []
    for edition in result.rendered.editions:
        size = len(edition.html.encode("utf-8"))
        if too_heavy(size, settings):
            found.append(Problem(
                Severity.WARNING,
                _("aperçu seulement : {what} La production finale refusera ce numéro tant "
                  "qu'il dépasse.").format(what=upfirst(too_heavy_message(
                      edition.titre, size, settings))),
                result.out_dir / f"{edition.slug}.html", fix=too_heavy_fix()))
    return found


def hand_over_print(job: PdfJob, issue: Issue, print_html: str, settings: Settings) -> None:
    """Give the print HTML and its images to the process laying out the PDF (nothing of
    the build is written: the images go to the job's own temporary folder)."""
    job.submit(print_html, lambda folder: copy_issue_images(issue, folder / IMAGES_DIR,
                                                            settings))


def copy_images(rendered: RenderedIssue, folder: Path, settings: Settings) -> None:
    """Copy the images of the issue's items next to the rendered files."""
    copy_issue_images(rendered.issue, folder, settings)


def copy_issue_images(issue: Issue, folder: Path, settings: Settings) -> None:
    """Copy the images of the issue's items into ``folder``.

    Only real files of ``content/`` are copied: never what a symbolic link points at (the
    build is published), even one put in place after the items were read.
    """
    from ..content import inside_content

    for item in issue.items:
        if item.image and item.path is not None:
            source = item.path.parent / item.image
            if not inside_content(source, settings):
                raise BuildError(_("l'image « {name} » est un lien symbolique (ou mène hors "
                                   "de content/) : elle n'est pas copiée.").format(
                                     name=cut(item.image)), where=str(item.path),
                                 fix=_("Remplacez le lien par une copie de l'image."))
            try:
                data = _read_no_follow(source)
            except OSError:
                raise BuildError(_("image introuvable : {name}.").format(name=cut(item.image)),
                                 where=str(item.path),
                                 fix=_("Remettez l'image à côté de la nouvelle.")) from None
            write_durably(folder / item.image, lambda handle: handle.write(data),
                          sync_dir=False)


#: The logo's name among the build's images (an item's photo may be called « logo.png »).
LOGO_PREFIX = "logo-infolettre-"


def copy_logo(folder: Path, settings: Settings) -> tuple[str, str] | None:
    """Copy the logo beside the build's images, so its files and previews show it.

    A message loads the logo from the site (``permalinks.logo``), which a preview may not
    have yet: the files of the build load their copy instead. Returns (the address in the
    message, the address in the build's files), None without a logo or a site.
    """
    logo, site = settings.identity.logo, settings.identity.site
    if logo is None or not site:
        return None
    try:
        data = logo.read_bytes()
    except OSError:
        raise BuildError(_("le logo est introuvable : {path}.").format(path=logo),
                         where="[infolettre] logo",
                         fix=_("Remettez le fichier du logo en place, ou retirez la clé "
                               "logo de infolettre.toml.")) from None
    name = LOGO_PREFIX + logo.name
    write_durably(folder / name, lambda handle: handle.write(data), sync_dir=False)
    return (permalinks.absolute(site, permalinks.logo(logo.name)),
            f"{IMAGES_DIR}/{quote(name)}")


def _read_no_follow(path: Path) -> bytes:
    """Read a regular file, refusing a symbolic link (``O_NOFOLLOW``) or anything else."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise IsADirectoryError(str(path))
        return handle.read()


def render_index(result: BuildResult, settings: Settings) -> str:
    """Render the page that previews every output of the build."""
    env = make_environment(settings.paths.gabarits)
    editions = [(e, len(e.html.encode("utf-8"))) for e in result.rendered.editions]
    return render_template(env, "index.html.j2", result=result, editions=editions,
                           identity=settings.identity, issue=result.rendered.issue,
                           limit=settings.max_email_bytes, kilobytes=kilobytes,
                           too_heavy=lambda size: too_heavy(size, settings),
                           weight=lambda html: weight_label(html, settings),
                           paper=_("Letter (8,5 × 11 po)") if settings.paper == "letter" else "A4")


#: The folder of previews, beside the build folder (``[chemins] sortie``), never inside it.
PREVIEW_DIR = "apercu"


def default_out_dir(settings: Settings, month: str, *, preview: bool) -> Path:
    """Return where a build goes: ``build/<YYYY-MM>/``, a preview ``apercu/<YYYY-MM>/``."""
    build = settings.paths.sortie
    if not preview:
        return build / month
    name = PREVIEW_DIR if build.name != PREVIEW_DIR else f"{PREVIEW_DIR}-revision"
    return build.parent / name / month


def refuse_preview_over_build(out: Path, settings: Settings, month: str) -> None:
    """Raise ``BuildError`` if a preview would overwrite the approved build of ``month``."""
    if out.resolve() == (settings.paths.sortie / month).resolve():
        raise BuildError(
            _("un aperçu ne s'écrit pas dans {out} : ce dossier est celui du numéro tel qu'il "
              "paraîtra (sa version imprimée part à l'impression).").format(out=out),
            where="--out",
            fix=_("Retirez --out (l'aperçu va dans {default}) ou choisissez un autre "
                  "dossier.").format(default=default_out_dir(settings, month, preview=True)))
