"""What the ledger tells people: the counts in one French line, the failures as a CSV file.

Kept apart from the table and the rules because it is wording and formats for the pivot
(French numbers, Excel-friendly CSV), which change for other reasons than the bookkeeping.
"""

from __future__ import annotations

import csv
import io
from datetime import timezone, tzinfo
from pathlib import Path

from babel.numbers import format_decimal

from ...fsutil import atomic_write_bytes
from ...i18n import _, current_locale
from .rules import State, show
from .table import LedgerRow


def summary(counts: dict[State, int]) -> str:
    """Say the counts the way the pivot reads them: « envoyés 4 812 / 5 000, … ».

    « incertains N » is added only when some rows are (see ``Ledger.uncertain``).
    """
    number = lambda n: format_decimal(n, locale=current_locale())  # noqa: E731
    text = _("envoyés {sent} / {total}, en attente {waiting}, échecs {failed}").format(
        sent=number(counts[State.SENT]), total=number(sum(counts.values())),
        waiting=number(counts[State.PENDING] + counts[State.DEFERRED]),
        failed=number(counts[State.FAILED]))
    if counts[State.TRANSMITTED]:
        text += _(", incertains {n}").format(n=number(counts[State.TRANSMITTED]))
    return text


def write_failures_csv(rows: list[LedgerRow], out_path: Path, *,
                       tz: tzinfo = timezone.utc) -> int:
    """Write failed rows as CSV (French headers, UTF-8 with BOM for Excel); return count.

    Times are shown in ``tz`` (the bulletin's time zone, from the CLI); the file is
    written durably and whole, so a half-written export never replaces a good one.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_("courriel"), _("édition"), _("tentatives"), _("code SMTP"),
                     _("réponse du serveur"), _("raison"), _("première tentative"),
                     _("dernière tentative"), "Message-ID"])
    for r in rows:
        writer.writerow([r.email, r.edition, r.attempts, r.smtp_code or "",
                         r.smtp_text or "", r.reason or "", show(r.first_attempt_at, tz),
                         show(r.last_attempt_at, tz), r.message_id or ""])
    atomic_write_bytes(Path(out_path), buffer.getvalue().encode("utf-8-sig"))
    return len(rows)
