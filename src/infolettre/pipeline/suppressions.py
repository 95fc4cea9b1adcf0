"""The suspended addresses: list, CSV export, reactivation, and the bounces of one issue.

What the pivot reads (``infolettre suppressions``, ``reactiver``, ``status``, the review
app): each suspended address with its reason (« rebond définitif », « rebonds temporaires
à N numéros de suite »), since when, the issue that decided it and the server's words. The
reading functions open the state read-only and never create it.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from ..clock import SYSTEM_CLOCK, Clock
from ..dates import long_date
from ..deliver.recipients import LineError, check_address
from ..errors import InfolettreError
from ..fsutil import atomic_write_bytes
from ..i18n import _
from ..settings import Settings
from ..state import MissingState, connect, state_file
from ..state.bounces import BounceRecord, BounceStore, Suppression
from ..state.runlock import lock_data_dir


def reason_label(suppression: Suppression, settings: Settings) -> str:
    """Say why an address is suspended, in French."""
    if suppression.reason == "definitif":
        return _("rebond définitif")
    if suppression.reason == "temporaires":
        n = settings.bounces.temporaires_de_suite if settings.bounces else 3
        return _("rebonds temporaires à {n} numéros de suite").format(n=n)
    return _("suspendue à la main")


def kind_label(kind: str) -> str:
    """Name a bounce's kind in French (``definitif``, ``temporaire``, ``a-verifier``)."""
    return {"definitif": _("définitif"), "temporaire": _("temporaire"),
            "a-verifier": _("à vérifier")}.get(kind, kind)


def _read(settings: Settings, read):
    """Run ``read(store)`` on the state opened read-only; None when there is no state yet."""
    try:
        conn = connect(state_file(settings.paths.donnees), readonly=True)
    except MissingState:
        return None
    with closing(conn):
        try:
            return read(BounceStore(conn))
        except MissingState:  # no bounce ever read with this database
            return None


def list_suppressions(settings: Settings, *, all_: bool = False) -> list[Suppression]:
    """Return the suspended addresses, newest first (``all_``: the reactivated ones too)."""
    return _read(settings, lambda store: store.suppressions(all_=all_)) or []


def export_suppressions_csv(settings: Settings, path: Path) -> int:
    """Write the suspended addresses as CSV (French headers and dates, UTF-8 with BOM for
    Excel, like the postal list), durably and whole; return how many rows."""
    rows = list_suppressions(settings)
    tz = settings.identity.timezone
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_("courriel"), _("raison"), _("depuis le"), _("numéro"),
                     _("réponse du serveur")])
    for s in rows:
        writer.writerow([s.email, reason_label(s, settings), long_date(s.since.astimezone(tz)),
                         s.month or "", s.diagnostic])
    try:
        atomic_write_bytes(Path(path), buffer.getvalue().encode("utf-8-sig"))
    except OSError as exc:
        raise InfolettreError(_("impossible d'écrire la liste des adresses suspendues "
                                "({detail}).").format(detail=exc.strerror or exc),
                              where=str(path), fix=_("Vérifiez que le dossier existe et est "
                                                     "accessible en écriture.")) from None
    return len(rows)


def reactivate(settings: Settings, address: str, by: str, *,
               clock: Clock = SYSTEM_CLOCK) -> Suppression:
    """Lift the suspension of ``address`` (its bounces stop counting); return it as it was.

    ``InfolettreError`` when the address is not suspended (unknown, or reactivated already).
    """
    email = address.strip().lower()
    with lock_data_dir(settings.paths.donnees, "reactiver", tz=settings.identity.timezone,
                       clock=clock):
        with closing(connect(state_file(settings.paths.donnees))) as conn:
            store = BounceStore(conn, clock=clock)
            found = store.suspension(email)
            if found is None or not found.suspended or not store.reactivate(email, by):
                raise InfolettreError(
                    _("l'adresse {address} n'est pas suspendue.").format(address=email)
                    if found is None else
                    _("l'adresse {address} a déjà été réactivée.").format(address=email),
                    where=email, fix=_("Vérifiez l'adresse avec « infolettre suppressions » "
                                       "(les adresses suspendues, avec leur raison)."))
            return found


def bounces_of(settings: Settings, address: str) -> list[BounceRecord]:
    """Return the bounce records of one address, oldest issue first (the review app shows
    them beside « Réactiver »: kind, issue, date, the server's words)."""
    return _read(settings, lambda store: store.records(email=address.strip())) or []


def suspend(settings: Settings, address: str, by: str, note: str = "", *,
            clock: Clock = SYSTEM_CLOCK) -> bool:
    """Suspend an address by hand (« manuel »: a bounce « À vérifier » a person read, with
    no VERP address to name its recipient); False when it already was. ``send`` skips it
    like the others; ``reactivate`` lifts it."""
    try:
        email = check_address(address)
    except LineError as exc:
        raise InfolettreError(exc.message, where=address, fix=exc.fix) from None
    words = _("suspendue par {by}").format(by=by) + (f" : {note.strip()}" if note.strip() else "")
    with lock_data_dir(settings.paths.donnees, "suspendre", tz=settings.identity.timezone,
                       clock=clock):
        with closing(connect(state_file(settings.paths.donnees))) as conn:
            return BounceStore(conn, clock=clock).suspend(email, "manuel", None, words)


@dataclass(frozen=True)
class IssueBounces:
    """The bounces of one issue: counts by kind, the addresses it got suspended, records."""

    month: str
    counts: Counter[str] = field(default_factory=Counter)   # kind → addresses
    suspended: list[Suppression] = field(default_factory=list)
    records: list[BounceRecord] = field(default_factory=list)

    def summary(self) -> str:
        """« rebonds : définitifs 3, temporaires 5, à vérifier 1 ; adresses suspendues 4 »."""
        return _("rebonds : définitifs {hard}, temporaires {soft}, à vérifier {review} ; "
                 "adresses suspendues {suspended}").format(
            hard=self.counts["definitif"], soft=self.counts["temporaire"],
            review=self.counts["a-verifier"], suspended=len(self.suspended))


def issue_bounces(settings: Settings, month: str) -> IssueBounces:
    """Return the bounces recorded for the issue ``month`` (read-only)."""
    def read(store: BounceStore) -> IssueBounces:
        records = store.records(month=month)
        counts = Counter({kind: len({r.email for r in records if r.kind == kind})
                          for kind in ("definitif", "temporaire", "a-verifier")})
        suspended = [s for s in store.suppressions() if s.month == month]
        return IssueBounces(month, counts, suspended, records)

    return _read(settings, read) or IssueBounces(month)
