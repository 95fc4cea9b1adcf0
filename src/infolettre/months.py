"""Moved to ``infolettre.state.issues``; kept until callers are updated."""

from .state.issues import open_issue, previous_cutoff, target_month  # noqa: F401
