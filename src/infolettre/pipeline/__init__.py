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
Circulation (``circulation``, ``relance``): circulation_report · remind_silent
"""

import importlib
import sys
import types

#: Where each action lives. A front door imports only the module of the action it runs
#: (``infolettre build`` needs neither the ledger, the web archive nor the bounces): each
#: name is imported on first use (PEP 562), then kept here like an ordinary attribute.
_HOMES = {
    "building": ("build", "prepare"),
    "bounces": ("BounceReport", "process_bounces"),
    "circulation": ("circulation_report",),
    "data": ("account", "backup", "sign_in", "unsubscribe", "unsubscribe_link",
             "unsubscribe_requests", "user_add", "user_list", "user_remove"),
    "gather": ("ack_sender", "feeds_health", "gather_feeds", "gather_mail"),
    "issue": ("CheckResult", "StatusReport", "approve", "check", "postal", "reach", "send",
              "send_test", "status"),
    "publish": ("PublishResult", "publish"),
    "relance": ("remind_silent",),
    "sending": ("Changes", "SendState", "SignoffState", "compare", "confirm_uncertain",
                "log_path", "send_state", "signoff_state", "start_send"),
    "suppressions": ("IssueBounces", "bounces_of", "export_suppressions_csv", "issue_bounces",
                     "list_suppressions", "reactivate", "suspend"),
}
_HOME = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str):
    if name not in _HOME:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return importlib.import_module(f"{__name__}.{name}")  # a module: pipeline.review…
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            raise AttributeError(name) from None
    value = getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOME))


class _Actions(types.ModuleType):
    """The package, whose action ``publish`` keeps its name once the module ``publish`` is
    imported (Python would otherwise put the module under that name)."""

    def __setattr__(self, name: str, value) -> None:
        if isinstance(value, types.ModuleType) and _HOME.get(name) == name:
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Actions

__all__ = [
    "account", "ack_sender", "approve", "backup", "BounceReport", "bounces_of", "build",
    "check", "CheckResult", "circulation_report", "export_suppressions_csv", "feeds_health",
    "gather_feeds", "gather_mail", "issue_bounces", "IssueBounces", "list_suppressions",
    "postal", "prepare", "process_bounces", "publish", "PublishResult", "reach", "reactivate",
    "remind_silent", "send", "send_test", "sign_in", "status", "StatusReport", "suspend",
    "unsubscribe", "unsubscribe_link", "unsubscribe_requests", "user_add", "user_list",
    "user_remove"]
