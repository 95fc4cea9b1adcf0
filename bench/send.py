"""Benchmark: our real send path against a naive smtplib loop and Postfix's smtp-source.

Run from the repository root, as root or as a user allowed to run Postfix's test tools
(see bench/README.md):

    .venv/bin/python bench/send.py                     # or /tmp/probe/bin/python bench/send.py
    .venv/bin/python bench/send.py --recipients 10000 --size-kb 60 --connections 4 \
        --memory-recipients 100000
    .venv/bin/python bench/send.py --quick             # 2,000 recipients, memory at 10,000
    .venv/bin/python bench/send.py --profile           # + cProfile of our path, in process

Everything goes to Postfix's C ``smtp-sink`` on a free loopback port (it accepts and
discards; Debian package ``postfix``, ``/usr/sbin/smtp-sink``). In one run:

(a) **ours**: ``pipeline.send(settings, month)`` end to end, in a child process, on a
    throwaway project (a copy of ``infolettre.toml`` with an ``[smtp]`` table pointing at the
    sink, the sample issue 2026-12, a generated ``recipients.csv``, approved with
    ``pipeline.approve``): render once, plan the ledger, stream the recipients, personalize,
    ``LedgerSender`` + ``SmtpSender`` over ``--connections`` connections;
(b) **naive**: what people write: a stdlib ``smtplib`` loop over ONE connection that builds
    an ``EmailMessage`` per recipient (``set_content`` text + ``add_alternative`` html, the
    same editions filled with the same values) and calls ``send_message``;
(c) **ceiling**: Postfix's ``smtp-source`` with the same sessions (``-s``), message count
    (``-m``) and size (``-l``), connections reused (``-d``, as ours are); also without ``-d``
    (a new connection per message), for reference;
(d) **memory**: the same real send path for ``--memory-recipients`` in a child process; its
    peak RSS (``wait4`` → ``ru_maxrss``), and its RSS sampled against the sink's message
    counter while it runs, so a flat curve shows;
and two diagnostic rows that locate the time: our path without the ledger
(``deliver_issue`` + ``SmtpSender`` alone), and personalization alone (no network).

The messages: the sample issue (42 items, 6 editions), with a few paragraphs of extra text
appended to the regional items (they appear in every edition) so that the mean message over
the recipient mix is about ``--size-kb``. Recipients: fictional people, 90 % spread over
the five territories, 10 % regional (they get the complete edition, the largest).

Machines are noisy: the ratios are the result, not the messages per second. Nothing here
asserts a duration.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import datetime as dt
import io
import json
import os
import platform
import pstats
import random
import re
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
if str(REPO / "src") not in sys.path:  # runnable without an editable install
    sys.path.insert(0, str(REPO / "src"))

MONTH = "2026-12"
SMTP_SINK = "/usr/sbin/smtp-sink"
SMTP_SOURCE = "/usr/sbin/smtp-source"
REGIONAL_SHARE = 0.10

FIRST = ["Geneviève", "François", "Sylvie", "Hélène", "Jean-Philippe", "Marie-Ève", "Benoît",
         "Chantal", "Réjean", "Nathalie", "Mathieu", "Josée", "Éric", "Isabelle", "Gaétan",
         "Mélanie", "Stéphane", "Annie", "Luc", "Émilie", "Pierre-Luc", "Karine", "Denis",
         "Véronique", "Frédéric", "Julie", "Sébastien", "Caroline", "Michel", "Noémie"]
LAST = ["Tremblay", "Gagnon", "Roy", "Côté", "Bouchard", "Gauthier", "Morin", "Lavoie",
        "Fortin", "Gagné", "Ouellet", "Pelletier", "Bélanger", "Lévesque", "Bergeron",
        "Leblanc", "Paquette", "Girard", "Simard", "Boucher", "Caron", "Beaulieu", "Cloutier",
        "Dubé", "Poirier", "Fournier", "Lapointe", "Leclerc", "Lefebvre", "Thériault"]
DOMAINS = ["example.org", "example.net", "example.com"]

#: Extra paragraphs for the regional items (plain French prose, as organizations write it).
PADDING = [
    ("Les partenaires de la table ont rappelé que la réussite de ces démarches repose sur la "
     "participation des personnes concernées. Des rencontres de consultation auront lieu dans "
     "chacune des MRC au cours des prochaines semaines, en présentiel et en virtuel, afin que "
     "chacun puisse faire entendre sa voix sans avoir à se déplacer loin de chez soi."),
    ("Un soutien est offert aux organismes qui souhaitent y prendre part : remboursement des "
     "frais de déplacement, service de garde sur place et accompagnement pour préparer les "
     "échanges. Les organismes peuvent aussi transmettre leurs commentaires par écrit à "
     "l'équipe de coordination, qui en fera la synthèse pour le comité de suivi."),
    ("Le bilan de l'an dernier montre que les projets menés en concertation ont rejoint plus "
     "de familles, plus longtemps, et à moindre coût. Les membres du comité souhaitent "
     "poursuivre dans cette voie et invitent les municipalités, les écoles et les entreprises "
     "de la région à se joindre au mouvement."),
]


# --- the throwaway project ---------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def project_toml(port: int, connections: int) -> str:
    """The repository's infolettre.toml, templates pointed back at the repo, [smtp] → sink."""
    text = (REPO / "infolettre.toml").read_text(encoding="utf-8")
    out, skipping = [], False
    for line in text.splitlines():
        header = re.match(r"\s*\[\[?([A-Za-z_.-]+)\]\]?\s*(#.*)?$", line)
        if header:
            skipping = header.group(1) == "smtp"
        if not skipping:
            out.append(line)
    text = "\n".join(out) + "\n"
    text = re.sub(r'(?m)^gabarits\s*=.*$', f'gabarits = "{REPO / "templates"}"', text)
    return text + (f'\n[smtp]\nhote = "127.0.0.1"\nport = {port}\nsecurite = "aucune"\n'
                   f"connexions = {connections}\n")


def write_content(root: Path, pad_chars: int) -> None:
    """Copy the sample issue; append ``pad_chars`` of prose to each regional item."""
    folder = root / "content" / MONTH
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(REPO / "content" / MONTH, folder)
    if pad_chars <= 0:
        return
    for path in sorted(folder.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        if not re.search(r"(?m)^territoire:\s*regional\s*$", text):
            continue
        extra, i = [], 0
        while sum(len(p) for p in extra) < pad_chars:
            extra.append(PADDING[i % len(PADDING)])
            i += 1
        path.write_text(text.rstrip("\n") + "\n\n" + "\n\n".join(extra) + "\n", encoding="utf-8")


ASCII = str.maketrans("éèêëàâäîïôöûüùçÉÈÊÀÂÎÔÛÇ", "eeeeaaaiioouuucEEEAAIOUC")


def write_recipients(path: Path, count: int, territories: list[str], seed: int = 2026) -> None:
    """``count`` fictional people: 90 % over the territories, 10 % regional, all by email."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["courriel", "nom", "organisme", "territoire", "format", "langue"])
        for n in range(count):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            local = re.sub(r"[^a-z.-]", "", f"{first}.{last}".lower().translate(ASCII))
            email = f"{local}.{n}@{DOMAINS[n % len(DOMAINS)]}"
            territory = ("regional" if rng.random() < REGIONAL_SHARE
                         else territories[n % len(territories)])
            writer.writerow([email, f"{first} {last}", "", territory, "courriel", "fr_CA"])


def make_project(root: Path, recipients: int, port: int, connections: int,
                 pad_chars: int) -> Path:
    """Write a complete project in ``root``; return its infolettre.toml."""
    from infolettre.settings import load_settings

    root.mkdir(parents=True, exist_ok=True)
    config = root / "infolettre.toml"
    config.write_text(project_toml(port, connections), encoding="utf-8")
    write_content(root, pad_chars)
    settings = load_settings(config)
    write_recipients(root / "recipients.csv", recipients, list(settings.territories))
    return config


def fresh_state(config: Path) -> None:
    """Empty the project's state (ledger, sign-off) and approve the issue again."""
    from infolettre import pipeline
    from infolettre.settings import load_settings

    settings = load_settings(config)
    shutil.rmtree(settings.paths.donnees, ignore_errors=True)
    pipeline.approve(settings, MONTH, "Banc d'essai")


def edition_sizes(config: Path) -> dict[str, int]:
    """The bytes of one personalized message of each edition (our real message code)."""
    from infolettre import pipeline
    from infolettre.deliver.run import MessageFactory
    from infolettre.models import COMPLETE, REGIONAL, Recipient
    from infolettre.settings import load_settings

    settings = load_settings(config)
    rendered, _problems = pipeline.prepare(settings, MONTH)
    factory = MessageFactory(rendered, settings, rendered.placeholders, None)
    sizes = {}
    for edition in rendered.editions:
        person = Recipient(email="genevieve.bedard.1@example.org", nom="Geneviève Bédard",
                           territoire=REGIONAL if edition.slug == COMPLETE else edition.slug)
        sizes[edition.slug] = len(factory.envelope(person).message)
    return sizes


def mean_size(sizes: dict[str, int]) -> float:
    from infolettre.models import COMPLETE

    local = [v for k, v in sizes.items() if k != COMPLETE]
    return (1 - REGIONAL_SHARE) * sum(local) / len(local) + REGIONAL_SHARE * sizes[COMPLETE]


def choose_padding(root: Path, port: int, connections: int, size_kb: float) -> tuple[int, dict]:
    """Find the prose to add to regional items so the mean message is about ``size_kb``."""
    target = size_kb * 1024
    config = make_project(root, 1, port, connections, 0)
    sizes0 = edition_sizes(config)
    m0 = mean_size(sizes0)
    if m0 >= target:
        return 0, sizes0
    trial = 2000
    write_content(root, trial)
    m1 = mean_size(edition_sizes(config))
    pad = max(0, round(trial * (target - m0) / (m1 - m0)))
    write_content(root, pad)
    return pad, edition_sizes(config)


# --- smtp-sink ---------------------------------------------------------------------------

class Sink:
    """Postfix smtp-sink on a loopback port; its running counters read from its output."""

    def __init__(self, port: int, log: Path):
        command = [SMTP_SINK, "-c"]
        if os.geteuid() == 0:
            command += ["-u", "nobody"]
        command += [f"127.0.0.1:{port}", "256"]
        self.log = log
        self.out = log.open("wb")
        self.proc = subprocess.Popen(command, stdout=self.out, stderr=subprocess.STDOUT)
        self.port = port
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    s.recv(100)
                    s.sendall(b"QUIT\r\n")
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"smtp-sink did not start: {log.read_text(errors='replace')}")

    def messages(self) -> int:
        """The sink's message counter (it prints ``sess=… quit=… mesg=N`` as it goes)."""
        try:
            with self.log.open("rb") as handle:
                handle.seek(max(0, self.log.stat().st_size - 200))
                tail = handle.read().decode("ascii", "replace")
        except OSError:
            return 0
        found = re.findall(r"mesg=(\d+)", tail)
        return int(found[-1]) if found else 0

    def cpu(self) -> float:
        """The sink's CPU seconds so far (user + system, from /proc): the reference's limit."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.proc.terminate()   # our own child, by its pid
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.out.close()


# --- (a) ours, in a child process ----------------------------------------------------------

def child_send(config: Path, mode: str) -> None:
    """Run in the child: one send of the project; print a JSON line with the timings."""
    from infolettre import i18n, pipeline
    from infolettre.deliver import ledger as ledger_mod
    from infolettre.settings import load_settings

    settings = load_settings(config)
    i18n.activate(settings.identity.langue)
    phases: dict[str, float] = {}
    plan = ledger_mod.Ledger.plan

    def timed_plan(self, *args, **kwargs):  # times the planning pass only; same call
        start = time.perf_counter()
        try:
            return plan(self, *args, **kwargs)
        finally:
            phases["plan"] = time.perf_counter() - start

    ledger_mod.Ledger.plan = timed_plan
    start = time.perf_counter()
    if mode == "ours":
        report, _problems = pipeline.send(settings, MONTH)
    elif mode == "no-ledger":
        report = send_without_ledger(settings)
    else:
        raise SystemExit(f"unknown mode {mode}")
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "sent": report.sent, "deferred": report.deferred,
                      "failed": report.failed, "skipped": report.skipped,
                      "plan": phases.get("plan")}), flush=True)


def send_without_ledger(settings):
    """Diagnostic: the same render, stream, personalization and SmtpSender, no ledger."""
    from infolettre import pipeline
    from infolettre.deliver.recipients import iter_recipients
    from infolettre.deliver.run import deliver_issue
    from infolettre.deliver.senders import make_sender

    rendered, _problems = pipeline.prepare(settings, MONTH)
    sender = make_sender(settings, MONTH, None)
    return deliver_issue(rendered, iter_recipients(settings.paths.destinataires, settings, []),
                         sender, settings, unsubscriber=unsubscriber(settings))


def unsubscriber(settings):
    """The unsubscribe links ``pipeline.send`` puts in each message (signed when it can)."""
    from infolettre import pipeline
    from infolettre.deliver.message import MailtoUnsubscriber

    signed = getattr(pipeline, "signed_unsubscriber", None)
    return signed(settings) if signed else MailtoUnsubscriber(settings)


def run_child(config: Path, mode: str, sink: Sink | None = None,
              sample_every: float = 0.5) -> dict:
    """Run ``child_send`` in a subprocess; return its figures, peak RSS and RSS samples."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", mode, str(config)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")]))}
    base = sink.messages() if sink else 0
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            cwd=config.parent)
    out: dict[str, bytes] = {}
    readers = [threading.Thread(target=lambda n=n, s=s: out.__setitem__(n, s.read()))
               for n, s in (("stdout", proc.stdout), ("stderr", proc.stderr))]
    for t in readers:
        t.start()
    samples = []  # (messages at the sink, RSS in MB)
    status = Path(f"/proc/{proc.pid}/status")
    while True:
        pid, code, usage = os.wait4(proc.pid, os.WNOHANG)  # our child: reaped here only
        if pid:
            break
        try:
            rss = int(re.search(r"VmRSS:\s+(\d+)", status.read_text()).group(1)) / 1024
            samples.append(((sink.messages() - base) if sink else None, rss))
        except (OSError, AttributeError):
            pass
        time.sleep(sample_every)
    proc.returncode = os.waitstatus_to_exitcode(code)
    for t in readers:
        t.join()
    if proc.returncode != 0:
        raise RuntimeError(f"child {mode} failed:\n{out['stderr'].decode(errors='replace')}")
    result = json.loads(out["stdout"].decode().strip().splitlines()[-1])
    result["peak_rss_mb"] = usage.ru_maxrss / 1024  # kB on Linux
    # CPU of the whole child (render and plan included): less sensitive than wall time to
    # what else runs on the machine, so two versions of the code compare on a busy one.
    result["cpu_s"] = usage.ru_utime + usage.ru_stime
    result["samples"] = samples
    return result


# --- (b) the naive loop --------------------------------------------------------------------

def naive_send(config: Path, port: int, limit: int) -> dict:
    """Build an EmailMessage per recipient and ``send_message`` it over ONE connection."""
    from infolettre import i18n, pipeline
    from infolettre.deliver.message import salutation
    from infolettre.models import COMPLETE, Recipient
    from infolettre.render.context import published_images
    from infolettre.settings import load_settings

    settings = load_settings(config)
    i18n.activate(settings.identity.langue)
    rendered, _problems = pipeline.prepare(settings, MONTH)
    editions = {e.slug: e for e in rendered.editions}
    fill = rendered.placeholders.fill
    unsubscribe = unsubscriber(settings)
    images = published_images(settings, MONTH)
    identity = settings.identity
    domain = identity.sender_address.rpartition("@")[2]

    start = time.perf_counter()
    sent, sizes = 0, []
    with open(settings.paths.destinataires, encoding="utf-8-sig", newline="") as handle:
        server = smtplib.SMTP("127.0.0.1", port)
        for row in csv.DictReader(handle):
            if sent >= limit:
                break
            person = Recipient(email=row["courriel"], nom=row["nom"],
                               territoire=row["territoire"])
            edition = editions.get(person.territoire) or editions[COMPLETE]
            link = unsubscribe.links(person).preferred
            values = {"salutation": salutation(person), "courriel": person.email,
                      "desabonnement": link, "images": images}
            msg = EmailMessage()
            msg["From"] = identity.expediteur
            msg["To"] = f"{person.nom} <{person.email}>"
            msg["Reply-To"] = identity.repondre_a
            msg["Subject"] = edition.subject
            msg["Date"] = format_datetime(dt.datetime.now(identity.timezone))
            msg["Message-ID"] = make_msgid(domain=domain)
            msg["List-Unsubscribe"] = f"<{link}>"
            msg.set_content(fill(edition.text, values, escape_html=False))
            msg.add_alternative(fill(edition.html, values, escape_html=True), subtype="html")
            server.send_message(msg)
            if sent < 20:  # sizes of a few, outside nothing: as_bytes again costs the same
                sizes.append(len(msg.as_bytes()))
            sent += 1
        server.quit()
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "sent": sent, "mean_bytes": sum(sizes) / max(1, len(sizes))}


# --- (c) smtp-source -----------------------------------------------------------------------

def smtp_source(port: int, sessions: int, count: int, size: int, reuse: bool) -> dict:
    command = [SMTP_SOURCE, "-s", str(sessions), "-m", str(count), "-l", str(size),
               "-f", "infolettre@example.org", "-t", "personne@example.org"]
    if reuse:
        command.append("-d")
    start = time.perf_counter()
    done = subprocess.run(command + [f"127.0.0.1:{port}"], capture_output=True, text=True,
                          check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"smtp-source failed: {done.stderr}")
    return {"seconds": seconds, "sent": count}


# --- diagnostic: personalization alone --------------------------------------------------------

def personalize_only(config: Path, count: int) -> dict:
    from infolettre import i18n, pipeline
    from infolettre.deliver.recipients import iter_recipients
    from infolettre.deliver.run import MessageFactory
    from infolettre.settings import load_settings

    settings = load_settings(config)
    i18n.activate(settings.identity.langue)
    rendered, _problems = pipeline.prepare(settings, MONTH)
    factory = MessageFactory(rendered, settings, rendered.placeholders, unsubscriber(settings))
    people = list(iter_recipients(settings.paths.destinataires, settings, []))[:count]
    start = time.perf_counter()
    total = sum(len(factory.envelope(p).message) for p in people)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "sent": len(people), "mean_bytes": total / max(1, len(people))}


# --- profile -------------------------------------------------------------------------------

def profile_ours(config: Path, top: int = 25) -> str:
    """cProfile of ``pipeline.send`` in this process; the top functions by own time."""
    from infolettre import i18n, pipeline
    from infolettre.settings import load_settings

    settings = load_settings(config)
    i18n.activate(settings.identity.langue)
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    report, _problems = pipeline.send(settings, MONTH)
    profiler.disable()
    seconds = time.perf_counter() - start
    buffer = io.StringIO()
    stats = pstats.Stats(profiler, stream=buffer)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    return (f"cProfile of pipeline.send, {report.sent} messages in {seconds:.2f} s "
            f"(profiled: slower than unprofiled)\n" + buffer.getvalue())


# --- report --------------------------------------------------------------------------------

def rate(r: dict) -> float:
    return r["sent"] / r["seconds"] if r["seconds"] else 0.0


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = lambda cells: "| " + " | ".join(
        c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=False))) + " |"
    sep = "|" + "|".join(("-" * (w + 2)) if i == 0 else ("-" * (w + 1) + ":")
                         for i, w in enumerate(widths)) + "|"
    return "\n".join([line(headers), sep] + [line(r) for r in rows])


def at_fraction(samples: list, total: int, fraction: float) -> str:
    """RSS (MB) at the first sample where the sink had taken ``fraction`` of the messages."""
    for sent, rss in samples:
        if sent is not None and sent >= fraction * total:
            return f"{rss:.0f}"
    return "—"


def git_state() -> str:
    try:
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=False).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "src"],
                               capture_output=True, text=True, check=False).stdout.strip()
        return head + (" + uncommitted changes in src/" if dirty else "")
    except OSError:
        return "?"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        child_send(Path(argv[2]), argv[1])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--size-kb", type=float, default=60, help="mean message size wanted")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--memory-recipients", type=int, default=100_000,
                        help="recipients of the peak-memory run (0: skip it)")
    parser.add_argument("--naive-recipients", type=int, default=None,
                        help="messages of the naive loop (default: --recipients)")
    parser.add_argument("--quick", action="store_true",
                        help="2,000 recipients, memory run at 10,000")
    parser.add_argument("--profile", action="store_true",
                        help="also profile our path in process (cProfile) and print it")
    parser.add_argument("--keep", action="store_true", help="keep the temporary projects")
    args = parser.parse_args(argv)
    if args.quick:
        args.recipients = min(args.recipients, 2_000)
        args.memory_recipients = min(args.memory_recipients, 10_000)
    naive_n = args.naive_recipients or args.recipients
    for tool in (SMTP_SINK, SMTP_SOURCE):
        if not os.access(tool, os.X_OK):
            print(f"!! {tool} not found: apt-get install postfix (see bench/README.md).",
                  file=sys.stderr)
            return 2

    from importlib import metadata

    from infolettre import i18n
    from infolettre.settings import load_settings

    print(f"infolettre send bench — {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC — "
          f"{platform.node() or 'host'}: {os.cpu_count()} CPU, Python "
          f"{platform.python_version()}, aiosmtplib {metadata.version('aiosmtplib')}, "
          f"code {git_state()}")
    busy = os.getloadavg()[0]
    if busy > 0.5:
        print(f"!! load average {busy:.2f} before starting: something else is using the CPUs "
              f"(2 cores are shared with the sink); the figures will be low and noisy.",
              file=sys.stderr)
    tmp = Path(tempfile.mkdtemp(prefix="infolettre-send-bench-"))
    port = free_port()
    sink = Sink(port, tmp / "smtp-sink.log")
    try:
        root = tmp / "project"
        pad, sizes = choose_padding(root, port, args.connections, args.size_kb)
        config = make_project(root, args.recipients, port, args.connections, pad)
        i18n.activate(load_settings(config).identity.langue)
        mean = mean_size(sizes)
        print(f"Messages: sample issue {MONTH} + {pad:,} characters of prose per regional item;"
              f" bytes per edition: " + ", ".join(f"{k} {v / 1024:.1f} KB"
                                                    for k, v in sizes.items()) +
              f"; mean over the mix ({1 - REGIONAL_SHARE:.0%} territories, "
              f"{REGIONAL_SHARE:.0%} regional): {mean / 1024:.1f} KB.")
        print(f"Sink: {SMTP_SINK} on 127.0.0.1:{port}; project in {tmp}.", flush=True)

        fresh_state(config)
        sink_before = sink.cpu()
        ours = run_child(config, "ours", sink)
        ours["sink_cpu_s"] = sink.cpu() - sink_before
        print(f"(a) ours: {ours['sent']:,} in {ours['seconds']:.1f} s", flush=True)
        fresh_state(config)
        bare = run_child(config, "no-ledger", sink)
        print(f"    ours without ledger: {bare['sent']:,} in {bare['seconds']:.1f} s", flush=True)
        naive = naive_send(config, port, naive_n)
        print(f"(b) naive: {naive['sent']:,} in {naive['seconds']:.1f} s", flush=True)
        body = max(1, round(mean) - 300)  # -l excludes smtp-source's few headers
        sink_before = sink.cpu()
        source = smtp_source(port, args.connections, args.recipients, body, reuse=True)
        source["sink_cpu_s"] = sink.cpu() - sink_before
        source_new = smtp_source(port, args.connections, args.recipients, body, reuse=False)
        print(f"(c) smtp-source: {args.recipients:,} in {source['seconds']:.1f} s", flush=True)
        alone = personalize_only(config, args.recipients)

        memory = None
        if args.memory_recipients:
            mroot = tmp / "memory"
            mconfig = make_project(mroot, args.memory_recipients, port, args.connections, pad)
            fresh_state(mconfig)
            print(f"(d) memory run: {args.memory_recipients:,} recipients…", flush=True)
            memory = run_child(mconfig, "ours", sink)

        profile = None
        if args.profile:
            fresh_state(config)
            profile = profile_ours(config)
    finally:
        sink.stop()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    r_ours, r_source = rate(ours), rate(source)
    plan = f", ledger plan {ours['plan']:.1f} s" if ours.get("plan") else ""
    rows = [
        ["(a) ours: pipeline.send (ledger + SmtpSender)", f"{args.connections}",
         f"{ours['sent']:,}", f"{mean / 1024:.1f}", f"{ours['seconds']:.1f}", f"{r_ours:,.0f}",
         f"{ours['peak_rss_mb']:.0f}"],
        ["    diagnostic: same path without the ledger", f"{args.connections}",
         f"{bare['sent']:,}", f"{mean / 1024:.1f}", f"{bare['seconds']:.1f}",
         f"{rate(bare):,.0f}", f"{bare['peak_rss_mb']:.0f}"],
        ["    diagnostic: personalize only (no network)", "—", f"{alone['sent']:,}",
         f"{alone['mean_bytes'] / 1024:.1f}", f"{alone['seconds']:.1f}",
         f"{rate(alone):,.0f}", "—"],
        ["(b) naive smtplib + EmailMessage", "1", f"{naive['sent']:,}",
         f"{naive['mean_bytes'] / 1024:.1f}", f"{naive['seconds']:.1f}", f"{rate(naive):,.0f}",
         "—"],
        ["(c) smtp-source -d (ceiling)", f"{args.connections}", f"{source['sent']:,}",
         f"{(body + 300) / 1024:.1f}", f"{source['seconds']:.1f}", f"{r_source:,.0f}", "—"],
        ["    smtp-source, new connection per message", f"{args.connections}",
         f"{source_new['sent']:,}", f"{(body + 300) / 1024:.1f}",
         f"{source_new['seconds']:.1f}", f"{rate(source_new):,.0f}", "—"],
    ]
    if memory:
        rows.append(["(d) ours, memory run", f"{args.connections}", f"{memory['sent']:,}",
                     f"{mean / 1024:.1f}", f"{memory['seconds']:.1f}",
                     f"{rate(memory):,.0f}", f"{memory['peak_rss_mb']:.0f}"])
    print()
    print(table(["run", "conn.", "messages", "KB/msg", "seconds", "msgs/s", "peak RSS MB"],
                rows))
    print("\nload average (1, 5, 15 min) at the end: "
          + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    print(f"ours / smtp-source (-d): {r_ours / r_source:.2f}  (target ≥ 0.8)")
    print(f"CPU of our process per message (render and plan included): ours "
          f"{ours['cpu_s'] / max(1, ours['sent']) * 1e6:.0f} µs, without the ledger "
          f"{bare['cpu_s'] / max(1, bare['sent']) * 1e6:.0f} µs")
    print(f"CPU of smtp-sink per message: during ours "
          f"{ours['sink_cpu_s'] / max(1, ours['sent']) * 1e6:.0f} µs, during smtp-source "
          f"{source['sink_cpu_s'] / max(1, source['sent']) * 1e6:.0f} µs (the sink shares "
          f"the {os.cpu_count()} cores: smtp-source's rate is bound by the sink's)")
    print(f"ours / naive: {r_ours / rate(naive):.1f}×  (target ≥ 7)")
    print(f"ours without ledger / smtp-source: {rate(bare) / r_source:.2f}; "
          f"the ledger costs {1 - r_ours / rate(bare):.0%} of our rate{plan}")
    if memory:
        n = memory["sent"]
        print(f"peak RSS, {n:,} recipients: {memory['peak_rss_mb']:.0f} MB (target < 150 MB); "
              f"RSS (MB) at 10 % / 50 % / 90 % of the messages: "
              f"{at_fraction(memory['samples'], n, 0.1)} / {at_fraction(memory['samples'], n, 0.5)}"
              f" / {at_fraction(memory['samples'], n, 0.9)}; at {args.recipients:,}: "
              f"{ours['peak_rss_mb']:.0f} MB")
    if profile:
        print("\n" + profile)
    print(f"RATIO send_ours_over_smtp_source {r_ours / r_source:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
