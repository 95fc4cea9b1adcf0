"""The SMTP sender: a few reused aiosmtplib connections, a rate limit, honest results.

``SmtpSender`` implements the ``Sender`` protocol. It keeps a small pool of connections
(``[smtp] connexions``, 4 by default): each ``send`` takes a free connection, sends the
pre-built bytes of one envelope, and gives the connection back. The first connection is
opened by ``open()``, so a server that cannot be reached, a certificate that does not verify
or a refused password stops the run before anything is sent; the others are opened on first
use.

What each server answer becomes (the ledger stores the same outcomes):

- accepted (250) → ``SENT``, with the server's reply text (often its queue id);
- 4xx to MAIL, RCPT or DATA → ``DEFERRED`` with code and text: retry later;
- 5xx → ``FAILED`` with code and text: permanent, a person must look at it;
- connection dropped, reset or timed out in the middle of a message → ``DEFERRED``; that
  connection is closed and reopened on its next use. (The server may have kept a message
  whose acceptance we never heard; retrying it is the lesser evil, as every MTA does.)

The mail transaction itself (MAIL, RCPT, DATA, with the ``before_content`` hook after the
354, pipelined when the server allows) is ``transaction.py``.

``send`` raises ``DeliveryError`` only when nothing more can be sent at all: the server
unreachable at ``open()`` or no longer reachable on any connection, TLS or password refused,
or the envelope sender refused for good (5xx to MAIL FROM, other than 552 "too big").

A rate limiter shared by all connections enforces ``messages_par_minute`` (messages evenly
spaced, no burst) and ``messages_par_heure`` (never more than that many in any sliding hour).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import aiosmtplib

from ..errors import DeliveryError, cause_of_kind
from ..i18n import _
from ..settings.smtp import ENV_PASSWORD, SmtpConfig
from . import DeliveryResult, Envelope, Outcome
from .transaction import HookFailed, answered, run_transaction

#: After this many failed connection attempts in a row on the last usable connection, the
#: server is considered gone and the run stops (each attempt defers one message).
MAX_CONNECT_FAILURES = 3


class RateLimiter:
    """Space messages evenly (per minute) and cap them over any sliding hour.

    A token bucket of capacity one refilled ``per_minute`` times a minute (so 600 a minute
    means one every 0.1 s, no burst), plus a sliding window of the last ``per_hour`` send
    times. Shared by every connection; ``acquire`` waits for the caller's turn. 0 = no limit.
    The hourly window lives in memory: a restarted run starts a fresh hour.
    """

    def __init__(self, per_minute: int = 0, per_hour: int = 0, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep):
        self.interval = 60.0 / per_minute if per_minute else 0.0
        self.per_hour = per_hour
        self.clock = clock
        self.sleep = sleep
        self._next = 0.0
        self._window: deque[float] = deque(maxlen=per_hour or None)
        self._lock = asyncio.Lock()

    @property
    def active(self) -> bool:
        return bool(self.interval or self.per_hour)

    async def acquire(self) -> None:
        """Wait until one more message may go, and count it."""
        if not self.active:
            return
        async with self._lock:  # waiters queue up in order, one sleeper at a time
            now = self.clock()
            at = now
            if self.interval:
                at = max(at, self._next)
            if self.per_hour and len(self._window) >= self.per_hour:
                at = max(at, self._window[0] + 3600.0)
            if at > now:
                await self.sleep(at - now)
            if self.interval:
                self._next = at + self.interval
            if self.per_hour:
                self._window.append(at)


class _Unreachable(Exception):
    """A connection could not be opened, for a reason that may pass (refused, timeout, 4xx)."""

    def __init__(self, cause: BaseException):
        super().__init__(str(cause))
        self.cause = cause


class _Slot:
    """One place in the pool: a connection, or None until it is (re)opened."""

    def __init__(self, number: int):
        self.number = number
        self.client: aiosmtplib.SMTP | None = None


class SmtpSender:
    """Send envelopes through an SMTP server over a pool of reused connections."""

    before_content_hook = True   # calls it after the 354 (``Sender``, ``transaction.py``)

    def __init__(self, config: SmtpConfig, *, tls_context: ssl.SSLContext | None = None):
        self.config = config
        self.concurrency = config.connexions
        self.tls_context = tls_context   # a private CA, say; None = the system's trust store
        self.limiter = RateLimiter(config.messages_par_minute, config.messages_par_heure)
        self._slots = [_Slot(n) for n in range(config.connexions)]
        self._free: asyncio.Queue[_Slot] | None = None
        self._live = len(self._slots)
        self._failures = 0               # failed connection attempts in a row
        self.retired = 0                 # connections given up on (server refused more)

    # -- the Sender protocol -------------------------------------------------------------

    async def open(self) -> None:
        """Open the first connection now, so an unreachable server stops the run at once."""
        if self._free is not None:
            return
        self._free = asyncio.Queue()
        for slot in self._slots:
            self._free.put_nowait(slot)
        try:
            await self._connect(self._slots[0])
        except _Unreachable as exc:
            self._free = None
            raise self._unreachable_error(exc.cause) from None
        except DeliveryError:
            self._free = None
            raise

    async def send(self, envelope: Envelope, *,
                   before_content: Callable[[], Any] | None = None) -> DeliveryResult:
        """Send one envelope; return what the server said (see the module docstring).

        ``before_content`` (plain or async) is called once the server has said 354 to DATA,
        before any content is written; it is not called if the message is refused earlier.
        """
        if self._free is None:
            await self.open()
        free = self._free
        assert free is not None
        await self.limiter.acquire()
        while True:
            slot: _Slot | None = await free.get()
            try:
                if slot.client is not None and not slot.client.is_connected:
                    self._drop(slot)   # closed by the server while idle: nothing was lost
                if slot.client is None:
                    try:
                        await self._connect(slot)
                    except _Unreachable as exc:
                        if self._live > 1:     # the server takes fewer connections: use others
                            self._live -= 1
                            self.retired += 1
                            slot = None
                            continue
                        self._failures += 1
                        if self._failures >= MAX_CONNECT_FAILURES:
                            raise self._gone_error(exc.cause) from None
                        return DeliveryResult(envelope, Outcome.DEFERRED, _(
                            "reconnexion au serveur impossible ({detail}) ; message à "
                            "reprendre.").format(detail=_describe(exc.cause)),
                            code=getattr(exc.cause, "code", None))
                return await self._send_on(slot, envelope, before_content)
            finally:
                if slot is not None:
                    free.put_nowait(slot)

    async def close(self) -> None:
        """Say QUIT on every open connection; never raises."""
        for slot in self._slots:
            client, slot.client = slot.client, None
            if client is None:
                continue
            try:
                if client.is_connected:
                    await asyncio.wait_for(client.quit(), timeout=min(self.config.delai, 5.0))
            except (aiosmtplib.SMTPException, OSError):  # TimeoutError is an OSError
                pass
            finally:
                client.close()
        self._free = None
        self._live = len(self._slots)
        self._failures = 0

    # -- one message ---------------------------------------------------------------------

    async def _send_on(self, slot: _Slot, envelope: Envelope,
                       before_content: Callable[[], Any] | None = None) -> DeliveryResult:
        client = slot.client
        assert client is not None
        options = []
        if not (envelope.sender + envelope.recipient).isascii():
            options.append("SMTPUTF8")   # refused below if the server can't take it
        if not envelope.message.isascii() and client.supports_extension("8bitmime"):
            options.append("BODY=8BITMIME")
        try:
            reply = await run_transaction(client, envelope, options, before_content)
        except HookFailed as exc:
            self._drop(slot)   # in DATA mode with no content: the server delivers nothing
            raise exc.cause from None
        except aiosmtplib.SMTPRecipientRefused as exc:
            result = answered(envelope, exc.code, exc.message)
        except aiosmtplib.SMTPSenderRefused as exc:
            if exc.code >= 500 and exc.code != 552:  # 552 at MAIL FROM: this message too big
                self._drop(slot)
                raise self._sender_error(envelope, exc) from None
            result = answered(envelope, exc.code, exc.message)
        except aiosmtplib.SMTPResponseException as exc:
            result = answered(envelope, exc.code, exc.message)
        except OSError as exc:
            # SMTPServerDisconnected, timeouts, resets and TLS errors are all OSError
            self._drop(slot)
            return DeliveryResult(envelope, Outcome.DEFERRED, _(
                "connexion perdue pendant l'envoi ({detail}) ; message à reprendre.").format(
                detail=_describe(exc)))
        except (aiosmtplib.SMTPException, ValueError) as exc:
            # an address that can't be sent as it is (SMTPUTF8 missing, forbidden characters)
            result = DeliveryResult(envelope, Outcome.FAILED, _(
                "adresse impossible à envoyer telle quelle ({detail}).").format(
                detail=_describe(exc)))
        except BaseException:
            self._drop(slot)   # cancelled in the middle of a command: the session is unusable
            raise
        else:
            self._failures = 0
            return DeliveryResult(envelope, Outcome.SENT, reply, code=250)
        if not client.is_connected:  # a 421, or the reset after a refusal, closed it
            self._drop(slot)
        return result

    @staticmethod
    def _drop(slot: _Slot) -> None:
        client, slot.client = slot.client, None
        if client is not None:
            client.close()

    # -- connections ---------------------------------------------------------------------

    def _client(self) -> aiosmtplib.SMTP:
        c = self.config
        return aiosmtplib.SMTP(
            hostname=c.hote, port=c.port, username=c.utilisateur, password=c.mot_de_passe,
            use_tls=c.securite == "tls", start_tls=c.securite == "starttls",
            timeout=c.delai, tls_context=self.tls_context)

    async def _connect(self, slot: _Slot) -> None:
        """Open the slot's connection; ``DeliveryError`` if the settings can never work."""
        client = self._client()
        try:
            await client.connect()
            if client.is_ehlo_or_helo_needed:  # learn the extensions now (8BITMIME, SMTPUTF8)
                try:
                    await client.ehlo()
                except aiosmtplib.SMTPHeloError:
                    await client.helo()
        except BaseException as exc:
            client.close()
            problem = self._connect_problem(exc)
            if problem is None:
                raise
            raise problem from None
        slot.client = client
        self._failures = 0

    def _connect_problem(self, exc: BaseException) -> DeliveryError | _Unreachable | None:
        """Sort a connection failure: for good (``DeliveryError``) or perhaps passing."""
        c = self.config
        cert = cause_of_kind(exc, ssl.SSLCertVerificationError)
        if cert is not None:
            return DeliveryError(
                _("le certificat TLS du serveur {host} n'a pas pu être vérifié ({detail}).")
                .format(host=c.address, detail=getattr(cert, "verify_message", None) or cert),
                where="[smtp] hote",
                fix=_("Vérifiez que [smtp] hote est le nom exact du serveur, celui de son "
                      "certificat. Un certificat expiré ou autosigné doit être corrigé du côté "
                      "du serveur. Rien n'a été envoyé par cette connexion."))
        if isinstance(exc, aiosmtplib.SMTPAuthenticationError) and exc.code >= 500:
            return DeliveryError(
                _("le serveur {host} refuse l'identification de « {user} » ({code} {detail}).")
                .format(host=c.address, user=c.utilisateur, code=exc.code, detail=exc.message),
                where="[smtp] utilisateur",
                fix=_("Vérifiez [smtp] utilisateur dans infolettre.toml et le mot de passe "
                      "dans la variable d'environnement {env}, puis relancez l'envoi.")
                .format(env=ENV_PASSWORD))
        tls = cause_of_kind(exc, ssl.SSLError)
        if tls is not None:
            return DeliveryError(
                _("la connexion chiffrée avec {host} a échoué ({detail}).").format(
                    host=c.address, detail=tls),
                where="[smtp] securite",
                fix=_("Vérifiez [smtp] securite et port : « tls » va d'habitude avec le port "
                      "465, « starttls » avec le port 587."))
        if isinstance(exc, aiosmtplib.SMTPResponseException):
            if exc.code >= 500:
                return DeliveryError(
                    _("le serveur {host} refuse la session ({code} {detail}).").format(
                        host=c.address, code=exc.code, detail=exc.message),
                    where="[smtp]",
                    fix=_("Vérifiez auprès de l'administrateur du serveur que cette machine a "
                          "le droit d'envoyer, puis relancez l'envoi."))
            return _Unreachable(exc)
        if isinstance(exc, OSError):
            return _Unreachable(exc)
        if isinstance(exc, aiosmtplib.SMTPException):   # STARTTLS or AUTH not offered
            return DeliveryError(
                _("le serveur {host} ne permet pas la connexion demandée ({detail}).").format(
                    host=c.address, detail=exc),
                where="[smtp] securite",
                fix=_("Vérifiez [smtp] securite (starttls, tls ou aucune) et utilisateur : le "
                      "serveur n'offre pas ce que la configuration demande."))
        return None

    def _unreachable_error(self, cause: BaseException) -> DeliveryError:
        c = self.config
        return DeliveryError(
            _("impossible de joindre le serveur SMTP {host} ({detail}).").format(
                host=c.address, detail=_describe(cause)),
            where="[smtp] hote",
            fix=_("Vérifiez [smtp] hote et port dans infolettre.toml, que le serveur est en "
                  "marche et que le réseau le permet, puis relancez l'envoi. Rien n'a été "
                  "envoyé."))

    def _gone_error(self, cause: BaseException) -> DeliveryError:
        c = self.config
        return DeliveryError(
            _("le serveur SMTP {host} ne répond plus ({detail}).").format(
                host=c.address, detail=_describe(cause)),
            where="[smtp] hote",
            fix=_("L'envoi est interrompu. Vérifiez que le serveur est en marche, puis "
                  "relancez l'envoi pour les messages reportés."))

    def _sender_error(self, envelope: Envelope,
                      exc: aiosmtplib.SMTPSenderRefused) -> DeliveryError:
        return DeliveryError(
            _("le serveur {host} refuse l'expéditeur {sender} ({code} {detail}).").format(
                host=self.config.address, sender=envelope.sender, code=exc.code,
                detail=exc.message),
            where="[infolettre] expediteur" if "+" not in envelope.sender else "[rebonds]",
            fix=(_("Le serveur doit permettre d'envoyer avec cette adresse : vérifiez "
                   "[infolettre] expediteur et le compte [smtp] utilisateur, puis relancez "
                   "l'envoi.") if "+" not in envelope.sender else _(
                "Avec [rebonds], chaque message part avec l'expéditeur d'enveloppe "
                "rebonds+…@domaine : le serveur doit l'accepter pour le compte [smtp] "
                "utilisateur (demandez-le à votre fournisseur), sinon retirez la table "
                "[rebonds] ; puis relancez l'envoi.")))


def _describe(exc: BaseException) -> str:
    """A short reason for a person: the OS's words for a refused connection, else the text."""
    os_error = cause_of_kind(exc, ConnectionRefusedError)
    if os_error is not None:
        return _("connexion refusée")
    if cause_of_kind(exc, TimeoutError) is not None:
        return _("délai dépassé")
    return str(exc) or type(exc).__name__
