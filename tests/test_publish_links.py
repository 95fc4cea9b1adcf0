"""Every address of the site that a sent message carries leads to a published file.

The messages are the real ones: the sample issue approved and sent to ``outbox/`` (``send``
publishes first), each ``.eml`` read back, its HTML and text parts searched for addresses
under ``[infolettre] site``; each must name a file of ``site/`` (a page, an image, a
document, the home page). A broken link here is one a reader would click in December.
"""

from __future__ import annotations

import re
from email import policy
from email.parser import BytesParser
from urllib.parse import unquote, urlsplit

from infolettre import pipeline

from .site_helpers import DOCUMENT, NOW, sample_copy
from infolettre.clock import FixedClock

URL = re.compile(r"""https?://[^\s"'<>)\]]+""")


def site_addresses(message, site: str, app: str) -> set[str]:
    """The addresses under ``site`` in every text part of ``message`` (HTML and plain),
    except the unsubscribe page ``app`` (served by the review app, on the same host here)."""
    found = set()
    for part in message.walk():
        if part.get_content_maintype() == "text":
            text = part.get_content().replace("&amp;", "&")
            found |= {u.rstrip(".,;:»") for u in URL.findall(text) if u.startswith(site) and not u.startswith(app)}
    return found


def published_file(site_dir, site: str, address: str):
    """The file of ``site_dir`` that ``address`` names (a folder's ``index.html``)."""
    path = unquote(urlsplit(address).path)[len(urlsplit(site).path):].lstrip("/")
    target = site_dir / path if path else site_dir
    return target / "index.html" if target.is_dir() else target


def test_every_site_address_of_every_sent_message_resolves(tmp_path):
    clock = FixedClock(NOW)
    settings = sample_copy(tmp_path)
    site = settings.identity.site
    pipeline.approve(settings, "2026-12", "Julie Roy", clock=clock)
    report, _problems = pipeline.send(settings, "2026-12", outbox=tmp_path / "outbox",
                                      clock=clock)
    assert report.complete
    messages = sorted((tmp_path / "outbox").rglob("*.eml"))
    assert messages
    checked, editions = set(), set()
    for path in messages:
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        editions.add(message["Subject"])
        for address in site_addresses(message, site, settings.unsubscribe.url):
            checked.add(address)
            assert published_file(settings.paths.site, site, address).is_file(), (
                f"{path.name} : {address} ne mène à aucun fichier publié")
    assert len(editions) > 1  # territorial editions and the complete one
    assert any("/images/" in a for a in checked), "the photos load from the site"
    assert any(a.endswith(DOCUMENT.replace(" ", "%20")) for a in checked), \
        "the emailed document is linked to its published copy"
    assert any("/nouvelles/" in a for a in checked), "items link to their pages"
