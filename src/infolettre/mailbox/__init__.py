"""Mailboxes read by infolettre: one runner for every use, over a Maildir or an IMAP folder.

The mail intake (``gather.intake``), unsubscribe requests (``unsubscribe.mailbox``) and,
later, bounces all read mail the same way: ``runner.each_message`` fetches each message of
a source (``maildir.MaildirFolder``, ``imap.ImapFolder``), screens it (``screen``: the
reason header of an earlier run dropped, the raw bytes archived where the handler wants
them, measured against ``limits``), hands it to the use's handler, and files it by the
handler's result — done, or « À vérifier » with the reason — copy first, original deleted
last: no message is ever lost. This package sits below the stages: gather and unsubscribe
both use it, neither imports the other for it.
"""

from .maildir import DONE_FOLDER, REVIEW_FOLDER, MaildirFolder
from .runner import Handled, Handler, Message, MessageProblem, Source, each_message, handle_one
from .screening import REASON_HEADER, archive, screen, with_reason, without_reason

__all__ = ["DONE_FOLDER", "REASON_HEADER", "REVIEW_FOLDER", "Handled", "Handler",
           "MaildirFolder", "Message", "MessageProblem", "Source", "archive", "each_message",
           "handle_one", "screen", "with_reason", "without_reason"]
