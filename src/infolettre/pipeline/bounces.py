"""Read the bounce mailbox (``infolettre rebonds``, the scheduler's daily « rebonds »).

Each message of the ``[rebonds]`` mailbox goes through the one mailbox runner
(``infolettre.mailbox``) with ``BounceHandler``:

- read (``bounces.read_bounce``): an auto-reply (vacation, out of office) is filed as done
  and counted, never recorded; what is not recognized goes to « À vérifier » with the reason;
- a bounce names its recipient only through its VERP address (``infolettre.verp``): the
  month in clear, the token checked against the recipients of that issue in the ledger.
  No VERP address (a bounce of a message sent before ``[rebonds]``), or a token that
  matches nobody (forged, altered, another secret): « À vérifier », nothing counted —
  never a guess from the bounce's text;
- the failure is recorded for that recipient and issue (``state.bounces``): the one the
  report gives for that address, else the most severe when it lists others.

Then, under the same lock: the ledger's own 5xx answers are recorded too (5.7.x « à
vérifier »), the rules (``bounces.counting``) run again over each address with a counted
record, and records older than ``conservation_jours`` are deleted. Nothing else in the
mailbox is touched beyond what the runner does (done → « Traité », else « À vérifier »).
"""

from __future__ import annotations

import hashlib
import os
import re
import sqlite3
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.parser import BytesHeaderParser
from email.policy import compat32
from pathlib import Path

from .. import verp
from ..bounces import read_bounce
from ..bounces.counting import HARD, decide
from ..bounces.model import Failure, Kind, Nature
from ..calendar.steps import Occurrence
from ..clock import SYSTEM_CLOCK, Clock
from ..errors import InfolettreError
from ..i18n import _
from ..mailbox import Handled, MaildirFolder, Message, each_message
from ..mailbox.limits import parse
from ..mailbox.imap import ENV_PASSWORD as IMAP_PASSWORD
from ..mailbox.imap import ImapError, ImapFolder, connect, login, logout
from ..settings import Settings
from ..settings.bounces import ENV_PASSWORD, Bounces
from ..state import component_version, connect as connect_state, state_file
from ..state.bounces import BounceRecord, BounceStore
from ..state.runlock import lock_data_dir
from ..state.secret import load_secret
from ..state.steps import OK, StepStore
from . import notices

SEVERITY = {Kind.HARD: 3, Kind.SOFT: 2, Kind.REVIEW: 1}
_ENHANCED = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")


@dataclass(frozen=True)
class BounceResult:
    """What one message of the mailbox was: its nature, the recipient named, why for review."""

    nature: str                       # rebond | reponse-auto | inconnu | faux
    email: str | None = None
    month: str | None = None
    kind: str | None = None
    reason: str = ""
    new: bool = False

    @property
    def filed_for_review(self) -> bool:
        return self.nature not in (Nature.BOUNCE.value, Nature.AUTOREPLY.value)


@dataclass
class BounceReport:
    """What ``process_bounces`` did, in counts, and the messages left for a person."""

    recorded: int = 0            # bounce records added from the mailbox
    from_ledger: int = 0         # 5xx answers of the ledger recorded
    autoreplies: int = 0
    forged: int = 0              # a VERP token that matches nobody
    purged: int = 0              # records deleted by retention
    suspended: list[str] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)  # suspended now: the server's words
    to_review: list[tuple[str, str]] = field(default_factory=list)  # (label, reason)
    left: list[tuple[str, str]] = field(default_factory=list)       # (label, problem)

    def add(self, handled: Handled[BounceResult]) -> None:
        result = handled.result
        if result is None:
            self.left.append((handled.label, handled.problem))
            return
        if result.filed_for_review:
            self.to_review.append((handled.label, result.reason))
            self.forged += result.nature == "faux"
        elif result.nature == Nature.AUTOREPLY.value:
            self.autoreplies += 1
        else:
            self.recorded += result.new

    def summary(self) -> str:
        """Say the counts in one French sentence."""
        text = _("Rebonds : {recorded} enregistré(s) (et {ledger} refus du registre des "
                 "envois), {suspended} adresse(s) suspendue(s), {auto} réponse(s) automatique(s) "
                 "ignorée(s), {review} message(s) à vérifier (dont {forged} jeton(s) invalide(s)),"
                 " {purged} rebond(s) ancien(s) effacé(s).").format(
            recorded=self.recorded, ledger=self.from_ledger, suspended=len(self.suspended),
            auto=self.autoreplies, review=len(self.to_review), forged=self.forged,
            purged=self.purged)
        if self.left:
            text += " " + _("{n} message(s) laissé(s) dans la boîte, à reprendre au prochain "
                            "relevé.").format(n=len(self.left))
        return text


class BounceHandler:
    """The bounce mailbox as a handler of the mailbox runner (module docstring)."""

    archive_to = None  # the record keeps what matters (and is deleted on time: Law 25)

    def __init__(self, store: BounceStore, secret: bytes, config: Bounces, clock: Clock):
        self.store, self.secret, self.config, self.clock = store, secret, config, clock
        self._tokens: dict[str, list[tuple[str, str]]] = {}

    def take(self, message: Message) -> BounceResult:
        reading = read_bounce(parse(message.raw))  # measured before (mailbox.screen)
        if reading.nature is Nature.AUTOREPLY:
            return BounceResult(Nature.AUTOREPLY.value, reason=reading.reason)
        if reading.nature is not Nature.BOUNCE or not reading.failures:
            return BounceResult(Nature.UNKNOWN.value, reason=reading.reason or _(
                "message non reconnu comme un rebond ; rien n'a été compté."))
        parsed = verp.find(reading.delivered_to, self.config.adresse, self.config.domaine)
        if parsed is None:
            return BounceResult(Nature.UNKNOWN.value, reason=_(
                "rebond sans adresse de retour {local}+…@{domain} (message envoyé avant les "
                "rebonds, ou relayé) : la personne n'est pas devinée d'après le texte ; "
                "vérifiez-le et, au besoin, « infolettre suspendre ADRESSE ».").format(
                local=self.config.adresse, domain=self.config.domaine))
        email = verp.match_token(parsed.token, self.tokens(parsed.month))
        if email is None:
            return BounceResult("faux", month=parsed.month, reason=_(
                "jeton de retour invalide pour le numéro {month} (modifié, forgé ou signé avec "
                "un autre secret) : rien n'a été compté.").format(month=parsed.month))
        # The failure of the recipient the VERP address names, when the report names it
        # (a report may list others: an alias expanded, a copy); else the most severe.
        own = [f for f in reading.failures if f.recipient == email] or reading.failures
        failure = max(own, key=lambda f: SEVERITY[f.kind])
        new = self.store.record(BounceRecord(
            email, parsed.month, failure.kind.value, _key(message.raw), self.clock.now(),
            failure.status, _diagnostic(failure), "courriel"))
        return BounceResult(Nature.BOUNCE.value, email, parsed.month, failure.kind.value,
                            new=new)

    def refuse(self, message: Message, reason: str) -> BounceResult:
        return BounceResult(Nature.UNKNOWN.value, reason=reason)

    def tokens(self, month: str) -> list[tuple[str, str]]:
        """The VERP tokens of the recipients the ledger has for the issue ``month``
        (computed once per run and issue)."""
        if month not in self._tokens:
            self._tokens[month] = verp.tokens(self.secret, month, [row[0] for row in _ledger(
                self.store.conn, "SELECT DISTINCT email FROM livraisons WHERE month = ?",
                (month,))])
        return self._tokens[month]


def _diagnostic(failure: Failure) -> str:
    words = failure.diagnostic or failure.action or ""
    return (f"{failure.status} {words}" if failure.status and failure.status not in words
            else words).strip()[:500]


def _key(raw: bytes) -> str:
    """Return the bounce's Message-ID, or a digest of its bytes when it has none."""
    try:
        found = BytesHeaderParser(policy=compat32).parsebytes(raw).get("Message-ID")
    except Exception:  # noqa: BLE001 - a malformed header: the digest will do
        found = None
    text = str(found or "").strip()
    return text[:300] if text else "sha256:" + hashlib.sha256(raw).hexdigest()


def _ledger(conn: sqlite3.Connection, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
    """Read the delivery ledger's table (``livraisons``, same database), read-only; empty
    when nothing was ever sent."""
    if not component_version(conn, "ledger"):
        return []
    return conn.execute(sql, args).fetchall()


def process_bounces(settings: Settings, *, maildir: Path | None = None,
                    clock: Clock = SYSTEM_CLOCK,
                    progress: Callable[[Handled[BounceResult]], None] | None = None,
                    **imap_options) -> BounceReport:
    """Read the ``[rebonds]`` mailbox once (module docstring), under the data folder's lock.

    Its IMAP box when configured, else its Maildir; ``maildir`` is read instead of either.
    ``imap_options`` (``environ``, ``plain_loopback``, ``ssl_context``) are for tests.
    """
    config = bounce_settings(settings)
    if maildir is None and not config.has_mailbox:
        raise InfolettreError(_("aucune boîte de rebonds n'est configurée."), fix=_(
            "Ajoutez « maildir = … » ou « imap_hote = … » dans [rebonds] de infolettre.toml, "
            "ou donnez --maildir DOSSIER."))
    with lock_data_dir(settings.paths.donnees, "rebonds", tz=settings.identity.timezone,
                       clock=clock):
        secret = load_secret(settings.paths.donnees)
        with closing(connect_state(state_file(settings.paths.donnees))) as conn:
            store = BounceStore(conn, clock=clock)
            report = BounceReport()
            handler = BounceHandler(store, secret, config, clock)
            try:
                _read_mailbox(settings, config, maildir, handler, report, progress,
                              imap_options)
            finally:
                report.from_ledger = record_ledger_refusals(store, config, clock)
                report.reasons = apply_rules(store, config, clock)
                report.suspended = list(report.reasons)
                report.purged = store.purge(clock.now() - timedelta(
                    days=config.conservation_jours))
    return report


def _read_mailbox(settings, config, maildir, handler, report, progress, options) -> None:
    def each(source) -> None:
        for handled in each_message(source, handler):
            report.add(handled)
            if progress:
                progress(handled)

    if maildir is not None or not config.imap_hote:
        source = MaildirFolder(maildir or config.maildir, fix=_(
            "Indiquez le dossier Maildir de l'adresse des rebonds ([rebonds] maildir)."))
        try:
            each(source)
        finally:
            source.close()
        return
    environ = options.get("environ", os.environ)
    password = environ.get(ENV_PASSWORD) or environ.get(IMAP_PASSWORD)
    where = f"{config.imap_utilisateur}@{config.imap_hote}:{config.imap_port}"
    if not password:
        raise ImapError(_("le mot de passe de la boîte des rebonds est absent : la variable "
                          "{var} est vide ou non définie.").format(var=ENV_PASSWORD),
                        where=where, fix=_("Définissez {var} avant de lancer la commande.")
                        .format(var=ENV_PASSWORD))
    client = connect(config.imap_hote, config.imap_port, config.imap_securite, where,
                     plain_loopback=options.get("plain_loopback", False),
                     ssl_context=options.get("ssl_context"))
    try:
        login(client, config.imap_utilisateur, password, where)
        each(ImapFolder(client, where, config.imap_dossier, done=config.dossier_traite,
                        review=config.dossier_a_verifier))
    finally:
        logout(client)


def bounce_settings(settings: Settings) -> Bounces:
    """Return ``[rebonds]``, or say how to write it."""
    if settings.bounces is None:
        raise InfolettreError(_("la table [rebonds] est absente de la configuration : les "
                                "messages ne portent pas d'adresse de retour par personne."),
                              where=str(settings.source) if settings.source else None,
                              fix=_("Ajoutez la table [rebonds] (voir l'exemple commenté de "
                                    "infolettre.toml), puis envoyez le prochain numéro."))
    return settings.bounces


def record_ledger_refusals(store: BounceStore, config: Bounces, clock: Clock) -> int:
    """Record the 5xx answers of the ledger (« échec ») as hard bounces (5.7.x: « à
    vérifier »), once each, within the retention period; return how many are new."""
    since = (clock.now() - timedelta(days=config.conservation_jours)).astimezone(
        UTC).isoformat(timespec="seconds")
    rows = _ledger(store.conn, "SELECT month, email, edition, smtp_code, smtp_text, "
                   "last_attempt_at FROM livraisons WHERE state = 'echec' AND smtp_code "
                   "BETWEEN 500 AND 599 AND coalesce(last_attempt_at, '') >= ?", (since,))
    new = 0
    for row in rows:
        text = row["smtp_text"] or ""
        found = _ENHANCED.search(text)
        status = found.group(0) if found else None
        policy = found is not None and found.group(2) == "7"
        when = datetime.fromisoformat(row["last_attempt_at"]) if row["last_attempt_at"] \
            else clock.now()
        new += store.record(BounceRecord(
            row["email"], row["month"], (Kind.REVIEW if policy else Kind.HARD).value,
            f"registre:{row['month']}:{row['edition']}", when, status,
            f"{row['smtp_code']} {text}".strip(), "registre"))
    return new


def apply_rules(store: BounceStore, config: Bounces, clock: Clock) -> dict[str, str]:
    """Run the rules over every address with a counted record; return those suspended now,
    each with why (« définitif » or « temporaires », the issue, the server's words)."""
    emails = [r[0] for r in store.conn.execute(
        "SELECT DISTINCT courriel FROM rebonds WHERE statut = 'actif' AND genre != "
        "'a-verifier' ORDER BY courriel")]
    suspended: dict[str, str] = {}
    for email in emails:
        if store.is_suspended(email):
            continue
        delivered = [r[0] for r in _ledger(store.conn, "SELECT DISTINCT month FROM livraisons"
                                           " WHERE email = ? AND state = 'envoye'", (email,))]
        decision = decide(delivered, store.records(email=email, active=True),
                          config.temporaires_de_suite)
        if decision and store.suspend(email, decision.reason, decision.month,
                                      decision.diagnostic, clock.now()):
            suspended[email] = _("{kind}, numéro {month} : {words}").format(
                kind=_("rebond définitif") if decision.reason == HARD else _(
                    "rebonds temporaires à {n} numéros de suite").format(
                    n=config.temporaires_de_suite),
                month=decision.month, words=decision.diagnostic or "—")
    return suspended


def read_bounces_step(settings: Settings, occurrence: Occurrence, store: StepStore,
                      clock: Clock) -> tuple[str, str]:
    """The scheduler's daily « rebonds »: quiet when ``[rebonds]`` has no mailbox."""
    if settings.bounces is None or not settings.bounces.has_mailbox:
        return OK, _("aucune boîte de rebonds configurée : rien à lire.")
    report = process_bounces(settings, clock=clock)
    if report.suspended:  # told once, when it happens (the list stays in « suppressions »)
        lines = "\n".join(f"- {email} ({why})" for email, why in report.reasons.items())
        notices.deliver(settings, notices.for_pivot(settings, _(
            "[infolettre] {n} adresse(s) suspendue(s) après des rebonds").format(
            n=len(report.suspended)), _(
            "Ces adresses ne recevront plus l'infolettre, leur serveur ayant refusé les "
            "messages :\n\n{lines}\n\nLa liste complète, avec la réponse de chaque serveur : "
            "la page « Adresses suspendues » de {app}, ou « infolettre suppressions ». Si une "
            "personne a réglé le problème (boîte pleine vidée, nouvelle adresse corrigée), "
            "« Réactiver » (ou « infolettre reactiver ADRESSE ») la remet dans l'envoi.\n")
            .format(lines=lines, app=notices.app_link(settings, "/rebonds"))),
            clock)
    return OK, report.summary()
