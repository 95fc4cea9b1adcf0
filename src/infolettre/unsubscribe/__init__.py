"""Unsubscribing: signed tokens, the record of who left, and the mailto inbox.

Every message carries a token that names its recipient and is signed with the project's
secret (HMAC-SHA256), so an unsubscribe link or reply proves which address wants to leave
without any lookup, and nobody can unsubscribe someone else by guessing. Three ways in,
one record (``UnsubscribeStore``: the journal ``<donnees>/desabonnements.jsonl``, which
survives the loss of the state database, indexed in its table ``desabonnements``):

- ``lien``: the web endpoint of the review app calls ``process_unsubscribe_token``;
- ``courriel``: replies to the mailto link are read from a Maildir by ``process_maildir``;
- ``pivot``: a staff member records a request received by phone or in person.

The secret comes from ``INFOLETTRE_SECRET`` or from ``<donnees>/secret.key``, created on
first use (``data/`` is in ``.gitignore``: the secret is never committed). Losing or changing
it breaks every unsubscribe link already sent: ``infolettre sauvegarde`` copies it with the
state database and the journal.
"""

from ..mailbox import REASON_HEADER
from .mailbox import Report, process_maildir
from ..state.secret import load_secret
from .store import UnsubscribeStore, process_unsubscribe_token
from .tokens import SignedUnsubscriber, make_token, normalize_email, verify_token

__all__ = ["REASON_HEADER", "Report", "SignedUnsubscriber", "UnsubscribeStore", "load_secret",
           "make_token", "normalize_email", "process_maildir", "process_unsubscribe_token",
           "verify_token"]
