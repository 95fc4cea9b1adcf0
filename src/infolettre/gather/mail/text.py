"""Text out of raw mail: charsets, mojibake, format=flowed, headers, word folding and dates.

Delegates write from every kind of client; many declare the wrong charset or none at all.
Everything here turns bytes or loosely written values into clean French text, and never fails.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from email.header import decode_header
from email.message import EmailMessage

#: Charsets that clients declare while using a superset of them.
WIDER_CHARSETS = {"gb2312": "gb18030", "gbk": "gb18030", "iso-8859-1": "cp1252",
                  "latin-1": "cp1252", "latin1": "cp1252", "us-ascii": "utf-8", "ascii": "utf-8",
                  "ks_c_5601-1987": "cp949", "euc-kr": "cp949", "big5": "big5hkscs",
                  "shift_jis": "cp932", "iso-8859-8-i": "iso-8859-8", "windows-874": "cp874"}
#: Characters Windows-1252 shows for the bytes 0x80-0xBF (UTF-8 continuation bytes).
_CONTINUATION = {chr(b): b for b in range(0x80, 0xC0)}  # as Latin-1 shows them
_CONTINUATION.update({bytes([b]).decode("cp1252"): b for b in range(0x80, 0xC0)
                      if bytes([b]).decode("cp1252", "ignore")})
_CONT = "".join(re.escape(c) for c in _CONTINUATION)
#: « Ã » never starts a French word: « Ã » + space is « à » whose no-break space was lost.
MOJIBAKE = re.compile(f"[ÃÂ][{_CONT}]|â[{_CONT}]{{2}}|Ã(?= )")
#: Control characters a Latin-1 fallback may leave (tab and newline are kept).
CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\ufeff]")
MONTHS = {"janvier": 1, "janv": 1, "fevrier": 2, "fevr": 2, "fev": 2, "mars": 3, "avril": 4,
          "avr": 4, "mai": 5, "juin": 6, "juillet": 7, "juil": 7, "aout": 8, "septembre": 9,
          "sept": 9, "octobre": 10, "oct": 10, "novembre": 11, "nov": 11, "decembre": 12,
          "dec": 12}
ISO_WHEN = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})"
                      r"(?:[ t,]+(?:a\s+)?(\d{1,2})\s*(?:h|:)\s*(\d{2})?)?$")
LONG_WHEN = re.compile(r"^(?:le\s+)?(?:(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)\s+)?"
                       r"(\d{1,2})(?:er)?\s+([a-z]+)\.?\s+(\d{4})"
                       r"(?:\s*,?\s*(?:a|de|des)?\s*(\d{1,2})\s*(?:h|:)\s*(\d{2})?)?$")


def fold(text: str) -> str:
    """Return ``text`` without accents, casefolded, spaces collapsed: for matching words."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return " ".join(text.replace("’", "'").split())


def slugify(text: str, limit: int = 60) -> str:
    """Make a file-name slug (« Frigo communautaire ! » → ``frigo-communautaire``)."""
    slug = re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")
    if len(slug) > limit:
        slug = slug[:limit].rsplit("-", 1)[0] or slug[:limit]
    return slug


def fix_mojibake(text: str) -> str:
    """Repair UTF-8 that was decoded as Windows-1252 or Latin-1 (« Ã© » → « é »).

    Only the sequences UTF-8 makes of Latin-1 letters and typographic signs are touched, and
    only when they decode back to such a character: genuine French text is left alone.
    """
    for _ in range(2):  # twice-encoded text needs two passes
        fixed = MOJIBAKE.sub(_unmangle, text)
        if fixed == text:
            break
        text = fixed
    return text


def _unmangle(match: re.Match) -> str:
    """Decode one mojibake sequence back, unless it would not give a usual character."""
    chunk = match.group(0)
    if chunk == "Ã":
        return "à"
    raw = bytes([ord(chunk[0])]) + bytes(_CONTINUATION[c] for c in chunk[1:])
    try:
        fixed = raw.decode("utf-8")
    except UnicodeDecodeError:
        return chunk
    usual = 0xA0 <= ord(fixed) <= 0xFF or 0x2000 <= ord(fixed) <= 0x206F or fixed in "€™"
    return fixed if usual else chunk


def decode_bytes(data: bytes, declared: str | None) -> str:
    """Decode a text part: declared charset, then UTF-8, Windows-1252, Latin-1; never U+FFFD."""
    declared = WIDER_CHARSETS.get((declared or "").lower(), declared)
    for charset in (declared, "utf-8", "cp1252"):
        try:
            text = data.decode(charset or "")
        except (LookupError, UnicodeDecodeError):
            continue
        if "\ufffd" not in text or charset == "utf-8":  # valid UTF-8 of a literal U+FFFD
            return fix_mojibake(text.replace("\ufffd", ""))
    return fix_mojibake(data.decode("latin-1"))


def part_text(part: EmailMessage) -> str:
    """Decode one text part, repairing wrong charset declarations and format=flowed."""
    data = part.get_payload(decode=True) or b""
    text = decode_bytes(data, part.get_content_charset()).replace("\r\n", "\n").replace("\r", "\n")
    if part.get_param("format", "", header="content-type").lower() == "flowed":
        text = _unflow(text, part.get_param("delsp", "", header="content-type").lower() == "yes")
    return text


def _unflow(text: str, delsp: bool) -> str:
    """Join the soft-wrapped lines of a format=flowed part (RFC 3676)."""
    out: list[str] = []
    carry = ""
    for line in text.split("\n"):
        if line.endswith(" ") and line != "-- ":
            carry += line[:-1] if delsp else line
            continue
        out.append(carry + line)
        carry = ""
    if carry:
        out.append(carry)
    return "\n".join(out)


def header_text(msg: EmailMessage, name: str) -> str:
    """Return a header as clean text ('' when absent or unreadable)."""
    try:
        value = msg.get(name)
    except Exception:  # noqa: BLE001 - a malformed header is as good as no header
        return ""
    if value is None:
        return ""
    text = str(value)
    if "\ufffd" in text:  # raw 8-bit bytes in a header: decode them ourselves
        text = _raw_header(msg, name) or text.replace("\ufffd", "")
    return fix_mojibake(" ".join(CONTROLS.sub("", text).split()))


def _raw_header(msg: EmailMessage, name: str) -> str | None:
    """Decode an undeclared 8-bit header from the bytes the parser kept (UTF-8, then cp1252)."""
    for key, value in msg.raw_items():
        if key.lower() != name.lower():
            continue
        value = str(value)
        if "=?" not in value:
            return decode_bytes(value.encode("ascii", "surrogateescape"), None)
        try:  # encoded words in a charset too narrow for their bytes (gb2312 for gbk…)
            chunks = decode_header(value)
        except Exception:  # noqa: BLE001 - keep the raw text rather than fail
            return value
        return "".join(c if isinstance(c, str) else decode_bytes(c, cs) for c, cs in chunks)
    return None


def parse_when(value: str) -> tuple[date, str | None] | None:
    """Read « 2026-12-05 10 h 30 » or « 5 décembre 2026 10h30 »: (date, "HH:MM" or None)."""
    text = fold(value).rstrip(".")
    iso = ISO_WHEN.match(text)
    long_ = LONG_WHEN.match(text) if not iso else None
    if iso:
        y, m, d, hh, mm = iso.groups()
    elif long_ and long_.group(2).rstrip(".") in MONTHS:
        d, name, y, hh, mm = long_.groups()
        m = MONTHS[name.rstrip(".")]
    else:
        return None
    try:
        day = date(int(y), int(m), int(d))
    except ValueError:
        return None
    if hh is None:
        return day, None
    if int(hh) > 23 or int(mm or 0) > 59:
        return None
    return day, f"{int(hh):02d}:{int(mm or 0):02d}"
