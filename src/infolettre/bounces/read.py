"""Reading one message of the bounce mailbox: a delivery status notification first (it is
authoritative, even when it also says « Auto-Submitted: auto-generated »), then an
auto-reply, then a non-standard bounce; anything else is « À vérifier ». Pure and total:
any message, however broken or hostile, gives a Reading."""

from __future__ import annotations

from email.message import Message

from ..i18n import _
from .autoreply import autoreply_reason, looks_like_failure
from .delivered import delivered_to
from .dsn import MAX_FAILURES, read_status_part, status_parts
from .fallback import read_plain_bounce
from .model import Failure, Nature, Reading
from .text import clean
from .words import bounce_text, sharpen


def read_bounce(message: Message) -> Reading:
    """What the message says: its nature, its failed recipients, where it was delivered."""
    try:
        return _read(message)
    except Exception as error:  # noqa: BLE001 - hostile input never stops the mailbox run
        try:
            addresses = delivered_to(message)
        except Exception:  # noqa: BLE001
            addresses = ()
        return Reading(nature=Nature.UNKNOWN, delivered_to=addresses,
                       reason=_("message illisible (%(erreur)s)")
                       % {"erreur": type(error).__name__},
                       notes=[clean(f"{type(error).__name__}: {error}", 200)])


def _read(message: Message) -> Reading:
    addresses = delivered_to(message)
    notes: list[str] = []
    parts = status_parts(message)
    if parts:
        failures: list[Failure] = []
        listed = 0
        for part in parts[:20]:
            found, count = read_status_part(part, notes)
            listed += count
            failures.extend(found[: MAX_FAILURES - len(failures)])
        if len(parts) > 1:
            notes.append(_("%(nombre)d parties delivery-status (rapports imbriqués)")
                         % {"nombre": len(parts)})
        if failures:
            failures = sharpen(failures, bounce_text(message))
            return Reading(nature=Nature.BOUNCE, failures=tuple(failures),
                           delivered_to=addresses, notes=notes)
        if listed:
            return Reading(nature=Nature.UNKNOWN, delivered_to=addresses, notes=notes,
                           reason=_("avis de remise sans échec (livré, relayé ou étendu)"))
        notes.append(_("partie delivery-status sans destinataire lisible"))
    reason = autoreply_reason(message)
    if reason and not looks_like_failure(message):
        return Reading(nature=Nature.AUTOREPLY, delivered_to=addresses, reason=reason,
                       notes=notes)
    failures = read_plain_bounce(message, notes)
    if failures:
        return Reading(nature=Nature.BOUNCE, failures=tuple(failures),
                       delivered_to=addresses, notes=notes)
    if reason:
        return Reading(nature=Nature.AUTOREPLY, delivered_to=addresses, reason=reason,
                       notes=notes)
    return Reading(nature=Nature.UNKNOWN, delivered_to=addresses, notes=notes,
                   reason=_("ni rapport de non-remise reconnu ni réponse automatique"))
