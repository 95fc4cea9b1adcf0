"""Moved to ``infolettre.state.secret``; kept until callers are updated."""

from ..state.secret import ENV_SECRET, MIN_SECRET_CHARS, SECRET_FILE, load_secret  # noqa: F401
