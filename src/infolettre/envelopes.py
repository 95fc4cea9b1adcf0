"""What any sender takes and gives back: the envelope of one message, and its fate.

A base module, not the deliver stage: the issue's delivery (``deliver``) and the replies
to emailed submissions (``gather.acknowledge``) hand envelopes to the same kind of
``Sender`` (an outbox folder, an SMTP relay) and read the same ``DeliveryResult``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Protocol


class Outcome(str, Enum):
    """What happened to one message; the ledger of later issues stores the same values."""

    SENT = "envoye"          # accepted by the server, or written to the outbox
    SKIPPED = "deja-fait"    # this recipient already has this edition: not sent again
    DEFERRED = "reporte"     # temporary failure (4xx, dropped connection): retry later
    FAILED = "echec"         # permanent failure (5xx): a person must look at it
    UNCERTAIN = "incertain"  # handed to the server by a run killed before its answer:
                             # not sent again until a person releases it (ledger)


@dataclass(frozen=True)
class Envelope:
    """One message ready to go, with what the ledger needs to record it."""

    sender: str          # envelope sender (MAIL FROM), the bare address of ``expediteur``
    recipient: str       # envelope recipient (RCPT TO)
    #: Complete RFC 5322 message, wire-ready: CRLF line ends only, and no line starting
    #: with "." (``message.encode_qp`` writes such a dot ``=2E``), so SMTP sends it without
    #: rewriting it. ``SmtpSender`` checks cheaply and fixes anything else, more slowly.
    message: bytes
    month: str           # issue, "YYYY-MM"
    edition: str         # edition slug (a territory or ``models.COMPLETE``)
    message_id: str


@dataclass(frozen=True)
class DeliveryResult:
    """The fate of one envelope, as reported by a sender."""

    envelope: Envelope
    outcome: Outcome
    detail: str = ""         # file written, server reply, reason of a failure
    code: int | None = None  # SMTP reply code, when there is one


class Sender(Protocol):
    """Anything that can take messages away: the outbox folder, an SMTP relay.

    ``concurrency`` tells ``deliver_issue`` how many ``send`` calls may be in flight at once
    (1 for files; the number of SMTP connections). ``send`` must not raise for a single bad
    message: it returns a ``DeliveryResult`` saying so.

    ``before_content`` (optional to implement, and to pass): a callable, plain or async,
    that a sender calls once per message at the last moment nothing can be delivered yet —
    for SMTP, after the server's 354 and before the first byte of the content. If it raises,
    the sender writes no content and lets the exception through. The ledger uses it to
    commit « transmis ». A sender declares that its ``send`` takes it with the attribute
    ``before_content_hook = True`` (optional: absent means False); one without it is called
    without it, and the ledger then records each attempt before the call (lock-step:
    ``ledger/sender.py``). A sender that delivers whole or not at all (the outbox) may take
    the hook and never call it.
    """

    concurrency: int

    async def open(self) -> None: ...

    async def send(self, envelope: Envelope, *,
                   before_content: Callable[[], object] | None = None) -> DeliveryResult: ...

    async def close(self) -> None: ...


_UNSAFE = re.compile(r"[^a-z0-9.+-]")
_MAX_STEM = 120


def outbox_name(address: str) -> str:
    """Return a safe, unique file name for an address (``jean_at_example.org.eml``)."""
    lowered = address.strip().lower()
    local, at, domain = lowered.rpartition("@")
    clean = f"{local}_at_{domain}" if at else lowered
    clean = _UNSAFE.sub("_", clean).lstrip(".")[:_MAX_STEM]
    readable = f"{local}_at_{domain}"
    exact = at and clean == readable and "_" not in local + domain and "." in domain
    if not exact:
        digest = hashlib.sha256(lowered.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        clean = f"{clean}_h{digest}"
    return f"{clean}.eml"
