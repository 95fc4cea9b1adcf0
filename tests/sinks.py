"""Real SMTP servers on loopback for the delivery tests: what arrived, counted per recipient.

- ``CountingSink`` (an aiosmtpd handler, served by ``counting_server``): records the
  Message-ID of every message it accepts, per recipient, and misbehaves on request — a reply
  chosen per recipient at RCPT (550 for good, or 421/451 the first time only), a reply to the
  Nth message after its content (421/451/554…), a connection dropped in the middle of the
  content (after reading part of it, once per recipient), a delay before each final answer.
  A message counts as received as soon as its final dot is read, before the answer is sent,
  as a real server queues it: a client killed while waiting for the 250 is still counted.
- ``postfix_sink`` (a fixture): Postfix's own ``smtp-sink`` on a free port, dumping every
  complete transaction to a file; ``PostfixSink.received`` counts them. Skipped, loudly, when
  ``/usr/sbin/smtp-sink`` is absent (``.ci/run`` installs Debian's ``postfix``).

Counters are shared between the server's thread and the test: read them through the
methods, which take the lock.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

SMTP_SINK = Path("/usr/sbin/smtp-sink")
SEPARATOR = "=====INFOLETTRE-SMTP-SINK====="
_MESSAGE_ID = re.compile(rb"(?im)^Message-ID:[ \t]*(<[^>\s]+>)")
_RCPT_ARGS = re.compile(rb"(?m)^X-Rcpt-Args:[ \t]*<([^>]*)>")


def free_port() -> int:
    """Return a loopback port nobody listens on (for a moment)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def message_id(data: bytes) -> str | None:
    """Return the Message-ID of a message (searched in its header only)."""
    head = re.split(rb"\r?\n\r?\n", data, maxsplit=1)[0]
    found = _MESSAGE_ID.search(head)
    return found.group(1).decode("ascii", "replace") if found else None


def _fold(address: str) -> str:
    return address.strip().strip("<>").casefold()


class CountingSink:
    """An aiosmtpd handler that counts what it accepts and injects faults (module docstring).

    ``refuse``: address → reply at RCPT, every time (``"550 5.1.1 …"``).
    ``defer_once``: address → reply at RCPT the first time only (``"451 …"``, ``"421 …"``).
    ``reply_nth``: n → reply to the n-th complete message (1-based, in arrival order) instead
    of accepting it; that message is not counted.
    ``drop_mid_data``: addresses whose first content is cut: after ``drop_after`` bytes the
    server closes the connection without an answer (nothing counted).
    ``data_delay``: seconds between reading the final dot (message counted) and answering.
    ``hold_once``: address → seconds to wait before answering its first message (counted).
    """

    def __init__(self, *, refuse: Mapping[str, str] | None = None,
                 defer_once: Mapping[str, str] | None = None,
                 reply_nth: Mapping[int, str] | None = None,
                 drop_mid_data: Iterable[str] = (), drop_after: int = 200,
                 data_delay: float = 0.0, hold_once: Mapping[str, float] | None = None):
        self.refuse = {_fold(a): r for a, r in (refuse or {}).items()}
        self.defer_once = {_fold(a): r for a, r in (defer_once or {}).items()}
        self.reply_nth = dict(reply_nth or {})
        self.drop_mid_data = {_fold(a) for a in drop_mid_data}
        self.drop_after = drop_after
        self.data_delay = data_delay
        self.hold_once = {_fold(a): t for a, t in (hold_once or {}).items()}
        self.lock = threading.Lock()
        self._received: Counter[tuple[str, str | None]] = Counter()
        self._rcpt_seen: Counter[str] = Counter()
        self._faults: list[tuple[str, str]] = []     # (address, what happened)
        self._complete = 0                           # messages whose final dot was read
        self._data_commands = 0                      # DATA commands answered with 354
        self.sessions = 0

    # -- what the test reads -----------------------------------------------------------

    def per_recipient(self) -> Counter[str]:
        """Return how many messages each recipient received."""
        with self.lock:
            counts: Counter[str] = Counter()
            for (rcpt, _mid), n in self._received.items():
                counts[rcpt] += n
            return counts

    def received(self) -> Counter[tuple[str, str | None]]:
        """Return the count of each (recipient, Message-ID) received."""
        with self.lock:
            return Counter(self._received)

    def total(self) -> int:
        with self.lock:
            return sum(self._received.values())

    def rcpt_seen(self) -> Counter[str]:
        """Return how many times each recipient was named in a RCPT TO (refused ones too)."""
        with self.lock:
            return Counter(self._rcpt_seen)

    def faults(self) -> list[tuple[str, str]]:
        with self.lock:
            return list(self._faults)

    def data_commands(self) -> int:
        with self.lock:
            return self._data_commands

    # -- aiosmtpd hooks ----------------------------------------------------------------

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        with self.lock:
            self.sessions += 1
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        key = _fold(address)
        with self.lock:
            self._rcpt_seen[key] += 1
            if key in self.refuse:
                self._faults.append((key, self.refuse[key]))
                return self.refuse[key]
            if key in self.defer_once:
                reply = self.defer_once.pop(key)
                self._faults.append((key, reply))
                return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    def take_drop(self, address: str) -> bool:
        """Tell whether this content must be cut (once per listed recipient)."""
        key = _fold(address)
        with self.lock:
            self._data_commands += 1
            if key in self.drop_mid_data:
                self.drop_mid_data.discard(key)
                self._faults.append((key, "coupure pendant DATA"))
                return True
        return False

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self._complete += 1
            reply = self.reply_nth.get(self._complete)
            if reply is not None:
                self._faults.append((_fold(envelope.rcpt_tos[0]), reply))
            else:
                mid = message_id(envelope.original_content)
                for rcpt in envelope.rcpt_tos:
                    self._received[(_fold(rcpt), mid)] += 1
        if reply is not None:
            return reply
        with self.lock:
            hold = self.hold_once.pop(_fold(envelope.rcpt_tos[0]), 0.0)
        if hold or self.data_delay:
            await asyncio.sleep(hold or self.data_delay)
        return "250 2.0.0 Ok: queued"


class FaultySMTP(SMTP):
    """aiosmtpd's server, able to cut a connection in the middle of a message's content."""

    async def smtp_DATA(self, arg: str) -> None:
        handler = self.event_handler
        envelope = self.envelope
        if (not isinstance(handler, CountingSink) or envelope is None or not envelope.rcpt_tos
                or arg or not self.session.host_name):
            return await super().smtp_DATA(arg)
        if not handler.take_drop(envelope.rcpt_tos[0]):
            return await super().smtp_DATA(arg)
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        read = 0
        while read < handler.drop_after:
            line = await self._reader.readuntil(b"\r\n")
            if line == b".\r\n":
                break          # a short message: still cut before the final answer
            read += len(line)
        self.transport.close()


class _Controller(Controller):
    def factory(self):
        return FaultySMTP(self.handler, **self.SMTP_kwargs)


@contextmanager
def counting_server(sink: CountingSink, **kwargs) -> Iterator[int]:
    """Serve ``sink`` on a free loopback port for the duration of the block; yield the port."""
    port = free_port()
    controller = _Controller(sink, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


class PostfixSink:
    """A running Postfix ``smtp-sink`` and the file where it appends what it received."""

    def __init__(self, process: subprocess.Popen, port: int, folder: Path):
        self.process, self.port, self.folder = process, port, folder
        self.dump = folder / "dump"

    def messages(self) -> list[bytes]:
        """Return every complete transaction dumped so far (smtp-sink headers, then message)."""
        if not self.dump.exists():
            return []
        data = self.dump.read_bytes()
        return [part for part in data.split(f"\n{SEPARATOR}\n".encode())[1:] if part.strip()]

    def received(self) -> Counter[tuple[str, str | None]]:
        """Return the count of each (recipient, Message-ID) dumped by smtp-sink."""
        counts: Counter[tuple[str, str | None]] = Counter()
        for part in self.messages():
            own = part.split(b"\nReceived: ", 1)[0]   # smtp-sink's X- headers come first
            for rcpt in _RCPT_ARGS.findall(own):
                counts[(_fold(rcpt.decode()), message_id(part))] += 1
        return counts

    def per_recipient(self) -> Counter[str]:
        counts: Counter[str] = Counter()
        for (rcpt, _mid), n in self.received().items():
            counts[rcpt] += n
        return counts


@contextmanager
def running_postfix_sink() -> Iterator[PostfixSink]:
    """Start ``smtp-sink`` on a free loopback port with a dump file; stop it at the end.

    As root it must drop privileges (``-u nobody``), so the dump folder is world-writable
    (a private temporary folder, removed afterwards).
    """
    folder = Path(tempfile.mkdtemp(prefix="infolettre-smtp-sink-"))
    os.chmod(folder, 0o777)
    port = free_port()
    command = [str(SMTP_SINK)]
    if os.geteuid() == 0:
        command += ["-u", "nobody"]
    command += ["-S", f"\\n{SEPARATOR}\\n", "-D", str(folder / "dump"), "-m", "64",
                f"127.0.0.1:{port}", "256"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while True:
            if process.poll() is not None:
                raise RuntimeError("smtp-sink s'est arrêté : "
                                   + process.communicate()[1].decode(errors="replace"))
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        yield PostfixSink(process, port, folder)
    finally:
        process.kill()
        process.communicate()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postfix_sink() -> Iterator[PostfixSink]:
    """Postfix ``smtp-sink`` on loopback; a LOUD skip when Postfix is not installed."""
    if not SMTP_SINK.exists():
        pytest.skip("!!! POSTFIX ABSENT: /usr/sbin/smtp-sink not found, the real-server "
                    "delivery test is SKIPPED. Install Debian's postfix (apt-get install "
                    "postfix) or run .ci/run, which does.")
    with running_postfix_sink() as sink:
        yield sink
