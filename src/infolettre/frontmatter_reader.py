"""Moved to infolettre.content; kept until callers are updated."""

from .content.frontmatter import (CLOSING, EXAMPLE, OPENING, SCANNING_ALIAS, AliasRefused,
                                  RawDocument, add_value, decode, parse_header, read_document,
                                  split)

__all__ = [
    "CLOSING", "EXAMPLE", "OPENING", "SCANNING_ALIAS", "AliasRefused", "RawDocument",
    "add_value", "decode", "parse_header", "read_document", "split",
]
