"""Attachments: which files of a message are kept beside the item, under which safe name.

Images and documents are kept; programs, archives and Outlook's winmail.dat are refused, and
every file left out gets a note saying why, so the person reviewing can ask the sender. The
rules for a safe file name belong to the content store (``content.names``): used here too.
"""

from __future__ import annotations

import mimetypes
import posixpath
import re
from dataclasses import replace
from email.message import EmailMessage
from email.utils import unquote

from ...content.names import IMAGE_TYPES, safe_filename
from ...models import Attachment
from .text import decode_bytes

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENTS = 30
IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG", b"GIF8", b"RIFF")
DOCUMENT_EXTENSIONS = {".pdf", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".odt", ".ods",
                       ".odp", ".rtf", ".txt", ".csv", ".ics"}
REFUSED_EXTENSIONS = {".exe", ".bat", ".cmd", ".com", ".js", ".vbs", ".scr", ".msi", ".jar",
                      ".zip", ".rar", ".7z", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".cab", ".iso",
                      ".ps1", ".sh", ".hta", ".lnk", ".pif", ".reg", ".wsf", ".cpl", ".apk",
                      ".dmg", ".docm", ".xlsm", ".pptm"}
REFUSED_TYPES = re.compile(
    r"^application/(x-msdownload|x-msdos-program|x-executable|x-dosexec|x-sh|x-bat|javascript"
    r"|x-javascript|java-archive|x-java-archive|zip|x-zip|x-zip-compressed|x-rar|"
    r"x-rar-compressed|vnd\.rar|x-7z-compressed|x-tar|gzip|x-gzip|x-bzip2|x-xz|x-msi|"
    r"x-ms-installer|vnd\.microsoft\.portable-executable|x-ms-shortcut|hta)$", re.I)
TNEF_TYPES = {"application/ms-tnef", "application/vnd.ms-tnef"}
EXECUTABLE_MAGIC = (b"MZ", b"\x7fELF")
SMALL_INLINE_IMAGE = 15 * 1024


def collect_attachments(parts: list[EmailMessage], body_part: EmailMessage | None, cap: int,
                        notes: list[str]) -> list[Attachment]:
    """Keep images and documents (safe names, size cap); note every file left out and why."""
    kept: list[Attachment] = []
    used: set[str] = set()
    skipped_logos = 0
    charset = body_part.get_content_charset() if body_part is not None else None
    for index, part in enumerate(parts, start=1):
        if part is body_part or not _is_file(part):
            continue
        if len(kept) >= MAX_ATTACHMENTS:
            notes.append(f"plus de {MAX_ATTACHMENTS} pièces jointes : les suivantes "
                         f"ont été ignorées.")
            return kept
        found = _examine(part, index, cap, charset)
        if found is None:
            skipped_logos += 1
        elif isinstance(found, str):
            notes.append(found)
        else:
            safe = _unique(found.name_safe, used)
            kept.append(replace(found, name_safe=safe,
                                content_type=_content_type(found.content_type, safe)))
    if skipped_logos:
        notes.append(f"{skipped_logos} petite(s) image(s) intégrée(s) au texte (logo "
                     f"de signature ?) ignorée(s).")
    return kept


def _is_file(part: EmailMessage) -> bool:
    """Tell whether a leaf part is a file: not a broken container, not an unnamed text part."""
    ctype = part.get_content_type()
    if ctype.startswith(("multipart/", "message/")):
        return False  # a container without a usable boundary: nothing to keep
    return not (ctype.startswith("text/") and not filename(part)
                and part.get_content_disposition() != "attachment")


def _examine(part: EmailMessage, index: int, cap: int,
             charset: str | None = None) -> Attachment | str | None:
    """Return the file to keep, the note saying why it is left out, or None for a logo."""
    ctype, name = part.get_content_type(), filename(part, charset)
    label = name or ctype
    if ctype in TNEF_TYPES or name.lower() == "winmail.dat":
        return ("pièce jointe winmail.dat (format propre à Outlook) ignorée : demandez à "
                "l'expéditeur de renvoyer ses fichiers en PDF ou en image.")
    safe = safe_filename(name, ctype, index)
    ext = posixpath.splitext(safe)[1]
    if ext in REFUSED_EXTENSIONS or REFUSED_TYPES.match(ctype):
        return (f"pièce jointe « {label} » refusée : les programmes et les archives ne sont "
                f"pas acceptés.")
    data = _payload(part, cap)
    if data is None:
        return (f"pièce jointe « {label} » trop lourde (plus de {cap // (1024 * 1024)} Mo) : "
                f"retirée.")
    kind = _kind(ctype, ext, data)
    if kind not in ("image", "document"):
        return _kind_note(kind, label, ctype)
    if kind == "image" and part.get("Content-ID") and len(data) < SMALL_INLINE_IMAGE \
            and part.get_content_disposition() != "attachment":
        return None
    if not data:
        return f"pièce jointe « {label} » vide : ignorée."
    return Attachment(safe, ctype, data, kind)


def _payload(part: EmailMessage, cap: int) -> bytes | None:
    """Decode a part's bytes, or None when over the cap (checked before decoding when possible)."""
    encoded = part.get_payload()
    if isinstance(encoded, str) and len(encoded) * 3 // 4 > cap + 4:
        return None
    data = part.get_payload(decode=True) or b""
    return None if len(data) > cap else data


def _kind_note(kind: str | None, label: str, ctype: str) -> str:
    """Say why a file that is neither an image nor a document is left out."""
    if kind == "refused":
        return f"pièce jointe « {label} » refusée : c'est un programme."
    if kind == "bad-image":
        return (f"pièce jointe « {label} » ignorée : ce n'est pas une image lisible (fichier "
                f"abîmé ou mal nommé).")
    return (f"pièce jointe « {label} » ({ctype}) ignorée : type non pris en charge (images, "
            f"PDF et documents seulement).")


def filename(part: EmailMessage, charset: str | None = None) -> str:
    """Return a part's file name, '' when it has none or its parameter is broken.

    A name sent as raw 8-bit bytes (no RFC 2231 or 2047 encoding, as older Outlook and some
    webmails do) is decoded from those bytes: the part's charset or the message's
    (``charset``, its text's), then UTF-8, Windows-1252, Latin-1 — not left with U+FFFD.
    """
    try:
        name = part.get_filename() or ""
    except Exception:  # noqa: BLE001 - a broken parameter means no usable name
        return ""
    if "\ufffd" in name:
        name = _raw_filename(part, part.get_content_charset() or charset) or name
    return name


def _raw_filename(part: EmailMessage, charset: str | None) -> str | None:
    """Decode the file name from the header bytes the parser kept (surrogate-escaped)."""
    for header, param in (("content-disposition", "filename"), ("content-type", "name")):
        for key, value in part.raw_items():
            if key.lower() != header:
                continue
            found = re.search(r'(?:^|;)\s*' + param + r'\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)',
                              str(value), re.IGNORECASE)
            if found and found.group(1).strip():
                raw = unquote(found.group(1).strip()).encode("utf-8", "surrogateescape")
                return decode_bytes(raw, charset)
    return None


def _kind(ctype: str, ext: str, data: bytes) -> str | None:
    """Classify a file: "image", "bad-image", "document", "refused" (a program) or None."""
    if data[:4].startswith(EXECUTABLE_MAGIC):
        return "refused"
    if ctype in IMAGE_TYPES or ext in (".jpg", ".jpeg", ".png", ".gif", ".webp"):
        is_image = data.startswith(IMAGE_MAGIC) and (not data.startswith(b"RIFF")
                                                      or data[8:12] == b"WEBP")
        return "image" if is_image or not data else "bad-image"
    if ext in DOCUMENT_EXTENSIONS or ctype == "application/pdf":
        return "document"
    return None


def _content_type(ctype: str, name: str) -> str:
    """Guess a vague type (octet-stream) from the name, so the file is served correctly."""
    if ctype in ("application/octet-stream", ""):
        return mimetypes.guess_type(name)[0] or ctype
    return ctype


def _unique(name: str, used: set[str]) -> str:
    """Give a name not used yet in this message (``affiche.pdf``, ``affiche-2.pdf``)."""
    stem, ext = posixpath.splitext(name)
    candidate, n = name, 1
    while candidate.casefold() in used:
        n += 1
        candidate = f"{stem}-{n}{ext}"
    used.add(candidate.casefold())
    return candidate

