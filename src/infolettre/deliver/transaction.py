"""One mail transaction on an open aiosmtplib connection: MAIL, RCPT, DATA, and the hook.

The mail transaction is driven here rather than by ``aiosmtplib.SMTP.sendmail``, for one
reason: ``SmtpSender.send(envelope, before_content=hook)`` (``smtp.py``) must call ``hook``
after the server's 354 and before the first byte of the content (the ledger
commits « transmis » there). A server delivers nothing before the final dot, so until the
hook has returned nothing can have been delivered; if the hook raises, the connection is
closed without a byte of content and the exception goes through. ``_data`` replicates
``aiosmtplib.protocol.SMTPProtocol.execute_data_command`` (DATA, 354, then the dot-stuffed
content and the final dot in one write, then the reply) using the protocol's
``_command_lock``, ``_response_pending``, ``write`` and ``read_response``: written for
aiosmtplib 5 (pinned ``>=5,<6``); ``tests/test_delivery_faults.py`` fails loudly if those
change. When the server offers PIPELINING (RFC 2920), ``_pipelined`` writes MAIL, RCPT and
DATA at once and reads the three replies itself (``_Replies``, on the same transport), with
the same outcomes and the same hook; aiosmtplib still connects, says EHLO, STARTTLS, AUTH,
RSET and QUIT. The message goes as it is when it is a ``WireMessage`` (see
``message.py``); other bytes are checked cheaply and rewritten only if needed.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import re
from collections import deque
from collections.abc import Callable
from typing import Any

import aiosmtplib

from . import DeliveryResult, Envelope, Outcome
from .message import WireMessage

#: What aiosmtplib's DATA does to the content (``protocol.py``), replicated in ``_data``.
_LINE_ENDS = re.compile(rb"(?:\r\n|\n|\r(?!\n))")
_LEADING_DOT = re.compile(rb"(?m)^\.")
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_ADDRESS = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")


class HookFailed(Exception):
    """``before_content`` raised: carried out of the transaction to be raised as it is."""

    def __init__(self, cause: Exception):
        super().__init__(str(cause))
        self.cause = cause


async def run_transaction(client: aiosmtplib.SMTP, envelope: Envelope, options: list[str],
                       before_content: Callable[[], Any] | None) -> str:
    """MAIL, RCPT, DATA for one recipient, as ``SMTP.sendmail`` does; return the final reply.

    Raises what ``sendmail`` raises (``SMTPSenderRefused``, ``SMTPRecipientRefused``,
    ``SMTPDataError``, ``SMTPServerDisconnected``, ``ValueError`` for an address that
    cannot be sent), after an ``RSET`` on a refusal; ``HookFailed`` if the hook raised.
    """
    utf8 = any(option.lower() == "smtputf8" for option in options)
    encoding = "utf-8" if utf8 else "ascii"
    mail_from = _mail_from(envelope.sender, encoding)   # ValueError before anything is sent
    rcpt_to = _rcpt_to(envelope.recipient, encoding)
    if utf8 and not client.supports_extension("smtputf8"):
        raise aiosmtplib.SMTPNotSupported("SMTPUTF8 is not supported by this server")
    payload = normalize(envelope.message)
    if client.supports_extension("size"):
        options = [f"SIZE={len(payload)}", *options]   # RFC 1870: octets as transmitted
    mail = b" ".join([b"MAIL", mail_from, *(option.encode("ascii") for option in options)])
    try:
        if client.supports_extension("pipelining"):
            response = await _pipelined(client, envelope, mail + b"\r\n", b"RCPT " + rcpt_to +
                                        b"\r\n", payload, before_content)
        else:
            # ``client.mail`` would parse the (constant) sender again: send MAIL as it does
            response = await client.execute_command(mail)
            if response.code != aiosmtplib.SMTPStatus.completed:
                raise aiosmtplib.SMTPSenderRefused(response.code, response.message,
                                                   envelope.sender)
            await client.rcpt(envelope.recipient, encoding=encoding)
            response = await _data(client, payload, before_content)
    except aiosmtplib.SMTPResponseException:
        try:
            await client.rset()
        except (ConnectionError, aiosmtplib.SMTPResponseException):
            pass
        raise
    return response.message


@functools.lru_cache(maxsize=64)
def _mail_from(sender: str, encoding: str) -> bytes:
    """``FROM:<address>`` for MAIL, parsed and checked once per sender (as ``SMTP.mail``)."""
    return b"FROM:" + aiosmtplib.email.quote_address(sender).encode(encoding)


def _rcpt_to(recipient: str, encoding: str) -> bytes:
    """``TO:<address>`` for RCPT, as ``SMTP.rcpt`` writes it.

    A plain dot-atom address (nearly all of them) is what ``email.utils.parseaddr`` would
    give back unchanged, so it is written directly (that parser costs ~25 µs); any other
    goes through aiosmtplib's parsing and checks.
    """
    if _PLAIN_ADDRESS.fullmatch(recipient):
        return b"TO:<" + recipient.encode("ascii") + b">"
    return b"TO:" + aiosmtplib.email.quote_address(recipient).encode(encoding)


def normalize(message: bytes) -> bytes:
    """CRLF line ends and a final CRLF, as aiosmtplib transmits (and counts for SIZE).

    Our messages are already CRLF (``Envelope.message``): a ``WireMessage`` is sent as it
    is; for other bytes three counts tell, and the regular expression runs only when some
    line end is not CRLF.
    """
    if type(message) is WireMessage:
        return message
    crlf = message.count(b"\r\n")
    if crlf != message.count(b"\n") or crlf != message.count(b"\r"):
        message = _LINE_ENDS.sub(b"\r\n", message)
    return message if message.endswith(b"\r\n") else message + b"\r\n"


def dot_stuff(message: bytes) -> bytes:
    """Double the "." that starts a line (RFC 5321 4.5.2), as aiosmtplib's DATA does.

    Our messages have no such line (``Envelope.message``): a ``WireMessage`` goes as it is,
    other bytes after a cheap check; anything else gets the regular expression.
    """
    if type(message) is WireMessage or (b"\n." not in message
                                         and not message.startswith(b".")):
        return message
    return _LEADING_DOT.sub(b"..", message)


async def _data(client: aiosmtplib.SMTP, message: bytes,
                before_content: Callable[[], Any] | None) -> aiosmtplib.SMTPResponse:
    """DATA → 354 → ``before_content()`` → content and final dot in one write → reply.

    ``SMTPProtocol.execute_data_command`` of aiosmtplib 5 with the hook added; the
    connection is closed on a lost connection or a timeout, as ``SMTP.data`` does.
    """
    protocol = client.protocol
    if protocol is None or protocol._command_lock is None:
        raise aiosmtplib.SMTPServerDisconnected("Server not connected")
    content = dot_stuff(message) + b".\r\n"
    timeout = client.timeout
    try:
        async with protocol._command_lock:
            protocol._response_pending = True   # a reply is expected (see execute_command)
            protocol.write(b"DATA\r\n")
            start = await protocol.read_response(timeout=timeout)
            if start.code != aiosmtplib.SMTPStatus.start_input:
                _close_if_closing(client, start)
                raise aiosmtplib.SMTPDataError(start.code, start.message)
            await _before_content(client, before_content)
            protocol._response_pending = True
            protocol.write(content)
            response = await protocol.read_response(timeout=timeout)
            if response.code != aiosmtplib.SMTPStatus.completed:
                _close_if_closing(client, response)
                raise aiosmtplib.SMTPDataError(response.code, response.message)
    except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError):
        client.close()
        raise
    return response


async def _before_content(client: aiosmtplib.SMTP,
                          before_content: Callable[[], Any] | None) -> None:
    """Run the hook after the 354, before any content: on failure, send nothing and close."""
    if before_content is None:
        return
    try:
        pending = before_content()
        if inspect.isawaitable(pending):
            await pending
    except Exception as exc:
        client.close()
        raise HookFailed(exc) from exc
    except BaseException:
        client.close()
        raise


async def _pipelined(client: aiosmtplib.SMTP, envelope: Envelope, mail: bytes, rcpt: bytes,
                     message: bytes, before_content: Callable[[], Any] | None
                     ) -> aiosmtplib.SMTPResponse:
    """MAIL, RCPT and DATA in one write (RFC 2920 PIPELINING), then as ``_data``.

    The three replies are read in order, every one of them, before anything is decided
    (a server answers RCPT and DATA even after refusing MAIL). Then exactly as in lock-step:
    a refusal raises ``SMTPSenderRefused``, ``SMTPRecipientRefused`` or ``SMTPDataError``
    (``run_transaction`` says RSET); only after a 354 with MAIL and RCPT accepted is
    ``before_content`` called, then the content and the final dot are written. A 421
    closes the connection. aiosmtplib 5 reads one reply per command written (a reply that
    arrives early is dropped), so for the transaction the connection's transport hands its
    bytes to a ``_Replies`` reader, and back to aiosmtplib's protocol after it.
    """
    protocol = client.protocol
    if protocol is None or protocol._command_lock is None or protocol.transport is None:
        raise aiosmtplib.SMTPServerDisconnected("Server not connected")
    timeout = client.timeout
    try:
        async with protocol._command_lock:
            transport = protocol.transport
            if transport is None or transport.is_closing():
                raise aiosmtplib.SMTPServerDisconnected("Connection lost")
            replies = _Replies(protocol)
            transport.set_protocol(replies)
            try:
                protocol.write(mail + rcpt + b"DATA\r\n")
                refusal: aiosmtplib.SMTPResponseException | None = None
                for kind in ("MAIL", "RCPT", "DATA"):
                    reply = await replies.read(timeout)
                    if reply.code == aiosmtplib.SMTPStatus.domain_unavailable:
                        client.close()   # 421: the server is closing; no more replies
                    if refusal is None:
                        refusal = _refusal(kind, reply, envelope)
                    if reply.code == aiosmtplib.SMTPStatus.domain_unavailable:
                        break
                if refusal is not None:
                    if reply.code == aiosmtplib.SMTPStatus.start_input:
                        protocol.write(b".\r\n")   # DATA accepted all the same: empty it
                        await replies.read(timeout)
                    raise refusal
                await _before_content(client, before_content)
                protocol.write(dot_stuff(message) + b".\r\n")
                response = await replies.read(timeout)
                if response.code != aiosmtplib.SMTPStatus.completed:
                    _close_if_closing(client, response)
                    raise aiosmtplib.SMTPDataError(response.code, response.message)
            finally:
                if not transport.is_closing():
                    transport.set_protocol(protocol)
    except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError):
        client.close()
        raise
    return response


def _refusal(kind: str, reply: aiosmtplib.SMTPResponse,
             envelope: Envelope) -> aiosmtplib.SMTPResponseException | None:
    """The exception lock-step would raise for this reply to MAIL, RCPT or DATA, if any."""
    status = aiosmtplib.SMTPStatus
    if kind == "MAIL" and reply.code != status.completed:
        return aiosmtplib.SMTPSenderRefused(reply.code, reply.message, envelope.sender)
    if kind == "RCPT" and reply.code not in (status.completed, status.will_forward):
        return aiosmtplib.SMTPRecipientRefused(reply.code, reply.message, envelope.recipient)
    if kind == "DATA" and reply.code != status.start_input:
        return aiosmtplib.SMTPDataError(reply.code, reply.message)
    return None


class _Replies(asyncio.Protocol):
    """Read the replies of pipelined commands, in order, on a borrowed aiosmtplib transport.

    Installed with ``transport.set_protocol`` for one transaction; a lost connection is
    passed on to aiosmtplib's protocol, so the client knows it is closed.
    """

    def __init__(self, owner: Any):
        self.owner = owner
        self.buffer = bytearray()
        self.ready: deque[aiosmtplib.SMTPResponse] = deque()
        self.error: Exception | None = None
        self.waiter: asyncio.Future[None] | None = None

    def data_received(self, data: bytes) -> None:
        self.buffer.extend(data)
        while self.error is None:
            try:
                reply = self._parse()
            except aiosmtplib.SMTPResponseException as exc:
                self.error = exc
                break
            if reply is None:
                break
            self.ready.append(reply)
        self._wake()

    def _parse(self) -> aiosmtplib.SMTPResponse | None:
        """Take one complete reply off the buffer (as aiosmtplib parses them), or None."""
        lines, offset = [], 0
        while (end := self.buffer.find(b"\n", offset)) != -1:
            line = bytes(self.buffer[offset:end + 1])
            offset = end + 1
            if not line[:3].isdigit() or len(line) > 8192:
                raise aiosmtplib.SMTPResponseException(
                    aiosmtplib.SMTPStatus.invalid_response.value,
                    "Malformed SMTP response line: " + line.decode("utf-8", "ignore"))
            lines.append(line[4:].strip(b" \t\r\n"))
            if line[3:4] != b"-":
                del self.buffer[:offset]
                return aiosmtplib.SMTPResponse(
                    int(line[:3]), b"\n".join(lines).decode("utf-8", "surrogateescape"))
        if len(self.buffer) > 1 << 20:
            raise aiosmtplib.SMTPResponseException(
                aiosmtplib.SMTPStatus.invalid_response.value, "Response too long")
        return None

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def eof_received(self) -> bool:
        if self.error is None:
            self.error = aiosmtplib.SMTPServerDisconnected("Unexpected EOF received")
        self._wake()
        return False   # the transport closes, then calls connection_lost

    def connection_lost(self, exc: Exception | None) -> None:
        if self.error is None:
            self.error = aiosmtplib.SMTPServerDisconnected("Connection lost")
            self.error.__cause__ = exc
        self._wake()
        self.owner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.owner.pause_writing()

    def resume_writing(self) -> None:
        self.owner.resume_writing()

    async def read(self, timeout: float | None) -> aiosmtplib.SMTPResponse:
        """Return the next reply; ``SMTPServerDisconnected`` or ``SMTPReadTimeoutError``."""
        while not self.ready:
            if self.error is not None:
                raise self.error
            loop = asyncio.get_running_loop()
            self.waiter = waiter = loop.create_future()
            # One timer on the waiter, not ``asyncio.wait_for``: three replies per message
            # made its wrapping a visible share of a fast send's event loop.
            timer = (loop.call_later(timeout, _expire, waiter) if timeout is not None
                     else None)
            try:
                await waiter
            except asyncio.TimeoutError:
                raise aiosmtplib.SMTPReadTimeoutError(
                    "Timed out waiting for server response") from None
            finally:
                self.waiter = None
                if timer is not None:
                    timer.cancel()
        return self.ready.popleft()


def _expire(waiter: asyncio.Future[None]) -> None:
    """The read's time is up: its waiter raises ``TimeoutError``."""
    if not waiter.done():
        waiter.set_exception(asyncio.TimeoutError())


def _close_if_closing(client: aiosmtplib.SMTP, response: aiosmtplib.SMTPResponse) -> None:
    """A 421 means the server is closing the session: close ours (as ``execute_command``)."""
    if response.code == aiosmtplib.SMTPStatus.domain_unavailable:
        client.close()


def answered(envelope: Envelope, code: int, text: str) -> DeliveryResult:
    """A refusal with a code: 5xx is for good; 4xx (or anything odd) is worth a retry."""
    outcome = Outcome.FAILED if 500 <= code <= 599 else Outcome.DEFERRED
    return DeliveryResult(envelope, outcome, text, code=code)
