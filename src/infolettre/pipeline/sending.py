"""The sign-off and the send as the review app shows them: where they stand, what changed,
and the send started in the background.

``signoff_state`` reads the issue and its approval in force and names the items added,
removed and modified since (``compare``, from the per-item fingerprints every approval
keeps); ``send_state`` adds the recipients per edition, whether a send runs now (the run
lock's holder), the ledger's counts and the end of the send's log. ``start_send`` runs
``infolettre send`` as a detached process, so a web request never waits for a whole send;
``confirm_uncertain`` is the other decision on « incertain » messages (the first one is
``send --renvoyer-incertains``): they arrived, count them as sent.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import Counter
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from ..clock import SYSTEM_CLOCK, Clock
from ..deliver.ledger import Ledger, State
from ..deliver.recipients import iter_recipients
from ..deliver.senders import refuse_items_in_error
from ..deliver.started import open_ledger
from ..errors import DeliveryError, Problem, Severity
from ..fsutil import atomic_write_text
from ..gather.files import gather_files
from ..i18n import _
from ..models import Issue, Month
from ..organize import organize
from ..review.signoff import Reach, fingerprint, require_signoff
from ..settings import Settings
from ..state import connect, state_file
from ..state.runlock import Holder, current_holder, lock_data_dir
from ..state.signatures import Fingerprint, ItemPrint, Signoff, SignoffStore
from ..unsubscribe import UnsubscribeStore
from .issue import StatusReport, check, reach, status

#: Where the log of each send started from the app goes, in the data folder.
LOG_FOLDER = "envois"
#: How much of the end of the log the page shows.
LOG_TAIL_BYTES = 4000


@dataclass(frozen=True)
class Changes:
    """What changed between an approval and the issue as it is now."""

    added: tuple[ItemPrint, ...] = ()
    removed: tuple[ItemPrint, ...] = ()
    modified: tuple[ItemPrint, ...] = ()
    settings: bool = False  # identity, territories, rubriques or publication date
    order: bool = False     # nothing else: only the order of the items moved

    @property
    def any(self) -> bool:
        return bool(self.added or self.removed or self.modified or self.settings or self.order)


@dataclass(frozen=True)
class SignoffState:
    """Where the sign-off of an issue stands, and what would block a new one."""

    month: str
    signed: Signoff | None
    changes: Changes
    issue: Issue  # as it is now (approved items only)
    problems: list[Problem] = field(default_factory=list)
    reach: Reach = Reach()

    @property
    def items(self) -> int:
        """Count the approved items in the issue now."""
        return len(self.issue.items)

    @property
    def changed(self) -> bool:
        """Tell whether the issue changed since its approval (« modifié depuis l'approbation »)."""
        return self.signed is not None and self.changes.any

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    def count(self, severity: Severity) -> int:
        return sum(p.severity is severity for p in self.problems)

    @property
    def sendable(self) -> bool:
        """Tell whether ``send`` would accept the issue: signed, unchanged, no item in error."""
        return self.signed is not None and not self.changed and not self.errors


def compare(signed: Signoff, now: Fingerprint) -> Changes:
    """Name the items added, removed and modified since the approval ``signed``."""
    before = {p.slug: p for p in signed.items}
    after = {p.slug: p for p in now.items}
    changes = Changes(
        added=tuple(p for p in now.items if p.slug not in before),
        removed=tuple(p for p in signed.items if p.slug not in after),
        modified=tuple(p for p in now.items
                       if p.slug in before and before[p.slug].digest != p.digest),
        settings=now.settings_digest != signed.settings_fingerprint)
    if not changes.any and now.digest != signed.fingerprint:
        return Changes(order=True)
    return changes


def signoff_state(settings: Settings, month: str, *,
                  clock: Clock = SYSTEM_CLOCK) -> SignoffState:
    """Read the issue, its approval in force and how far its sending went (no write)."""
    month = Month(month)
    result = check(settings, month)
    now = fingerprint(result.issue, settings)
    with closing(connect(state_file(settings.paths.donnees))) as conn:
        signed = SignoffStore(conn, clock=clock).current(month)
    return SignoffState(month, signed, compare(signed, now) if signed else Changes(),
                        result.issue, result.problems, _reach(settings, month, clock))


def _reach(settings: Settings, month: str, clock: Clock) -> Reach:
    ledger = open_ledger(settings.paths.donnees, month, tz=settings.identity.timezone,
                         clock=clock)
    if ledger is None:
        return Reach()
    with ledger:
        return reach(ledger, month)


@dataclass(frozen=True)
class SendState:
    """What the send page shows: can it go, to whom, is it running, how far it went."""

    signoff: SignoffState
    recipients: dict[str, int]  # edition slug → subscribed people reading it by email
    running: Holder | None
    status: StatusReport
    log: str

    @property
    def can_start(self) -> bool:
        return self.signoff.sendable and self.running is None


def send_state(settings: Settings, month: str, *, clock: Clock = SYSTEM_CLOCK) -> SendState:
    """Read everything the send page shows (no write)."""
    month = Month(month)
    signed = signoff_state(settings, month, clock=clock)
    return SendState(signed, recipients_by_edition(settings, signed.issue, clock=clock),
                     running_send(settings, month), status(settings, month, clock=clock),
                     log_tail(settings, month))


def recipients_by_edition(settings: Settings, issue: Issue, *,
                          clock: Clock = SYSTEM_CLOCK) -> dict[str, int]:
    """Count the subscribed people who get the issue by email, per edition."""
    counts: Counter[str] = Counter()
    with closing(connect(state_file(settings.paths.donnees))) as conn:
        unsubscribed = UnsubscribeStore(conn, clock=clock)
        for recipient in unsubscribed.filter(iter_recipients(settings.paths.destinataires,
                                                             settings, [])):
            if recipient.wants_email:
                counts[issue.edition_slug_for(recipient)] += 1
    return dict(sorted(counts.items()))


def running_send(settings: Settings, month: str) -> Holder | None:
    """Return this issue's send if one runs: the lock's holder, or the process the app
    started and that has not taken the lock yet (it is still starting)."""
    holder = current_holder(settings.paths.donnees)
    if holder is not None:
        return holder if holder.command == f"send {month}" else None
    try:
        pid = int(log_path(settings, month).with_suffix(".pid").read_text(encoding="ascii"))
    except (FileNotFoundError, ValueError):
        return None
    return Holder(pid, f"send {month}", None) if _alive(pid) else None


def _alive(pid: int) -> bool:
    """Tell whether the process ``pid`` still runs (a finished child is reaped at once)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return pid > 0


def log_path(settings: Settings, month: str) -> Path:
    """Return the log of the sends of ``month`` started from the app."""
    return settings.paths.donnees / LOG_FOLDER / f"{Month(month)}.log"


def log_tail(settings: Settings, month: str) -> str:
    """Return the end of the send's log (empty when no send was started from the app)."""
    try:
        with open(log_path(settings, month), "rb") as log:
            log.seek(max(0, log.seek(0, os.SEEK_END) - LOG_TAIL_BYTES))
            return log.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""


def start_send(settings: Settings, month: str, *, release_uncertain: bool = False,
               clock: Clock = SYSTEM_CLOCK) -> Path:
    """Start ``infolettre send <month>`` in the background; return its log file.

    The same command as the pivot would type (same interpreter, configuration and working
    folder), in its own session so that it outlives the request (and a restart of the
    app); its output goes to ``donnees/envois/<month>.log``. Refused at once, with the
    send's own message, when a run holds the lock or the issue is not signed off as it is;
    the command checks all of it again under the lock. ``release_uncertain``: resend the
    « incertain » messages (``--renvoyer-incertains``).
    """
    month = Month(month)
    if settings.source is None:
        raise DeliveryError(_("l'application ne connaît pas son fichier de configuration ; "
                              "rien n'a été envoyé."), where=month,
                            fix=_("Lancez l'envoi en ligne de commande : infolettre send "
                                  "{month}.").format(month=month))
    _refuse_unsendable(settings, month, clock)
    log = log_path(settings, month)
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "infolettre.cli", "--config",
               str(Path(settings.source).resolve()), "send", month]
    if release_uncertain:
        command.append("--renvoyer-incertains")
    with open(log, "a", encoding="utf-8") as out:
        out.write(_("\n=== {moment} : envoi lancé depuis l'application ===\n").format(
            moment=clock.local(settings.identity.timezone).strftime("%Y-%m-%d %H:%M:%S")))
        out.flush()
        child = subprocess.Popen(command, cwd=os.getcwd(), stdin=subprocess.DEVNULL,
                                 stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    atomic_write_text(log.with_suffix(".pid"), f"{child.pid}\n")
    threading.Thread(target=child.wait, daemon=True).start()  # reaped when it ends
    return log


def _refuse_unsendable(settings: Settings, month: str, clock: Clock) -> None:
    """Say now what the command would refuse: a send running, an item in error, no sign-off."""
    holder = current_holder(settings.paths.donnees)
    if holder is not None:
        raise DeliveryError(_("un envoi ou une autre opération est déjà en cours : {run}.")
                            .format(run=holder.describe(settings.identity.timezone)),
                            where=month, fix=_("Attendez qu'il finisse : cette page le suit."))
    items, problems = gather_files(settings, month)
    refuse_items_in_error(problems, month)
    issue = organize(items, settings, month)
    with closing(connect(state_file(settings.paths.donnees))) as conn:
        require_signoff(SignoffStore(conn, clock=clock), month, issue, settings)


def confirm_uncertain(settings: Settings, month: str, by: str, *,
                      clock: Clock = SYSTEM_CLOCK) -> int:
    """Count the « incertain » messages of ``month`` as sent; return how many.

    For a person who has checked that they arrived (the server's logs, the recipients):
    they are then never sent again and the sending is complete. Holds the run lock.
    """
    month = Month(month)
    with lock_data_dir(settings.paths.donnees, f"confirm {month}",
                       tz=settings.identity.timezone, clock=clock), \
            Ledger(state_file(settings.paths.donnees), clock=clock) as ledger:
        now = clock.now()
        reason = _("marqué comme reçu par {by}").format(by=by)
        rows = ledger.uncertain(month)
        with ledger.transaction():  # each write checks the row is still « incertain »
            return sum(ledger.write(row._replace(state=State.SENT, reason=reason,
                                                 sent_at=row.last_attempt_at or now),
                                    was=State.TRANSMITTED) for row in rows)
