"""The actions on one issue, in the order of a month: check, build, approve, send (and its
test), status, postal.

Each runs the stages from the files of ``content/`` (gather the files → organize → review →
render → deliver) and, below the marked line, writes what they produced. Review happens
between organize and render: only approved items reach the editions (``--preview`` shows
the others too). The ones that write state hold the data folder's lock. ``build`` and
``prepare`` live in ``building`` (what ``infolettre build`` imports alone).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from ..clock import SYSTEM_CLOCK, Clock
from ..deliver import DeliveryReport, DeliveryResult
from ..deliver.ledger import Ledger, LedgerRow, LedgerSender, State
from ..deliver.labels import labels_path, write_labels_pdf
from ..deliver.postal import default_path, postal_rows, write_postal_csv
from ..deliver.recipients import LineError, check_address, iter_recipients, load_recipients
from ..deliver.run import deliver_issue
from ..deliver.senders import (make_sender, refuse_items_in_error, signed_unsubscriber,
                               verp_sender)
from ..deliver.started import open_ledger, record_attempted, record_started, refuse_if_lost
from ..errors import DeliveryError, Problem, Severity
from ..gather.files import gather_files
from ..gather.mail.trust import authentication_warnings
from ..i18n import _
from ..models import COMPLETE, REGIONAL, Issue, Item, Recipient
from ..organize import organize
from ..review.signoff import (Reach, Signoff, SignoffStore, approve_issue, require_signoff,
                              resend_notice)
from ..settings import Settings
from ..state import connect, state_file
from ..state.bounces import BounceStore
from ..state.runlock import lock_data_dir
from ..unsubscribe import UnsubscribeStore
from .building import build, prepare  # noqa: F401 - with the other actions on an issue
from .publish import publish_before_send, site_warnings


def send(settings: Settings, month: str, *, outbox: Path | None = None,
         parution: date | None = None, release_uncertain: bool = False,
         clock: Clock = SYSTEM_CLOCK,
         progress: Callable[[DeliveryResult], None] | None = None
         ) -> tuple[DeliveryReport, list[Problem]]:
    """Deliver one signed-off issue: each subscriber gets their territory's edition, once.

    Refused up front when another run holds the data folder's lock (``runlock``) or when
    the issue's sending started but the ledger has lost it (``deliver.started``); then when
    items are in error or the issue was not approved as it is now. Recipients
    are streamed twice (plan the ledger, then send): memory stays flat whatever the list.
    ``release_uncertain`` sends the « incertain » messages again (``Ledger.release_uncertain``).
    ``progress`` sees each message's result as it comes (a counter, the web app's bar).
    """
    data, tz = settings.paths.donnees, settings.identity.timezone
    with lock_data_dir(data, f"send {month}", tz=tz, clock=clock):
        refuse_if_lost(data, month, tz=tz, clock=clock)
        return _send(settings, month, outbox=outbox, parution=parution,
                     release_uncertain=release_uncertain, clock=clock, progress=progress)


def _send(settings: Settings, month: str, *, outbox: Path | None, parution: date | None,
          release_uncertain: bool, clock: Clock,
          progress: Callable[[DeliveryResult], None] | None
          ) -> tuple[DeliveryReport, list[Problem]]:
    """Deliver the issue, the lock held (``send``)."""
    rendered, problems = prepare(settings, month, parution=parution)
    refuse_items_in_error(problems, month)
    unsubscriber = signed_unsubscriber(settings)
    listing, found = settings.paths.destinataires, []
    with closing(connect(state_file(settings.paths.donnees))) as conn, \
            Ledger(state_file(settings.paths.donnees), clock=clock) as ledger:
        signoffs = SignoffStore(conn, clock=clock)
        require_signoff(signoffs, month, rendered.issue, settings)
        # The archive first: every link of the messages resolves when a reader clicks.
        problems = problems + publish_before_send(settings, month, parution=parution,
                                                  clock=clock)
        unsubscribed = UnsubscribeStore(conn, clock=clock)
        suspended, skipped = BounceStore(conn, clock=clock), []  # kept apart (a server's word)
        # --- reading ends here; sending begins ---
        issue = rendered.issue
        ledger.plan(month, ((r.email, issue.edition_slug_for(r))
                            for r in suspended.filter(unsubscribed.filter(
                                iter_recipients(listing, settings, found)))
                            if r.wants_email))
        _record_start(settings.paths.donnees, month, ledger, signoffs.current(month), clock)
        if release_uncertain:
            ledger.release_uncertain(month)
        sender = LedgerSender(make_sender(settings, month, outbox), ledger, month)
        report = deliver_issue(rendered,
                               suspended.filter(unsubscribed.filter(
                                   iter_recipients(listing, settings, [])), skipped.append),
                               sender, settings, unsubscriber=unsubscriber, clock=clock,
                               progress=progress, envelope_sender=verp_sender(settings))
        report.suspended = sum(r.wants_email for r in skipped)
        ledger.make_durable()  # the count below must never be ahead of the ledger on disk
        record_attempted(settings.paths.donnees, month, ledger.attempted(month))
    return report, problems + found


def _record_start(data: Path, month: str, ledger: Ledger, signed: Signoff | None,
                  clock: Clock) -> None:
    """Write, before the first message, that the issue's sending started (``started.py``).

    Only once the ledger holds the issue's rows: a record without them means « lost ».
    """
    if signed is not None and sum(ledger.counts(month).values()):
        record_started(data, month, fingerprint=signed.fingerprint, signed_by=signed.signed_by,
                       signed_at=signed.signed_at, clock=clock)


def send_test(settings: Settings, month: str, address: str, *, outbox: Path | None = None,
              parution: date | None = None,
              clock: Clock = SYSTEM_CLOCK) -> tuple[DeliveryReport, list[Problem]]:
    """Send every edition to one address, « [TEST] » in the subject; never in the ledger.

    No sign-off needed: a test send is how the pivot checks the issue before approving.
    """
    rendered, problems = prepare(settings, month, parution=parution)
    refuse_items_in_error(problems, month)
    try:
        address = check_address(address)
    except LineError as exc:
        raise DeliveryError(exc.message, where="--test", fix=exc.fix) from None
    tagged = replace(rendered, editions=tuple(
        replace(e, subject=_("[TEST] {subject}").format(subject=e.subject))
        for e in rendered.editions))
    report, unsubscriber = DeliveryReport(month=month), signed_unsubscriber(settings)
    stamp = clock.local(settings.identity.timezone).strftime("%Y%m%d-%H%M%S")
    for edition in tagged.editions:
        tester = Recipient(email=address, nom=_("Essai"),
                           territoire=REGIONAL if edition.slug == COMPLETE else edition.slug)
        folder = (outbox or settings.paths.boite_envoi) / "essais" / stamp / edition.slug
        sender = make_sender(settings, month, folder if outbox or not settings.smtp else None)
        deliver_issue(tagged, [tester], sender, settings, unsubscriber=unsubscriber,
                      progress=report.record, clock=clock)
    return report, problems


def approve(settings: Settings, month: str, by: str, *, parution: date | None = None,
            despite_sent: bool = False,
            clock: Clock = SYSTEM_CLOCK) -> tuple[Signoff, list[Problem]]:
    """Sign off the issue as it is now: ``send`` will refuse it if it changes afterwards.

    An issue with items in error is not approved: a bad file must be fixed, not left out.
    An issue already (partly) sent, and changed since, is refused unless ``despite_sent``:
    the people already reached will not get the new version. Either way the message says
    who will and who will not (``resend_notice``); approved, it is a warning.
    Holds the data folder's lock (no approval in the middle of a send or a gather).
    """
    with lock_data_dir(settings.paths.donnees, f"approve {month}",
                       tz=settings.identity.timezone, clock=clock):
        return _approve(settings, month, by, parution=parution, despite_sent=despite_sent,
                        clock=clock)


def _approve(settings: Settings, month: str, by: str, *, parution: date | None,
             despite_sent: bool, clock: Clock) -> tuple[Signoff, list[Problem]]:
    """Sign off the issue, the lock held (``approve``)."""
    items, problems = gather_files(settings, month)
    refuse_items_in_error(problems, month)
    issue = organize(items, settings, month, parution=parution)
    with closing(connect(state_file(settings.paths.donnees))) as conn, \
            Ledger(state_file(settings.paths.donnees), clock=clock) as ledger:
        store = SignoffStore(conn, clock=clock)
        notice = resend_notice(store, issue, settings, reach(ledger, month))
        if notice and not despite_sent:
            raise DeliveryError(notice + " " + _("Rien n'a été approuvé."), where=month,
                                fix=_("Pour que la nouvelle version parte aux personnes pas "
                                      "encore jointes, approuvez-la en connaissance de cause : "
                                      "infolettre approve {month} --malgre-envoi. Sinon, "
                                      "remettez le numéro tel qu'il a été approuvé.")
                                .format(month=month))
        # --- reading ends here; writing begins ---
        signed = approve_issue(store, issue, settings, by)
    if notice:
        problems = [*problems, Problem(Severity.WARNING, notice)]
    return signed, problems + list(issue.notices)


def reach(ledger: Ledger, month: str) -> Reach:
    """Count how far the sending of ``month`` went (sent, waiting, uncertain, failed)."""
    counts = ledger.counts(month)
    return Reach(sent=counts[State.SENT], waiting=counts[State.PENDING] + counts[State.DEFERRED],
                 uncertain=counts[State.TRANSMITTED], failed=counts[State.FAILED])


@dataclass(frozen=True)
class PostalResult:
    """What ``postal`` wrote: the CSV, the labels PDF (None when nobody gets paper)."""

    csv: Path
    labels: Path | None
    count: int
    problems: list[Problem]


def postal(settings: Settings, month: str, *, out: Path | None = None,
           parution: date | None = None) -> PostalResult:
    """Write the postal list of one issue (``poste``/``les-deux`` recipients) for a mail
    merge, and the same people on a sheet of Avery 5160 labels beside it."""
    items, _problems = gather_files(settings, month)
    issue = organize(items, settings, month, parution=parution)
    source = settings.paths.destinataires
    recipients, problems = load_recipients(source, settings)
    path = out or default_path(settings, month)
    rows = postal_rows(recipients, issue, settings)
    # --- reading ends here; writing begins ---
    count = write_postal_csv(path, rows)
    labels = write_labels_pdf(labels_path(path), rows, source=source)
    return PostalResult(path, labels.path, count, problems + labels.problems)


@dataclass(frozen=True)
class CheckResult:
    """What ``check`` found in one issue: its items, the issue they make, every problem."""

    month: str
    items: list[Item]
    issue: Issue
    problems: list[Problem]

    @property
    def approved(self) -> int:
        return sum(i.approved for i in self.items)


def check(settings: Settings, month: str, *, parution: date | None = None) -> CheckResult:
    """Read and validate the issue's items, organize them, and list every problem (no write).

    The problems include the configuration's own warnings (sender authentication unchecked).
    """
    items, problems = gather_files(settings, month)
    issue = organize(items, settings, month, parution=parution)
    return CheckResult(month, items, issue,
                       problems + list(issue.notices) + authentication_warnings(settings)
                       + site_warnings(settings))


@dataclass(frozen=True)
class StatusReport:
    """Where the sending of an issue stands (``infolettre status``)."""

    month: str
    sent: bool  # False: never sent (nothing in the ledger)
    summary: str = ""
    counts: dict[State, int] = field(default_factory=dict)
    failures: list[LedgerRow] = field(default_factory=list)  # failed, then uncertain
    csv_rows: int | None = None  # failures written to the CSV file, when one was asked

    @property
    def done(self) -> bool:
        """Tell whether nothing is left to do: no pending, deferred, failed or uncertain row."""
        return not any(self.counts.get(s, 0) for s in (State.PENDING, State.DEFERRED,
                                                        State.FAILED, State.TRANSMITTED))


def status(settings: Settings, month: str, *, csv: Path | None = None,
           clock: Clock = SYSTEM_CLOCK) -> StatusReport:
    """Read the ledger of ``month`` (read-only: never creates the database).

    ``DeliveryError`` when the issue's sending started but the ledger lost it.
    """
    tz = settings.identity.timezone
    ledger = open_ledger(settings.paths.donnees, month, tz=tz, clock=clock)
    if ledger is None:
        return StatusReport(month, sent=False)
    with ledger:
        rows = None if csv is None else ledger.export_failures_csv(month, csv, tz=tz)
        return StatusReport(month, True, ledger.summary(month), ledger.counts(month),
                            [*ledger.failures(month), *ledger.uncertain(month)], rows)
