"""« Courriels retenus » in the review app: held messages written by a real mail intake run
(``process_raw``) into a copy of the sample project, then accepted or rejected by the pivot
with Flask's test client. The configuration is a copy too: « Ajouter cette adresse à
l'organisme » edits it, and it must still load, comments included."""

from __future__ import annotations

import dataclasses
import html
import os
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from infolettre import pipeline
from infolettre.clock import FixedClock
from infolettre.gather.intake import process_raw
from infolettre.settings import load_settings
from infolettre.settings.smtp import SmtpConfig
from infolettre.state import connect, state_file
from infolettre.web import create_app

from .sinks import CountingSink, counting_server
from .webfixtures import PASSWORD, clock, own, signed_in, token_of  # noqa: F401

MONTH = "2026-12"
MAIL = Path(__file__).parent / "data" / "mail"
RECEIVED = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
HOSTILE = b"""From: "Pirate <b>gras</b>" <pirate@ailleurs.example.com>
To: infolettre@example.org
Date: Tue, 01 Dec 2026 10:00:00 -0500
Message-ID: <hostile@example.org>
MIME-Version: 1.0
Subject: Offre {{ 7*7 }} <script>alert(1)</script>
Content-Type: multipart/mixed; boundary="XYZ"

--XYZ
Content-Type: text/plain; charset=utf-8

Bonjour <script>alert("corps")</script> et <img src=x onerror=alert(2)>.

--XYZ
Content-Type: application/pdf
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename="../../<i>etc</i>/passwd.pdf"

JVBERi0xLjQKJSB0ZXN0Cg==

--XYZ--
"""


@pytest.fixture
def project(own, tmp_path: Path):
    """The sample project with its own content/ and its own copy of infolettre.toml."""
    config = tmp_path / "infolettre.toml"
    shutil.copy(own.source, config)
    return dataclasses.replace(own, source=config)


@pytest.fixture
def app(project, clock):
    pipeline.user_add(project, "pivot@example.org", PASSWORD, clock=clock)
    pipeline.user_add(project, "releve@example.org", PASSWORD, role="relecteur",
                      territoire="montmagny", clock=clock)
    return create_app(project, clock=clock, testing=True)


def receive(settings, raw: bytes) -> str:
    """Run the mail intake on ``raw``; return the slug of the item written."""
    with connect(state_file(settings.paths.donnees)) as conn:
        result = process_raw(raw, settings, source="test", conn=conn, month=MONTH,
                             received=RECEIVED, clock=FixedClock(RECEIVED))
    assert result.kind == "item", result.reason
    return result.path.stem


@pytest.fixture
def stranger(project) -> str:
    """A message from an address no organization has (held: unknown sender)."""
    return receive(project, (MAIL / "unknown_sender.eml").read_bytes().replace(
        b"From: Inconnu <quelquun@ailleurs.example.com>",
        b"From: CDC des Etchemins <benevole@cdc-etchemins.example.org>").replace(
        b"<case@example.org>", b"<stranger@example.org>"))


@pytest.fixture
def forged(project) -> str:
    """A message in a known organization's name whose DMARC failed (held: forged)."""
    return receive(project, (MAIL / "forged_known_dmarc_fail.eml").read_bytes().replace(
        b"Subject: Ouverture d'un frigo communautaire", b"Subject: Fausse collecte").replace(
        b"<case@example.org>", b"<forged@example.org>"))


def text_of(settings, slug: str) -> str:
    return (settings.paths.contenu / MONTH / f"{slug}.md").read_text(encoding="utf-8")


def statut(settings, slug: str) -> str:
    return pipeline.review.read_entry(settings, MONTH, slug).statut


def test_the_list_shows_each_held_message_with_its_sender_and_why(app, stranger, forged):
    """Every held item of the open months: address, organization guessed, title, date, and
    the reason as a sentence; the menu counts them."""
    text = html.unescape(signed_in(app).get("/retenus").text)
    assert "benevole@cdc-etchemins.example.org" in text
    assert "organisme deviné : CDC des Etchemins" in text
    assert "Expéditeur inconnu (benevole@cdc-etchemins.example.org) : nouvelle retenue." in text
    assert "Expéditeur possiblement usurpé" in text and "Fausse collecte" in text
    assert "mardi 1er décembre 2026 10 h" in text  # when the intake received them
    assert "Courriels retenus <span class=\"count\">(2)</span>" in text
    assert "Aucun courriel retenu" in signed_in(app).get("/retenus?numero=2027-01").text


def test_the_message_page_shows_headers_body_and_the_authentication_verdict(app, forged):
    text = html.unescape(signed_in(app).get(f"/retenus/{MONTH}/{forged}").text)
    assert "Authentication-Results" in text and "dmarc=fail" in text
    assert "échec signalé : l'expéditeur est peut-être usurpé" in text
    assert "<p>Nouvelle au nom de la CDC, mais pas envoyée par elle.</p>" in text
    assert re.search(r'<option value="CDC des Etchemins" selected>', text)
    assert "Accepter" in text and "Rejeter" in text


def test_hostile_content_is_escaped_or_sanitized(app, project):
    """A script in the body, template syntax in the subject, markup in the sender's name and
    ``../`` in an attachment name all come out as text, never as markup or code."""
    slug = receive(project, HOSTILE)
    page = signed_in(app).get(f"/retenus/{MONTH}/{slug}").text
    assert "<script" not in page and "<img" not in page and "<b>gras" not in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page  # shown as the text it was
    assert "Offre 49" not in page and "Offre {{ 7*7 }}" in html.unescape(page)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # the subject, as text
    files = re.search(r'<ul class="held-files">(.*?)</ul>', page, re.S).group(1)
    assert "../" not in files and "<i>" not in files and "passwd.pdf" in files
    assert "Ko" in files
    listing = signed_in(app).get("/retenus").text
    assert "<script" not in listing and "Offre 49" not in listing
    assert "Offre {{ 7*7 }}" in html.unescape(listing)


def test_accept_makes_it_submitted_and_records_who_and_when(app, project, stranger):
    client = signed_in(app)
    page = client.get(f"/retenus/{MONTH}/{stranger}").text
    answer = client.post(f"/retenus/{MONTH}/{stranger}/accepter", data={
        "csrf_token": token_of(page), "empreinte": _hash(page), "organisme": ""})
    assert answer.status_code == 302 and answer.headers["Location"] == "/retenus"
    assert statut(project, stranger) == "soumis"
    assert "# À vérifier : expéditeur inconnu" in text_of(project, stranger)  # notes kept
    [row] = pipeline.review.item_history(project, MONTH, stranger)
    assert (row.who, row.action) == ("pivot@example.org", "accepte")
    assert row.when.isoformat().startswith("2026-12-02T09:00")
    assert "Aucun courriel retenu" in client.get("/retenus").text
    again = client.post(f"/retenus/{MONTH}/{stranger}/accepter", data={
        "csrf_token": token_of(page), "empreinte": _hash(page)})
    assert again.status_code == 422 and "déjà été accepté ou rejeté" in html.unescape(again.text)


def test_accept_with_a_stale_page_is_refused_and_writes_nothing(app, project, stranger):
    """The file changed since the page was read (a hand edit): nothing written, said why."""
    client = signed_in(app)
    page = client.get(f"/retenus/{MONTH}/{stranger}").text
    path = project.paths.contenu / MONTH / f"{stranger}.md"
    path.write_text(text_of(project, stranger) + "Ajout à la main.\n", encoding="utf-8")
    before = path.read_bytes()
    answer = client.post(f"/retenus/{MONTH}/{stranger}/accepter", data={
        "csrf_token": token_of(page), "empreinte": _hash(page),
        "organisme": "CDC des Etchemins", "ajouter": "1"})
    assert answer.status_code == 409 and "a été modifiée depuis" in html.unescape(answer.text)
    assert "Ajout à la main." in answer.text  # the page shows the file as it is now
    assert path.read_bytes() == before and "benevole@" not in project.source.read_text()
    assert pipeline.review.item_history(project, MONTH, stranger) == []


def test_accept_with_the_organization_adds_the_address_and_the_config_still_loads(
        app, project, stranger):
    client = signed_in(app)
    page = client.get(f"/retenus/{MONTH}/{stranger}").text
    comments = [line for line in project.source.read_text().splitlines() if "#" in line]
    answer = client.post(f"/retenus/{MONTH}/{stranger}/accepter", data={
        "csrf_token": token_of(page), "empreinte": _hash(page),
        "organisme": "CDC des Etchemins", "ajouter": "1"}, follow_redirects=True)
    assert "est ajoutée à « CDC des Etchemins »" in html.unescape(answer.text)
    text = text_of(project, stranger)
    assert "organisme: CDC des Etchemins" in text and "territoire: les-etchemins" in text
    assert "statut: soumis" in text
    config = project.source.read_text()
    assert 'courriels = ["info@cdc-etchemins.example.org", ' \
           '"benevole@cdc-etchemins.example.org"]' in config
    assert [line for line in config.splitlines() if "#" in line] == comments
    reloaded = load_settings(project.source)
    org = reloaded.organization("CDC des Etchemins")
    assert org.courriels == ("info@cdc-etchemins.example.org",
                             "benevole@cdc-etchemins.example.org")
    [row] = pipeline.review.item_history(project, MONTH, stranger)
    assert row.detail == {"organisme": "CDC des Etchemins",
                          "courriel_ajoute": "benevole@cdc-etchemins.example.org"}


def test_an_array_the_app_cannot_edit_safely_is_refused_with_the_line_to_write(
        app, project, stranger):
    """A comment inside the brackets: the file is not touched, the item stays held, and the
    page says what to add by hand."""
    config = project.source.read_text().replace(
        'courriels = ["info@cdc-etchemins.example.org"]',
        'courriels = [\n  "info@cdc-etchemins.example.org", # la direction\n]')
    project.source.write_text(config)
    client = signed_in(app)
    page = client.get(f"/retenus/{MONTH}/{stranger}").text
    answer = client.post(f"/retenus/{MONTH}/{stranger}/accepter", data={
        "csrf_token": token_of(page), "empreinte": _hash(page),
        "organisme": "CDC des Etchemins", "ajouter": "1"})
    assert answer.status_code == 422
    assert 'Ajoutez "benevole@cdc-etchemins.example.org" à courriels dans le bloc ' \
           '[[organismes]] nom = "CDC des Etchemins"' in html.unescape(answer.text)
    assert project.source.read_text() == config and statut(project, stranger) == "retenu"


def test_an_address_of_another_organization_is_not_moved(app, project, forged):
    client = signed_in(app)
    page = client.get(f"/retenus/{MONTH}/{forged}").text
    before = project.source.read_text()
    answer = client.post(f"/retenus/{MONTH}/{forged}/accepter", data={
        "csrf_token": token_of(page), "empreinte": _hash(page),
        "organisme": "CDC de Bellechasse", "ajouter": "1"})
    assert answer.status_code == 422 and "déjà inscrite" in html.unescape(answer.text)
    assert project.source.read_text() == before and statut(project, forged) == "retenu"


def test_reject_needs_a_reason_refuses_and_writes_to_nobody_by_default(project, clock,
                                                                       stranger):
    """With a real SMTP server on loopback: no message unless « Prévenir » is checked."""
    sink = CountingSink()
    with counting_server(sink) as port:
        settings = dataclasses.replace(project, smtp=SmtpConfig(
            "127.0.0.1", port=port, securite="aucune", delai=5))
        pipeline.user_add(settings, "pivot@example.org", PASSWORD, clock=clock)
        client = signed_in(create_app(settings, clock=clock, testing=True))
        page = client.get(f"/retenus/{MONTH}/{stranger}").text
        assert re.search(r'<input type="checkbox" name="prevenir" value="1">', page)
        empty = client.post(f"/retenus/{MONTH}/{stranger}/rejeter",
                            data={"csrf_token": token_of(page), "raison": " "})
        assert empty.status_code == 400 and statut(project, stranger) == "retenu"
        done = client.post(f"/retenus/{MONTH}/{stranger}/rejeter", data={
            "csrf_token": token_of(page), "raison": "Publicité"}, follow_redirects=True)
    assert "est rejetée" in html.unescape(done.text)
    assert statut(project, stranger) == "refuse" and not sink.per_recipient()
    [row] = pipeline.review.item_history(project, MONTH, stranger)
    assert row.action == "refuse" and row.detail["raison"] == "Publicité"
    assert row.detail["courriel"] is None


def test_reject_writes_to_the_sender_only_when_asked(project, clock, stranger):
    sink = CountingSink()
    with counting_server(sink) as port:
        settings = dataclasses.replace(project, smtp=SmtpConfig(
            "127.0.0.1", port=port, securite="aucune", delai=5))
        pipeline.user_add(settings, "pivot@example.org", PASSWORD, clock=clock)
        client = signed_in(create_app(settings, clock=clock, testing=True))
        page = client.get(f"/retenus/{MONTH}/{stranger}").text
        client.post(f"/retenus/{MONTH}/{stranger}/rejeter", data={
            "csrf_token": token_of(page), "raison": "Hors sujet", "prevenir": "1"})
    assert sink.per_recipient() == {"benevole@cdc-etchemins.example.org": 1}


# --- the security matrix -------------------------------------------------------------------

PAGES = ["/retenus", "/retenus?numero=2026-12", f"/retenus/{MONTH}/SLUG"]
POSTS = [f"/retenus/{MONTH}/SLUG/accepter", f"/retenus/{MONTH}/SLUG/rejeter"]
FORM = {"raison": "x", "organisme": "CDC des Etchemins", "ajouter": "1", "empreinte": "x"}


@pytest.mark.parametrize("url", PAGES + POSTS)
def test_without_a_session_nothing_is_shown_nor_changed(app, project, stranger, url):
    before = text_of(project, stranger)
    client = app.test_client()
    answer = client.post(url.replace("SLUG", stranger), data=FORM) if url in POSTS else \
        client.get(url.replace("SLUG", stranger))
    assert answer.status_code in (302, 400)
    if answer.status_code == 302:
        assert "/connexion" in answer.headers["Location"]
    assert "Ouverture" not in answer.text and text_of(project, stranger) == before


@pytest.mark.parametrize("url", POSTS)
def test_a_post_without_csrf_is_refused_and_changes_nothing(app, project, stranger, url):
    before, config = text_of(project, stranger), project.source.read_text()
    page = signed_in(app)
    answer = page.post(url.replace("SLUG", stranger), data=FORM)
    assert answer.status_code == 400
    assert text_of(project, stranger) == before and project.source.read_text() == config


@pytest.mark.parametrize("url", PAGES + POSTS)
def test_a_relecteur_gets_403_and_nothing_is_read(app, project, stranger, url):
    client = signed_in(app, "releve@example.org")
    before = text_of(project, stranger)
    token = token_of(client.get("/").text)
    answer = client.post(url.replace("SLUG", stranger), data={**FORM, "csrf_token": token}) \
        if url in POSTS else client.get(url.replace("SLUG", stranger))
    assert answer.status_code == 403 and "Ouverture" not in answer.text
    assert text_of(project, stranger) == before
    assert "/retenus" not in client.get("/").text  # not in a relecteur's menu


@pytest.mark.parametrize("path", [
    f"/retenus/{MONTH}/lien", "/retenus/lien-mois/secret", f"/retenus/{MONTH}/..%2fsecret",
    "/retenus/%2e%2e/secret", f"/retenus/{MONTH}/%2e%2e", "/retenus/..%2f..%2ftmp/secret",
    f"/retenus/{MONTH}/secret%00", "/retenus//etc/passwd", "/retenus?numero=../..",
    "/retenus?numero=lien-mois", f"/retenus/{MONTH}/{'a' * 300}"])
def test_path_tricks_are_not_found_and_nothing_is_read(app, project, tmp_path, path):
    """A link in content/ (to a secret outside it), ``..`` encoded or not, NUL, an absolute
    path: 404 (or the empty list), the secret never shown."""
    secret = tmp_path / "secret.md"
    secret.write_text("---\ntitre: SECRET\nstatut: retenu\nsource: courriel\n---\nSECRET\n")
    os.symlink(secret, project.paths.contenu / MONTH / "lien.md")
    os.symlink(tmp_path, project.paths.contenu / "lien-mois")
    answer = signed_in(app).get(path, follow_redirects=True)  # « // »: 308 to one « / »
    assert answer.status_code == 404 and "SECRET" not in answer.text


@pytest.mark.parametrize("action", ["accepter", "rejeter"])
def test_path_tricks_in_a_post_write_nothing(app, project, tmp_path, action):
    secret = tmp_path / "secret.md"
    secret.write_text("---\ntitre: SECRET\nstatut: retenu\nsource: courriel\n---\nSECRET\n")
    os.symlink(secret, project.paths.contenu / MONTH / "lien.md")
    client = signed_in(app)
    token = token_of(client.get("/retenus").text)
    for path in (f"/retenus/{MONTH}/lien/{action}", f"/retenus/%2e%2e/secret/{action}"):
        answer = client.post(path, data={**FORM, "csrf_token": token})
        assert answer.status_code == 404
    assert "statut: retenu" in secret.read_text()


def _hash(page: str) -> str:
    return re.search(r'name="empreinte" value="([0-9a-f]{64})"', page).group(1)


def test_an_address_added_by_hand_meanwhile_is_not_added_twice(app, project, stranger):
    """The app's settings were loaded before the pivot added the address by hand: the file
    is read again, left as it is, and the page says the address was already there."""
    config = project.source.read_text().replace(
        '"info@cdc-etchemins.example.org"]',
        '"info@cdc-etchemins.example.org", "benevole@cdc-etchemins.example.org"]')
    project.source.write_text(config)
    client = signed_in(app)
    page = client.get(f"/retenus/{MONTH}/{stranger}").text
    done = client.post(f"/retenus/{MONTH}/{stranger}/accepter", data={
        "csrf_token": token_of(page), "empreinte": _hash(page),
        "organisme": "CDC des Etchemins", "ajouter": "1"}, follow_redirects=True)
    assert "était déjà inscrite" in html.unescape(done.text)
    assert project.source.read_text() == config and statut(project, stranger) == "soumis"
    [row] = pipeline.review.item_history(project, MONTH, stranger)
    assert row.detail["courriel_ajoute"] is None
