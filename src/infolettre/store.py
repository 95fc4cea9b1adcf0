"""Moved to infolettre.content; kept until callers are updated."""

from .content import (DATETIME_RE, IMAGE_MAX_WIDTH, KNOWN_KEYS, REVIEWABLE, TEXT_SUFFIXES,
                      RawDocument, add_note, check_month, fit_image, inside_content,
                      latest_month, load_month, months, read_document, read_item, stray_texts,
                      to_date, to_datetime, utf16, write_draft)

__all__ = [
    "DATETIME_RE", "IMAGE_MAX_WIDTH", "KNOWN_KEYS", "REVIEWABLE", "TEXT_SUFFIXES", "RawDocument",
    "add_note", "check_month", "fit_image", "inside_content", "latest_month", "load_month",
    "months", "read_document", "read_item", "stray_texts", "to_date", "to_datetime", "utf16",
    "write_draft",
]
