"""What the mail intake did: each message's result, and the French report of a run.

Each message counts under exactly one heading (an item, a duplicate, automatic mail set
aside, or « à vérifier »), so the counts add up to the messages read; items held for review,
dates already past when the issue comes out and acknowledgments that failed are told too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..i18n import _
from ..mailbox import Handled
from .late import LateDate


@dataclass(frozen=True)
class IntakeResult:
    """What became of one message: an item, a rejection, a duplicate or a failure."""

    kind: str  # "item" | "rejected" | "duplicate" | "failed"
    path: Path | None
    reason: str
    message_id: str
    source: str = ""
    held: bool = False  # an item written « retenu » (unknown or unauthenticated sender)
    for_person: bool = False  # failed, or rejected for a reason a person should look at
    titre: str = ""  # the item's title (for the acknowledgment)
    ack_sent: bool = False  # an acknowledgment went to the sender (``acknowledge``)
    ack_problem: str = ""  # the acknowledgment failed: the item is written all the same
    #: Dates of the item past when its issue comes out: told in the report and to the
    #: sender, besides the note in the item.
    late: tuple[LateDate, ...] = ()

    @property
    def filed_for_review(self) -> bool:
        """Tell whether the message goes to « À vérifier » rather than « Traité »."""
        return self.kind == "failed" or self.for_person

    @property
    def category(self) -> str:
        """Return the one heading of the report this message counts under.

        « item », « duplicate », « automatic » (rejected, nobody to tell) or « review »
        (failed, or rejected for a reason a person should look at): each message in exactly
        one, so the counts add up to the messages read.
        """
        if self.filed_for_review:
            return "review"
        return "automatic" if self.kind == "rejected" else self.kind


Progress = Callable[[IntakeResult], None]


@dataclass
class IntakeReport:
    """What a run did: the results, counted; the failures listed for the pivot."""

    results: list[IntakeResult] = field(default_factory=list)

    def record(self, result: IntakeResult) -> None:
        """Add one message's result (usable as the ``progress`` callback of a source)."""
        self.results.append(result)

    def add(self, handled: Handled[IntakeResult], result: IntakeResult) -> None:
        """Add one message the mailbox runner handled (``result``: its own, or why it was
        left where it was)."""
        self.record(result)

    def count(self, kind: str) -> int:
        return sum(r.kind == kind for r in self.results)

    @property
    def to_review(self) -> list[IntakeResult]:
        return [r for r in self.results if r.filed_for_review]

    @property
    def ack_problems(self) -> list[IntakeResult]:
        """Items written whose acknowledgment could not be sent (to tell the pivot)."""
        return [r for r in self.results if r.ack_problem]

    def in_category(self, category: str) -> int:
        return sum(r.category == category for r in self.results)

    def summary(self) -> str:
        """Say the counts in one French sentence (they add up to the messages read)."""
        return _("Courriels lus : {read} ; {items} nouvelle(s) écrite(s) (dont {held} "
                 "retenue(s) pour la relecture), {dup} déjà traité(s), {auto} message(s) "
                 "automatique(s) écarté(s), {review} à vérifier.").format(
            read=len(self.results), items=self.in_category("item"),
            held=sum(r.held for r in self.results), dup=self.in_category("duplicate"),
            auto=self.in_category("automatic"), review=self.in_category("review")) \
            + self._late_summary() + self._ack_summary()

    def _late_summary(self) -> str:
        text = ""
        for result in self.results:
            for late in result.late:
                text += _(" À vérifier : pour « {titre} » ({file}), {late}.").format(
                    titre=result.titre, late=late.fact(),
                    file=f"{result.path.parent.name}/{result.path.name}" if result.path else "?")
        return text

    def _ack_summary(self) -> str:
        sent, failed = sum(r.ack_sent for r in self.results), self.ack_problems
        text = f" Accusés de réception envoyés : {sent}." if sent else ""
        for result in failed:
            text += (f" Accusé de réception en échec pour {result.source} (nouvelle bien "
                     f"écrite) : {result.ack_problem}")
        return text
