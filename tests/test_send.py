"""Sending a real issue: sign-off, unsubscribes, the anti-spam footer, test sends."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import re

import pytest

from infolettre.deliver.ledger import Ledger
from infolettre.errors import DeliveryError
from infolettre.pipeline import approve, send, send_test
from infolettre.settings import Unsubscribe
from infolettre.state import connect, state_file
from infolettre.unsubscribe import UnsubscribeStore, load_secret, verify_token

MONTH = "2026-12"
TITLE = "Le jardin collectif de Montmagny a nourri 60 familles cette saison"


@pytest.fixture
def signed(sample_here, monkeypatch):
    """The sample with state in tmp_path, a web unsubscribe page, the issue signed off."""
    monkeypatch.setenv("INFOLETTRE_SECRET", "s" * 40)
    settings = dataclasses.replace(sample_here, unsubscribe=Unsubscribe(
        "desabonnement@example.org", "https://infolettre.example.org/desabonnement"))
    approve(settings, MONTH, "Julie Roy")
    return settings


def messages(folder):
    for path in sorted(folder.glob("*.eml")):
        yield email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def test_every_message_has_identity_postal_address_and_working_unsubscribe(signed):
    """Canada's anti-spam law: sender, postal address and a valid unsubscribe in every message."""
    report, _ = send(signed, MONTH)
    secret = load_secret(signed.paths.donnees)
    sent = list(messages(signed.paths.boite_envoi / MONTH))
    assert report.sent == len(sent) == 12
    for message in sent:
        to = message["To"].addresses[0].addr_spec
        assert message["From"].addresses[0].addr_spec == "infolettre@example.org"
        header = str(message["List-Unsubscribe"])
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        https = re.search(r"<(https://[^>]+)>", header).group(1)
        assert verify_token(secret, https.split("t=")[1]) == to
        assert "<mailto:desabonnement@example.org?subject=desabonnement%20v1." in header
        for part in ("plain", "html"):
            body = message.get_body((part,)).get_content()
            assert "5700, boulevard Guillaume-Couture" in body, (to, part)
            assert "Le Fil régional" in body and https in body, (to, part)


def test_unsubscribed_people_receive_nothing(signed):
    """An address unsubscribed before the send is neither planned nor sent to."""
    with connect(state_file(signed.paths.donnees)) as conn:
        UnsubscribeStore(conn).add("annie.gaudreau@example.org", "lien")
    report, _ = send(signed, MONTH)
    names = {p.name for p in (signed.paths.boite_envoi / MONTH).glob("*.eml")}
    assert report.sent == 11 and "annie.gaudreau_at_example.org.eml" not in names
    with Ledger(state_file(signed.paths.donnees)) as ledger:
        assert sum(ledger.counts(MONTH).values()) == 11


def test_issue_changed_after_signoff_is_refused(signed, tmp_path):
    """Editing an approved item after the sign-off blocks the send and names the item."""
    content = tmp_path / "content"
    import shutil
    shutil.copytree(signed.paths.contenu, content)
    moved = dataclasses.replace(signed, paths=dataclasses.replace(signed.paths, contenu=content))
    approve(moved, MONTH, "Julie Roy")
    item = content / MONTH / "jardin-collectif-montmagny.md"
    item.write_text(item.read_text(encoding="utf-8").replace("troisième saison", "quatrième saison"),
                    encoding="utf-8")
    with pytest.raises(DeliveryError) as info:
        send(moved, MONTH)
    assert "approbation" in info.value.message and TITLE in info.value.message
    assert not (signed.paths.boite_envoi / MONTH).exists()


def test_test_send_goes_to_one_address_and_never_to_the_ledger(sample_here, monkeypatch):
    """--test sends each edition to one address with [TEST], without sign-off or ledger."""
    monkeypatch.setenv("INFOLETTRE_SECRET", "s" * 40)
    report, _ = send_test(sample_here, MONTH, "pivot@example.org")
    files = sorted((sample_here.paths.boite_envoi / "essais").rglob("*.eml"))
    assert report.sent == len(files) == 6
    subjects = {email.message_from_bytes(p.read_bytes(), policy=email.policy.default)["Subject"]
                for p in files}
    assert all(s.startswith("[TEST] Le Fil régional") for s in subjects) and len(subjects) == 6
    with Ledger(state_file(sample_here.paths.donnees)) as ledger:
        assert sum(ledger.counts(MONTH).values()) == 0


def test_test_send_rejects_a_bad_address(sample_here):
    """A malformed --test address is explained, nothing is sent."""
    with pytest.raises(DeliveryError) as info:
        send_test(sample_here, MONTH, "pas une adresse")
    assert info.value.where == "--test"


def test_send_reports_each_result_as_it_comes(signed):
    """The progress callback sees every message (the command's counter, the app's bar)."""
    seen = []
    report, _ = send(signed, MONTH, progress=seen.append)
    assert len(seen) == report.sent == 12
    assert {r.envelope.edition for r in seen} >= {"complete", "montmagny"}
