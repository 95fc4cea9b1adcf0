"""Benchmark: peak memory and time of one emailed message, normal or pathological.

Run from the repository root (see bench/README.md):

    .venv/bin/python bench/mail_memory.py

Each case is one message given to ``intake.process_raw`` (archive, size limits, conversion,
item written: what ``infolettre gather mail`` does with it) in a fresh Python process, so the
peak resident memory (``ru_maxrss``) is that message's alone. Cases:

- ``normal``: a delegate's message, text and a photo (the reference);
- ``big-25MB``: a 25 MB message (two 9 MB PDFs, kept: under the 10 MB attachment cap);
- ``subject-210KB``: one Subject folded over ~3,300 encoded lines (issue 10: 405 MB before);
- ``subject-x3``: the same, three times longer (3.1 GB before);
- ``fields-5000``: 5,000 header fields;
- ``part-names-1000``: 1,000 MIME parts, each named by 4 KB of encoded words.

The last line is ``RATIO mail_memory_pathological_over_normal <x>``: the largest peak of the
pathological cases over the normal one's (about 1 when a message's cost is bounded). Nothing
asserts a duration; the times are printed for reading only.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
if str(REPO / "src") not in sys.path:  # runnable without an editable install
    sys.path.insert(0, str(REPO / "src"))

WORD = "=?utf-8?b?" + base64.b64encode("Frigo communautaire à Lac-Etchemin".encode()).decode() \
    + "?="
HEAD = ("From: CDC des Etchemins <info@cdc-etchemins.example.org>\r\n"
        "To: infolettre@example.org\r\nDate: Tue, 24 Nov 2026 10:00:00 -0500\r\n"
        "Message-ID: <{tag}@example.org>\r\nMIME-Version: 1.0\r\n")
TEXT = ("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        "Bonjour,\r\n\r\nLe frigo communautaire ouvre samedi à 10 h.\r\n")


def _mixed(tag: str, subject: str, parts: list[str]) -> bytes:
    body = "".join(f"--B\r\n{p}\r\n" for p in parts) + "--B--\r\n"
    return (HEAD.format(tag=tag) + subject + 'Content-Type: multipart/mixed; boundary="B"\r\n'
            "\r\n" + body).encode("utf-8")


def _attachment(ctype: str, name: str, data: bytes) -> str:
    return (f"Content-Type: {ctype}\r\nContent-Transfer-Encoding: base64\r\n"
            f'Content-Disposition: attachment; filename="{name}"\r\n\r\n'
            + base64.encodebytes(data).decode("ascii").replace("\n", "\r\n"))


def message(case: str) -> bytes:
    """Return the raw bytes of one case."""
    subject = "Subject: Ouverture du frigo communautaire\r\n"
    if case == "normal":
        photo = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 300
        return _mixed(case, subject, [TEXT, _attachment("image/jpeg", "frigo.jpg", photo)])
    if case == "big-25MB":  # two 9 MB files (kept: under the 10 MB cap), 25 MB encoded
        pdf = b"%PDF-1.4\n" + bytes(range(256)) * (9 * 1024 * 4)
        return _mixed(case, subject, [TEXT, _attachment("application/pdf", "a.pdf", pdf),
                                      _attachment("application/pdf", "b.pdf", pdf)])
    if case.startswith("subject-"):
        lines = 3300 * (3 if case.endswith("x3") else 1)
        subject = "Subject: " + "\r\n ".join([WORD] * lines) + "\r\n"
        return (HEAD.format(tag=case) + subject + TEXT).encode("utf-8")
    if case == "fields-5000":
        extra = "".join(f"X-Champ-{n}: oui\r\n" for n in range(5000))
        return (HEAD.format(tag=case) + subject + extra + TEXT).encode("utf-8")
    if case == "part-names-1000":
        name = " ".join([WORD] * (4096 // (len(WORD) + 1)))
        parts = [TEXT] + [_attachment("application/pdf", name, b"%PDF-1.4\n")] * 1000
        return _mixed(case, subject, parts)
    raise ValueError(case)


CASES = ("normal", "big-25MB", "subject-210KB", "subject-x3", "fields-5000", "part-names-1000")


def peak_rss_mb() -> float:
    """Return this process's peak resident memory in MB.

    ``VmHWM`` (Linux) belongs to this program alone; ``ru_maxrss`` is the fallback, which on
    Linux may include what the parent process held when it started this one.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux → MB


def run_one(case: str, path: Path) -> dict:
    """Process one message (its bytes in ``path``, written by the parent so that building
    it is not counted) in this process; return its size, peak RSS, time and result."""
    from infolettre import i18n
    from infolettre.clock import FixedClock
    from infolettre.gather.intake import process_raw
    from infolettre.settings import load_settings
    from infolettre.state import connect, state_file

    i18n.activate("fr_CA")
    raw = path.read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(REPO / "infolettre.toml")
        paths = dataclasses.replace(settings.paths, contenu=Path(tmp) / "content",
                                    donnees=Path(tmp) / "data")
        settings = dataclasses.replace(settings, paths=paths)
        clock = FixedClock(datetime(2026, 11, 24, 15, 0, tzinfo=UTC))
        conn = connect(state_file(paths.donnees))
        start = time.perf_counter()
        result = process_raw(raw, settings, source=case, conn=conn, month="2026-12",
                             received=clock.now(), clock=clock)
        elapsed = time.perf_counter() - start
        conn.close()
    peak = peak_rss_mb()
    return {"case": case, "bytes": len(raw), "peak_mb": round(peak, 1),
            "seconds": round(elapsed, 3), "kind": result.kind, "reason": result.reason[:70]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--case", help=argparse.SUPPRESS)  # the child process's case
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)  # and its message
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_one(args.case, args.file)))
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            path = Path(tmp) / f"{case}.eml"
            path.write_bytes(message(case))
            out = subprocess.run([sys.executable, __file__, "--case", case, "--file", str(path)],
                                 check=True, capture_output=True, text=True).stdout
            rows.append(json.loads(out.strip().splitlines()[-1]))
            _show(rows[-1])
    normal = rows[0]["peak_mb"]
    worst = max(r["peak_mb"] for r in rows[2:])
    print(f"RATIO mail_memory_pathological_over_normal {worst / normal:.2f}")


def _show(r: dict) -> None:
    print(f"{r['case']:16} {r['bytes'] / 1024:>9,.0f} KB  peak {r['peak_mb']:>7.1f} MB  "
          f"{r['seconds']:>6.2f} s  {r['kind']:8} {r['reason']}")


if __name__ == "__main__":
    main()
