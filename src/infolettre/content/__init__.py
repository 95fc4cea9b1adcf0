"""The content store: ``content/<YYYY-MM>/<slug>.md``, where every item lives, whatever its source.

The only code that writes ``content/``; every stage that needs items reads them here. Below the
stages: it imports the model, the settings and the small shared modules, never a stage.

Modules: ``paths`` (month folders, no symbolic link followed), ``frontmatter`` (the YAML header
with the line of every key), ``validate`` (front matter → ``Item``, problems at their line),
``read`` (a month's files → Items and Problems), ``write`` (drafts and notes, durably),
``names`` (safe file names and slugs), ``images`` (upright, narrow, without metadata).
"""

from .frontmatter import RawDocument, read_document
from .images import IMAGE_MAX_WIDTH, fit_image
from .names import IMAGE_TYPES, MAX_NAME, safe_filename, safe_slug
from .paths import check_month, inside_content, latest_month, month_folder, months
from .read import TEXT_SUFFIXES, load_month, read_item, stray_texts, utf16
from .validate import DATETIME_RE, KNOWN_KEYS, REVIEWABLE, to_date, to_datetime, validate
from .write import add_note, write_draft

__all__ = [
    "DATETIME_RE", "IMAGE_MAX_WIDTH", "IMAGE_TYPES", "KNOWN_KEYS", "MAX_NAME", "REVIEWABLE",
    "TEXT_SUFFIXES", "RawDocument", "add_note", "check_month", "fit_image", "inside_content",
    "latest_month", "load_month", "month_folder", "months", "read_document", "read_item",
    "safe_filename", "safe_slug", "stray_texts", "to_date", "to_datetime", "utf16", "validate",
    "write_draft",
]
