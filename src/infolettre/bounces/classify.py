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

#: When no code is written: the usual phrases, the detail they imply (class added later).
PHRASES = (
    (re.compile(r"spam|blacklist|block ?list|blocked|policy|reputation|dmarc|\bspf\b|dkim"
                r"|not authori[sz]ed|relay(?:ing)? (?:denied|not permitted)|virus"
                r"|refused|banned|(?:content|message|mail) rejected|access denied", re.I),
     "7.1"),
    (re.compile(r"user unknown|unknown user|no such (?:user|recipient|mailbox|address)"
                r"|does not exist|doesn't exist|not found|invalid (?:recipient|address|mailbox)"
                r"|no mailbox|unrouteable|unknown (?:recipient|address|local)|address rejected"
                r"|couldn't be found|no longer|not listed|n'existe pas|inconnu|introuvable",
                re.I), "1.1"),
    (re.compile(r"disabled|deactivated|suspended|inactive|d[ée]sactiv", re.I), "2.1"),
    (re.compile(r"mailbox (?:is )?full|exceeds? (?:the )?allowed size|over ?quota"
                r"|quota exceeded|exceeded (?:the|its|storage)|insufficient (?:storage|disk)"
                r"|bo[iî]te (?:aux lettres )?pleine", re.I), "2.2"),
    (re.compile(r"host unknown|unknown host|host not found|domain not found|no mx"
                r"|name or service not known|nxdomain|domain (?:does not|doesn't) exist",
                re.I), "4.4"),
    (re.compile(r"timed? ?out|expired|too long|retry|try again|temporar|delayed|deferred"
                r"|could not deliver for|for the last \d+ (?:seconds|hours|days)"
                r"|could not be delivered (?:yet|for)", re.I), "4.7"),
)


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
    """A status from an SMTP reply code when the words carry no enhanced code: its class,
    and the detail the usual phrases imply (« 550 Blocked as spam » → « 5.7.1 », to
    review; « 550 No such user » → « 5.1.1 »), else « 5.0.0 »."""
    match = REPLY.search(text or "")
    if not match:
        return None
    return f"{match.group(1)[0]}.{phrase_detail(text) or '0.0'}"


def phrase_detail(text: str) -> str | None:
    """The subject and detail of the first usual phrase found (« 1.1 », « 7.1 »…)."""
    for pattern, detail in PHRASES:
        if pattern.search(text[:4000]):
            return detail
    return None


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
