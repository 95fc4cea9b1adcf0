"""The actions that gather news: mail (IMAP or Maildir) and feeds, and the feeds' health.

Emails and feeds are gathered on their own schedule, before an issue is built: each new
submission becomes a file of ``content/`` in the issue still open (``state.issues``),
which ``check`` and ``build`` then read.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from ..clock import SYSTEM_CLOCK, Clock
from ..deliver.senders import make_sender
from ..errors import InfolettreError
from ..gather.acknowledge import AckOutbox, EachReply, ack_outbox
from ..gather.feeds.run import FeedOutcome, FeedsReport
from ..gather.feeds.run import gather_feeds as watch_feeds
from ..gather.feeds.store import FeedStatus, FeedStore
from ..gather.intake import IntakeReport, IntakeResult, process_maildir
from ..i18n import _
from ..settings import FeedSource, Settings
from ..state import MissingState, connect, state_file


def feeds_health(settings: Settings) -> list[tuple[FeedSource, FeedStatus]]:
    """Return each configured feed with its recorded health (read-only: no database made)."""
    try:
        conn = connect(state_file(settings.paths.donnees), readonly=True)
    except MissingState:
        return [(feed, FeedStatus(feed.url, feed.nom)) for feed in settings.feeds]
    with closing(conn):
        try:
            store = FeedStore(conn)
        except MissingState:  # no feed ever read with this database
            return [(feed, FeedStatus(feed.url, feed.nom)) for feed in settings.feeds]
        return [(feed, store.status(feed.url, feed.nom)) for feed in settings.feeds]


def gather_feeds(settings: Settings, *, clock: Clock = SYSTEM_CLOCK,
                 progress: Callable[[FeedOutcome], None] | None = None) -> FeedsReport:
    """Read every ``[[flux]]`` once and write their new entries as items of the open issue."""
    return watch_feeds(settings, clock=clock, progress=progress)


def gather_mail(settings: Settings, *, maildir: Path | None = None, clock: Clock = SYSTEM_CLOCK,
                progress: Callable[[IntakeResult], None] | None = None) -> IntakeReport:
    """Read the mail of ``[courriel_entrant]`` into items of the open issue, once.

    Its IMAP box when configured, else its Maildir (``maildir`` is read instead of either):
    each message is filed done or « à vérifier » (``gather.intake``, ``gather.imap``), under
    the data folder's lock (``gather mail``). Each item from a known sender is acknowledged
    through ``ack_sender``; ``progress`` gets each message's result as it is done.
    """
    intake, replies = settings.mail_intake, ack_sender(settings, clock)
    if maildir is None and intake.imap_hote:
        return _imap().poll(settings, progress, ack_sender=replies, clock=clock)
    if not (maildir or intake.maildir):
        raise InfolettreError(
            _("aucune boîte de courriel entrant n'est configurée."),
            fix=_("Dans infolettre.toml, ajoutez la table « courriel_entrant » avec « maildir = "
                  "… » ou « imap_hote = … » (voir l'exemple commenté), ou donnez --maildir "
                  "DOSSIER."))
    return process_maildir(settings, maildir or intake.maildir, progress=progress,
                           ack_sender=replies, clock=clock)


def ack_sender(settings: Settings, clock: Clock = SYSTEM_CLOCK) -> EachReply:
    """Choose where acknowledgments go: SMTP when ``[smtp]`` is set, else ``accuses/`` in the
    data folder; signed when ``[dkim]`` is set — the same choice as for issues, made for
    each reply (a sender that cannot be made costs that reply, never the intake)."""
    return EachReply(lambda: make_sender(settings, "", None,
                                         local=AckOutbox(ack_outbox(settings), clock)))


def _imap():
    """Return ``gather.imap``, or say that this installation cannot read an IMAP box."""
    try:
        from ..gather import imap
    except ModuleNotFoundError as exc:
        if exc.name != "infolettre.gather.imap":
            raise
        raise InfolettreError(
            _("la lecture d'une boîte IMAP n'est pas disponible dans cette installation."),
            fix=_("Retirez « imap_hote » de la table « courriel_entrant » et indiquez plutôt "
                  "« maildir = … » (ou donnez --maildir DOSSIER), ou mettez infolettre à "
                  "jour.")) from None
    return imap
