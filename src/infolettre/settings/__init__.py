"""Typed settings read once from ``infolettre.toml``: one schema for every table.

The file is edited by the network's staff, so its keys are French (accents welcome:
``keys``). ``schema`` holds a typed dataclass per table, ``smtp`` the ``[smtp]`` table,
``reader`` checks every key once at load. This package imports no stage of the pipeline.
"""

from .keys import plain, plain_keys, quote_accented_keys
from .reader import config_path, load_settings
from .schema import (Application, AFTER_PROCESSING, CONTROL_CHARS, DEFAULT_CONFIG, Dkim, ENV_CONFIG, FEED_TRUST, FeedSource, GMAIL_CLIP_BYTES, IMAP_SECURITY, Identity, MailIntake, Organization, PAPER_SIZES, Paths, SLUG_RE, Settings, Unsubscribe, Watch)
from .calendar import CADENCES, WEEKDAYS, Calendar
from .smtp import SmtpConfig, is_loopback

__all__ = ["CADENCES", "WEEKDAYS", "Calendar", "Application", "AFTER_PROCESSING", "CONTROL_CHARS", "DEFAULT_CONFIG", "Dkim", "ENV_CONFIG", "FEED_TRUST", "FeedSource", "GMAIL_CLIP_BYTES", "IMAP_SECURITY", "Identity", "MailIntake", "Organization", "PAPER_SIZES", "Paths", "SLUG_RE", "Settings", "Unsubscribe", "Watch", "SmtpConfig", "config_path", "is_loopback", "load_settings", "plain", "plain_keys", "quote_accented_keys"]
