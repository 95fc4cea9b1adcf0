"""The postal list: people who read the bulletin on paper, as a CSV for a mail merge.

Only ``poste`` and ``les-deux`` recipients are listed, in the order of ``recipients.csv``.
Columns (French headers, since the pivot opens the file): ``nom, organisme,
adresse_postale, territoire`` (its display name) and ``edition`` (the title of the edition
they receive on paper). The file is UTF-8 *with* a BOM, so that Excel and Word in French
read the accents correctly; comma-separated, quoted as RFC 4180 says (CRLF between records,
a value with a comma, a quote or a line break between double quotes), so a multi-line
address stays one cell and prints on several lines.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import astuple, dataclass
from pathlib import Path

from ..errors import DeliveryError
from ..fsutil import atomic_write_bytes
from ..i18n import _
from ..models import (COMPLETE, REGIONAL, Edition, Issue, Recipient, RenderedEdition,
                      RenderedIssue)
from ..settings import Settings

COLUMNS = ("nom", "organisme", "adresse_postale", "territoire", "edition")
FILE_NAME = "envoi-postal.csv"


@dataclass(frozen=True)
class PostalRow:
    """One label of the mail merge, in the order of ``COLUMNS``."""

    nom: str
    organisme: str
    adresse_postale: str
    territoire: str
    edition: str


def default_path(settings: Settings, month: str) -> Path:
    """Return where ``infolettre postal`` writes by default: build/<YYYY-MM>/envoi-postal.csv."""
    return settings.paths.sortie / month / FILE_NAME


def paper_edition(recipient: Recipient,
                  source: Issue | RenderedIssue) -> Edition | RenderedEdition:
    """Choose the edition a recipient receives on paper: the complete one (print is complete).

    Kept apart so that printing territorial editions later changes this function only.
    """
    try:
        return source.edition(COMPLETE)
    except StopIteration:
        month = source.issue.month if isinstance(source, RenderedIssue) else source.month
        raise DeliveryError(_("le numéro {month} n'a pas d'édition complète.").format(
            month=month), where=month, fix=_("Relancez « infolettre build {month} » avant "
                                             "l'envoi.").format(month=month)) from None


def postal_rows(recipients: Iterable[Recipient], source: Issue | RenderedIssue,
                settings: Settings, *,
                exclude: Callable[[Recipient], bool] | None = None) -> list[PostalRow]:
    """List the recipients who want paper, each with the edition they receive.

    ``exclude`` leaves people out (for instance those who unsubscribed).
    """
    rows = []
    for recipient in recipients:
        if not recipient.wants_paper or (exclude is not None and exclude(recipient)):
            continue
        rows.append(PostalRow(recipient.nom, recipient.organisme, recipient.adresse_postale,
                              territory_name(recipient.territoire, settings),
                              paper_edition(recipient, source).titre))
    return rows


def territory_name(slug: str, settings: Settings) -> str:
    """Return the territory's display name (the slug itself if it is no longer configured)."""
    if slug == REGIONAL or slug in settings.territories:
        return settings.territory_name(slug)
    return slug


def postal_csv(rows: Iterable[PostalRow]) -> bytes:
    """Encode the rows as the file described above (BOM, commas, RFC 4180 quoting)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=",", quotechar='"', quoting=csv.QUOTE_MINIMAL,
                        lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(astuple(row) for row in rows)
    return buffer.getvalue().encode("utf-8-sig")


def write_postal_csv(path: Path, rows: Iterable[PostalRow]) -> int:
    """Write the postal list durably (temp file, fsync, rename); return how many rows."""
    rows = list(rows)
    try:
        atomic_write_bytes(path, postal_csv(rows))
    except OSError as exc:
        raise DeliveryError(_("impossible d'écrire la liste postale ({detail}).").format(
            detail=exc.strerror or exc), where=str(path),
            fix=_("Vérifiez que le dossier existe, est accessible en écriture et que le "
                  "disque n'est pas plein, ou choisissez un autre fichier avec --out.")) from None
    return len(rows)
