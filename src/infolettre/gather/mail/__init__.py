"""One email → one item draft (or a reason to refuse it): pure conversion, bytes in.

A delegate writes to the bulletin's address; this package reads the raw message and decides
who sent it (registry, forged sender), whether it is automatic mail (never an item), and turns
subject, body and attachments into the front matter, Markdown and files of a content item.
It never raises: whatever the input, the result is a draft or a rejection with a reason.
Reading mailboxes, archiving and writing ``content/`` happen elsewhere.

Modules: ``convert`` (the steps, in order), ``trust`` (automatic mail, sender, forgery),
``fields`` (subject tags, « Clé : valeur » lines), ``text`` (charsets, headers, dates),
``html`` (HTML → Markdown), ``attachments`` (which files are kept, under which name).
"""

from ...content.names import MAX_NAME
from .attachments import (
    DOCUMENT_EXTENSIONS,
    EXECUTABLE_MAGIC,
    IMAGE_MAGIC,
    IMAGE_TYPES,
    MAX_ATTACHMENT_BYTES,
    MAX_ATTACHMENTS,
    REFUSED_EXTENSIONS,
    REFUSED_TYPES,
    SMALL_INLINE_IMAGE,
    TNEF_TYPES,
    Attachment,
    safe_filename,
)
from .convert import (
    MAX_PARTS,
    MAX_TEXT_IN,
    MAX_TEXT_OUT,
    Conversion,
    ItemDraft,
    _Converter,
    convert_message,
)
from .fields import FIELD_KEYS, KEY_LINE, MAX_TITLE, PREFIX
from .html import html_to_markdown
from .text import (
    ISO_WHEN,
    LONG_WHEN,
    MOJIBAKE,
    MONTHS,
    WIDER_CHARSETS,
    decode_bytes,
    fix_mojibake,
    fold,
    parse_when,
    slugify,
)
from .trust import OUT_OF_OFFICE, automatic_reason, not_an_email, spoofed

__all__ = [
    "DOCUMENT_EXTENSIONS", "EXECUTABLE_MAGIC", "FIELD_KEYS", "IMAGE_MAGIC", "IMAGE_TYPES",
    "ISO_WHEN", "KEY_LINE", "LONG_WHEN", "MAX_ATTACHMENTS", "MAX_ATTACHMENT_BYTES", "MAX_NAME",
    "MAX_PARTS", "MAX_TEXT_IN", "MAX_TEXT_OUT", "MAX_TITLE", "MOJIBAKE", "MONTHS",
    "OUT_OF_OFFICE", "PREFIX", "REFUSED_EXTENSIONS", "REFUSED_TYPES", "SMALL_INLINE_IMAGE",
    "TNEF_TYPES", "WIDER_CHARSETS", "Attachment", "Conversion", "ItemDraft", "_Converter",
    "automatic_reason", "convert_message", "decode_bytes", "fix_mojibake", "fold",
    "html_to_markdown", "not_an_email", "parse_when", "safe_filename", "slugify", "spoofed",
]
