"""Read the bulletin's IMAP mailbox: each message becomes an item, then leaves the inbox.

``poll`` connects (TLS, or STARTTLS, as ``[courriel_entrant]`` says; the password comes from
``INFOLETTRE_IMAP_PASSWORD``), selects ``imap_dossier`` and runs the intake over it
(``intake.run_intake``, the one mailbox runner of ``infolettre.mailbox`` over an
``ImapFolder``). For each message, in UID order:

1. the raw bytes are fetched without setting ``\\Seen``, at most ``MAX_MESSAGE_BYTES`` + 1
   of them: a bigger message is not downloaded but moved as it is to
   ``dossier_a_verifier``, with its reason in the report (``mailbox.limits``);
2. the intake archives the bytes, converts, writes the item (or records a rejection, a
   duplicate or a failure) — done before anything changes on the server;
3. only then the message leaves the inbox: moved to ``dossier_traite`` (« Traité ») for an
   item, a duplicate or automatic mail (or, with ``apres_traitement = "marquer"``, marked
   and left); for a failure, or a rejection a person should look at (an empty message, not
   an email), a copy carrying the reason in an ``X-Infolettre-Raison`` header (as in a
   Maildir) is APPENDed to ``dossier_a_verifier`` (« À vérifier ») and the original
   deleted. Put back in the inbox by a person, it is processed again (the header dropped).

If the intake itself fails (a full disk, a locked database), the message stays in the
inbox, is reported, and is tried again at the next poll; if the move fails, the next poll
finds it a duplicate and moves it then. Either way one bad message never stops the others and
polling again never duplicates an item. Only a lost connection stops the loop
(``ImapError``, with the report of what was done so far).

The connection and the folder are ``mailbox.imap``'s; their names are kept here for callers.
"""

from __future__ import annotations

import imaplib
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..clock import SYSTEM_CLOCK, Clock
from ..errors import ConfigError
from ..i18n import _
from ..mailbox import Handled
from ..mailbox.imap import (DONE_KEYWORD, ENV_PASSWORD, LOOPBACK, TIMEOUT,  # noqa: F401
                            ImapError, ImapFolder, _Mailbox, _text, connect, imap_utf7_decode,
                            imap_utf7_encode, login, logout)
from ..state.runlock import holds_lock
from ..settings import MailIntake, Settings
from .intake import IntakeReport, IntakeResult, Progress, process_raw, run_intake

__all__ = ["DONE_KEYWORD", "ENV_PASSWORD", "LOOPBACK", "TIMEOUT", "ImapError", "PollReport",
           "PolledMessage", "imap_utf7_decode", "imap_utf7_encode", "poll", "process_raw"]


@dataclass(frozen=True)
class PolledMessage:
    """What became of one message of the mailbox: the intake's result, and where it went.

    ``kind`` is the result's, or ``error`` when the message could not be read or processed
    at all (it stays in the inbox; ``result`` is then a « failed » one carrying the problem).
    """

    uid: str
    kind: str                   # item | rejected | duplicate | failed | error
    result: IntakeResult
    folder: str | None = None   # where it was moved (None: left in the inbox)
    problem: str | None = None  # what went wrong on the server side or before the intake

    @property
    def path(self) -> Path | None:
        return self.result.path

    @property
    def message_id(self) -> str | None:
        return self.result.message_id or None

    @property
    def reason(self) -> str | None:
        return self.result.reason or None


@dataclass
class PollReport(IntakeReport):
    """An intake report (``results``, ``summary()``, ``to_review``) plus, per message, where
    it went on the server (``messages``)."""

    folder: str = "INBOX"
    messages: list[PolledMessage] = field(default_factory=list)

    def add(self, handled: Handled[IntakeResult], result: IntakeResult) -> None:
        """Add one message the runner handled, and where it went on the server."""
        self.messages.append(PolledMessage(
            str(handled.key), "error" if handled.left else result.kind, result,
            handled.folder, handled.problem or None))
        super().add(handled, result)

    def of_kind(self, kind: str) -> list[PolledMessage]:
        return [m for m in self.messages if m.kind == kind]

    @property
    def items(self) -> list[PolledMessage]:
        return self.of_kind("item")

    @property
    def problems(self) -> list[PolledMessage]:
        """Messages left in the inbox or not moved: to be retried at the next poll."""
        return [m for m in self.messages if m.problem]


@holds_lock("gather mail")  # one run at a time per data folder (runlock)
def poll(settings: Settings, progress: Progress | None = None, *,
         environ: Mapping[str, str] | None = None, plain_loopback: bool = False,
         ssl_context: ssl.SSLContext | None = None, timeout: float = TIMEOUT,
         ack_sender: Any = None, clock: Clock = SYSTEM_CLOCK) -> PollReport:
    """Process every message of the configured IMAP folder (module docstring); return a report.

    ``plain_loopback`` (tests only, never from the configuration) connects without TLS, and
    only to 127.0.0.1 or ::1. ``ssl_context`` replaces the system's certificate checks
    (tests, private authorities). Each item written is acknowledged as ``run_intake`` says,
    through ``ack_sender`` if given.
    """
    config = _config(settings)
    password = (os.environ if environ is None else environ).get(ENV_PASSWORD)
    if not password:
        raise ImapError(
            _("le mot de passe IMAP est absent : la variable d'environnement {var} est vide "
              "ou non définie.").format(var=ENV_PASSWORD),
            where=f"{config.imap_utilisateur}@{config.imap_hote}",
            fix=_("Définissez {var} avec le mot de passe de la boîte courriel avant de lancer "
                  "la commande (il n'est jamais écrit dans infolettre.toml).")
            .format(var=ENV_PASSWORD))
    where = f"{config.imap_utilisateur}@{config.imap_hote}:{config.imap_port}"
    client = connect(config.imap_hote, config.imap_port, config.imap_securite, where,
                     plain_loopback=plain_loopback, ssl_context=ssl_context, timeout=timeout)
    report = PollReport(folder=config.imap_dossier)
    uids: list[str] = []
    try:
        login(client, config.imap_utilisateur, password, where)
        source = ImapFolder(client, where, config.imap_dossier, done=config.dossier_traite,
                            review=config.dossier_a_verifier,
                            mark_done=config.apres_traitement == "marquer", batched=True)
        uids = source.uids
        run_intake(settings, source, report=report, progress=progress, ack_sender=ack_sender,
                   clock=clock, process=_process)
    except (imaplib.IMAP4.error, OSError) as exc:  # abort (connection lost) is an error too
        raise ImapError(
            _("la connexion au serveur IMAP a échoué ({detail}) après {n} message(s) "
              "sur {total}.").format(detail=_text(exc) or type(exc).__name__,
                                     n=len(report.messages), total=len(uids)),
            where=where,
            fix=_("Relancez la commande : les messages déjà traités ne seront pas repris en "
                  "double."), report=report) from None
    finally:
        logout(client)
    return report


def _process(raw: bytes, settings: Settings, **kwargs: Any) -> IntakeResult:
    """The intake of one message: ``process_raw``, looked up here at each message so that
    a test or the bench can wrap it."""
    return process_raw(raw, settings, **kwargs)


def _config(settings: Settings) -> MailIntake:
    config = settings.mail_intake
    if not config.imap_hote or not config.imap_utilisateur:
        raise ConfigError(
            _("aucune boîte IMAP n'est configurée."),
            where=str(settings.source) if settings.source else None,
            fix=_("Ajoutez imap_hote et imap_utilisateur dans la table [courriel_entrant] du "
                  "fichier de configuration, ou lisez un dossier Maildir avec --maildir."))
    return config
