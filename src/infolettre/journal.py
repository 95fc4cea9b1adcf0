"""Moved to ``infolettre.state.journal``; kept until callers are updated."""

from .state.journal import SUFFIX, Journal  # noqa: F401
