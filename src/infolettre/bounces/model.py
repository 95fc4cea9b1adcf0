"""What a message in the bounce mailbox says: the contract between reading and deciding.

``bounces.read_bounce`` reads one message of the ``[rebonds]`` mailbox (a delivery status
notification, RFC 3464, or a non-standard bounce, or an auto-reply, or anything else) into
a ``Reading``; the pipeline then finds the recipient through the VERP address (never from
the text alone), applies the rules per issue and records the result. Reading is pure:
nothing here touches the mailbox, the ledger or the clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Kind(str, Enum):
    """How a failed recipient counts (the word is what the pivot reads in lists and CSV)."""

    HARD = "definitif"     # 5.x.x (not 5.7.x): the address is dead; one suspends it
    SOFT = "temporaire"    # 4.x.x, or a delayed delivery: counted per issue, 3 in a row
    REVIEW = "a-verifier"  # 5.7.x (policy, spam) or unknown status: shown, never counted


class Nature(str, Enum):
    """What the whole message is."""

    BOUNCE = "rebond"          # a delivery report with at least one failed recipient
    AUTOREPLY = "reponse-auto" # vacation, out of office, auto-submitted: ignored
    UNKNOWN = "inconnu"        # not recognized: goes to « À vérifier », nothing counted


@dataclass(frozen=True)
class Failure:
    """One recipient a report says failed (or was delayed)."""

    recipient: str | None   # Final-Recipient / Original-Recipient, lower-cased; None if absent
    status: str | None      # enhanced status code « 5.1.1 », None when the report has none
    kind: Kind
    action: str | None = None       # « failed », « delayed »… (RFC 3464), when given
    diagnostic: str = ""            # the server's words (Diagnostic-Code or the text), ≤ 500
    remote_mta: str | None = None


@dataclass(frozen=True)
class Reading:
    """One message of the bounce mailbox, read."""

    nature: Nature
    failures: tuple[Failure, ...] = ()
    #: Every address the message was delivered to (To, Delivered-To, X-Original-To,
    #: Envelope-To, X-Envelope-To), lower-cased: the VERP address is among them.
    delivered_to: tuple[str, ...] = ()
    reason: str = ""  # why UNKNOWN or AUTOREPLY, in French, for « À vérifier » and the logs
    notes: list[str] = field(default_factory=list)
