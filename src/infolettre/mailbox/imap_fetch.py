"""Reading IMAP messages by groups: one UID FETCH for several messages, memory bounded.

Over a real network every command waits a round trip (tens of milliseconds to a hosted
mailbox): one FETCH per message costs more than reading it. The intake's batches fetch the
next messages together (``ImapFolder`` when ``batched``): at most ``GROUP`` of them and,
by their sizes (``RFC822.SIZE``, asked first for the next ``GROUP``), ``GROUP_BYTES`` — a
message over that is fetched alone. Two commands for up to 50 messages, not 50. Each is
read as one message is (``BODY.PEEK[]``: not marked read; only the first
``MAX_MESSAGE_BYTES`` + 1 bytes of a bigger one).
"""

from __future__ import annotations

import imaplib
import re
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from . import limits

GROUP = 50
GROUP_BYTES = 16 * 1024 * 1024
_UID = re.compile(rb"\bUID (\d+)")
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")

#: What a fetch gives for one message: its bytes (the beginning of a too-big one), the
#: server's arrival time, its whole size.
Fetched = tuple[bytes, "datetime | None", int]


def fetch(client: imaplib.IMAP4, uids: Sequence[str]) -> dict[str, Fetched]:
    """Fetch the messages ``uids`` with one command; a message gone is simply absent."""
    typ, data = client.uid(
        "FETCH", ",".join(uids),
        f"(UID INTERNALDATE RFC822.SIZE BODY.PEEK[]<0.{limits.MAX_MESSAGE_BYTES + 1}>)")
    if typ != "OK":
        raise imaplib.IMAP4.error(data[0] if data else b"FETCH")
    found: dict[str, Fetched] = {}
    for part in data:
        if not (isinstance(part, tuple) and len(part) == 2):
            continue  # the closing « ) », or news the server adds (EXPUNGE, FLAGS)
        uid = _UID.search(part[0])
        if uid is None and len(uids) != 1:
            continue
        when = imaplib.Internaldate2tuple(part[0])
        size = _SIZE.search(part[0])
        found[uid.group(1).decode() if uid else uids[0]] = (
            part[1], datetime.fromtimestamp(time.mktime(when), UTC) if when else None,
            max(len(part[1]), int(size.group(1)) if size else 0))
    return found


def sizes(client: imaplib.IMAP4, uids: Sequence[str]) -> dict[str, int]:
    """Return the sizes of the messages ``uids``, by UID (one command; gone ones absent)."""
    typ, data = client.uid("FETCH", ",".join(uids), "(UID RFC822.SIZE)")
    if typ != "OK":
        raise imaplib.IMAP4.error(data[0] if data else b"FETCH")
    found = {}
    for line in data:
        text = line[0] if isinstance(line, tuple) else line
        uid, size = (_UID.search(text or b""), _SIZE.search(text or b""))
        if uid and size:
            found[uid.group(1).decode()] = int(size.group(1))
    return found


def group(uids: Sequence[str], start: int, known: dict[str, int]) -> list[str]:
    """Return ``uids[start]`` and the ones after it to fetch with it: at most ``GROUP``,
    together at most ``GROUP_BYTES`` (a message of unknown size counts as the maximum)."""
    chosen, total = [], 0
    for uid in uids[start:start + GROUP]:
        size = min(known.get(uid, limits.MAX_MESSAGE_BYTES), limits.MAX_MESSAGE_BYTES + 1)
        if chosen and total + size > GROUP_BYTES:
            break
        chosen.append(uid)
        total += size
    return chosen
