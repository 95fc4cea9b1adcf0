"""Fetch failures, worded in French for the pivot: what went wrong and what to do.

Every per-URL problem (timeout, refused connection, bad certificate, HTTP error status,
oversized or undecodable body) ends up as one sentence in ``Fetched.error``, shown by
``infolettre feeds`` and kept in the feed's state.
"""

from __future__ import annotations

import http
import socket
import ssl

import httpx

from ...errors import cause_of_kind
from ...i18n import _
from .model import FetchPolicy


class FetchError(Exception):
    """A per-request failure already worded in French for the pivot."""

    def __init__(self, message: str, http_status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status


class TotalTimeout(Exception):
    """The request's total time budget is spent (``policy.total_timeout``)."""


def status_hint(code: int) -> str:
    """What a common HTTP error means for the person watching the feeds ("" if none)."""
    if code == 401:
        return _("accès refusé (le site demande une connexion)")
    if code == 403:
        return _("accès refusé")
    if code == 404:
        return _("adresse introuvable : le flux a peut-être déménagé")
    if code == 410:
        return _("flux supprimé")
    if code in (429, 503):
        return _("serveur surchargé, nouvel essai au prochain passage")
    if 500 <= code < 600:
        return _("erreur du côté du site, nouvel essai au prochain passage")
    return ""


def status_message(code: int, reason: str) -> str:
    """« le serveur a répondu 404 (Not Found) : adresse introuvable… »."""
    if not reason:
        try:
            reason = http.HTTPStatus(code).phrase
        except ValueError:
            reason = "?"
    message = _("le serveur a répondu {code} ({raison})").format(code=code, raison=reason)
    hint = status_hint(code)
    return f"{message} : {hint}" if hint else message


def describe(exc: BaseException, policy: FetchPolicy) -> str:
    """A French sentence for the pivot saying what went wrong with ``exc``."""
    if isinstance(exc, TotalTimeout):
        return _("le serveur n'a pas fini de répondre en {s} s").format(
            s=seconds_text(policy.total_timeout))
    if isinstance(exc, httpx.ConnectTimeout):
        return _("serveur injoignable : pas de connexion après {s} s").format(
            s=seconds_text(policy.connect_timeout))
    if isinstance(exc, httpx.ReadTimeout):
        return _("le serveur a cessé de répondre (rien reçu pendant {s} s)").format(
            s=seconds_text(policy.read_timeout))
    if isinstance(exc, httpx.TimeoutException):
        return _("délai dépassé en parlant au serveur ({type})").format(
            type=type(exc).__name__)
    tls = cause_of_kind(exc, ssl.SSLError)
    if tls is not None:
        return _tls_message(tls)
    if isinstance(exc, httpx.ConnectError | ConnectionRefusedError):
        return _connect_message(exc)
    if isinstance(exc, httpx.RemoteProtocolError):
        return _("le serveur a coupé la connexion sans répondre correctement")
    if isinstance(exc, httpx.ReadError | httpx.WriteError):
        return _("la connexion a été interrompue en cours de route")
    if isinstance(exc, httpx.DecodingError):
        return _("réponse compressée illisible")
    if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return _("adresse invalide : {detail}").format(detail=exc)
    if isinstance(exc, httpx.HTTPError | OSError):
        return _("erreur réseau ({type}) : {detail}").format(
            type=type(exc).__name__, detail=exc)
    return _("erreur inattendue ({type}) : {detail}").format(
        type=type(exc).__name__, detail=exc)


def _connect_message(exc: BaseException) -> str:
    if cause_of_kind(exc, socket.gaierror) is not None or "Name or service" in str(exc):
        return _("serveur injoignable : nom de site introuvable (adresse mal tapée ou "
                 "site fermé ?)")
    return _("serveur injoignable (connexion refusée ou impossible)")


def _tls_message(exc: ssl.SSLError) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError) or "CERTIFICATE" in str(exc).upper():
        return _("certificat du site invalide ou expiré : connexion sécurisée refusée")
    return _("la connexion sécurisée (https) avec le site a échoué")


def seconds_text(value: float) -> str:
    """``60`` → « 60 », ``0.5`` → « 0,5 » (French decimal comma)."""
    return f"{value:g}".replace(".", ",")


def size_text(size: int) -> str:
    """``5 * 1024 * 1024`` → « 5 Mo », ``1536`` → « 1,5 Ko »."""
    for unit, factor in (("Mo", 1024 * 1024), ("Ko", 1024)):
        if size >= factor:
            return "{} {}".format(f"{size / factor:.1f}".rstrip("0").rstrip(".")
                                  .replace(".", ","), _(unit))
    return _("{n} octets").format(n=size)
