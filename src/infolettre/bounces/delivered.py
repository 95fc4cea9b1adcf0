"""Where the bounce was delivered: the VERP address « rebonds+<token>@domaine » names the
recipient (reading never guesses it from the text), and it can sit in any of these headers
depending on the mail server that filed the message."""

from __future__ import annotations

import re
from email.message import Message

from .text import header_all

#: The headers a delivering server may record the envelope recipient in.
HEADERS = ("To", "Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To")
#: More addresses than this are not kept (a forged To: with thousands of names).
MAX_ADDRESSES = 200

#: An address, internationalized ones too (SMTPUTF8: « élève@école.qc.ca »).
_ADDRESS = re.compile(r"[^\s<>()\[\],;:\"'@\\]{1,128}@[^\s<>()\[\],;:\"'@\\]{1,253}")


def delivered_to(msg: Message) -> tuple[str, ...]:
    """Every address of those headers, lower-cased, in order, without repeats."""
    found: dict[str, None] = {}
    for name in HEADERS:
        for value in header_all(msg, name)[:50]:
            for match in _ADDRESS.finditer(value[:20_000]):
                address = match.group(0).strip(".").lower()
                if "@" in address and len(found) < MAX_ADDRESSES:
                    found.setdefault(address, None)
    return tuple(found)
