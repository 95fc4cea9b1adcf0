"""Benchmark: delegates' emails read from a real IMAP server, messages per second.

Run from the repository root (see bench/README.md):

    .venv/bin/python bench/mail_in.py                  # or /tmp/probe/bin/python bench/mail_in.py
    .venv/bin/python bench/mail_in.py --messages 500 --keep

Dovecot is started on loopback exactly as the tests start it (``tests/dovecot.py``:
``start_dovecot`` / ``stop_dovecot``, plain functions — that module imports pytest, so
pytest must be importable, as it is in the development environment). A throwaway project is
made in a temporary folder: a copy of ``infolettre.toml`` (templates pointed back at the
repository) with a ``[courriel_entrant]`` table naming the loopback server, ``content/`` and
``data/`` beside it; the password is put in ``INFOLETTRE_IMAP_PASSWORD`` in this process's
environment, as an operator would.

``--messages`` messages are APPENDed to the INBOX over one connection: a fixed-seed mix built
from ``tests/data/mail/*.eml`` (delegates with a photo and a PDF, delegates in plain text,
strangers, automatic replies and bounces, failed authentication), each with its own
Message-ID and a numbered subject (a month's submissions do not share one title). Then, in
this one process and run one after the other, each on a fresh project:

(a) **poll**: ``gather.imap.poll(settings, plain_loopback=True)`` — fetch, intake,
    acknowledgment check, move to « Traité » / « À vérifier », in clear text on 127.0.0.1
    (TLS is not what is measured); timed as a whole and split by thin wrappers around
    ``_Mailbox.fetch`` (``fetch_many``: by groups, since issue 16), the mailbox runner's ``screen`` (and in it ``archive``),
    ``process_raw`` (and, inside it, ``convert_message``, ``write_draft`` — and in it
    ``content.write._taken`` and ``content.write.fit_image``), ``intake.announce`` (the
    acknowledgment, its subscriber) and the moves; with the batched runner (issue 16), also
    the end of each batch: ``fsutil.Pending.sync`` (files synced and put in place) and
    ``IntakeHandler.commit`` (« seen » records, one transaction) — a step the code does not
    have is left out;
(b) **Maildir**: ``process_maildir`` on a Maildir holding the very bytes (a) fetched (the
    same runner and intake without the network: a file read, then the message filed into
    ``.Traite`` instead of the IMAP move — a durable copy by ``runner.handle_one``, timed
    whole, before the batches; a rename, its folders synced per batch, since);
(c) **conversion alone**: ``convert_message`` on the same bytes, in memory, nothing written.

The wrappers cost about a microsecond a call, against milliseconds per message. Every
distinct message is converted once before anything is timed (imports, Pillow's first use).
Nothing here asserts a duration; the ratios are the result.
"""

from __future__ import annotations

import argparse
import imaplib
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
for entry in (str(REPO / "src"), str(REPO)):  # runnable without an editable install
    if entry not in sys.path:
        sys.path.insert(0, entry)

from infolettre import fsutil, i18n
from infolettre.content import write as content_write
from infolettre.gather import imap, intake
from infolettre.gather.imap import ENV_PASSWORD
from infolettre.mailbox import maildir, runner, screening
from infolettre.state.issues import target_month
from infolettre.settings import Settings, load_settings
from tests.dovecot import DOVECOT, start_dovecot, stop_dovecot

MAIL = REPO / "tests" / "data" / "mail"
SEED = 2026

#: (sample, weight): what a bulletin's inbox receives in a month, roughly.
MIX = [
    # known delegates with attachments (a Latin-1 body, a 10 KB JPEG and a PDF; or two files)
    ("delegate_latin1_photo_pdf", 20),
    ("attachment_names_encoded", 3),
    ("attachment_duplicates", 2),
    # known delegates, text only
    ("key_lines", 6), ("key_lines_event", 5), ("subject_tag_agenda", 5),
    ("subject_tag_financement", 4), ("subject_tag_bons_coups", 4),
    ("charset_latin1_quoted_printable", 4), ("charset_cp1252_declared_latin1", 2),
    ("quoted_reply_french", 3), ("outlook_message_origine", 3), ("format_flowed", 2),
    ("html_only", 3), ("signature_with_sender_name", 3),
    # strangers and failed authentication: items held for review
    ("unknown_sender", 12), ("spf_softfail_no_dkim", 2), ("forged_known_dmarc_fail", 1),
    # automatic mail: rejected, filed in « Traité »
    ("auto_submitted", 3), ("out_of_office_reponse_automatique", 4),
    ("out_of_office_absent", 2), ("x_autoreply", 2), ("precedence_bulk", 2),
    ("mailing_list", 1), ("bounce_postmaster", 1), ("bounce_multipart_report", 1),
]
GROUPS = {
    "delegate + attachments": {"delegate_latin1_photo_pdf", "attachment_names_encoded",
                               "attachment_duplicates"},
    "stranger / failed auth": {"unknown_sender", "spf_softfail_no_dkim",
                               "forged_known_dmarc_fail"},
    "automatic (auto-reply, bounce, list)": {"auto_submitted",
                                             "out_of_office_reponse_automatique",
                                             "out_of_office_absent", "x_autoreply",
                                             "precedence_bulk", "mailing_list",
                                             "bounce_postmaster", "bounce_multipart_report"},
}


# -- the messages and the project -------------------------------------------------------------

def build_messages(count: int) -> tuple[list[bytes], Counter]:
    """Return ``count`` raw messages from the mix (fixed seed), each with its own Message-ID
    and a numbered subject; and how many of each sample."""
    samples = {name: (MAIL / f"{name}.eml").read_bytes() for name, _w in MIX}
    names = random.Random(SEED).choices([n for n, _w in MIX], [w for _n, w in MIX], k=count)
    out = []
    for i, name in enumerate(names, 1):
        raw = samples[name]
        raw = re.sub(rb"(?im)^Message-ID:[^\n]*", f"Message-ID: <bench-{i}@example.org>"
                     .encode(), raw, count=1)
        if re.search(rb"(?im)^Subject:", raw):
            raw = re.sub(rb"(?im)^(Subject:[^\r\n]*)", rb"\1" + f" ({i})".encode(), raw,
                         count=1)
        out.append(raw)
    return out, Counter(names)


def make_project(root: Path, host: str, port: int, user: str) -> Settings:
    """A copy of infolettre.toml in ``root`` (content/ and data/ there), reading the test box."""
    text = (REPO / "infolettre.toml").read_text(encoding="utf-8")
    text = re.sub(r'(?m)^gabarits = "templates"',
                  f'gabarits = "{(REPO / "templates").as_posix()}"', text)
    text += (f'\n[courriel_entrant]\nimap_hote = "{host}"\nimap_port = {port}\n'
             f'imap_securite = "starttls"\nimap_utilisateur = "{user}"\n')
    root.mkdir(parents=True)
    (root / "content").mkdir()
    config = root / "infolettre.toml"
    config.write_text(text, encoding="utf-8")
    return load_settings(config)


def append_all(server, messages: list[bytes]) -> float:
    """APPEND every message to INBOX over one connection; return the seconds it took."""
    client = imaplib.IMAP4(server.host, server.port, timeout=60)
    try:
        client.login(server.user, server.password)
        start = time.perf_counter()
        for raw in messages:
            typ, data = client.append("INBOX", None, None, raw)
            if typ != "OK":
                raise RuntimeError(f"APPEND refusé : {data}")
        return time.perf_counter() - start
    finally:
        client.logout()


def inbox_count(server) -> int:
    client = imaplib.IMAP4(server.host, server.port, timeout=60)
    try:
        client.login(server.user, server.password)
        _typ, data = client.select("INBOX", readonly=True)
        return int(data[0])
    finally:
        client.logout()


# -- timing -----------------------------------------------------------------------------------

class Timers:
    """Sum of seconds per step, filled by wrappers around the real functions."""

    def __init__(self):
        self.total: Counter = Counter()
        self.calls: Counter = Counter()
        self.series: dict[str, list[float]] = {}  # each call, in order (growth over the run)
        self.raw: list[tuple[bytes, datetime | None]] = []  # what process_raw received

    def wrap(self, owner, name: str, label: str, keep=None):
        real = getattr(owner, name, None)
        if real is None:  # a step this version of the code does not have
            return lambda: None

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                spent = time.perf_counter() - start
                self.total[label] += spent
                self.calls[label] += 1
                self.series.setdefault(label, []).append(spent)
                if keep is not None:
                    keep(spent, args, kwargs)

        setattr(owner, name, timed)
        return lambda: setattr(owner, name, real)


def instrument(timers: Timers, capture: bool) -> list:
    """Wrap the steps; return the functions that undo it."""
    def keep_raw(spent, args, kwargs):
        if capture:
            timers.raw.append((args[0], kwargs.get("received")))
    return [
        timers.wrap(imap._Mailbox, "fetch", "fetch"),  # one message (before issue 16)
        timers.wrap(imap._Mailbox, "fetch_many", "fetch"),  # by groups (issue 16)
        timers.wrap(imap._Mailbox, "move", "move"),
        timers.wrap(imap._Mailbox, "file_with_reason", "move"),
        timers.wrap(imap, "process_raw", "process_raw", keep_raw),
        # the mailbox runner: one message, from fetch to filing (unbatched runner); the
        # screening before the handler (reason header dropped, raw bytes archived, measured)
        timers.wrap(runner, "handle_one", "maildir_file"),
        timers.wrap(runner, "screen", "screen"),
        # the batched runner (issue 16): each message read, then at the end of each batch
        # its files synced, the « seen » records written, the messages filed
        timers.wrap(maildir.MaildirFolder, "fetch", "read"),
        timers.wrap(runner, "_file", "file"),
        timers.wrap(fsutil.Pending, "sync", "sync"),
        timers.wrap(intake.IntakeHandler, "commit", "commit"),
        timers.wrap(maildir.MaildirFolder, "flush", "flush"),
        timers.wrap(screening, "archive", "archive"),
        timers.wrap(intake, "convert_message", "convert"),
        timers.wrap(intake, "write_draft", "write_draft"),
        timers.wrap(content_write, "_taken", "taken"),
        timers.wrap(content_write, "fit_image", "fit_image"),
        # the item written, announced: its subscriber, the acknowledgment
        timers.wrap(intake, "announce", "acknowledge"),
    ]


def run_poll(settings: Settings) -> tuple[float, Timers, object]:
    timers = Timers()
    undo = instrument(timers, capture=True)
    try:
        start = time.perf_counter()
        report = imap.poll(settings, plain_loopback=True)  # password from the environment
        wall = time.perf_counter() - start
    finally:
        for u in undo:
            u()
    return wall, timers, report


def run_maildir(settings: Settings, root: Path, raws: list[tuple[bytes, datetime | None]]):
    """Write the fetched bytes into a Maildir (new/), then time process_maildir on it."""
    maildir = root / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    for i, (raw, received) in enumerate(raws):
        path = maildir / "new" / f"{1_700_000_000 + i}.M{i:06d}P1.bench"
        path.write_bytes(raw)
        if received is not None:
            stamp = received.timestamp()
            os.utime(path, (stamp, stamp))
    os.sync()
    timers = Timers()
    undo = instrument(timers, capture=False)
    # the Maildir run calls intake.process_raw directly: time it there too
    undo.append(timers.wrap(intake, "process_raw", "process_raw"))
    try:
        start = time.perf_counter()
        report = intake.process_maildir(settings, maildir)
        wall = time.perf_counter() - start
    finally:
        for u in reversed(undo):
            u()
    return wall, timers, report


def run_convert(settings: Settings, raws: list[tuple[bytes, datetime | None]]) -> float:
    """convert_message alone on the same bytes (the month the intake would give)."""
    tz = settings.identity.timezone
    cap = settings.mail_intake.max_attachment_bytes
    now = datetime.now(UTC)
    prepared = [(intake.without_reason(raw), received or now) for raw, received in raws]
    start = time.perf_counter()
    for raw, received in prepared:
        month = target_month(received.astimezone(tz).date(), ())  # no sign-off in a bench
        intake.convert_message(raw, settings, month=month, received=received,
                               max_attachment_bytes=cap)
    return time.perf_counter() - start


def warm_up(settings: Settings, messages: list[bytes]) -> None:
    """Convert each distinct sample once (imports, first use of Pillow and the parsers)."""
    seen = set()
    for raw in messages:
        key = re.sub(rb"bench-\d+|\(\d+\)", b"", raw)
        if key not in seen:
            seen.add(key)
            intake.convert_message(raw, settings, month="2026-12")


# -- report -----------------------------------------------------------------------------------

def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows)]
    line = lambda cells: "| " + " | ".join(
        str(c).ljust(w) if i == 0 else str(c).rjust(w)
        for i, (c, w) in enumerate(zip(cells, widths))) + " |"
    sep = "|" + "|".join(("-" * (w + 2)) if i == 0 else ("-" * (w + 1) + ":")
                         for i, w in enumerate(widths)) + "|"
    return "\n".join([line(headers), sep, *(line(r) for r in rows)])


def ms(seconds: float, n: int) -> str:
    return f"{seconds / n * 1000:.2f}"


def kinds(results) -> str:
    counted = Counter(r.kind for r in results)
    held = sum(getattr(r, "held", False) for r in results)
    acks = sum(getattr(r, "ack_sent", False) for r in results)
    return (", ".join(f"{k} {counted[k]}" for k in sorted(counted))
            + f"; {held} of the items held; {acks} acknowledgment(s) sent")


def git_state() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True,
                              check=False).stdout

    dirty = [line[3:] for line in git("status", "--porcelain", "--", "src").splitlines()]
    return (git("log", "-1", "--format=%h « %s »").strip()
            + (f" + uncommitted changes in src/ ({', '.join(dirty)})" if dirty else ""))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary projects (the Dovecot folder is always removed)")
    args = parser.parse_args(argv)
    n = args.messages
    if not DOVECOT.exists():
        print("Dovecot absent (/usr/sbin/dovecot): apt-get install dovecot-imapd", file=sys.stderr)
        return 2
    i18n.activate("fr_CA")
    messages, mix = build_messages(n)
    size = sum(len(m) for m in messages)
    load = os.getloadavg()[0]
    version = subprocess.run([str(DOVECOT), "--version"], capture_output=True, check=False,
                             text=True).stdout.strip()
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, Dovecot {version}, load {load:.2f}")
    print(f"code: {git_state()}")
    if load > 0.8 * (os.cpu_count() or 1):
        print(f"warning: load average {load:.2f} already: Dovecot and this process share the "
              f"cores, every figure will be lower", file=sys.stderr)
    grouped = Counter()
    for name, c in mix.items():
        group = next((g for g, names in GROUPS.items() if name in names), "delegate, text only")
        grouped[group] += c
    print(f"{n} messages, {size / n / 1024:.1f} KB mean ({size / 1024 / 1024:.1f} MB): "
          + ", ".join(f"{g} {c}" for g, c in grouped.most_common()))

    tmp = Path(tempfile.mkdtemp(prefix="infolettre-mail-bench-"))
    process, server, folder = start_dovecot()
    try:
        os.environ[ENV_PASSWORD] = server.password
        poll_settings = make_project(tmp / "poll", server.host, server.port, server.user)
        warm_up(make_project(tmp / "warm", server.host, server.port, server.user), messages)
        appended = append_all(server, messages)
        print(f"APPEND: {appended:.1f} s, {n / appended:,.0f} msgs/s (setup, one connection)")

        poll_wall, pt, poll_report = run_poll(poll_settings)
        left = inbox_count(server)
        raws = pt.raw
        maildir_settings = make_project(tmp / "maildir", server.host, server.port, server.user)
        md_wall, mt, md_report = run_maildir(maildir_settings, tmp / "maildir", raws)
        conv_settings = make_project(tmp / "convert", server.host, server.port, server.user)
        conv_wall = run_convert(conv_settings, raws)
    finally:
        stop_dovecot(process, folder)
        os.environ.pop(ENV_PASSWORD, None)
        if args.keep:
            print(f"kept: {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    print(f"poll:    {kinds(poll_report.results)}; {len(poll_report.problems)} problem(s); "
          f"{left} left in INBOX")
    print(f"Maildir: {kinds(md_report.results)}")

    def split(wall: float, t: Timers, outer: str) -> list[list[str]]:
        pr, sc, ack = t.total["process_raw"], t.total["screen"], t.total["acknowledge"]
        inner = t.total["convert"] + t.total["write_draft"]
        rows = []
        batched = "maildir_file" not in t.total
        if outer == "imap":
            rows.append(["  fetch (UID FETCH BODY.PEEK[]" + (", by groups)" if batched else ")"),
                         t.total["fetch"]])
        elif batched:
            rows.append(["  read the file", t.total["read"]])
        else:
            rows.append(["  read + file into .Traite (write, fsync, rename)",
                         t.total["maildir_file"] - sc - pr - ack])
        rows += [
            ["  screen: drop reason, archive, measure", sc],
            ["    archive raw bytes (sha256, write" + (")" if batched else ", fsync)"),
             t.total["archive"]],
            ["  process_raw", pr],
            ["    convert_message", t.total["convert"]],
            ["    write_draft (item + files" + (")" if batched else ", fsync)"),
             t.total["write_draft"]],
            ["      of which listing the month folder", t.total["taken"]],
            ["      of which fitting images (Pillow)", t.total["fit_image"]],
            ["    rest: sha256, Message-ID, seen check, record", pr - inner],
        ]
        rows.append(["  announce → acknowledgment (accusé de réception)", ack])
        batch_end = t.total["sync"] + t.total["commit"]
        if batched:
            rows += [["  end of each batch: sync the files written (syncfs)", t.total["sync"]],
                     ["  end of each batch: record them seen (one transaction)",
                      t.total["commit"]]]
        if outer == "imap":
            rows.append(["  move / file (UID MOVE per batch, APPEND)", t.total["move"]])
            rest = wall - t.total["fetch"] - sc - pr - ack - t.total["move"] - batch_end
            rows.append(["  rest (login, SELECT, SEARCH, logout, loop)", rest])
        elif batched:
            filing = t.total["file"] + t.total["flush"]
            rows.append(["  file into .Traite (rename; folders synced per batch)", filing])
            rows.append(["  rest (listing, loop)",
                         wall - t.total["read"] - sc - pr - ack - batch_end - filing])
        else:
            rows.append(["  rest (listing, fsync of new/ cur/, loop)",
                         wall - t.total["maildir_file"]])
        return [[label, f"{s:.2f}", ms(s, n), f"{s / wall * 100:.0f} %"] for label, s in rows]

    head = ["run / step", "seconds", "ms/msg", "share"]
    rows = [["(a) poll over IMAP (Dovecot, loopback)", f"{poll_wall:.2f}", ms(poll_wall, n),
             "100 %"], *split(poll_wall, pt, "imap"),
            ["(b) process_maildir, same bytes", f"{md_wall:.2f}", ms(md_wall, n), "100 %"],
            *split(md_wall, mt, "maildir"),
            ["(c) convert_message alone, same bytes", f"{conv_wall:.2f}", ms(conv_wall, n), "—"]]
    print()
    print(table(head, rows))
    print()
    print(f"poll: {n / poll_wall:,.0f} msgs/s; Maildir: {n / md_wall:,.0f} msgs/s; "
          f"conversion alone: {n / conv_wall:,.0f} msgs/s")
    print(f"poll / Maildir time = {poll_wall / md_wall:.2f}; conversion alone / poll = "
          f"{conv_wall / poll_wall * 100:.0f} %; conversion alone / process_raw in the poll = "
          f"{conv_wall / pt.total['process_raw'] * 100:.0f} %")
    tenth = max(1, n // 10)
    print(f"growth, ms per message over the first tenth → the last tenth of the {n}:")
    for label, t, steps in (("poll", pt, ("fetch", "process_raw", "write_draft", "move")),
                            ("Maildir", mt, ("process_raw", "write_draft", "maildir_file",
                                             "read", "file"))):
        parts = []
        for step in steps:
            series = t.series.get(step, [])
            if len(series) < 2 * tenth:
                continue
            first = sum(series[:tenth]) / tenth * 1000
            last = sum(series[-tenth:]) / tenth * 1000
            parts.append(f"{step} {first:.2f} → {last:.2f}")
        print(f"  {label}: " + "; ".join(parts))
    print(f"Maildir over conversion alone (time ratio): {conv_wall / md_wall:.2f}")
    print(f"RATIO mail_in_imap_msgs_per_s {n / poll_wall:.1f}")
    print(f"RATIO mail_in_maildir_msgs_per_s {n / md_wall:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
