"""Real-world mail corpora: every message converts or is clearly refused; replies are stripped.

cpython-email and mail-parser hold tricky real messages (charsets, multipart, Outlook); talon
and email_reply_parser hold replies with quoted text and signatures, and an EXPECTED.md saying
what must remain once they are removed.
"""

from __future__ import annotations

import email
import re
import time
from email import policy

import pytest

from infolettre.gather.mail import MOJIBAKE, convert_message, html_to_markdown
from infolettre.gather.replies import clean_reply, strip_quotation

from .conftest import corpora

ROOT = corpora()
pytestmark = pytest.mark.corpus
NOT_MAIL = {"LICENSE", "LICENSE.txt", "PSF-LICENSE", "SOURCE.txt", "EXPECTED.md"}


def _files(folder: str, pattern: str = "*"):
    if ROOT is None:
        return []
    return sorted(p for p in (ROOT / folder).rglob(pattern)
                  if p.is_file() and p.name not in NOT_MAIL)


def _id(path) -> str:
    return f"{path.parent.name}/{path.name}"


def test_corpus_is_present():
    """The corpus folder is configured (CI sets INFOLETTRE_CORPORA)."""
    if ROOT is None:
        pytest.skip("INFOLETTRE_CORPORA is not set: mail corpus tests SKIPPED")
    assert _files("cpython-email") and _files("mail-parser") and _files("talon")
    assert _files("email_reply_parser")


@pytest.mark.parametrize("path", _files("cpython-email") + _files("mail-parser"), ids=_id)
def test_message_converts_or_is_refused(path, sample_settings):
    """Each message gives a draft or a rejection with a reason, in under 2 s, in clean text."""
    start = time.perf_counter()
    result = convert_message(path.read_bytes(), sample_settings, month="2026-12")
    assert time.perf_counter() - start < 2
    assert (result.draft is None) != (result.rejection is None)
    if result.rejection is not None:
        assert len(result.rejection) > 20
        return
    d = result.draft
    text = d.front_matter["titre"] + "\n" + d.corps
    assert "\ufffd" not in text and not MOJIBAKE.search(text)
    assert d.front_matter["statut"] in ("soumis", "retenu") and d.slug
    for att in d.attachments:
        assert "/" not in att.name_safe and not att.name_safe.startswith(".")


# --- talon ----------------------------------------------------------------------------------

def _first_plain(path) -> str:
    msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    part = next(p for p in msg.walk() if p.get_content_type() == "text/plain")
    return part.get_content()


@pytest.mark.parametrize("path", _files("talon", "standard_replies/*.eml"), ids=_id)
def test_talon_standard_reply(path):
    """The reply without its quotation equals <client>_reply_text, else exactly « Hello »."""
    expected_file = path.with_name(path.stem + "_reply_text")
    expected = expected_file.read_text(encoding="utf-8") if expected_file.exists() else "Hello"
    assert strip_quotation(_first_plain(path)).strip() == expected.strip()


@pytest.mark.parametrize("path", _files("talon", "html_replies/*.html"), ids=_id)
def test_talon_html_reply(path):
    """An HTML reply, quotation removed and converted, reads « Hi. I am fine. Thanks, Alex »."""
    text = clean_reply(html_to_markdown(path.read_text(encoding="utf-8", errors="replace")))
    assert text.split() == ["Hi.", "I", "am", "fine.", "Thanks,", "Alex"]


@pytest.mark.parametrize("name", ["reply-separated-by-hr.html", "OLK_SRC_BODY_SECTION.html",
                                  "reply-quotations-share-block.eml"])
def test_talon_quoted_from_block_is_removed(name):
    """The quoted « From: » block of these replies does not survive stripping."""
    if ROOT is None:
        pytest.skip("INFOLETTRE_CORPORA is not set")
    path = ROOT / "talon" / "tests" / "fixtures" / name
    if path.suffix == ".eml":
        msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        body = msg.get_body(("plain", "html"))
        text = body.get_content()
        if body.get_content_type() == "text/html":
            text = html_to_markdown(text)
    else:
        text = html_to_markdown(path.read_text(encoding="utf-8"))
    kept = clean_reply(text)
    assert kept and not re.search(r"(?im)^\W*from\s*:", kept)


@pytest.mark.parametrize("path", _files("talon", "signature/emails/stripped/*_body"), ids=_id)
def test_talon_signature(path):
    """With the sender's name, the body loses exactly <name>_signature (none if it is empty)."""
    stem = path.name.removesuffix("_body")
    sender = path.with_name(f"{stem}_sender").read_text(encoding="utf-8").strip()
    signature = path.with_name(f"{stem}_signature").read_text(encoding="utf-8").strip()
    body = path.read_text(encoding="utf-8").strip()
    assert body.endswith(signature)
    expected = body[:len(body) - len(signature)].strip()
    assert clean_reply(body, sender) == expected


# --- email_reply_parser ---------------------------------------------------------------------

#: What EXPECTED.md's general rule keeps for each file: the first non-quoted paragraph.
FIRST_PARAGRAPH = {
    "correct_sig.txt": "this is an email with a correct -- signature.",
    "email_1_2.txt": "Hi,",
    "email_1_3.txt": "Oh thanks.",
    "email_1_4.txt": "Awesome! I haven't had another problem with it.",
    "email_1_5.txt": "One: Here's what I've got.",
    "email_1_6.txt": "I get proper rendering as well.",
    "email_1_7.txt": ":+1:",
    "email_1_8.txt": "I will reply under this one",
    "email_2_1.txt": "Outlook with a reply",
    "email_2_2.txt": "Outlook with a reply directly above line",
    "email_2_3.txt": "Outlook with a reply directly above line",
    "email_BlackBerry.txt": "Here is another email",
    "email_bullets.txt": "test 2 this should list second",
    "email_iPhone.txt": "Here is another email",
    "email_long_quote.txt": "Hi folks",
    "email_multi_word_sent_from_my_mobile_device.txt": "Here is another email",
    "email_one_is_not_on.txt": "Thank, this is really helpful.",
    "email_sent_from_my_not_signature.txt": "Here is another email",
    "email_sig_delimiter_in_middle_of_line.txt": "Hi there!",
    "greedy_on.txt": "On your remote host you can run:",
    "pathological.txt": "I think you're onto something.",
    "email_1_1.txt": "Hi folks",
}
#: Text that must stay (EXPECTED.md's special cases: these look like, but are not, markers).
MUST_KEEP = {
    "greedy_on.txt": ["telnet 127.0.0.1 52698", "the tunnel is not working."],
    "email_one_is_not_on.txt": ["One outstanding question I had:", "when I run..."],
    "email_sig_delimiter_in_middle_of_line.txt": ["fix -- this is not a signature.", "kthxbai"],
    "email_bullets.txt": ["- how about bullets", "- and another"],
    "email_sent_from_my_not_signature.txt": ["Sent from my desk, is much easier"],
    "email_1_8.txt": ["and under this."],
    "pathological.txt": ["get back to a computer."],
}
#: Mailing-list footers are not signatures in EXPECTED.md, and we keep them (lists are rejected
#: upstream by List-Id anyway).
SIGNATURES = re.compile(r"(?im)^(-- ?|--|sent from my (iphone|blackberry).*)$")
HEADER = re.compile(r"(?im)^\s*on\b.{0,200}\bwrote:\s*$")


@pytest.mark.parametrize("path", _files("email_reply_parser", "*.txt"), ids=_id)
def test_email_reply_parser(path):
    """What remains starts with the first new paragraph and holds no quote, header or signature."""
    text = path.read_text(encoding="utf-8")
    start = time.perf_counter()
    kept = clean_reply(text)
    assert time.perf_counter() - start < 1
    assert kept.startswith(FIRST_PARAGRAPH[path.name])
    assert not any(line.lstrip().startswith(">") for line in kept.splitlines())
    assert not HEADER.search(kept) and not SIGNATURES.search(kept)
    for piece in MUST_KEEP.get(path.name, []):
        assert piece in kept
