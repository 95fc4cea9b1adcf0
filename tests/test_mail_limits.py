"""Pathological mail: measured before parsing, never allowed to eat the machine's memory.

One 210 KB message whose Subject folds over ~3,300 encoded lines peaked at 405 MB (three of
them, 3.1 GB): the ``email`` package's header parser grows faster than the header. Now the
raw bytes are measured first (size, header block, fields, longest field); over a limit the
message is archived and goes to « À vérifier » with the reason. Memory is asserted in a
subprocess (its peak resident size, ``VmHWM``); nothing here asserts a duration.
"""

from __future__ import annotations

import base64
import json
import mailbox
import subprocess
import sys
from pathlib import Path

import pytest

from infolettre.gather.intake import archive, process_maildir
from infolettre.gather.mail import convert_message
from infolettre.mailbox.limits import MAX_HEADER_FIELDS, MAX_MESSAGE_BYTES, too_big

WORD = "=?utf-8?b?" + base64.b64encode("Frigo communautaire à Lac-Etchemin".encode()).decode() \
    + "?="
HEAD = ("From: CDC des Etchemins <info@cdc-etchemins.example.org>\r\n"
        "To: infolettre@example.org\r\nDate: Tue, 24 Nov 2026 10:00:00 -0500\r\n"
        "Message-ID: <{tag}@example.org>\r\nMIME-Version: 1.0\r\n")
TEXT = ("Content-Type: text/plain; charset=utf-8\r\n\r\nBonjour, le frigo ouvre samedi.\r\n")
SRC = Path(__file__).resolve().parent.parent / "src"


def folded_subject(lines: int = 3300) -> bytes:
    """The message of issue 10: one Subject folded over ``lines`` encoded words (~210 KB)."""
    subject = "Subject: " + "\r\n ".join([WORD] * lines) + "\r\n"
    return (HEAD.format(tag="sujet") + subject + TEXT).encode()


def long_part_name(chars: int = 150_000) -> bytes:
    """A message whose attachment is named by ``chars`` characters of encoded words."""
    name = " ".join([WORD] * (chars // (len(WORD) + 1)))
    return (HEAD.format(tag="nom") + "Subject: Rapport\r\n"
            'Content-Type: multipart/mixed; boundary="B"\r\n\r\n--B\r\n' + TEXT + "--B\r\n"
            "Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
            f'Content-Disposition: attachment; filename="{name}"\r\n\r\n'
            + base64.b64encode(b"%PDF-1.4\n").decode() + "\r\n--B--\r\n").encode()


def big_message(megabytes: int) -> bytes:
    """A delegate's message of about ``megabytes`` MB: text and PDFs under the 10 MB cap."""
    pdf = base64.encodebytes(b"%PDF-1.4\n" + bytes(range(256)) * 4096 * 8).decode()
    part = ("Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
            'Content-Disposition: attachment; filename="annexe.pdf"\r\n\r\n'
            + pdf.replace("\n", "\r\n"))
    count = megabytes * 1024 * 1024 // len(part)
    body = f"--B\r\n{TEXT}" + "".join(f"--B\r\n{part}\r\n" for _ in range(count)) + "--B--\r\n"
    return (HEAD.format(tag="gros") + "Subject: Annexes\r\n"
            'Content-Type: multipart/mixed; boundary="B"\r\n\r\n' + body).encode()


def test_the_folded_subject_goes_to_review_archived_with_the_reason(settings, tmp_path):
    """The 210 KB message is not parsed: archived, filed in « À vérifier » with the reason."""
    raw = folded_subject()
    folder = tmp_path / "Maildir"
    mailbox.Maildir(folder, create=True).add(raw)
    report = process_maildir(settings, folder)
    [result] = report.results
    assert result.kind == "failed" and result.filed_for_review
    assert "Subject" in result.reason and "démesurés" in result.reason
    assert archive(settings, raw, __import__("hashlib").sha256(raw).hexdigest()).is_file()
    [filed] = [p for sub in ("new", "cur") for p in (folder / ".A-verifier" / sub).iterdir()]
    assert filed.read_bytes().startswith(b"X-Infolettre-Raison:")
    assert not (settings.paths.contenu / "2026-12").exists()


@pytest.mark.parametrize(("raw", "said"), [
    (b"Subject: gros\r\n\r\n" + b"x" * (MAX_MESSAGE_BYTES + 1), "trop volumineux"),
    ((HEAD.format(tag="champs") + "".join(f"X-Champ-{n}: oui\r\n"
                                          for n in range(MAX_HEADER_FIELDS + 1))
      + TEXT).encode(), "champs d'en-tête"),
    (b"X-Bloc: " + b"a" * 300_000, "Ko d'en-têtes"),
])
def test_each_cap_gives_its_reason(raw, said):
    """Over 40 MB, over 1,000 header fields, or a header block with no end: refused."""
    assert said in (too_big(raw) or "")


def test_ordinary_mail_is_within_the_caps():
    """A normal message, a 25 MB one and a few hundred header fields pass."""
    relayed = (HEAD.format(tag="relais") + "".join(
        f"Received: from relais{n}.example by relais{n + 1}.example\r\n" for n in range(300))
        + "Subject: X\r\n" + TEXT).encode()
    assert too_big(relayed) is None and too_big(big_message(25)) is None


def test_a_huge_attachment_name_is_read_only_in_part(sample_settings):
    """A 150 KB attachment name (a MIME part's header, past the caps) is cut, not parsed
    whole: the message still becomes a draft."""
    result = convert_message(long_part_name(), sample_settings, month="2026-12")
    assert result.draft is not None and result.draft.attachments


PROBE = """
import json, sys
from pathlib import Path
from infolettre.settings import load_settings
from infolettre.gather.mail import convert_message
raw = Path(sys.argv[1]).read_bytes()
result = convert_message(raw, load_settings(sys.argv[2]), month="2026-12")
del raw
peak = next(int(l.split()[1]) for l in Path("/proc/self/status").read_text().splitlines()
            if l.startswith("VmHWM:"))
print(json.dumps({"peak_mb": peak / 1024, "ok": result.ok}))
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("case", ["folded_subject", "long_part_name", "big_message"])
def test_converting_any_message_under_25_mb_stays_under_200_mb(case, tmp_path, project):
    """Converting the pathological messages (even without the intake's caps) and a 25 MB
    one peaks under 200 MB of resident memory, measured in a fresh process."""
    raw = {"folded_subject": lambda: folded_subject(),
           "long_part_name": lambda: long_part_name(),
           "big_message": lambda: big_message(25)}[case]()
    path = tmp_path / "message.eml"
    path.write_bytes(raw)
    del raw
    out = subprocess.run([sys.executable, "-c", PROBE, str(path), str(project.config)],
                         check=True, capture_output=True, text=True,
                         env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"}).stdout
    found = json.loads(out.strip().splitlines()[-1])
    assert found["ok"] and found["peak_mb"] < 200, found


def test_each_header_is_parsed_once_however_often_it_is_read():
    """The email package parses a header at every access; ``BOUNDED`` keeps the parsed
    header (the same object again), and parses a value past 1 KB each time (not kept)."""
    from infolettre.mailbox import limits

    raw = (HEAD.format(tag="cache") + "Subject: " + "mot " * 400 + "\r\n" + TEXT).encode()
    msg = limits.parse(raw)
    assert msg["From"] is msg["From"] and msg.get_content_type() == "text/plain"
    assert limits.parse(raw)["From"] is msg["From"]  # the same text, another message
    assert msg["Subject"] is not msg["Subject"] and msg["Subject"] == msg["Subject"]
    assert limits.parse_headers(raw)["From"] is msg["From"]  # the header block alone
