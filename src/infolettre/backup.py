"""Moved to ``infolettre.state.backup``; kept until callers are updated."""

from .state.backup import DEFAULT_FOLDER, backup, default_folder  # noqa: F401
