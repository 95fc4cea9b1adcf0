"""One function per user action — the table of contents of infolettre.

The three front doors (the ``infolettre`` command, ``scheduler.py``, the review app) call
these and nothing else; each takes the settings and the one clock (``infolettre.clock``),
and a progress callback where it reports as it goes. See docs/architecture.md.

On one issue (``issue``), in the order of a month:
    check · build · approve · send · send_test · status · postal
The web archive (``publish``): publish (``send`` publishes its issue first)
Gathering news (``gather``), on their own schedule:
    gather_mail · gather_feeds · feeds_health
The people and the data folder (``data``):
    unsubscribe · unsubscribe_requests · backup · user_add · user_list · user_remove ·
    sign_in · account
Bounces (``bounces``, ``suppressions``): process_bounces · list_suppressions ·
    export_suppressions_csv · reactivate · suspend · issue_bounces · bounces_of
"""

from .data import (account, backup, sign_in, unsubscribe, unsubscribe_link, unsubscribe_requests,
                   user_add, user_list, user_remove)
from .bounces import BounceReport, process_bounces
from .suppressions import (IssueBounces, bounces_of, export_suppressions_csv, issue_bounces,
                           list_suppressions, reactivate, suspend)
from .gather import ack_sender, feeds_health, gather_feeds, gather_mail
from . import dashboard, review, review_edit
from . import held, previews  # noqa: F401 - « Courriels retenus », « Aperçus »
from . import notices, schedule  # noqa: F401 - the calendar (scheduler.py)
from .issue import (CheckResult, StatusReport, approve, build, check, postal, prepare, reach,
                    send, send_test, status)
from .publish import PublishResult, publish
from .sending import (Changes, SendState, SignoffState, compare, confirm_uncertain, log_path, send_state, signoff_state, start_send)  # noqa: F401

__all__ = ["BounceReport", "IssueBounces", "bounces_of", "export_suppressions_csv",
           "issue_bounces", "list_suppressions", "process_bounces", "reactivate", "suspend",
           "CheckResult", "StatusReport", "ack_sender", "approve", "backup", "build", "check",
           "feeds_health", "gather_feeds", "gather_mail", "postal", "prepare", "publish", "PublishResult", "reach",
           "send",
           "send_test", "sign_in", "account", "status", "unsubscribe", "unsubscribe_link", "unsubscribe_requests",
           "user_add", "user_list", "user_remove"]
