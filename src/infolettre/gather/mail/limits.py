"""Moved to ``infolettre.mailbox.limits``; kept until callers are updated."""

from ...mailbox.limits import (BOUNDED, CHUNK, MAX_FIELD_BYTES, MAX_HEADER_BYTES,  # noqa: F401
                               MAX_HEADER_FIELDS, MAX_MESSAGE_BYTES, PARSED_VALUE_CHARS, parse,
                               oversized, too_big)
