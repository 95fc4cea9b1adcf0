"""At the month boundary nothing is lost silently: items join the issue still open, and a
date already past when that issue comes out is told to the pivot and to the sender.

The case of the issue: an organization emails on 4 December about an event of 16 December.
While December is not signed off, the item goes to December and the event is in it; once
December is signed off (3 December), it goes to January, and the event — past by then — is
flagged in the item, in the gather report, in the acknowledgment and in ``check``.
Real Maildir folders, a real feed server on loopback, the real state database.
"""

from __future__ import annotations

import mailbox
import os
from contextlib import closing
from datetime import date, datetime
from email import message_from_bytes, policy
from zoneinfo import ZoneInfo

from infolettre.cli import main
from infolettre.clock import FixedClock
from infolettre.errors import Severity
from infolettre.gather import acknowledge as ack
from infolettre.gather.feeds.run import gather_feeds
from infolettre.gather.intake import process_maildir
from infolettre.models import Event, Item, Status
from infolettre.state.issues import open_issue, target_month
from infolettre.organize import organize
from infolettre.review.signoff import Fingerprint, SignoffStore
from infolettre.state import connect, state_file

from . import feedserver
from .feedserver import feed
from .test_intake import sample

feed_server = feedserver.feed_server

QC = ZoneInfo("America/Toronto")
DEC_4 = datetime(2026, 12, 4, 10, 0, tzinfo=QC)
TITLE = "Marche aux flambeaux de Noel"


def sign_off(settings, month: str, when: datetime) -> None:
    """Record an approval of ``month`` (its content does not matter here)."""
    with closing(connect(state_file(settings.paths.donnees))) as conn:
        SignoffStore(conn).approve(month, Fingerprint(month, "x", "y", ()), "Julie Roy", when)


def receive(settings, tmp_path, name: str, when: datetime):
    """Deliver one sample into a fresh Maildir at ``when`` and run the intake at that time."""
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    key = box.add(sample(name))
    path = tmp_path / "Maildir" / box._lookup(key)
    os.utime(path, (when.timestamp(), when.timestamp()))
    return process_maildir(settings, tmp_path / "Maildir", clock=FixedClock(when))


def replies(settings) -> list[str]:
    folder = ack.ack_outbox(settings)
    return [" ".join(message_from_bytes(p.read_bytes(), policy=policy.default)
                     .get_content().split()) for p in sorted(folder.glob("*.eml"))]


def test_an_item_goes_to_the_earliest_issue_not_signed_off():
    """The month of reception while unsigned; else the next unsigned month, however many."""
    assert target_month(date(2026, 12, 4), set()) == "2026-12"
    assert target_month(date(2026, 12, 4), {"2026-11"}) == "2026-12"
    assert target_month(date(2026, 12, 4), {"2026-12"}) == "2027-01"
    assert target_month(date(2026, 12, 31), {"2026-12", "2027-01"}) == "2027-02"


def test_the_month_of_reception_counts_only_while_its_issue_is_being_prepared():
    """A new installation on 24 November: no November issue is being made (no folder in
    content/), so the mail goes to December, not to a November issue nobody would send."""
    december_only = {"2026-12"}.__contains__
    assert target_month(date(2026, 11, 24), set(), prepared=december_only) == "2026-12"
    assert target_month(date(2026, 12, 4), set(), prepared=december_only) == "2026-12"
    assert target_month(date(2026, 11, 24), {"2026-12"}, prepared=december_only) == "2027-01"


def preparing(settings, month: str) -> None:
    """The pivot has started the issue of ``month`` (its folder exists in content/)."""
    (settings.paths.contenu / month).mkdir(parents=True, exist_ok=True)


def test_the_open_issue_is_read_from_the_sign_offs_in_the_bulletins_time_zone(settings):
    """December signed off on the 3rd: mail of the 4th goes to January; New Year's Eve at
    23:30 in Québec (already 1 January in UTC) still belongs to December when it is open."""
    preparing(settings, "2026-12")
    with closing(connect(state_file(settings.paths.donnees))) as conn:
        eve = datetime(2026, 12, 31, 23, 30, tzinfo=QC)
        assert open_issue(conn, eve, settings) == "2026-12"
        SignoffStore(conn).approve("2026-12", Fingerprint("2026-12", "x", "y", ()), "Julie",
                                   datetime(2026, 12, 3, 16, 0, tzinfo=QC))
        assert open_issue(conn, DEC_4, settings) == "2027-01"
        assert open_issue(conn, eve, settings) == "2027-01"


def test_an_issue_whose_sending_started_stays_closed_when_the_database_is_lost(settings):
    """The record of a sending started (data/envois/) closes its month even with no
    sign-off left: a late item never joins an issue already (partly) sent."""
    from infolettre.deliver.started import record_started

    preparing(settings, "2026-12")
    record_started(settings.paths.donnees, "2026-12", fingerprint="x", signed_by="Julie",
                   signed_at=None, clock=FixedClock(DEC_4))
    with closing(connect(state_file(settings.paths.donnees))) as conn:
        assert open_issue(conn, DEC_4, settings) == "2027-01"


def test_mail_of_4_december_goes_to_december_while_it_is_not_signed_off(settings, tmp_path):
    """The event of 16 December is in the December issue; the reply names December and no
    past date; no warning anywhere."""
    preparing(settings, "2026-12")
    report = receive(settings, tmp_path, "agenda_event_mid_december", DEC_4)
    [result] = report.results
    assert result.path.parent.name == "2026-12" and not result.late
    assert "déjà passé" not in result.path.read_text(encoding="utf-8")
    [reply] = replies(settings)
    assert "reçue pour le numéro de décembre 2026 (en préparation)" in reply
    assert "Attention" not in reply


def test_mail_after_the_sign_off_goes_to_january_and_its_past_event_is_flagged_everywhere(
        project, tmp_path, capsys):
    """December signed off on 3 December: the item goes to January, and its event of
    16 December — past on 1 January — is in the item's notes, the report, the reply (which
    names January, never December) and ``check``, with what to do."""
    settings = project.settings()
    sign_off(settings, "2026-12", datetime(2026, 12, 3, 16, 0, tzinfo=QC))
    report = receive(settings, tmp_path, "agenda_event_mid_december", DEC_4)
    [result] = report.results
    assert result.path.parent.name == "2027-01"
    fact = ("l'événement du mercredi 16 décembre 2026 sera déjà passé à la parution du numéro "
            "de janvier 2027 (vendredi 1er janvier 2027)")
    text = " ".join(result.path.read_text(encoding="utf-8").split())
    assert f"# À vérifier : L{fact[1:]} : le numéro ne l'annoncera pas." in text
    assert fact in report.summary() and TITLE in report.summary()

    [reply] = replies(settings)
    assert "reçue pour le numéro de janvier 2027 (parution prévue le vendredi 1er janvier " \
           "2027)" in reply and "décembre 2026 (" not in reply
    assert f"Attention : {fact}. Si la date est erronée, écrivez-nous la bonne date." in reply

    code = main(["--config", str(project.config), "check", "2027-01"])
    out = " ".join(capsys.readouterr().out.split())
    assert "avertissement" in out and result.path.name in out
    assert f"« {TITLE} » : événement passé le mercredi 16 décembre 2026, avant la parution " \
           f"du numéro (vendredi 1er janvier 2027)" in out
    assert "Corrigez la date si elle est fausse" in out
    assert code == 0  # a warning: check does not fail (except with --strict)


def test_a_past_call_deadline_at_gather_time_is_flagged(settings, tmp_path):
    """A call for projects closing before the issue comes out is flagged like an event."""
    sign_off(settings, "2026-12", datetime(2026, 12, 3, 16, 0, tzinfo=QC))
    late = datetime(2027, 1, 20, 9, 0, tzinfo=QC)  # January signed off too, by then
    sign_off(settings, "2027-01", datetime(2027, 1, 5, 9, 0, tzinfo=QC))
    report = receive(settings, tmp_path, "subject_tag_financement", late)
    [result] = report.results
    assert result.path.parent.name == "2027-02"
    [found] = result.late
    assert found.fact() == "la date limite du vendredi 15 janvier 2027 est déjà passée"
    assert "le numéro ne l'annoncera pas" in " ".join(
        result.path.read_text(encoding="utf-8").split())


def _event(slug, statut, day=16):
    return Item(slug=slug, month="2027-01", titre=slug.title(), organisme="CDC des Etchemins",
                territoire="les-etchemins", rubrique="agenda", date=date(2026, 12, 4),
                statut=statut, evenement=Event(datetime(2026, 12, day, 18, tzinfo=QC)))


def test_check_warns_about_items_waiting_for_review_whose_date_is_past(sample_settings):
    """Submitted and held items past at publication are warnings naming them; approved ones
    keep their note; refused ones say nothing (already decided)."""
    items = [_event("soumis", Status.SUBMITTED), _event("retenu", Status.HELD),
             _event("approuve", Status.APPROVED), _event("refuse", Status.REFUSED)]
    notices = organize(items, sample_settings, "2027-01").notices
    warnings = [n for n in notices if n.severity is Severity.WARNING]
    assert sorted(w.message.split(" »")[0] for w in warnings) == ["« Retenu", "« Soumis"]
    assert all(w.fix and "refusez" in w.fix for w in warnings)
    assert [n.severity for n in notices if n not in warnings] == [Severity.NOTICE]
    preview = organize(items, sample_settings, "2027-01", preview=True).notices
    assert sorted(n.severity.value for n in preview) == ["avertissement", "avertissement",
                                                         "note", "note"]


def _rss_event(start: str) -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
            f'xmlns:ev="http://purl.org/rss/1.0/modules/event/"><channel><title>Agenda</title>'
            f"<link>https://exemple.org/</link><item><title>{TITLE}</title>"
            f"<link>https://cdc-etchemins.example.org/flambeaux</link>"
            f"<guid>flambeaux</guid><pubDate>Fri, 04 Dec 2026 08:00:00 -0500</pubDate>"
            f"<description>Venez marcher.</description>"
            f"<ev:startdate>{start}</ev:startdate></item></channel></rss>").encode()


def test_feed_items_follow_the_same_rule_and_flag_their_past_events(feed_server, project):
    """The feed watch of 4 December writes for January once December is signed off, and
    its entry's event of 16 December is noted in the item and in the feed's warnings."""
    url = feed_server.route("/agenda.xml", feed(_rss_event("2026-12-16T18:00:00-05:00")))
    project.config.write_text(project.config.read_text(encoding="utf-8") + (
        f'\n[[flux]]\nurl = "{url}"\nnom = "Agenda CDC"\nterritoire = "les-etchemins"\n'
        'rubrique = "agenda"\nconfiance = "revue"\n'), encoding="utf-8")
    settings = project.settings()
    sign_off(settings, "2026-12", datetime(2026, 12, 3, 16, 0, tzinfo=QC))
    report = gather_feeds(settings, clock=FixedClock(DEC_4))
    [outcome] = report.outcomes
    assert len(outcome.written) == 1, outcome
    [written] = outcome.written
    assert report.month == "2027-01" and written.parent.name == "2027-01"
    assert any("16 décembre 2026 sera déjà passé" in w and TITLE in w
               for w in outcome.warnings), outcome.warnings
    assert "le numéro ne l'annoncera pas" in " ".join(written.read_text(encoding="utf-8")
                                                      .split())
