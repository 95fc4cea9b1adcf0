"""The monthly pipeline, top to bottom: gather → organize → (review) → render → deliver.

Each step is a function from one model type to the next; this module only sequences them
and, below the marked line, writes what they produced. Review happens between organize and
render: only approved items reach the editions (``--preview`` shows the others too).
"""

from __future__ import annotations

import shutil
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from .deliver import DeliveryReport, Sender
from .deliver.outbox import OutboxSender
from .deliver.postal import default_path, postal_rows, write_postal_csv
from .deliver.ledger import Ledger, LedgerSender
from .deliver.recipients import iter_recipients, load_recipients
from .deliver.run import MessageFactory, deliver_issue
from .errors import BuildError, DeliveryError, Problem, Severity
from .fsutil import atomic_write_text
from .gather.files import gather_files
from .i18n import _
from .models import RenderedIssue
from .organize import organize
from .render import render_issue
from .render.context import IMAGES_DIR
from .render.email import kilobytes
from .render.environment import make_environment, render_template
from .render.print import write_pdf
from .settings import Settings
from .signoff import Signoff, SignoffStore, approve_issue, require_signoff
from .state import connect, state_file


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


def prepare(settings: Settings, month: str, *, parution: date | None = None,
            preview: bool = False) -> tuple[RenderedIssue, list[Problem]]:
    """Gather, organize and render one issue in memory (no file written)."""
    items, problems = gather_files(settings, month)
    issue = organize(items, settings, month, parution=parution, preview=preview)
    rendered = render_issue(issue, settings)
    return rendered, problems + list(issue.notices)


def preview_values(settings: Settings) -> dict[str, str]:
    """Return the per-recipient values shown in the files of ``build/`` (no real person)."""
    return {"salutation": _("Bonjour,"), "courriel": "",
            "desabonnement": f"mailto:{settings.identity.repondre_a}", "images": f"{IMAGES_DIR}/"}


def build(settings: Settings, month: str, *, out: Path | None = None,
          parution: date | None = None, preview: bool = False, pdf: bool = True) -> BuildResult:
    """Build one issue into ``build/<YYYY-MM>/``: every edition, print, and an index."""
    rendered, problems = prepare(settings, month, parution=parution, preview=preview)
    result = BuildResult(month, out or settings.paths.sortie / month, rendered, problems)
    # --- reading ends here; writing begins ---
    write_outputs(result, settings, pdf=pdf)
    return result


def write_outputs(result: BuildResult, settings: Settings, *, pdf: bool) -> None:
    """Write each edition's HTML and text, the print files, images and index.html."""
    out, rendered = result.out_dir, result.rendered
    values = preview_values(settings)
    fill = rendered.placeholders.fill
    copy_images(rendered, out / IMAGES_DIR)
    for edition in rendered.editions:
        html_path, text_path = out / f"{edition.slug}.html", out / f"{edition.slug}.txt"
        atomic_write_text(html_path, fill(edition.html, values, escape_html=True))
        atomic_write_text(text_path, fill(edition.text, values, escape_html=False))
        result.files += [html_path, text_path]
    print_path = out / "print.html"
    atomic_write_text(print_path, rendered.print_html)
    result.files.append(print_path)
    if pdf:
        write_pdf(rendered.print_html, out, out / "print.pdf")
        result.files.append(out / "print.pdf")
    index = out / "index.html"
    atomic_write_text(index, render_index(result, settings))
    result.files.append(index)


def copy_images(rendered: RenderedIssue, folder: Path) -> None:
    """Copy the images of the issue's items next to the rendered files."""
    for item in rendered.issue.items:
        if item.image and item.path is not None:
            source = item.path.parent / item.image
            if not source.is_file():
                raise BuildError(_("image introuvable : {name}.").format(name=item.image),
                                 where=str(item.path),
                                 fix=_("Remettez l'image à côté de la nouvelle."))
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, folder / item.image)


def render_index(result: BuildResult, settings: Settings) -> str:
    """Render the page that previews every output of the build."""
    env = make_environment(settings.paths.gabarits)
    editions = [(e, len(e.html.encode("utf-8"))) for e in result.rendered.editions]
    return render_template(env, "index.html.j2", result=result, editions=editions,
                           identity=settings.identity, issue=result.rendered.issue,
                           limit=settings.max_email_bytes, kilobytes=kilobytes,
                           paper=_("Letter (8,5 × 11 po)") if settings.paper == "letter" else "A4")


def send(settings: Settings, month: str, *, outbox: Path | None = None,
         parution: date | None = None) -> tuple[DeliveryReport, list[Problem]]:
    """Deliver one issue: each email recipient gets their territory's edition.

    With no SMTP server configured, messages go to ``outbox/<YYYY-MM>/`` as ``.eml`` files.
    An issue with items in error is not sent: a bad file must be fixed, not silently left out.
    """
    rendered, problems = prepare(settings, month, parution=parution)
    if any(p.severity is Severity.ERROR for p in problems):
        raise DeliveryError(
            _("le numéro {month} contient des nouvelles en erreur ; rien n'a été envoyé.")
            .format(month=month),
            fix=_("Lancez « infolettre check {month} », corrigez les fichiers indiqués, puis "
                  "relancez l'envoi.").format(month=month))
    with closing(connect(state_file(settings.paths.donnees))) as conn:
        require_signoff(SignoffStore(conn), month, rendered.issue, settings)
    listing, found = settings.paths.destinataires, []
    # --- reading ends here; sending begins ---
    with Ledger(state_file(settings.paths.donnees)) as ledger:
        # Two streaming passes over the list: plan every row, then send (memory stays flat).
        editions = MessageFactory(rendered, settings, rendered.placeholders, None)
        ledger.plan(month, ((r.email, editions.edition_for(r).slug)
                            for r in iter_recipients(listing, settings, found) if r.wants_email))
        sender = LedgerSender(make_sender(settings, month, outbox), ledger, month)
        report = deliver_issue(rendered, iter_recipients(listing, settings, []), sender, settings)
    return report, problems + found


def make_sender(settings: Settings, month: str, outbox: Path | None) -> Sender:
    """Choose where messages go: ``--outbox``, else SMTP when configured, else outbox/."""
    if outbox is None and settings.smtp is not None:
        from .deliver.smtp import SmtpSender

        return SmtpSender(settings.smtp)
    return OutboxSender(outbox or settings.paths.boite_envoi, month)


def approve(settings: Settings, month: str, by: str, *,
            parution: date | None = None) -> tuple[Signoff, list[Problem]]:
    """Sign off the issue as it is now: ``send`` will refuse it if it changes afterwards.

    An issue with items in error is not approved: a bad file must be fixed, not left out.
    """
    items, problems = gather_files(settings, month)
    if any(p.severity is Severity.ERROR for p in problems):
        raise DeliveryError(
            _("le numéro {month} contient des nouvelles en erreur ; il n'a pas été approuvé.")
            .format(month=month),
            fix=_("Lancez « infolettre check {month} », corrigez les fichiers indiqués, puis "
                  "approuvez de nouveau.").format(month=month))
    issue = organize(items, settings, month, parution=parution)
    # --- reading ends here; writing begins ---
    with closing(connect(state_file(settings.paths.donnees))) as conn:
        signed = approve_issue(SignoffStore(conn), issue, settings, by)
    return signed, problems + list(issue.notices)


def postal(settings: Settings, month: str, *, out: Path | None = None,
           parution: date | None = None) -> tuple[Path, int, list[Problem]]:
    """Write the postal list of one issue (``poste``/``les-deux`` recipients) for a mail merge."""
    items, _problems = gather_files(settings, month)
    issue = organize(items, settings, month, parution=parution)
    recipients, problems = load_recipients(settings.paths.destinataires, settings)
    path = out or default_path(settings, month)
    # --- reading ends here; writing begins ---
    count = write_postal_csv(path, postal_rows(recipients, issue, settings))
    return path, count, problems
