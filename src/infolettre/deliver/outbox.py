"""The embedded default sender: one ``.eml`` file per recipient in ``outbox/<YYYY-MM>/``.

Like a file email backend, it lets the whole pipeline run with no mail server, and the
files open in any mail client. Writes are durable (temporary file in the same folder,
fsync, then an atomic link into place), and a file already present for a recipient is
never rewritten: running ``send`` again delivers nothing twice.

File names come from the address but can never escape the folder: every character outside
``[a-z0-9.+-]`` is replaced, and a name that had to be changed gets a hash of the address,
so two different addresses never share a file (one would otherwise be skipped as done).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..errors import DeliveryError
from ..fsutil import fsync_dir, write_durably
from ..i18n import _
from ..models import Month
from ..envelopes import DeliveryResult, Envelope, Outcome, outbox_name

class OutboxSender:
    """Write each message as a ``.eml`` file, once, durably (see the module docstring)."""

    concurrency = 1
    #: Takes ``before_content`` and never calls it: a file is whole or absent, so the ledger
    #: records the attempt with the verdict, one commit per message (``ledger/sender.py``).
    before_content_hook = True

    def __init__(self, root: Path, month: str):
        self.folder = Path(root) / Month(month)

    def path_for(self, address: str) -> Path:
        """Return where the message for ``address`` is (or will be) written."""
        return self.folder / outbox_name(address)

    async def open(self) -> None:
        """Create the month's folder, or say clearly why it cannot be."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise self._error(exc, self.folder) from None

    async def send(self, envelope: Envelope, *,
                   before_content: Callable[[], object] | None = None) -> DeliveryResult:
        """Write the message unless this recipient already has a file this month.

        ``before_content`` is accepted and ignored: a file is written whole or not at all,
        and one already there answers « already there », so the ledger needs no « transmis ».
        """
        target = self.path_for(envelope.recipient)
        if target.exists():
            return DeliveryResult(envelope, Outcome.SKIPPED, str(target))
        try:
            written = write_durably(target, lambda handle: handle.write(envelope.message),
                                    mode=0o600, no_clobber=True, sync_dir=False)
        except OSError as exc:
            raise self._error(exc, target) from None
        outcome = Outcome.SENT if written else Outcome.SKIPPED
        return DeliveryResult(envelope, outcome, str(target))

    async def close(self) -> None:
        """Flush the folder's entries, so the new files survive a power cut."""
        fsync_dir(self.folder)

    @staticmethod
    def _error(exc: OSError, where: Path) -> DeliveryError:
        return DeliveryError(
            _("impossible d'écrire dans la boîte d'envoi ({detail}).").format(
                detail=exc.strerror or exc),
            where=str(where),
            fix=_("Vérifiez que le dossier existe, qu'il est accessible en écriture et que le "
                  "disque n'est pas plein, ou changez [chemins] boite_envoi dans "
                  "infolettre.toml. Relancez ensuite : les messages déjà écrits ne seront "
                  "pas refaits."))
