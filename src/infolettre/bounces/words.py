"""The human-readable words of a bounce: the text the mail server wrote (not the returned
message it quotes), and the status written next to a failed address, or inferred from the
usual phrases when no code is given (« User unknown », « Mailbox full »…)."""

from __future__ import annotations

import re
from dataclasses import replace
from email.message import Message

from .classify import STATUS, kind_for, phrase_detail, status_from_reply
from .model import Failure
from .text import TEXT_LIMIT, clean, content_type, part_text, subparts

#: Lines where the returned copy of the original message begins: not the server's words.
RETURNED = re.compile(
    r"^(?:\s*-{2,}.*(?:copy of|original|unsent|returned|headers? of|rfc822).*"
    r"|.*this is a copy of the message.*|.*below this line is a copy.*"
    r"|\s*message headers follow.*|\s*original message headers.*|\s*your message reads.*"
    r"|(?:received|return-path|dkim-signature|message-id|x-mailer|mime-version):.*)$",
    re.IGNORECASE | re.MULTILINE)
#: Past this many failures, the text is not searched for each one (a forged long report).
MAX_SHARPENED = 50
#: A window of text after an address: where its error is written.
WINDOW = 700


def bounce_text(message: Message) -> str:
    """The server's own words: the text parts outside any returned message, each cut where
    the copy of the original message begins."""
    chunks: list[str] = []
    stack, seen, total = [message], 0, 0
    while stack and seen < 200 and total < TEXT_LIMIT:
        part = stack.pop()
        seen += 1
        kind = content_type(part)
        if kind in ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers"):
            continue
        children = subparts(part)
        if children is not None:
            stack.extend(reversed(children))
            continue
        if not kind.startswith("text/") and part is not message:
            continue
        text = part_text(part, TEXT_LIMIT - total)
        if kind == "text/html":
            text = re.sub(r"<[^>]{0,2000}>", " ", text)
        cut = RETURNED.search(text, 1)
        chunks.append(text[: cut.start()] if cut else text)
        total += len(chunks[-1])
    return "\n".join(chunks)


def status_near(text: str, address: str, others: set[str],
                temporary: bool) -> tuple[str | None, str]:
    """The status written after ``address`` (before the next failed address), its words;
    an enhanced code first, then a reply code, then a usual phrase."""
    windows = _windows(text, address, others)
    if not windows and len(others) <= 1:
        windows = [text[:WINDOW * 3]]
    diagnostic = _lead(text, address) + windows[0] if windows else ""
    for window in windows:
        match = STATUS.search(window)
        if match and match.group(1) in "45":
            return ".".join(match.groups()), diagnostic if window is windows[0] else window
    for window in windows:
        status = status_from_reply(window)
        if status:
            return status, diagnostic if window is windows[0] else window
    for window in windows:
        detail = phrase_detail(window)
        if detail:
            status = f"{'4' if temporary or detail == '4.7' else '5'}.{detail}"
            return status, diagnostic if window is windows[0] else window
    return None, diagnostic


def _lead(text: str, address: str) -> str:
    """The line before the address's first mention when it names no address: what
    happened to it (« Delivery to the following recipients has been delayed. »)."""
    found = text.lower().find(address)
    if found < 0:
        return ""
    before = text[max(0, found - 1000):found].rsplit("\n", 1)[0]
    lines = [line for line in before.splitlines() if line.strip()]
    if not lines or "@" in lines[-1]:
        return ""
    return lines[-1].strip() + " "


def _windows(text: str, address: str, others: set[str]) -> list[str]:
    """The text from each mention of the address to the next mention of another one."""
    lowered = text.lower()
    stops = sorted(pos for other in others if other != address
                   for pos in _positions(lowered, other))
    windows = []
    for pos in _positions(lowered, address)[:10]:
        end = min([s for s in stops if s > pos] + [pos + WINDOW])
        line_start = lowered.rfind("\n", 0, pos) + 1
        windows.append(text[line_start:end])
    return windows


def _positions(lowered: str, address: str) -> list[int]:
    positions, start = [], 0
    while len(positions) < 50:
        found = lowered.find(address, start)
        if found < 0:
            break
        positions.append(found)
        start = found + len(address)
    return positions


def sharpen(failures: list[Failure], text: str) -> list[Failure]:
    """Reports whose status is missing or generic (« 5.0.0 ») and whose Diagnostic-Code has
    no code: the human-readable part often writes the remote server's answer next to the
    address (« 550 5.7.25 … Reverse DNS validation failed »). A code of the same class
    found there replaces the generic one; the action still decides a delay."""
    others = {f.recipient for f in failures if f.recipient}
    sharpened = []
    for failure in failures[:MAX_SHARPENED]:
        weak = failure.status is None or failure.status.endswith(".0.0")
        if not failure.recipient or (failure.diagnostic and (
                not weak or STATUS.search(failure.diagnostic))):
            sharpened.append(failure)
            continue
        status, words = status_near(text, failure.recipient, others,
                                    failure.action == "delayed")
        if not failure.diagnostic and words.strip():
            # The pivot reads why: without a Diagnostic-Code, the words of the notice.
            failure = replace(failure, diagnostic=clean(words))
        if weak and status and (failure.status is None or status[0] == failure.status[0]) \
                and not status.endswith(".0.0"):
            failure = replace(failure, status=status, kind=kind_for(status, failure.action))
        sharpened.append(failure)
    return sharpened + failures[MAX_SHARPENED:]
