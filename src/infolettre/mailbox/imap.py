"""An IMAP folder as a mailbox source: TLS or STARTTLS, fetch by UID, move or mark, never lose.

``connect`` opens the connection (TLS, or STARTTLS; clear text only to loopback, for the
tests), ``login`` logs in, and ``ImapFolder`` selects a folder and takes every message in
it but those already marked processed (``DONE_KEYWORD``): processed messages leave it, so
what is left is exactly what is still to do. For each message (``runner.each_message``):

- ``fetch``: ``UID FETCH (BODY.PEEK[]<0.n>)``, the raw bytes without setting ``\\Seen``, at
  most ``MAX_MESSAGE_BYTES`` + 1 of them — a bigger message is not downloaded, and is moved
  as it is to « À vérifier »;
- ``file_done``: moved to the « Traité » folder — ``UID MOVE`` when the server has MOVE,
  else ``UID COPY`` + ``\\Deleted`` + (UID) EXPUNGE — or, when messages are marked rather
  than moved, flagged ``\\Seen`` and ``DONE_KEYWORD`` and left; read by batches (the
  intake), the messages of a batch are moved or marked together by ``flush``, with one
  command on a UID set (one round trip instead of one per message), and fetched by groups
  (``imap_fetch``);
- ``file_for_review``: a copy carrying the reason header is APPENDed to « À vérifier » and
  the original deleted (copy first: a failure in between leaves two, never none).

Missing folders are created, their names in IMAP's modified UTF-7 (``imap_utf7_encode``). A
server refusal for one message (``IMAP4.error``) is a ``MessageProblem``: that message stays,
the others go on. A lost connection (``IMAP4.abort``, ``OSError``) stops the run.
"""

from __future__ import annotations

import base64
import imaplib
import re
import socket
import ssl
from datetime import datetime
from typing import Any

from ..errors import InfolettreError
from ..i18n import _
from . import imap_fetch, limits
from .imap_fetch import Fetched
from .runner import Message, MessageProblem

ENV_PASSWORD = "INFOLETTRE_IMAP_PASSWORD"
TIMEOUT = 60.0  # seconds, for connecting and for every command
LOOPBACK = ("127.0.0.1", "::1")


#: IMAP keyword of a message already processed, when messages are marked, not moved.
DONE_KEYWORD = "$InfolettreTraite"


class ImapError(InfolettreError):
    """The mailbox could not be read: connection, certificate, password, folder.

    ``report`` is what a run did before the connection was lost (given by its caller).
    """

    def __init__(self, message: str, *, where: str | None = None, fix: str | None = None,
                 report: Any = None):
        super().__init__(message, where=where, fix=fix)
        self.report = report


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


def _text(exc: BaseException) -> str:
    """Return an imaplib error's text (its bytes decoded)."""
    detail = exc.args[0] if exc.args else exc
    if isinstance(detail, bytes):
        return detail.decode("utf-8", "replace")
    return str(detail)


# -- connection -------------------------------------------------------------------------------

def connect(host: str, port: int, mode: str, where: str, *, plain_loopback: bool = False,
            ssl_context: ssl.SSLContext | None = None,
            timeout: float = TIMEOUT) -> imaplib.IMAP4:
    """Connect over TLS (``mode`` « tls ») or STARTTLS; every failure is an ``ImapError``.

    ``plain_loopback`` (tests only, never from the configuration) connects without TLS, and
    only to 127.0.0.1 or ::1. ``ssl_context`` replaces the system's certificate checks.
    """
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


def login(client: imaplib.IMAP4, user: str, password: str, where: str) -> None:
    """Log in (SASL PLAIN when the name or password is not ASCII); refused: ``ImapError``."""
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


def logout(client: imaplib.IMAP4) -> None:
    """Log out, whatever state the connection is in."""
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

    def fetch_many(self, uids: list[str]) -> dict[str, Fetched]:
        """Return, by UID, the raw bytes (not marked read; only the first
        ``MAX_MESSAGE_BYTES`` + 1 of a bigger one), the server's arrival time and the size
        of ``uids``, with one command (``imap_fetch``); a message gone is absent."""
        return imap_fetch.fetch(self.client, uids)

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


class ImapFolder:
    """The selected folder of one logged-in connection, as a ``runner.Source``.

    Processed messages go to ``done`` (or are marked and left when ``mark_done``); the others
    to ``review``. Made by selecting ``folder`` (refused: ``ImapError``).
    """

    def __init__(self, client: imaplib.IMAP4, where: str, folder: str, *, done: str,
                 review: str, mark_done: bool = False, batched: bool = False):
        self.box = _Mailbox(client, where)
        self.folder, self.done, self.review, self.mark_done = folder, done, review, mark_done
        self.uids = self.box.open(folder)
        #: ``batched``: the runner files by batches and calls ``flush`` after each one, so
        #: the messages done are moved (or marked) together: one command per batch.
        self.batched = batched
        self.waiting: list[str] = []
        self.ahead: dict[str, Fetched] = {}  # fetched with an earlier one (``imap_fetch``)
        self.grouped = batched

    def keys(self) -> list[str]:
        return list(self.uids)

    def label(self, key: str) -> str:
        return f"imap:{key}"

    def fetch(self, key: str) -> Message:
        """Fetch one message (only its beginning when it is too big); gone: a problem."""
        try:
            if key not in self.ahead:
                self.ahead = self._fetch_group(key) if self.grouped else \
                    self.box.fetch_many([key])
            fetched = self.ahead.pop(key, None)
        except imaplib.IMAP4.abort:
            raise  # the connection is lost: the run stops
        except imaplib.IMAP4.error as exc:
            raise MessageProblem(_("lecture impossible ({detail}) ; le message reste dans la "
                                   "boîte.").format(detail=_text(exc))) from None
        if fetched is None:
            raise MessageProblem(_("le message a disparu du serveur avant d'être lu."))
        raw, received, size = fetched
        return Message(key, self.label(key), raw, received,
                       size if size > limits.MAX_MESSAGE_BYTES else None)

    def _fetch_group(self, key: str) -> dict[str, Fetched]:
        """Fetch ``key`` and the next messages with it (``imap_fetch.group``); refused, it
        and the rest are fetched one at a time (an unreadable message costs only itself)."""
        start = self.uids.index(key)
        try:
            known = imap_fetch.sizes(self.box.client, self.uids[start:start + imap_fetch.GROUP])
            uids = imap_fetch.group(self.uids, start, known)
            if len(uids) > 1:
                return self.box.fetch_many(uids)
        except imaplib.IMAP4.abort:
            raise
        except imaplib.IMAP4.error:
            self.grouped = False  # the server refuses groups: one message at a time
        return self.box.fetch_many([key])

    def file_done(self, message: Message) -> str:
        if self.batched:  # moved (or marked) with the rest of the batch by ``flush``
            self.waiting.append(message.key)
            return self.folder if self.mark_done else self.done
        if self.mark_done:
            self._do(self.done, self.box.mark_done, message.key)
            return self.folder
        self._do(self.done, self.box.move, message.key, self.done)
        return self.done

    def file_for_review(self, message: Message, raw: bytes | None) -> str:
        if raw is None:
            self._do(self.review, self.box.move, message.key, self.review)
        else:
            self._do(self.review, self.box.file_with_reason, message.key, self.review, raw,
                     message.received)
        return self.review

    def flush(self) -> dict[str, str]:
        """Move (or mark) every message of the batch done at once (one UID set): refused,
        each of them gets the problem — they stay in the inbox, found done next time."""
        uids, self.waiting = self.waiting, []
        if not uids:
            return {}
        action = self.box.mark_done if self.mark_done else self.box.move
        args = () if self.mark_done else (self.done,)
        try:
            self._do(self.done, action, ",".join(uids), *args)
        except MessageProblem as exc:
            return dict.fromkeys(uids, exc.problem)
        return {}

    @staticmethod
    def _do(target: str, action: Any, *args: Any) -> None:
        """Run one server action; a refusal is a ``MessageProblem`` (done again next time)."""
        try:
            action(*args)
        except imaplib.IMAP4.abort:
            raise
        except imaplib.IMAP4.error as exc:
            raise MessageProblem(_(
                "déplacement vers « {folder} » impossible ({detail}) ; il sera refait au "
                "prochain relevé.").format(folder=target, detail=_text(exc))) from None
