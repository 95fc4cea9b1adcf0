"""Outbox delivery: one .eml per email recipient, their territory's edition, never twice."""

from __future__ import annotations

import asyncio
import email
import email.policy
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from infolettre.deliver import DeliveryResult, Envelope, Outcome
from infolettre.deliver.outbox import OutboxSender, outbox_name
from infolettre.deliver.recipients import load_recipients
from infolettre.deliver.run import deliver_issue
from infolettre.errors import ContentError, DeliveryError
from infolettre.models import COMPLETE, Edition, Issue, RenderedEdition, RenderedIssue
from infolettre.render.personalize import Placeholders
from infolettre.settings import load_settings

DATA = Path(__file__).parent / "data" / "recipients"
MONTH = "2026-12"


@pytest.fixture(scope="module")
def settings():
    return load_settings(DATA / "infolettre.toml")


@pytest.fixture(scope="module")
def recipients(settings):
    found, problems = load_recipients(DATA / "outbox_list.csv", settings)
    assert problems == []
    return found


def rendered_edition(slug: str, placeholders: Placeholders) -> RenderedEdition:
    """Render a tiny edition whose bodies say which edition they are."""
    t = placeholders.token
    return RenderedEdition(
        slug=slug, titre=slug, subject=f"Le Fil régional — décembre 2026 ({slug})",
        text=f"{t('salutation')}\nÉdition : {slug}\nDésabonnement : {t('desabonnement')}\n",
        html=f"<p>{t('salutation')}</p><p>Édition : {slug}</p>"
             f"<a href=\"{t('desabonnement')}\">Se désabonner</a>\n")


@pytest.fixture(scope="module")
def rendered():
    placeholders = Placeholders()
    slugs = (COMPLETE, "bellechasse", "les-etchemins")  # no edition for lotbiniere
    issue = Issue(month=MONTH, parution=date(2026, 12, 3), items=(),
                  editions=tuple(Edition(slug=s, titre=s, sections=()) for s in slugs))
    return RenderedIssue(issue=issue, print_html="",
                         editions=tuple(rendered_edition(s, placeholders) for s in slugs),
                         placeholders=placeholders)


def edition_of(path: Path) -> str:
    msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    return msg.get_body(("plain",)).get_content().split("Édition : ")[1].split()[0]


def send(rendered, recipients, settings, root: Path):
    return deliver_issue(rendered, recipients, OutboxSender(root, MONTH), settings)


def test_one_file_per_email_recipient_and_none_for_paper_only(tmp_path, rendered,
                                                              recipients, settings):
    """Every recipient who wants email gets one .eml; a « poste » recipient gets none."""
    report = send(rendered, recipients, settings, tmp_path)
    files = sorted(p.name for p in (tmp_path / MONTH).iterdir())
    assert files == [
        "direction_at_alliance.example.org.eml", "genevieve.bedard_at_example.org.eml",
        "louise.gagnon_at_example.org.eml", "marc-andre.cote_at_example.org.eml",
        "sylvie.nadeau_at_example.org.eml"]
    assert (report.sent, report.skipped, report.paper_only, report.failed) == (5, 0, 1, 0)
    assert report.complete
    msg = email.message_from_bytes((tmp_path / MONTH / files[1]).read_bytes(),
                                   policy=email.policy.default)
    assert msg["To"].addresses[0].display_name == "Geneviève Bédard"
    assert msg.get_body(("plain",)).get_content().startswith("Bonjour Geneviève Bédard,")


def test_each_recipient_gets_the_edition_of_their_territory(tmp_path, rendered,
                                                            recipients, settings):
    """Territory → its edition; regional, and a territory with no edition → the complete one."""
    report = send(rendered, recipients, settings, tmp_path)
    folder = tmp_path / MONTH
    assert edition_of(folder / "genevieve.bedard_at_example.org.eml") == "bellechasse"
    assert edition_of(folder / "marc-andre.cote_at_example.org.eml") == "bellechasse"
    assert edition_of(folder / "sylvie.nadeau_at_example.org.eml") == "les-etchemins"
    assert edition_of(folder / "louise.gagnon_at_example.org.eml") == COMPLETE
    assert edition_of(folder / "direction_at_alliance.example.org.eml") == COMPLETE
    assert report.by_edition == {"bellechasse": 2, "les-etchemins": 1, COMPLETE: 2}


def test_second_run_writes_nothing_new(tmp_path, rendered, recipients, settings):
    """Running the send again skips everyone who already has a file; no file is rewritten."""
    send(rendered, recipients, settings, tmp_path)
    before = {p: p.read_bytes() for p in (tmp_path / MONTH).iterdir()}
    report = send(rendered, recipients, settings, tmp_path)
    assert (report.sent, report.skipped, report.paper_only) == (0, 5, 1)
    assert {p: p.read_bytes() for p in (tmp_path / MONTH).iterdir()} == before
    assert "déjà faits 5" in report.summary()


def test_no_temporary_file_is_left_behind(tmp_path, rendered, recipients, settings):
    """After a run the month's folder holds only the finished .eml files."""
    send(rendered, recipients, settings, tmp_path)
    assert all(p.suffix == ".eml" and not p.name.startswith(".")
               for p in (tmp_path / MONTH).iterdir())


def envelope(address: str) -> Envelope:
    return Envelope(sender="infolettre@example.org", recipient=address,
                    message=b"Subject: test\r\n\r\ncorps\r\n", month=MONTH, edition=COMPLETE,
                    message_id="<x@example.org>")


HOSTILE = ["../../etc/passwd@x.org", "/etc/passwd@x.org", "a\x00b@x.org", "..@x.org",
           "a@../../x", ".", "a/b@x.org", "a_b@x.org", "a?b@x.org", "é@x.org", "x" * 400]


def test_filenames_stay_in_the_folder_and_never_collide(tmp_path):
    """Hostile addresses yield plain, distinct file names inside the month's folder."""
    sender = OutboxSender(tmp_path, MONTH)

    async def run() -> list[DeliveryResult]:
        await sender.open()
        return [await sender.send(envelope(a)) for a in HOSTILE]

    results = asyncio.run(run())
    assert [r.outcome for r in results] == [Outcome.SENT] * len(HOSTILE)
    written = list((tmp_path / MONTH).iterdir())
    assert len(written) == len(HOSTILE)
    assert all(p.parent == tmp_path / MONTH and len(p.name) < 255 for p in written)
    assert list(tmp_path.iterdir()) == [tmp_path / MONTH]
    names = [outbox_name(a) for a in HOSTILE]
    assert all("/" not in n and "\x00" not in n and not n.startswith(".") for n in names)


def test_same_address_in_other_case_is_the_same_file():
    """Addresses differing only by case share a file, as recipients merge them."""
    assert outbox_name("Genevieve.Bedard@Example.org") == outbox_name(
        "genevieve.bedard@example.org") == "genevieve.bedard_at_example.org.eml"


def test_bad_month_and_unwritable_outbox_are_clear_errors(tmp_path, rendered, recipients,
                                                         settings):
    """A month not in AAAA-MM form, or an outbox that is a file, stops with where and fix."""
    with pytest.raises(ContentError, match="numéro valide") as bad:
        OutboxSender(tmp_path, "../2026-12")
    assert "2026-12" in bad.value.fix
    blocker = tmp_path / "outbox"
    blocker.write_text("pas un dossier")
    with pytest.raises(DeliveryError) as caught:
        send(rendered, recipients, settings, blocker)
    assert "boite_envoi" in str(caught.value) and str(blocker) in str(caught.value)


class MemorySender:
    """A second, real Sender (messages kept in memory, four in flight) to test the seam."""

    concurrency = 4

    def __init__(self):
        self.received: dict[str, list[bytes]] = {}
        self.opened = self.closed = False

    async def open(self) -> None:
        self.opened = True

    async def send(self, envelope: Envelope) -> DeliveryResult:
        await asyncio.sleep(0)  # let the other workers interleave
        self.received.setdefault(envelope.recipient, []).append(envelope.message)
        return DeliveryResult(envelope, Outcome.SENT, "en mémoire")

    async def close(self) -> None:
        self.closed = True


def test_any_sender_plugs_in_and_each_recipient_is_sent_once(rendered, recipients, settings):
    """deliver_issue drives any Sender, several sends in flight, each recipient exactly once."""
    many = [replace(r, email=f"n{i}.{r.email}") for i in range(20) for r in recipients]
    sender = MemorySender()
    report = deliver_issue(rendered, many, sender, settings)
    assert sender.opened and sender.closed
    assert (report.sent, report.paper_only) == (100, 20)
    assert len(sender.received) == 100
    assert all(len(messages) == 1 for messages in sender.received.values())


def test_issue_without_complete_edition_is_refused(tmp_path, rendered, recipients, settings):
    """Without the complete edition the send stops with a fix, before writing anything."""
    partial = replace(rendered, editions=tuple(e for e in rendered.editions
                                               if e.slug != COMPLETE))
    with pytest.raises(DeliveryError, match="infolettre build 2026-12"):
        send(partial, recipients, settings, tmp_path)
    assert not (tmp_path / MONTH).exists()
