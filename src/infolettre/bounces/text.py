"""Safe access to hostile messages: headers that do not parse, payloads in wrong charsets,
server words full of control characters. Every reader of the bounce mailbox goes through
here so that no message, however broken, can raise or flood the logs."""

from __future__ import annotations

import re
from email.message import Message

#: The server's words are shown to the pivot and stored: a bounded, printable excerpt.
DIAGNOSTIC_LIMIT = 500
#: Past this, a part's text is not read any further (a bounce's useful words come first).
TEXT_LIMIT = 200_000

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")
_SPACES = re.compile(r"\s+")
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean(value: object, limit: int = DIAGNOSTIC_LIMIT) -> str:
    """One line of printable text, at most ``limit`` characters (control characters and
    bidirectional overrides removed: they would disguise what the pivot reads)."""
    text = _unescape(str(value or ""))
    text = _CONTROL.sub(" ", text)
    text = _SPACES.sub(" ", text).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def _unescape(text: str) -> str:
    """Raw 8-bit header bytes come back from the parser as lone surrogates: read them as
    UTF-8 (what SMTPUTF8 servers send), replacing what is not."""
    if not _SURROGATE.search(text):
        return text
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeError:
        return _SURROGATE.sub("\ufffd", text)


def header(msg: Message, name: str) -> str:
    """The first value of a header as plain text, '' when absent or unreadable (the default
    policy parses address headers eagerly and can raise on nonsense)."""
    for value in header_all(msg, name)[:1]:
        return value
    return ""


def header_all(msg: Message, name: str, decode: bool = True) -> list[str]:
    """Every value of a header as text; a value that cannot be decoded is read raw (and
    every value with ``decode=False``: delivery-status fields are not RFC 2047 words)."""
    values: list[str] = []
    try:
        raw_items = msg.raw_items() if hasattr(msg, "raw_items") else msg.items()
        wanted = name.lower()
        for key, raw in list(raw_items)[:2000]:
            if str(key).lower() != wanted:
                continue
            text = _unescape(str(raw)[:TEXT_LIMIT])
            values.append(_decode_header(text) if decode else text)
    except Exception:  # noqa: BLE001 - a broken header must not stop the reading
        return values
    return values


def _decode_header(raw: object) -> str:
    """RFC 2047 words decoded when possible; the raw text otherwise."""
    from email.header import decode_header, make_header

    text = str(raw)[:TEXT_LIMIT]
    try:
        return str(make_header(decode_header(text)))
    except Exception:  # noqa: BLE001 - undecodable: keep the raw words
        return text


def part_text(part: Message, limit: int = TEXT_LIMIT) -> str:
    """A leaf part's text in whatever charset it claims, replacing what does not decode
    (wrong or unknown charsets are common in bounces)."""
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001
        data = None
    if data is None:
        try:
            payload = part.get_payload()
        except Exception:  # noqa: BLE001
            return ""
        return payload[:limit] if isinstance(payload, str) else ""
    data = data[:limit]
    charset = "utf-8"
    try:
        charset = part.get_content_charset() or "utf-8"
    except Exception:  # noqa: BLE001
        pass
    for candidate in (charset, "utf-8", "latin-1"):
        try:
            return data.decode(candidate, errors="replace")
        except (LookupError, ValueError):
            continue
    return data.decode("latin-1", errors="replace")


def content_type(part: Message) -> str:
    """The part's media type, lower-cased, 'text/plain' when it cannot be read."""
    try:
        return (part.get_content_type() or "text/plain").lower()
    except Exception:  # noqa: BLE001
        return "text/plain"


def param(part: Message, name: str) -> str:
    """A Content-Type parameter, lower-cased, '' when absent or unreadable."""
    try:
        value = part.get_param(name)
    except Exception:  # noqa: BLE001
        return ""
    if isinstance(value, tuple):  # RFC 2231 form
        value = value[2]
    return str(value or "").strip().lower()


def subparts(part: Message) -> list[Message] | None:
    """The parts inside a multipart ``part`` (None for a leaf, or a payload the email
    library cannot give: broken MIME is read as a leaf, never raised)."""
    try:
        payload = part.get_payload() if part.is_multipart() else None
    except Exception:  # noqa: BLE001 - any malformed structure: not a container
        return None
    return [p for p in payload if isinstance(p, Message)] if isinstance(payload, list) else None


def walk(msg: Message, limit: int = 500):
    """The message's parts, depth first, at most ``limit`` of them (nested reports and
    forged messages can hold thousands)."""
    stack = [msg]
    seen = 0
    while stack and seen < limit:
        part = stack.pop()
        seen += 1
        yield part
        stack.extend(reversed(subparts(part) or []))
