"""How one failed recipient counts: the enhanced status code class (RFC 3463), the RFC 3464
action, or, failing those, the SMTP reply in the server's words. A 5.7.x is a policy or spam
refusal, not a dead address: it is shown for review and never counted."""

from __future__ import annotations

import re

from .model import Kind

#: An enhanced status code (RFC 3463): class.subject.detail.
STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d]|\.\d)")
#: An SMTP reply code at the start of a line or after « smtp; », « said: », « : ».
REPLY = re.compile(r"(?:^|[\s;:(\[\"'])([45][0-5]\d)(?:[\s\-,;)\]]|$)")


def find_status(text: str) -> str | None:
    """The enhanced status code of class 4 or 5 in a server's words, if any: the first one,
    unless a policy code (5.7.x) of the same class follows (« 5.1.0 Unknown address error
    550-'5.7.1 … Access denied' » is a refusal, and reading it as one never suspends)."""
    codes = [".".join(m.groups()) for m in STATUS.finditer((text or "")[:4000])
             if m.group(1) in "45"]
    if not codes:
        return None
    policy = [code for code in codes if code.startswith(codes[0][0] + ".7.")]
    return policy[0] if policy else codes[0]


def normalize_status(value: str | None) -> str | None:
    """« 5.1.1 (user unknown) » → « 5.1.1 »; nonsense → None."""
    if not value:
        return None
    match = STATUS.search(value)
    return ".".join(match.groups()) if match else None


def status_from_reply(text: str) -> str | None:
    """The class of an SMTP reply code (« 550 User unknown » → « 5.0.0 ») when the words
    carry no enhanced code: the class is all a reply code says for sure."""
    match = REPLY.search(text or "")
    if not match:
        return None
    return f"{match.group(1)[0]}.0.0"


def kind_for(status: str | None, action: str | None = None) -> Kind:
    """5.x.x hard, but 5.7.x review; 4.x.x or a delayed action soft; unknown review."""
    if (action or "").lower() == "delayed":
        return Kind.SOFT
    if not status:
        return Kind.REVIEW
    if status.startswith("4."):
        return Kind.SOFT
    if status.startswith("5.7."):
        return Kind.REVIEW
    if status.startswith("5."):
        return Kind.HARD
    return Kind.REVIEW
