"""Deliver stage: a rendered issue and its recipients → one message per recipient, sent.

``run.deliver_issue`` chooses each recipient's edition, builds the message (``message``) and
hands it to a ``Sender``. Senders are interchangeable: ``outbox.OutboxSender`` writes ``.eml``
files (the default with no SMTP server); the SMTP sender plugs in beside it by implementing
the same three coroutines. A sender returns a ``DeliveryResult`` for every message it was
given and raises only when nothing more can be sent at all (disk full, server unreachable).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ..envelopes import DeliveryResult, Envelope, Outcome, Sender, outbox_name
from ..i18n import _

__all__ = ["DeliveryReport", "DeliveryResult", "Envelope", "Outcome", "Sender", "outbox_name"]


@dataclass
class DeliveryReport:
    """Counts of one delivery run, and the messages a person must look at."""

    month: str
    sent: int = 0
    skipped: int = 0
    paper_only: int = 0
    deferred: int = 0
    failed: int = 0
    uncertain: int = 0
    suspended: int = 0  # addresses skipped: suspended after bounces ([rebonds])
    by_edition: Counter[str] = field(default_factory=Counter)
    problems: list[DeliveryResult] = field(default_factory=list)

    def record(self, result: DeliveryResult) -> None:
        """Count one result; keep deferred and failed ones for the final report."""
        outcome = result.outcome
        if outcome is Outcome.SENT:
            self.sent += 1
            self.by_edition[result.envelope.edition] += 1
        elif outcome is Outcome.SKIPPED:
            self.skipped += 1
        else:
            self.problems.append(result)
            if outcome is Outcome.DEFERRED:
                self.deferred += 1
            elif outcome is Outcome.UNCERTAIN:
                self.uncertain += 1
            else:
                self.failed += 1

    @property
    def complete(self) -> bool:
        """Tell whether every email recipient now has the edition (nothing left to retry)."""
        return not self.problems

    def summary(self) -> str:
        """Say the counts in one French sentence, for the CLI and the logs."""
        text = _("{month} : envoyés {sent}, déjà faits {skipped}, papier seulement {paper}, "
                 "reportés {deferred}, échecs {failed}.").format(
            month=self.month, sent=self.sent, skipped=self.skipped, paper=self.paper_only,
            deferred=self.deferred, failed=self.failed)
        if self.uncertain:   # « reportés 0, échecs 0. » → « …, échecs 0, incertains 2. »
            text = text[:-1] + _(", incertains {n}.").format(n=self.uncertain)
        if self.suspended:   # « …, échecs 0. » → « …, échecs 0, adresses suspendues 3. »
            text = text[:-1] + _(", adresses suspendues {n}.").format(n=self.suspended)
        return text
