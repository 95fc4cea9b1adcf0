"""Strip quoted replies and signatures from an emailed submission, line by line.

A delegate often answers the pivot's call for news, so the message carries the previous
exchange below (or around) the new text. Everything here works on plain lines with short
anchored patterns: no regex can backtrack over a long message, whatever its content.
"""

from __future__ import annotations

import re

#: « On … wrote: », « Le … a écrit : » (possibly wrapped over up to three lines).
_WROTE = re.compile(r"^(?:on|le|am|el|il|op)\b.{0,400}(?:\bwrote|a\s+écrit|schrieb|escribió"
                    r"|ha\s+scritto|schreef)\s*:?\s*$", re.I | re.S)
#: A line that introduces a quotation block: ends with ':' and names a date or an address.
_WROTE_START = re.compile(r"^\s*(?:on|le|am|el|il|op)\b", re.I)
_INTRO_END = re.compile(r":\s*$")
_INTRO_HINT = re.compile(r"@|\d{1,4}[./:-]\d{1,2}|\d{4}")
#: Separators written by Outlook, AOL, Yahoo and the like: everything after is the old mail.
_SEPARATOR = re.compile(
    r"^\s*-{2,}\s*(?:original message|message d['’]origine|forwarded message|message transféré"
    r"|message transmis|ursprüngliche nachricht|mensaje original)\s*-{2,}\s*$", re.I)
_RULE = re.compile(r"^\s*(?:[-_=*]\s*){3,}$")
#: Header lines of a quoted message (« De : … Envoyé : … »), bold markers allowed.
_HEADER = re.compile(
    r"^[\s*]*(from|de|von|от|sent|envoyé|date|gesendet|отправлено|дата|to|à|a|an|кому|cc"
    r"|subject|objet|sujet|betreff|тема)\s*\**\s*:", re.I)
_FROM_KEYS = {"from", "de", "von", "от"}
_SIG_DELIMITER = re.compile(r"^--\s?$")
_MOBILE = re.compile(
    r"^\s*(?:sent from my|envoyé de mon|envoyé depuis mon|envoyé à partir de mon"
    r"|sent with|get outlook for|obtenir outlook pour|téléchargez outlook pour)"
    r"\s+[\w ().-]{1,50}$", re.I)
_MAX_HEADER_LINE = 400
_SIG_TAIL = 12
#: What may stand before a name on a signature line: markers, « Me », « Dr », « Mme ».
_NAME_LEAD = re.compile(r"^(?:[\W_]|sig\b|#sig#|me\s|dr\.?\s|mme\.?\s|m\.\s)*", re.I)


def clean_reply(text: str, sender: str = "") -> str:
    """Return the new text of a message: quotations removed, then the signature."""
    return strip_sender_signature(strip_signature(strip_quotation(text)), sender)


def strip_quotation(text: str) -> str:
    """Remove quoted lines, their « On … wrote: » headers and forwarded-message blocks."""
    lines = text.splitlines()
    lines = _cut_at_previous_message(lines)
    lines = _drop_quote_headers(lines)
    lines = [line for line in lines if not _quoted(line)]
    return _tidy(lines)


def strip_signature(text: str) -> str:
    """Remove a « -- » signature block and mobile signatures (« Envoyé de mon iPhone »)."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if _SIG_DELIMITER.match(line):
            lines = lines[:i]
            break
    return _tidy([line for line in lines if not _MOBILE.match(line)])


def strip_sender_signature(text: str, sender: str) -> str:
    """Remove a closing block that starts with the sender's name (« Merci, » + name + title).

    Only the last few short lines are considered, only a line that *starts* with the name
    (« Contact : Marie Tremblay » stays), and the last one: contact lines above it stay.
    """
    names = _sender_names(sender)
    lines = text.splitlines()
    if not names or len(lines) < 2:
        return text
    filled = [i for i, line in enumerate(lines) if line.strip()]
    tail_start = max(filled[-_SIG_TAIL] if len(filled) >= _SIG_TAIL else 0, 1)
    for i in range(len(lines) - 1, tail_start - 1, -1):  # the last match: contacts above stay
        words = _NAME_LEAD.sub("", lines[i]).casefold()
        if len(lines[i]) > 60 or not any(re.match(re.escape(n) + r"\b", words) for n in names):
            continue
        if any(len(x) > 80 for x in lines[i:]):
            return text
        while i > 1 and lines[i - 1].strip() and len(lines[i - 1]) <= 60:
            if lines[i - 1].rstrip().endswith(":"):
                return text  # « Information : » + a name is content, not a signature
            i -= 1  # the whole block of short lines: name, title, address
        return _tidy(lines[:_signature_top(lines, i)])
    return text


def _sender_names(sender: str) -> list[str]:
    """Return the sender's full name and first name (or the address's local part), folded."""
    name = sender.strip().strip('"').casefold()
    if "@" in name:
        name = re.split(r"[._+-]", name.split("@")[0])[0]
    parts = name.split()
    found = [" ".join(parts)] + parts[:1] if parts else []
    return [n for n in found if len(n) >= 3]


def _signature_top(lines: list[str], i: int) -> int:
    """Extend a signature upward over a closing (« Merci, ») and a rule line just above."""
    j = i
    while j > 0 and not lines[j - 1].strip():
        j -= 1
    closing = j > 0 and len(lines[j - 1]) < 40 and lines[j - 1].rstrip().endswith((",", "!"))
    if closing and (j == 1 or not lines[j - 2].strip()):
        return j - 1
    for k in range(j - 1, max(j - 5, 0), -1):
        if _RULE.match(lines[k]):
            return k
        if len(lines[k]) > 40:
            break
    return i


def _quoted(line: str) -> bool:
    return line.lstrip(" ")[:1] == ">" and len(line) - len(line.lstrip(" ")) < 4


def _tidy(lines: list[str]) -> str:
    """Join lines, dropping trailing rules and runs of blank lines."""
    while lines and (not lines[-1].strip() or _RULE.match(lines[-1])):
        lines.pop()
    out: list[str] = []
    for line in lines:
        if not line.strip() and out and not out[-1].strip():
            continue
        out.append(line)
    return "\n".join(out).strip("\n").strip()


def _cut_at_previous_message(lines: list[str]) -> list[str]:
    """Cut at an « Original Message » separator or a « De : … Envoyé : … » header block.

    When nothing stands above it (a plain forward), only the header block goes and the
    forwarded text stays: it is the news being shared.
    """
    for i in range(len(lines)):
        end = _previous_message_at(lines, i)
        if end is None:
            continue
        if any(x.strip() and not _RULE.match(x) for x in lines[:i]):
            return lines[:i]
        return lines[end:]
    return lines


def _previous_message_at(lines: list[str], i: int) -> int | None:
    """Return where the header block starting at line ``i`` ends, or None if none starts."""
    line = lines[i]
    if len(line) > _MAX_HEADER_LINE or _quoted(line):
        return None
    if _SEPARATOR.match(line):
        j = i + 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        while j < len(lines) and _HEADER.match(lines[j]):
            j += 1
        return j
    if i > 0 and _HEADER.match(lines[i - 1]) or not _HEADER.match(line):
        return None  # only the first line of a header block starts one
    keys = []
    j = i
    while j < len(lines) and j < i + 8 and (found := _HEADER.match(lines[j])):
        keys.append(found.group(1).casefold())
        j += 1
    return j if len(keys) >= 2 and _FROM_KEYS.intersection(keys) else None


def _drop_quote_headers(lines: list[str]) -> list[str]:
    """Remove the one to three lines that introduce a quotation (« Le … a écrit : »)."""
    drop: set[int] = set()
    for i, line in enumerate(lines):
        if i in drop or len(line) > _MAX_HEADER_LINE or not _WROTE_START.match(line):
            continue
        for span in (1, 2, 3):
            chunk = lines[i:i + span]
            if len(chunk) < span or not chunk[-1].strip() or _quoted(chunk[-1]):
                break
            if _WROTE.match(" ".join(x.strip() for x in chunk)):
                drop.update(range(i, i + span))
                break
    for q in _quote_starts(lines):
        drop.update(_intro_before(lines, q))
    return [line for i, line in enumerate(lines) if i not in drop]


def _quote_starts(lines: list[str]) -> list[int]:
    """Return the index of the first line of each block of quoted lines."""
    return [i for i, line in enumerate(lines)
            if _quoted(line) and (i == 0 or not _quoted(lines[i - 1]))]


def _intro_before(lines: list[str], q: int) -> range:
    """Find the shortest run of lines just above a quote that ends with ':' and names a date."""
    end = q
    while end > 0 and not lines[end - 1].strip():
        end -= 1
    for span in (1, 2):
        chunk = lines[max(end - span, 0):end]
        if len(chunk) < span or any(not x.strip() or _quoted(x) or len(x) > _MAX_HEADER_LINE
                                    for x in chunk):
            break
        joined = " ".join(x.strip() for x in chunk)
        if _INTRO_END.search(joined) and _INTRO_HINT.search(joined):
            first = end - span
            if first > 0 and lines[first - 1].rstrip().endswith("<"):
                first -= 1  # the header was wrapped inside a name or an address
            return range(first, end)
    return range(0)
