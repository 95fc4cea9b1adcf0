"""RFC 3464 delivery status notifications, read with the standard library: the
message/delivery-status part holds one block of fields for the message, then one per
recipient (Final-Recipient, Original-Recipient, Action, Status, Diagnostic-Code,
Remote-MTA). Only failed and delayed recipients are failures: delivered, relayed and
expanded ones say the message went through."""

from __future__ import annotations

import re
from email.message import Message

from ..i18n import _
from .classify import find_status, kind_for, normalize_status, status_from_reply
from .model import Failure
from .text import TEXT_LIMIT, clean, content_type, part_text, subparts

#: The media types of a machine-readable delivery status (RFC 3464, RFC 6533 for SMTPUTF8).
STATUS_TYPES = ("message/delivery-status", "message/global-delivery-status",
                "text/delivery-status")
#: Recipients whose delivery did not fail: not failures.
NOT_FAILED = {"delivered", "relayed", "expanded"}
#: More recipients than this in one report are not read (a forged report can list 10,000).
MAX_FAILURES = 300

_RECIPIENT_FIELDS = {"final-recipient", "original-recipient", "action", "status"}
_FIELD = re.compile(r"^([A-Za-z][A-Za-z0-9-]{0,60})\s*:\s?(.*)$")
_ADDRESS = re.compile(r"[^\s<>\"';,()\[\]]{1,128}@[^\s<>\"';,()\[\]@]{1,255}")


def status_parts(msg: Message) -> list[Message]:
    """The delivery-status parts of the message itself; when it has none, those of a
    message it forwards (some servers wrap the report they received). A report inside
    the returned copy of the original message is another, older story: not read."""
    own: list[Message] = []
    forwarded: list[Message] = []
    stack: list[tuple[Message, bool]] = [(msg, False)]
    seen = 0
    while stack and seen < 500:
        part, inside = stack.pop()
        seen += 1
        kind = content_type(part)
        if kind in STATUS_TYPES:
            (forwarded if inside else own).append(part)
            continue
        children = subparts(part)
        if children is not None:
            nested = inside or kind.startswith("message/")
            stack.extend((sub, nested) for sub in reversed(children))
    return own or forwarded


def read_status_part(part: Message, notes: list[str]) -> tuple[list[Failure], int]:
    """The failures one delivery-status part reports, and how many recipients it lists."""
    return read_blocks(_blocks(part), notes)


def read_blocks(blocks: list[dict[str, str]],
                notes: list[str]) -> tuple[list[Failure], int]:
    """The failures of groups of delivery-status fields, and how many recipients they list
    (also used for the fields some servers write inline in plain text)."""
    failures: list[Failure] = []
    listed = 0
    for fields in blocks:
        if not _RECIPIENT_FIELDS & fields.keys():
            continue
        listed += 1
        failure = _failure(fields)
        if failure is None:
            continue
        if len(failures) >= MAX_FAILURES:
            continue
        failures.append(failure)
    if listed > MAX_FAILURES and len(failures) >= MAX_FAILURES:
        notes.append(_("rapport de %(nombre)d destinataires : seuls les %(max)d premiers "
                       "échecs sont lus") % {"nombre": listed, "max": MAX_FAILURES})
    return failures, listed


def _failure(fields: dict[str, str]) -> Failure | None:
    """One recipient block as a failure, or None when it says the delivery went through."""
    action = clean(fields.get("action", ""), 40).lower() or None
    if action:
        action = action.split()[0].strip(";")
    if action in NOT_FAILED:
        return None
    diagnostic = _strip_type(fields.get("diagnostic-code", ""))
    status = normalize_status(fields.get("status"))
    # The remote server's own code (in its words) is finer than the code the reporting
    # server mapped it to: « Status: 5.1.1 » over « 550 5.7.1 IP blacklisted » is a block.
    finer = find_status(diagnostic)
    if status and finer and finer[0] == status[0]:
        status = finer
    if not status:
        status = find_status(diagnostic) or status_from_reply(diagnostic)
    if status and status.startswith("2.") and action != "failed":
        return None
    if action is None and status is None:
        return None
    recipient = (_address(fields.get("final-recipient", ""))
                 or _address(fields.get("original-recipient", "")))
    remote = _strip_type(fields.get("remote-mta", "")) or None
    return Failure(recipient=recipient, status=status, kind=kind_for(status, action),
                   action=action, diagnostic=clean(diagnostic),
                   remote_mta=clean(remote, 200) or None if remote else None)


def _address(value: str) -> str | None:
    """« rfc822; Jean@Example.org » → « jean@example.org »."""
    match = _ADDRESS.search(_strip_type(value))
    if not match:
        return None
    return clean(match.group(0), 320).lower().strip(".") or None


def _strip_type(value: str) -> str:
    """The value without its « rfc822; » / « smtp; » / « dns; » type prefix."""
    value = clean(value, 2000)
    head, sep, rest = value.partition(";")
    if sep and re.fullmatch(r"\s*[A-Za-z0-9-]{1,20}\s*", head):
        return rest.strip()
    return value


def _blocks(part: Message) -> list[dict[str, str]]:
    """The groups of fields of a delivery-status part, lower-cased names, first value of
    each field kept. The parser usually splits them into sub-messages, which are written
    back as text here so that one reading splits them (servers that forget the blank line
    between two recipients leave both in one sub-message)."""
    try:
        payload = part.get_payload()
    except Exception:  # noqa: BLE001
        payload = None
    if not isinstance(payload, list) or not payload:
        return parse_fields(part_text(part, TEXT_LIMIT))
    lines: list[str] = []
    for sub in payload[: MAX_FAILURES * 40]:
        try:
            items = list(sub.raw_items())[:200]
        except Exception:  # noqa: BLE001
            continue
        lines.extend(f"{name}: {clean(value, 4000)}" for name, value in items)
        lines.append("")
    return parse_fields("\n".join(lines))


def parse_fields(text: str) -> list[dict[str, str]]:
    """Blocks of « Name: value » lines separated by blank lines, continuation lines
    unfolded; a repeated Final-Recipient inside a block starts a new one (some servers
    forget the blank line)."""
    blocks: list[dict[str, str]] = []
    fields: dict[str, str] = {}
    last = None
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")[:200_000]:
        if not line.strip():
            if fields:
                blocks.append(fields)
            fields, last = {}, None
            continue
        if line[:1] in " \t" and last:
            fields[last] = (fields[last] + " " + line.strip())[:4000]
            continue
        match = _FIELD.match(line)
        if not match:
            continue
        name = match.group(1).lower()
        if name == "final-recipient" and name in fields:
            blocks.append(fields)
            fields = {}
        last = name
        fields.setdefault(name, match.group(2).strip()[:4000])
        if fields.get(name) != match.group(2).strip()[:4000]:
            last = None
    if fields:
        blocks.append(fields)
    return blocks
