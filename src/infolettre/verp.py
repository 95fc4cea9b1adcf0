"""VERP: an envelope sender per recipient and issue, so a bounce names who it is about.

Each message of an issue leaves with the envelope sender (SMTP ``MAIL FROM``)
``<local>+<AAAAMM>-<token>@<domain>``; the receiving server writes it in ``Return-Path``
and bounces come back to it. ``token`` is an HMAC-SHA256, under the project's secret
(``state.secret``), of the recipient's address (lower-cased) and the issue's month,
truncated to 16 base32 characters (80 bits): the address itself never appears in the
envelope (it would be one more place personal information leaks), and a bounce cannot be
forged to suspend someone without the secret. The month is in clear so that decoding
needs only the recipients of that one issue (``match``), each compared in constant time.

Pure: no secret is read, no ledger opened here; the pipeline gives both.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass

TOKEN_CHARS = 16
_MONTH = re.compile(r"^(\d{4})(0[1-9]|1[0-2])$")


def token(secret: bytes, recipient: str, month: str) -> str:
    """Return the recipient's token for the issue ``month`` (« AAAA-MM »), lower-case base32."""
    digest = hmac.new(secret, f"{recipient.strip().lower()}\0{month}".encode(),
                      hashlib.sha256).digest()
    return base64.b32encode(digest).decode("ascii")[:TOKEN_CHARS].lower()


def address(secret: bytes, recipient: str, month: str, local: str, domain: str) -> str:
    """Return the VERP envelope sender of ``recipient`` for the issue ``month``."""
    return f"{local}+{month.replace('-', '')}-{token(secret, recipient, month)}@{domain}"


@dataclass(frozen=True)
class Parsed:
    """What a VERP address says before it is checked: the issue's month and the token."""

    month: str   # « AAAA-MM »
    token: str


def parse(candidate: str, local: str, domain: str) -> Parsed | None:
    """Read ``<local>+<AAAAMM>-<token>@<domain>`` (any case); None for any other address."""
    box, at, host = candidate.strip().strip("<>").lower().rpartition("@")
    if not at or host != domain.lower():
        return None
    base, plus, tag = box.partition("+")
    if not plus or base != local.lower():
        return None
    month, dash, found = tag.partition("-")
    matched = _MONTH.match(month)
    if not dash or not matched or len(found) != TOKEN_CHARS or not found.isalnum():
        return None
    return Parsed(f"{matched.group(1)}-{matched.group(2)}", found)


def find(addresses: Iterable[str], local: str, domain: str) -> Parsed | None:
    """Return the first VERP address of ours among ``addresses`` (a message's Delivered-To…)."""
    for candidate in addresses:
        parsed = parse(candidate, local, domain)
        if parsed is not None:
            return parsed
    return None


def match(secret: bytes, parsed: Parsed, recipients: Iterable[str]) -> str | None:
    """Return the recipient of ``recipients`` (the issue's) whose token is ``parsed.token``.

    Every candidate is compared in constant time (``hmac.compare_digest``); a forged or
    altered token matches nobody: None.
    """
    return match_token(parsed.token, tokens(secret, parsed.month, recipients))


def tokens(secret: bytes, month: str, recipients: Iterable[str]) -> list[tuple[str, str]]:
    """Return (token, recipient) for each recipient of an issue: computed once per run and
    issue, then compared with each bounce of that issue (``match_token``)."""
    return [(token(secret, r, month), r.strip().lower()) for r in recipients]


def match_token(found: str, known: Iterable[tuple[str, str]]) -> str | None:
    """Return the recipient whose token is ``found``, every one compared in constant time."""
    result = None
    for candidate, recipient in known:
        if hmac.compare_digest(candidate, found):
            result = result or recipient
    return result
