"""Size limits on raw mail, checked on the bytes before the ``email`` package parses them.

The standard parser's memory and time grow faster than a header's size: one 210 KB message
whose Subject folds over 3,300 encoded lines took 405 MB, three of them 3.1 GB. So a message
is measured first (total size, header block, number of header fields, longest field); over a
limit it is not parsed at all and goes to « À vérifier » with the reason (archived first, like
every message). Legitimate mail stays far below: a 25 MB message is processed.

What is parsed is bounded too: ``BOUNDED`` is ``policy.default`` except that it reads at most
``PARSED_VALUE_CHARS`` of any header value, the headers of MIME parts included (a 150 KB
attachment name would otherwise cost as much as the Subject above). And it parses each
header value once: the ``email`` package parses a header again at every access (the intake
asked for 5,691 parses for 2,000 messages), so ``BOUNDED`` keeps the last two thousand parsed
headers of at most 1 KB — immutable objects, the same for the same name and text, whatever
the message.
"""

from __future__ import annotations

import re
from functools import lru_cache
from email.feedparser import BytesFeedParser
from email.parser import BytesHeaderParser
from email.message import EmailMessage
from email.policy import EmailPolicy

from ..i18n import _

MAX_MESSAGE_BYTES = 40 * 1024 * 1024  # a 25 MB message (the usual server limit) must pass
MAX_HEADER_BYTES = 256 * 1024  # the message's header block, up to the first empty line
MAX_HEADER_FIELDS = 1000  # real mail has a few dozen, long relay chains a few hundred
MAX_FIELD_BYTES = 64 * 1024  # one header field, folded lines included (~1,500 addresses)
PARSED_VALUE_CHARS = 4096  # what the parser reads of any one header value
CACHED_VALUE_CHARS = 1024  # longer values are parsed again (rare; their trees are big)

_END_OF_HEADERS = re.compile(rb"\r?\n\r?\n")
_FIELD = re.compile(rb"^[^ \t\r\n][^\n]*(?:\n[ \t][^\n]*)*", re.MULTILINE)


class _BoundedPolicy(EmailPolicy):
    """``policy.default`` reading at most ``PARSED_VALUE_CHARS`` of each header value."""

    def header_fetch_parse(self, name, value):  # noqa: ANN001 - the email package's signature
        if type(value) is str:  # a header as read from the message (not one set by code)
            value = value[:PARSED_VALUE_CHARS]
            if len(value) <= CACHED_VALUE_CHARS:
                return _parsed(self, name, value)
        return super().header_fetch_parse(name, value)


@lru_cache(maxsize=2048)
def _parsed(policy: _BoundedPolicy, name: str, value: str):  # noqa: ANN202 - a BaseHeader
    """Parse one header once (``header_fetch_parse``); the result is immutable, so shared."""
    return EmailPolicy.header_fetch_parse(policy, name, value)


BOUNDED = _BoundedPolicy()
CHUNK = 64 * 1024


def parse(raw: bytes) -> EmailMessage:
    """Parse ``raw`` with ``BOUNDED``, fed in chunks.

    ``message_from_bytes`` decodes the whole message into one string and copies it into a
    ``StringIO`` (four bytes per character): a 25 MB message peaked near 280 MB. Fed in
    chunks, the parser holds the message about twice at most.
    """
    parser = BytesFeedParser(policy=BOUNDED)
    view = memoryview(raw)
    for start in range(0, len(raw), CHUNK):
        parser.feed(bytes(view[start:start + CHUNK]))
    return parser.close()


def parse_headers(raw: bytes) -> EmailMessage:
    """Parse only the header block of ``raw`` (``BOUNDED``): for a step that reads headers
    only (the acknowledgment), without reading the body again."""
    end = _END_OF_HEADERS.search(raw, 0, MAX_HEADER_BYTES + 4)
    block = raw[:end.end()] if end else raw[:MAX_HEADER_BYTES]
    return BytesHeaderParser(policy=BOUNDED).parsebytes(block)


def too_big(raw: bytes) -> str | None:
    """Say why ``raw`` is too big to be parsed safely (in French), or None when it is not."""
    if len(raw) > MAX_MESSAGE_BYTES:
        return oversized(len(raw))
    end = _END_OF_HEADERS.search(raw, 0, MAX_HEADER_BYTES + 4)
    if end is None and len(raw) > MAX_HEADER_BYTES:
        return _unusual(_("plus de {limit} Ko d'en-têtes").format(
            limit=MAX_HEADER_BYTES // 1024))
    block = raw[:end.start() + 1] if end else raw
    for count, field in enumerate(_FIELD.finditer(block), start=1):
        if count > MAX_HEADER_FIELDS:
            return _unusual(_("plus de {limit} champs d'en-tête").format(
                limit=MAX_HEADER_FIELDS))
        if field.end() - field.start() > MAX_FIELD_BYTES:
            name = field.group().split(b":", 1)[0][:60].decode("ascii", "replace")
            return _unusual(_("un en-tête « {name} » de plus de {limit} Ko").format(
                name=name, limit=MAX_FIELD_BYTES // 1024))
    return None


def oversized(size: int) -> str:
    """Say (in French) that a message of ``size`` bytes is too big to be read."""
    return _("message trop volumineux ({size} Mo ; au plus {limit} Mo) : il n'a pas été "
             "lu. Demandez à l'expéditeur d'envoyer ses fichiers en plusieurs courriels ou "
             "par un lien de téléchargement.").format(
        size=_mb(size), limit=_mb(MAX_MESSAGE_BYTES))


def _unusual(what: str) -> str:
    return _("en-têtes démesurés ({what}) : message défectueux ou malveillant, il n'a pas été "
             "lu. Ouvrez-le avec précaution ; s'il vient d'un organisme, demandez-lui de le "
             "renvoyer.").format(what=what)


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.0f}"
