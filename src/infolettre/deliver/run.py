"""One delivery run: each recipient gets their territory's edition, through any ``Sender``.

Recipients are consumed as a stream and messages are built one at a time, just before they
are sent, so memory stays flat whatever the size of the list. Each edition's message is
encoded once (``EditionMessage``) and only personalized per recipient.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

from ..clock import SYSTEM_CLOCK, Clock
from ..errors import DeliveryError
from ..i18n import _
from ..models import COMPLETE, Placeholders, Recipient, RenderedEdition, RenderedIssue
from ..settings import Settings
from . import DeliveryReport, DeliveryResult, Envelope, Sender
from .message import EditionMessage, Unsubscriber

Progress = Callable[[DeliveryResult], None]
#: The envelope sender (MAIL FROM) of a recipient's message for an issue: VERP with
#: ``[rebonds]`` (``senders.verp_sender``); the header From never changes.
EnvelopeSender = Callable[[str, str], str]


class MessageFactory:
    """Build each edition's message on first use, then personalize it per recipient."""

    def __init__(self, rendered: RenderedIssue, settings: Settings,
                 placeholders: Placeholders, unsubscriber: Unsubscriber | None, *,
                 clock: Clock = SYSTEM_CLOCK,
                 envelope_sender: EnvelopeSender | None = None):
        self.clock = clock
        self.envelope_sender = envelope_sender
        self.month = rendered.issue.month
        self.issue = rendered.issue
        self.editions = {e.slug: e for e in rendered.editions}
        if COMPLETE not in self.editions:  # checked before anything is sent
            raise DeliveryError(
                _("le numéro {month} n'a pas d'édition complète.").format(month=self.month),
                where=self.month,
                fix=_("Relancez « infolettre build {month} » avant l'envoi.").format(
                    month=self.month))
        self.settings = settings
        self.placeholders = placeholders
        self.unsubscriber = unsubscriber
        self.cache: dict[str, EditionMessage] = {}

    def edition_for(self, recipient: Recipient) -> RenderedEdition:
        """Pick the recipient's edition by organize's rule (``Issue.edition_slug_for``)."""
        slug = self.issue.edition_slug_for(recipient)
        return self.editions.get(slug) or self.editions[COMPLETE]

    def envelope(self, recipient: Recipient, now: datetime | None = None) -> Envelope:
        """Return the recipient's envelope, with a fresh Message-ID."""
        edition = self.edition_for(recipient)
        message = self.cache.get(edition.slug)
        if message is None:
            message = self.cache[edition.slug] = EditionMessage(
                edition, self.placeholders, self.settings, self.month,
                unsubscriber=self.unsubscriber, clock=self.clock)
        personal = message.personalize(recipient, now=now)
        sender = (self.envelope_sender(recipient.email, self.month) if self.envelope_sender
                  else self.settings.identity.sender_address)
        return Envelope(sender=sender, recipient=recipient.email,
                        message=personal.data, month=self.month, edition=edition.slug,
                        message_id=personal.message_id)


def _envelopes(recipients: Iterable[Recipient], factory: MessageFactory,
               report: DeliveryReport) -> Iterator[Envelope]:
    """Yield an envelope per email recipient; count the paper-only ones as they pass."""
    for recipient in recipients:
        if recipient.wants_email:
            yield factory.envelope(recipient)
        else:
            report.paper_only += 1


async def deliver_issue_async(rendered: RenderedIssue, recipients: Iterable[Recipient],
                              sender: Sender, settings: Settings,
                              placeholders: Placeholders | None = None, *,
                              unsubscriber: Unsubscriber | None = None,
                              progress: Progress | None = None,
                              clock: Clock = SYSTEM_CLOCK,
                              envelope_sender: EnvelopeSender | None = None) -> DeliveryReport:
    """Send the issue to every email recipient with ``sender.concurrency`` sends in flight.

    The workers share one lazy stream of envelopes: a message is built only when a worker
    is free to send it. An exception from the sender stops the run (it means nothing more
    can be sent); per-message failures come back as results and are counted.
    """
    report = DeliveryReport(month=rendered.issue.month)
    factory = MessageFactory(rendered, settings, placeholders or rendered.placeholders,
                             unsubscriber, clock=clock, envelope_sender=envelope_sender)
    stream = _envelopes(recipients, factory, report)

    async def worker() -> None:
        for envelope in stream:
            result = await sender.send(envelope)
            report.record(result)
            if progress:
                progress(result)

    await sender.open()
    try:
        await _run_all([worker() for _n in range(max(1, sender.concurrency))])
    finally:
        await sender.close()
    return report


async def _run_all(coroutines: list) -> None:
    """Run the workers; on the first error cancel the others and raise it as it is.

    (``asyncio.TaskGroup`` would wrap it in an ``ExceptionGroup``, which the CLI's single
    ``except InfolettreError`` would not catch.)
    """
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def deliver_issue(rendered: RenderedIssue, recipients: Iterable[Recipient], sender: Sender,
                  settings: Settings, placeholders: Placeholders | None = None, *,
                  unsubscriber: Unsubscriber | None = None,
                  progress: Progress | None = None,
                  clock: Clock = SYSTEM_CLOCK,
                  envelope_sender: EnvelopeSender | None = None) -> DeliveryReport:
    """Run ``deliver_issue_async`` to completion, for the CLI and other synchronous callers."""
    return asyncio.run(deliver_issue_async(
        rendered, recipients, sender, settings, placeholders,
        unsubscriber=unsubscriber, progress=progress, clock=clock,
        envelope_sender=envelope_sender))
