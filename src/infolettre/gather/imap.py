"""Read the bulletin's IMAP mailbox: each message becomes an item, then leaves the inbox.

``poll`` connects (TLS, or STARTTLS, as ``[courriel_entrant]`` says; the password comes from
``INFOLETTRE_IMAP_PASSWORD``), selects ``imap_dossier`` and takes every message in it —
processed messages are moved out, so what is left is exactly what is still to do. For each
one, in UID order:

1. ``UID FETCH (BODY.PEEK[]<0.n>)``: the raw bytes, without setting ``\\Seen``, at most
   ``MAX_MESSAGE_BYTES`` + 1 of them: a bigger message is not downloaded but moved as it is
   to ``dossier_a_verifier``, with its reason in the report (``gather.mail.limits``);
2. ``intake.process_raw``: archive the bytes, convert, write the item (or record a
   rejection, a duplicate or a failure) — done before anything changes on the server;
3. only then the message leaves the inbox: moved to ``dossier_traite`` (« Traité ») for an
   item, a duplicate or automatic mail — ``UID MOVE`` when the server has MOVE, else
   ``UID COPY`` + ``\\Deleted`` + (UID) EXPUNGE; for a failure, or a rejection a person
   should look at (an empty message, not an email), a copy carrying the reason
   in an ``X-Infolettre-Raison`` header (as in a Maildir) is APPENDed to
   ``dossier_a_verifier`` (« À vérifier ») and the original deleted. Put back in the inbox by
   a person, it is processed again (the intake drops that header). Missing folders are
   created, their names in IMAP's modified UTF-7 (``imap_utf7_encode``).

If ``process_raw`` itself raises (a full disk, a locked database), the message stays in the
inbox, is reported, and is tried again at the next poll; if the move fails, the next poll
finds it a duplicate and moves it then. Either way one bad message never stops the others and
polling again never duplicates an item. Only a lost connection stops the loop
(``ImapError``, with the report of what was done so far).
"""

from __future__ import annotations

import base64
import dataclasses
import imaplib
import os
import re
import socket
import sqlite3
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..clock import SYSTEM_CLOCK, Clock
from ..errors import ConfigError, InfolettreError
from ..i18n import _
from ..maildir import with_reason
from ..runlock import holds_lock
from ..settings import MailIntake, Settings
from ..state import connect, state_file
from .intake import IntakeReport, IntakeResult, acknowledge_item, process_raw
from .mail import limits

ENV_PASSWORD = "INFOLETTRE_IMAP_PASSWORD"
TIMEOUT = 60.0  # seconds, for connecting and for every command
LOOPBACK = ("127.0.0.1", "::1")
_FETCH_UID = re.compile(rb"\bUID (\d+)")
_FETCH_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")


#: IMAP keyword of a message already processed, when messages are marked, not moved.
DONE_KEYWORD = "$InfolettreTraite"

class ImapError(InfolettreError):
    """The mailbox could not be read: connection, certificate, password, folder."""

    def __init__(self, message: str, *, where: str | None = None, fix: str | None = None,
                 report: PollReport | None = None):
        super().__init__(message, where=where, fix=fix)
        self.report = report


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

    def of_kind(self, kind: str) -> list[PolledMessage]:
        return [m for m in self.messages if m.kind == kind]

    @property
    def items(self) -> list[PolledMessage]:
        return self.of_kind("item")

    @property
    def problems(self) -> list[PolledMessage]:
        """Messages left in the inbox or not moved: to be retried at the next poll."""
        return [m for m in self.messages if m.problem]


Progress = Callable[[IntakeResult], None]  # as for a Maildir: one call per message


# -- modified UTF-7 (RFC 3501, 5.1.3) ---------------------------------------------------------

def imap_utf7_encode(name: str) -> str:
    """Encode a folder name in IMAP's modified UTF-7 (« Traité » → ``Trait&AOk-``)."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            data = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(data).decode("ascii").rstrip("=")
                       .replace("/", ",") + "-")
            pending.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    return "".join(out)


def imap_utf7_decode(name: str) -> str:
    """Decode a modified UTF-7 folder name (the inverse of ``imap_utf7_encode``)."""
    def chunk(match: re.Match[str]) -> str:
        text = match.group(1)
        if not text:
            return "&"
        data = text.replace(",", "/")
        return base64.b64decode(data + "=" * (-len(data) % 4)).decode("utf-16-be")

    return re.sub(r"&([^-]*)-", chunk, name)


def _quote(name: str) -> str:
    """Quote an (already encoded, ASCII) mailbox name for an IMAP command."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


# -- the poll ---------------------------------------------------------------------------------

@holds_lock("gather mail")  # one run at a time per data folder (runlock)
def poll(settings: Settings, progress: Progress | None = None, *,
         environ: Mapping[str, str] | None = None, plain_loopback: bool = False,
         ssl_context: ssl.SSLContext | None = None, timeout: float = TIMEOUT,
         ack_sender: Any = None, clock: Clock = SYSTEM_CLOCK) -> PollReport:
    """Process every message of the configured IMAP folder (module docstring); return a report.

    ``plain_loopback`` (tests only, never from the configuration) connects without TLS, and
    only to 127.0.0.1 or ::1. ``ssl_context`` replaces the system's certificate checks
    (tests, private authorities). Each item written is acknowledged to a known sender when
    ``accuse_reception`` is on (``intake.acknowledge_item``), through ``ack_sender`` if given.
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
    client = _connect(config, where, plain_loopback=plain_loopback, ssl_context=ssl_context,
                      timeout=timeout)
    report = PollReport(folder=config.imap_dossier)
    uids: list[str] = []
    db = None
    try:
        _login(client, config.imap_utilisateur, password, where)
        box = _Mailbox(client, where)
        uids = box.open(config.imap_dossier)
        db = connect(state_file(settings.paths.donnees))
        for uid in uids:
            entry = _one(box, uid, settings, db, config, ack_sender, clock)
            report.messages.append(entry)
            report.record(entry.result)
            if progress:
                progress(entry.result)
    except (imaplib.IMAP4.error, OSError) as exc:  # abort (connection lost) is an error too
        raise ImapError(
            _("la connexion au serveur IMAP a échoué ({detail}) après {n} message(s) "
              "sur {total}.").format(detail=_text(exc) or type(exc).__name__,
                                     n=len(report.messages), total=len(uids)),
            where=where,
            fix=_("Relancez la commande : les messages déjà traités ne seront pas repris en "
                  "double."), report=report) from None
    finally:
        if db is not None:
            db.close()
        _logout(client)
    return report


def _config(settings: Settings) -> MailIntake:
    config = settings.mail_intake
    if not config.imap_hote or not config.imap_utilisateur:
        raise ConfigError(
            _("aucune boîte IMAP n'est configurée."),
            where=str(settings.source) if settings.source else None,
            fix=_("Ajoutez imap_hote et imap_utilisateur dans la table [courriel_entrant] du "
                  "fichier de configuration, ou lisez un dossier Maildir avec --maildir."))
    return config


def _one(box: _Mailbox, uid: str, settings: Settings, db: sqlite3.Connection,
         config: MailIntake, ack_sender: Any = None,
         clock: Clock = SYSTEM_CLOCK) -> PolledMessage:
    """Fetch, process, then move one message; never raises except for a lost connection."""
    source = f"imap:{uid}"
    try:
        fetched = box.fetch(uid)
    except imaplib.IMAP4.abort:
        raise  # the connection is lost: handled by the caller
    except imaplib.IMAP4.error as exc:
        return _error(uid, _("lecture impossible ({detail}) ; le message reste dans la boîte.")
                      .format(detail=_text(exc)))
    if fetched is None:
        return _error(uid, _("le message a disparu du serveur avant d'être lu."))
    raw, received, size = fetched
    if size > limits.MAX_MESSAGE_BYTES:  # only its beginning was fetched
        return _too_big(box, uid, config, source, size)
    try:
        result = process_raw(raw, settings, source=source, conn=db, received=received,
                             clock=clock)
    except Exception as exc:  # noqa: BLE001 - one bad message never stops the others
        detail = (exc.message if isinstance(exc, InfolettreError)
                  else f"{type(exc).__name__}: {exc}")
        return _error(uid, _("traitement interrompu ({detail}) ; le message reste dans la boîte "
                             "et sera repris au prochain relevé.").format(detail=detail))
    result = acknowledge_item(settings, raw, result, conn=db, sender=ack_sender, clock=clock)
    entry = PolledMessage(uid, result.kind, result)
    # as from a Maildir: a failure, or a rejection a person should look at, goes to « À
    # vérifier » (where the report counts it); items, duplicates and automatic mail are done
    target = config.dossier_a_verifier if result.filed_for_review else config.dossier_traite
    try:
        if result.filed_for_review:
            box.file_with_reason(uid, target, with_reason(raw, result.reason), received)
        elif config.apres_traitement == "marquer":
            box.mark_done(uid)
            return _replace(entry, folder=config.imap_dossier)
        else:
            box.move(uid, target)
    except imaplib.IMAP4.abort:
        raise
    except imaplib.IMAP4.error as exc:
        return _replace(entry, problem=_(
            "déplacement vers « {folder} » impossible ({detail}) ; il sera refait au prochain "
            "relevé.").format(folder=target, detail=_text(exc)))
    return _replace(entry, folder=target)


def _too_big(box: _Mailbox, uid: str, config: MailIntake, source: str,
             size: int) -> PolledMessage:
    """Move a message too big to download to « À vérifier », as it is on the server."""
    reason = limits.oversized(size)
    entry = PolledMessage(uid, "failed", IntakeResult("failed", None, reason, "", source,
                                                      for_person=True))
    try:
        box.move(uid, config.dossier_a_verifier)
    except imaplib.IMAP4.abort:
        raise
    except imaplib.IMAP4.error as exc:
        return _replace(entry, problem=_(
            "déplacement vers « {folder} » impossible ({detail}) ; il sera refait au prochain "
            "relevé.").format(folder=config.dossier_a_verifier, detail=_text(exc)))
    return _replace(entry, folder=config.dossier_a_verifier)


def _error(uid: str, problem: str) -> PolledMessage:
    """A message left in the inbox: shown to the pivot as « à vérifier », retried next time."""
    return PolledMessage(uid, "error", IntakeResult("failed", None, problem, "", f"imap:{uid}"),
                         problem=problem)


def _replace(entry: PolledMessage, **changes: Any) -> PolledMessage:
    return dataclasses.replace(entry, **changes)


def _text(exc: BaseException) -> str:
    detail = exc.args[0] if exc.args else exc
    if isinstance(detail, bytes):
        return detail.decode("utf-8", "replace")
    return str(detail)


# -- connection -------------------------------------------------------------------------------

def _connect(config: MailIntake, where: str, *, plain_loopback: bool,
             ssl_context: ssl.SSLContext | None, timeout: float) -> imaplib.IMAP4:
    host, port = config.imap_hote, config.imap_port
    mode = config.imap_securite
    if plain_loopback:
        if host not in LOOPBACK:
            raise ValueError("plain_loopback n'est permis que vers 127.0.0.1 ou ::1")
        mode = "plain"
    context = ssl_context or ssl.create_default_context()
    client: imaplib.IMAP4 | None = None
    try:
        if mode == "tls":
            return imaplib.IMAP4_SSL(host, port, ssl_context=context, timeout=timeout)
        client = imaplib.IMAP4(host, port, timeout=timeout)
        if mode == "starttls":
            try:
                client.starttls(ssl_context=context)
            except imaplib.IMAP4.error as exc:  # not offered (imaplib says it with abort)
                _close(client)
                raise ImapError(
                    _("le serveur IMAP refuse STARTTLS ({detail}).").format(detail=_text(exc)),
                    where=where,
                    fix=_("Mettez imap_securite = \"tls\" (port 993) dans [courriel_entrant], "
                          "ou vérifiez le port auprès de votre fournisseur.")) from None
        return client
    except ssl.SSLCertVerificationError as exc:
        _close(client)
        raise ImapError(
            _("le certificat du serveur IMAP n'est pas valide ({detail}).")
            .format(detail=exc.verify_message or exc),
            where=where,
            fix=_("Vérifiez imap_hote : il doit être le nom exact du serveur qui figure sur son "
                  "certificat (celui donné par votre fournisseur).")) from None
    except ssl.SSLError as exc:
        _close(client)
        raise ImapError(
            _("la négociation TLS avec le serveur IMAP a échoué ({detail}).").format(detail=exc),
            where=where,
            fix=_("Vérifiez imap_port et imap_securite : 993 avec « tls », 143 avec "
                  "« starttls ».")) from None
    except socket.gaierror:
        raise ImapError(
            _("le serveur IMAP « {host} » est introuvable.").format(host=host), where=where,
            fix=_("Vérifiez l'orthographe de imap_hote et la connexion Internet.")) from None
    except (OSError, imaplib.IMAP4.error) as exc:  # refused, timed out, reset, bad greeting
        _close(client)
        raise ImapError(
            _("impossible de joindre le serveur IMAP ({detail}).")
            .format(detail=_text(exc) or type(exc).__name__),
            where=where,
            fix=_("Vérifiez imap_hote et imap_port dans [courriel_entrant], puis que le serveur "
                  "est en marche et joignable depuis cet ordinateur.")) from None


def _login(client: imaplib.IMAP4, user: str, password: str, where: str) -> None:
    try:
        if user.isascii() and password.isascii():
            client.login(user, password)
        else:  # LOGIN is ASCII-only in imaplib: SASL PLAIN carries UTF-8
            client.authenticate("PLAIN", lambda _challenge: f"\0{user}\0{password}".encode())
    except imaplib.IMAP4.abort:
        raise
    except imaplib.IMAP4.error as exc:
        raise ImapError(
            _("le serveur IMAP a refusé l'identification ({detail}).").format(detail=_text(exc)),
            where=where,
            fix=_("Vérifiez imap_utilisateur dans [courriel_entrant] et le mot de passe dans "
                  "la variable {var}.").format(var=ENV_PASSWORD)) from None


def _close(client: imaplib.IMAP4 | None) -> None:
    """Close the socket of a connection that never got as far as logging in."""
    if client is not None:
        try:
            client.shutdown()
        except OSError:
            pass


def _logout(client: imaplib.IMAP4) -> None:
    try:
        client.logout()
    except (imaplib.IMAP4.error, OSError):
        pass


class _Mailbox:
    """The selected folder of one logged-in connection: fetch and move by UID."""

    def __init__(self, client: imaplib.IMAP4, where: str):
        self.client = client
        self.where = where
        typ, data = client.capability()  # the capabilities after login (MOVE, UIDPLUS)
        words = b" ".join(d for d in data if isinstance(d, bytes)).upper().split()
        self.capabilities = {w.decode("ascii", "replace") for w in words}
        self.existing: set[str] = set()

    def open(self, folder: str) -> list[str]:
        """Select ``folder`` (read-write) and return the UIDs of all its messages."""
        typ, data = self.client.select(_quote(imap_utf7_encode(folder)))
        if typ != "OK":
            raise ImapError(
                _("le dossier « {folder} » est introuvable sur le serveur IMAP ({detail}).")
                .format(folder=folder, detail=_text(imaplib.IMAP4.error(data[0]))),
                where=self.where,
                fix=_("Vérifiez imap_dossier dans [courriel_entrant] (« INBOX » pour la boîte "
                      "de réception)."))
        # Messages marked processed (apres_traitement = "marquer") are left where they are.
        typ, data = self.client.uid("SEARCH", "UNKEYWORD", DONE_KEYWORD)
        if typ != "OK":
            raise imaplib.IMAP4.error(data[0] if data else b"SEARCH")
        return [u.decode("ascii") for u in (data[0] or b"").split()]

    def fetch(self, uid: str) -> tuple[bytes, datetime | None, int] | None:
        """Return the raw bytes (without marking the message read; only the first
        ``MAX_MESSAGE_BYTES`` + 1 of a bigger one), the server's arrival time and the
        message's size, or None if the message is gone."""
        typ, data = self.client.uid(
            "FETCH", uid,
            f"(INTERNALDATE RFC822.SIZE BODY.PEEK[]<0.{limits.MAX_MESSAGE_BYTES + 1}>)")
        if typ != "OK":
            raise imaplib.IMAP4.error(data[0] if data else b"FETCH")
        for part in data:
            if isinstance(part, tuple) and len(part) == 2:
                found = _FETCH_UID.search(part[0])
                if found is None or found.group(1).decode() == uid:
                    when = imaplib.Internaldate2tuple(part[0])
                    received = datetime.fromtimestamp(time.mktime(when), UTC) if when else None
                    size = _FETCH_SIZE.search(part[0])
                    return part[1], received, max(len(part[1]),
                                                  int(size.group(1)) if size else 0)
        return None

    def ensure(self, folder: str) -> str:
        """Return the encoded, quoted name of ``folder``, creating it on the server if absent."""
        quoted = _quote(imap_utf7_encode(folder))
        if folder in self.existing:
            return quoted
        typ, data = self.client.list('""', quoted)
        if typ != "OK" or not any(data):
            typ, data = self.client.create(quoted)
            if typ != "OK":
                raise imaplib.IMAP4.error(
                    _("création du dossier « {folder} » refusée : {detail}")
                    .format(folder=folder, detail=_text(imaplib.IMAP4.error(data[0]))))
            self.client.subscribe(quoted)  # so mail clients show it
        self.existing.add(folder)
        return quoted

    def file_with_reason(self, uid: str, folder: str, raw: bytes,
                         received: datetime | None) -> None:
        """Put a copy carrying the reason header in ``folder``, then delete the original.

        Copy first, original deleted last: a failure in between leaves two copies, never none.
        """
        target = self.ensure(folder)
        when = imaplib.Time2Internaldate(received) if received else None
        self._check(self.client.append(target, None, when, raw), "APPEND")
        self.delete(uid)

    def delete(self, uid: str) -> None:
        """Flag one message \\Deleted and expunge it (only it, when the server has UIDPLUS)."""
        self._check(self.client.uid("STORE", uid, "+FLAGS.SILENT", r"(\Deleted)"), "STORE")
        if "UIDPLUS" in self.capabilities:
            self._check(self.client.uid("EXPUNGE", uid), "EXPUNGE")
        else:
            self._check(self.client.expunge(), "EXPUNGE")

    def mark_done(self, uid: str) -> None:
        """Mark one message read and processed, leaving it in the inbox."""
        self._check(self.client.uid("STORE", uid, "+FLAGS", f"(\\Seen {DONE_KEYWORD})"),
                    "STORE")

    def move(self, uid: str, folder: str) -> None:
        """Move one message to ``folder`` (UID MOVE, or COPY + \\Deleted + EXPUNGE)."""
        target = self.ensure(folder)
        if "MOVE" in self.capabilities:
            self._check(self.client.uid("MOVE", uid, target), "MOVE")
            return
        self._check(self.client.uid("COPY", uid, target), "COPY")
        self.delete(uid)

    @staticmethod
    def _check(answer: tuple[str, list[Any]], command: str) -> None:
        typ, data = answer
        if typ != "OK":
            detail = data[0] if data and data[0] else command.encode()
            raise imaplib.IMAP4.error(detail)
