"""Bounces, the decisions: VERP round trips, the rules per issue, retention, reactivation,
and a send that skips suspended addresses (but keeps them apart from unsubscribes)."""

from __future__ import annotations

import dataclasses
from contextlib import closing
from datetime import UTC, datetime, timedelta

import pytest

from infolettre import verp
from infolettre.bounces.counting import decide
from infolettre.clock import FixedClock
from infolettre.deliver.ledger import Ledger
from infolettre.errors import InfolettreError
from infolettre.pipeline import approve, send
from infolettre.pipeline.bounces import apply_rules, record_ledger_refusals
from infolettre.pipeline.suppressions import (export_suppressions_csv, issue_bounces,
                                              list_suppressions, reactivate)
from infolettre.settings.bounces import Bounces
from infolettre.state import connect, state_file
from infolettre.state.bounces import BounceRecord, BounceStore
from infolettre.unsubscribe import UnsubscribeStore

SECRET = b"k" * 32
NOW = datetime(2027, 4, 10, 12, 0, tzinfo=UTC)
ISSUES = ("2027-01", "2027-02", "2027-03")
PEOPLE = ("morte@example.org", "pleine@example.org", "vacances@example.org",
          "revient@example.org", "politique@example.org", "bien@example.org")


# -- VERP ------------------------------------------------------------------------------------

def test_verp_round_trip_names_the_recipient_and_month():
    address = verp.address(SECRET, "Marie.Roy@Example.org", "2027-01", "rebonds", "example.org")
    local, _at, domain = address.partition("@")
    assert domain == "example.org" and local.startswith("rebonds+202701-")
    assert len(local) <= 64 and "marie" not in address.lower()
    parsed = verp.find(["someone@else.org", address.upper()], "rebonds", "example.org")
    assert parsed == verp.Parsed("2027-01", local.rpartition("-")[2])
    found = verp.match(SECRET, parsed, ["a@example.org", "marie.roy@example.org"])
    assert found == "marie.roy@example.org"


def test_a_forged_or_altered_token_matches_nobody():
    address = verp.address(SECRET, "marie@example.org", "2027-01", "rebonds", "example.org")
    token = address.partition("@")[0].rpartition("-")[2]
    altered = address.replace(token, ("a" if token[0] != "a" else "b") + token[1:])
    for candidate, secret in ((altered, SECRET), (address, b"autre secret")):
        parsed = verp.find([candidate], "rebonds", "example.org")
        assert parsed is not None
        assert verp.match(secret, parsed, ["marie@example.org", "paul@example.org"]) is None
    # another month's token does not name the person for this month either
    other = verp.address(SECRET, "marie@example.org", "2027-02", "rebonds", "example.org")
    moved = verp.parse(other.replace("202702", "202701"), "rebonds", "example.org")
    assert verp.match(SECRET, moved, ["marie@example.org"]) is None


@pytest.mark.parametrize("candidate", [
    "rebonds@example.org", "rebonds+202701@example.org", "autre+202701-abcdefghijklmnop@example.org",
    "rebonds+202713-abcdefghijklmnop@example.org", "rebonds+202701-abc@example.org",
    "rebonds+202701-abcdefghijklmnop@example.com"])
def test_other_addresses_are_not_verp(candidate):
    assert verp.parse(candidate, "rebonds", "example.org") is None


# -- the rules, pure --------------------------------------------------------------------------

def rec(month, kind, status="actif"):
    return BounceRecord("x@example.org", month, kind, f"<{month}{kind}>", NOW, None, "mots",
                        status=status)


def test_decide_over_three_issues():
    months = list(ISSUES)
    assert decide(months, [rec("2027-02", "definitif")], 3).reason == "definitif"
    soft = [rec(m, "temporaire") for m in months]
    assert decide(months, soft, 3).reason == "temporaires"
    assert decide(months, soft[:2], 3) is None  # two in a row: not yet
    # a delivered issue in between resets the count
    assert decide(months + ["2027-04", "2027-05"],
                  [rec("2027-01", "temporaire"), rec("2027-02", "temporaire"),
                   rec("2027-04", "temporaire"), rec("2027-05", "temporaire")], 3) is None
    # « à vérifier » (5.7.x) never counts, and cancelled records neither
    assert decide(months, [rec(m, "a-verifier") for m in months], 3) is None
    assert decide(months, [rec("2027-01", "definitif", "annule")], 3) is None
    # a month with only a review record neither counts nor resets
    assert decide(months, [rec("2027-01", "temporaire"), rec("2027-02", "a-verifier"),
                           rec("2027-03", "temporaire")], 2).reason == "temporaires"


# -- the rules over a ledger of three issues --------------------------------------------------

@pytest.fixture
def data(sample_here, monkeypatch):
    """The sample with [rebonds], and a ledger: three issues sent to PEOPLE."""
    monkeypatch.setenv("INFOLETTRE_SECRET", "s" * 40)
    settings = dataclasses.replace(sample_here, bounces=Bounces("example.org"))
    with Ledger(state_file(settings.paths.donnees)) as ledger:
        for month in ISSUES:
            ledger.plan(month, [(p, "complete") for p in PEOPLE])
    with closing(connect(state_file(settings.paths.donnees))) as conn:
        conn.execute("UPDATE livraisons SET state = 'envoye', last_attempt_at = ?",
                     ("2027-03-02T14:00:00+00:00",))
    return settings


def store_of(settings):
    return closing(connect(state_file(settings.paths.donnees)))


def test_rules_over_three_simulated_issues(data):
    clock = FixedClock(NOW)
    with store_of(data) as conn:
        store = BounceStore(conn, clock=clock)
        bounce = lambda who, month, kind, key: store.record(BounceRecord(  # noqa: E731
            who, month, kind, key, NOW, "5.1.1" if kind == "definitif" else "4.2.2",
            f"{kind} pour {who}"))
        bounce("morte@example.org", "2027-01", "definitif", "<a1>")
        for n, month in enumerate(ISSUES):
            bounce("pleine@example.org", month, "temporaire", f"<p{n}>")
        bounce("revient@example.org", "2027-01", "temporaire", "<r1>")  # 02 delivered fine
        bounce("revient@example.org", "2027-03", "temporaire", "<r3>")
        for n, month in enumerate(ISSUES):
            bounce("politique@example.org", month, "a-verifier", f"<q{n}>")
        assert not bounce("morte@example.org", "2027-01", "definitif", "<a1>")  # read twice
        suspended = apply_rules(store, data.bounces, clock)
        assert list(suspended) == ["morte@example.org", "pleine@example.org"]
        assert suspended["morte@example.org"] == ("rebond définitif, numéro 2027-01 : "
                                                  "definitif pour morte@example.org")
        assert suspended["pleine@example.org"].startswith(
            "rebonds temporaires à 3 numéros de suite, numéro 2027-03")
        assert apply_rules(store, data.bounces, clock) == {}  # once
    found = {s.email: s for s in list_suppressions(data)}
    assert found["morte@example.org"].reason == "definitif"
    assert found["morte@example.org"].month == "2027-01"
    assert found["pleine@example.org"].reason == "temporaires"
    assert "temporaire pour pleine" in found["pleine@example.org"].diagnostic
    of_march = issue_bounces(data, "2027-03")
    assert of_march.counts["temporaire"] == 2 and of_march.counts["a-verifier"] == 1
    assert [s.email for s in of_march.suspended] == ["pleine@example.org"]
    assert "temporaires 2" in of_march.summary()


def test_ledger_5xx_counts_as_hard_but_5_7_x_goes_to_review(data):
    clock = FixedClock(NOW)
    with store_of(data) as conn:
        conn.execute("UPDATE livraisons SET state = 'echec', smtp_code = 550, smtp_text = ? "
                     "WHERE month = '2027-03' AND email = 'morte@example.org'",
                     ("5.1.1 <morte@example.org>: Recipient address rejected",))
        conn.execute("UPDATE livraisons SET state = 'echec', smtp_code = 554, smtp_text = ? "
                     "WHERE month = '2027-03' AND email = 'politique@example.org'",
                     ("5.7.1 Message rejected as spam",))
        conn.execute("UPDATE livraisons SET state = 'echec', smtp_code = 450, smtp_text = ? "
                     "WHERE month = '2027-03' AND email = 'pleine@example.org'", ("4.2.2 plein",))
        store = BounceStore(conn, clock=clock)
        assert record_ledger_refusals(store, data.bounces, clock) == 2
        assert record_ledger_refusals(store, data.bounces, clock) == 0  # once each
        assert list(apply_rules(store, data.bounces, clock)) == ["morte@example.org"]
        kinds = {r.email: r.kind for r in store.records(month="2027-03")}
    assert kinds == {"morte@example.org": "definitif", "politique@example.org": "a-verifier"}


def test_retention_deletes_old_records_only(data):
    clock = FixedClock(NOW)
    with store_of(data) as conn:
        store = BounceStore(conn, clock=clock)
        store.record(BounceRecord("vieux@example.org", "2025-12", "temporaire", "<old>",
                                  NOW - timedelta(days=401)))
        store.record(BounceRecord("recent@example.org", "2027-03", "temporaire", "<new>",
                                  NOW - timedelta(days=10)))
        assert store.purge(NOW - timedelta(days=data.bounces.conservation_jours)) == 1
        assert [r.email for r in store.records()] == ["recent@example.org"]


def test_reactivate_lifts_the_suspension_and_the_count_starts_again(data):
    clock = FixedClock(NOW)
    with store_of(data) as conn:
        store = BounceStore(conn, clock=clock)
        store.record(BounceRecord("morte@example.org", "2027-01", "definitif", "<a>", NOW))
        assert list(apply_rules(store, data.bounces, clock)) == ["morte@example.org"]
    with pytest.raises(InfolettreError) as info:
        reactivate(data, "inconnue@example.org", "Julie", clock=clock)
    assert "n'est pas suspendue" in info.value.message
    was = reactivate(data, " Morte@Example.org ", "Julie", clock=clock)
    assert was.reason == "definitif"
    assert list_suppressions(data) == []
    again = list_suppressions(data, all_=True)[0]
    assert again.reactivated_by == "Julie" and again.status == "reactivee"
    with pytest.raises(InfolettreError) as info:
        reactivate(data, "morte@example.org", "Julie", clock=clock)
    assert "déjà été réactivée" in info.value.message
    with store_of(data) as conn:  # the old bounce no longer counts
        assert apply_rules(BounceStore(conn, clock=clock), data.bounces, clock) == {}


def test_export_csv_in_french_with_bom(data, tmp_path):
    clock = FixedClock(NOW)
    with store_of(data) as conn:
        BounceStore(conn, clock=clock).suspend("morte@example.org", "definitif", "2027-01",
                                               "5.1.1 user unknown", NOW)
    path = tmp_path / "suspendues.csv"
    assert export_suppressions_csv(data, path) == 1
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert text.splitlines()[0] == "courriel,raison,depuis le,numéro,réponse du serveur"
    assert "morte@example.org,rebond définitif,samedi 10 avril 2027,2027-01,5.1.1 user unknown" \
        in text


# -- the send ---------------------------------------------------------------------------------

MONTH = "2026-12"


def test_send_skips_suspended_addresses_and_uses_verp(sample_here, monkeypatch):
    """A suspended address is skipped (counted apart), an unsubscribed one too, and every
    envelope sender is the VERP address of its recipient; the header From is unchanged."""
    monkeypatch.setenv("INFOLETTRE_SECRET", "s" * 40)
    settings = dataclasses.replace(sample_here, bounces=Bounces("example.org"))
    approve(settings, MONTH, "Julie Roy")
    with store_of(settings) as conn:
        BounceStore(conn).suspend("annie.gaudreau@example.org", "definitif", "2026-11")
        assert not UnsubscribeStore(conn).contains("annie.gaudreau@example.org")
    seen = []
    report, _problems = send(settings, MONTH, progress=seen.append)
    assert report.sent == 11 and report.suspended == 1
    assert "adresses suspendues 1" in report.summary()
    recipients = {r.envelope.recipient for r in seen}
    assert "annie.gaudreau@example.org" not in recipients and len(recipients) == 11
    from infolettre.state.secret import load_secret

    secret = load_secret(settings.paths.donnees)
    for result in seen:
        parsed = verp.parse(result.envelope.sender, "rebonds", "example.org")
        assert parsed is not None and parsed.month == MONTH
        assert verp.match(secret, parsed, recipients) == result.envelope.recipient.lower()
        assert b"\r\nFrom: " in result.envelope.message or result.envelope.message.startswith(
            b"From: ")
        assert b"rebonds+" not in result.envelope.message  # the headers never show it
    with store_of(settings) as conn:  # an unsubscribe and a suspension stay apart
        assert not UnsubscribeStore(conn).contains("annie.gaudreau@example.org")
        assert BounceStore(conn).is_suspended("annie.gaudreau@example.org")


def test_without_rebonds_the_envelope_sender_stays_the_sender(sample_here, monkeypatch):
    monkeypatch.setenv("INFOLETTRE_SECRET", "s" * 40)
    approve(sample_here, MONTH, "Julie Roy")
    seen = []
    send(sample_here, MONTH, progress=seen.append)
    assert {r.envelope.sender for r in seen} == {"infolettre@example.org"}


# -- the [rebonds] table ----------------------------------------------------------------------

def test_settings_defaults_and_errors(project):
    from infolettre.errors import ConfigError

    assert project.settings().bounces is None  # the sample leaves it commented: no VERP
    with project.config.open("a", encoding="utf-8") as config:
        config.write('\n[rebonds]\nmaildir = "rebonds"\n')
    bounces = project.settings().bounces
    assert (bounces.adresse, bounces.domaine) == ("rebonds", "example.org")
    assert (bounces.temporaires_de_suite, bounces.conservation_jours) == (3, 400)
    assert bounces.maildir == project.root / "rebonds" and bounces.has_mailbox
    text = project.config.read_text(encoding="utf-8")
    for line, words in (('adresse = "rebonds+x"', "rebonds.adresse"),
                        ('domaine = "pas un domaine"', "rebonds.domaine"),
                        ("temporaires_de_suite = 0", "rebonds.temporaires_de_suite"),
                        ("conservation = 30", "Vouliez-vous dire « conservation_jours »")):
        project.config.write_text(text + line + "\n", encoding="utf-8")
        with pytest.raises(ConfigError) as info:
            project.settings()
        assert words in info.value.message + (info.value.fix or "")
    project.config.write_text(text, encoding="utf-8")
    project.calendar('releve_rebonds = ""')
    assert project.settings().calendar.releve_rebonds is None


def test_over_smtp_mail_from_is_verp_and_from_header_unchanged(sample_here, monkeypatch):
    """Through a real SMTP server: MAIL FROM is each recipient's VERP address, the From
    header stays the bulletin's."""
    import email
    import email.policy

    from infolettre.settings import SmtpConfig
    from infolettre.state.secret import load_secret

    from .sinks import CountingSink, counting_server

    class Recording(CountingSink):
        def __init__(self):
            super().__init__()
            self.envelopes = []

        async def handle_DATA(self, server, session, envelope):
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos),
                                   envelope.original_content or envelope.content))
            return await super().handle_DATA(server, session, envelope)

    monkeypatch.setenv("INFOLETTRE_SECRET", "s" * 40)
    sink = Recording()
    with counting_server(sink) as port:
        smtp = SmtpConfig.from_table({"hote": "127.0.0.1", "port": port, "securite": "aucune",
                                      "connexions": 1}, {}, where="test")
        settings = dataclasses.replace(sample_here, smtp=smtp,
                                       bounces=Bounces("example.org", adresse="retours"))
        approve(settings, MONTH, "Julie Roy")
        report, _problems = send(settings, MONTH)
    assert report.sent == len(sink.envelopes) == 12
    secret = load_secret(settings.paths.donnees)
    for mail_from, (rcpt,), content in sink.envelopes:
        parsed = verp.parse(mail_from, "retours", "example.org")
        assert verp.match(secret, parsed, [rcpt]) == rcpt.lower()
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert message["From"].addresses[0].addr_spec == "infolettre@example.org"
