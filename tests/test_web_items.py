"""« Les nouvelles », the item page and « Modifier » in the review app, with Flask's test
client over a copy of the sample project (the tests approve, refuse, edit and move items)."""

from __future__ import annotations

import dataclasses
import os

import pytest

from infolettre import pipeline
from infolettre.settings.smtp import SmtpConfig
from infolettre.web import create_app

from .sinks import CountingSink, counting_server
from .webfixtures import app, clock, own, signed_in, token_of  # noqa: F401

MONTH = "2026-12"
MONTMAGNY = "haltes-chaleur-montmagny"        # soumis, montmagny, by email
ELSEWHERE = "collecte-manteaux-hiver-disraeli"  # soumis, les-appalaches, by email


def item_file(settings, slug, month=MONTH):
    return settings.paths.contenu / month / f"{slug}.md"


def statut(settings, slug, month=MONTH):
    return pipeline.review.read_entry(settings, month, slug).statut


def test_the_list_shows_every_item_by_section_with_the_contract_labels(app):
    """Régional first, then each territory; each row has its source, status and actions."""
    page = signed_in(app).get(f"/nouvelles?numero={MONTH}")
    assert page.status_code == 200
    text = page.text
    assert text.index("Régional") < text.index("Bellechasse") < text.index("Montmagny")
    for label in ("Approuver", "Refuser", "Modifier", "Approuver la sélection"):
        assert label in text
    assert "Liste des haltes-chaleur de la MRC de Montmagny" in text


def test_the_list_filters_by_status_territory_and_source(app):
    client = signed_in(app)
    text = client.get(f"/nouvelles?numero={MONTH}&statut=soumis&territoire=montmagny"
                      "&source=courriel").text
    assert "Liste des haltes-chaleur" in text and "Collecte de manteaux" not in text
    assert "Distribution de paniers" not in text  # approved: filtered out


def test_a_relecteur_sees_only_the_items_of_their_territory(app):
    text = signed_in(app, "releve@example.org").get(f"/nouvelles?numero={MONTH}").text
    assert "Liste des haltes-chaleur" in text and "Collecte de manteaux" not in text


def test_the_item_page_shows_body_fields_file_name_and_history(app, own):
    client = signed_in(app)
    page = client.get(f"/nouvelles/{MONTH}/{MONTMAGNY}")
    assert page.status_code == 200
    assert f"{MONTH}/{MONTMAGNY}.md" in page.text and "<p>En prévision" in page.text
    assert "Aucune action enregistrée" in page.text


def test_bulk_approve_changes_each_checked_item_and_records_it(app, own):
    client = signed_in(app)
    token = token_of(client.get(f"/nouvelles?numero={MONTH}").text)
    answer = client.post(f"/nouvelles/{MONTH}/approuver", data={
        "csrf_token": token, "nouvelles": [MONTMAGNY, ELSEWHERE]})
    assert answer.status_code == 302
    assert statut(own, MONTMAGNY) == statut(own, ELSEWHERE) == "approuve"
    history = pipeline.review.item_history(own, MONTH, ELSEWHERE)
    assert [(r.who, r.action) for r in history] == [("pivot@example.org", "approuve")]
    assert "approuve" in client.get(f"/nouvelles/{MONTH}/{ELSEWHERE}").text


def test_refuse_needs_a_reason_and_writes_it_in_the_history(app, own):
    client = signed_in(app)
    form = client.get(f"/nouvelles/{MONTH}/{MONTMAGNY}/refuser").text
    assert "Prévenir l'expéditeur par courriel" in form  # an emailed item
    empty = client.post(f"/nouvelles/{MONTH}/{MONTMAGNY}/refuser",
                        data={"csrf_token": token_of(form), "raison": "  "})
    assert empty.status_code == 400 and statut(own, MONTMAGNY) == "soumis"
    done = client.post(f"/nouvelles/{MONTH}/{MONTMAGNY}/refuser", data={
        "csrf_token": token_of(form), "raison": "Déjà parue en novembre", "prevenir": "1"},
        follow_redirects=True)
    assert statut(own, MONTMAGNY) == "refuse"
    assert "Déjà parue en novembre" in done.text
    assert "courriel non envoyé" in done.text  # the sample has no [smtp]: said, not failed


def test_refuse_tells_an_email_submitter_through_smtp(own, clock):
    """With [smtp], the French refusal reaches the submitter on a real loopback server."""
    path = item_file(own, MONTMAGNY)
    path.write_text(path.read_text().replace(
        "---\n", "---\n# Reçu par courriel de Lucie <lucie@example.org> (Message-ID : x@y).\n",
        1), encoding="utf-8")
    sink = CountingSink()
    with counting_server(sink) as port:
        settings = dataclasses.replace(own, smtp=SmtpConfig("127.0.0.1", port=port,
                                                            securite="aucune", delai=5))
        pipeline.user_add(settings, "pivot@example.org", "une longue phrase de passe",
                          clock=clock)
        client = signed_in(create_app(settings, clock=clock, testing=True))
        form = client.get(f"/nouvelles/{MONTH}/{MONTMAGNY}/refuser").text
        assert "lucie@example.org" in form
        done = client.post(f"/nouvelles/{MONTH}/{MONTMAGNY}/refuser", data={
            "csrf_token": token_of(form), "raison": "Hors sujet", "prevenir": "1"},
            follow_redirects=True)
    assert "courriel envoyé à lucie@example.org" in done.text
    assert sum(sink.per_recipient().values()) == 1
    assert sink.per_recipient()["lucie@example.org"] == 1


def test_the_pivot_moves_an_item_to_another_month(app, own):
    client = signed_in(app)
    page = client.get(f"/nouvelles/{MONTH}/{MONTMAGNY}").text
    answer = client.post(f"/nouvelles/{MONTH}/{MONTMAGNY}/deplacer",
                         data={"csrf_token": token_of(page), "vers": "2027-01"})
    assert answer.headers["Location"] == f"/nouvelles/2027-01/{MONTMAGNY}"
    assert not item_file(own, MONTMAGNY).exists()
    assert item_file(own, MONTMAGNY, "2027-01").is_file()
    moved = client.get(f"/nouvelles/2027-01/{MONTMAGNY}").text
    assert "2026-12 → 2027-01" in moved


def test_edit_saves_through_the_store_and_records_the_fields_changed(app, own):
    client = signed_in(app)
    form = client.get(f"/nouvelles/{MONTH}/{MONTMAGNY}/modifier").text
    assert 'type="date"' in form and 'name="empreinte"' in form
    data = form_data(form)
    data.update(titre="Haltes-chaleur de Montmagny", image_alt="")
    answer = client.post(f"/nouvelles/{MONTH}/{MONTMAGNY}/modifier", data=data)
    assert answer.status_code == 302
    assert "titre: Haltes-chaleur de Montmagny" in item_file(own, MONTMAGNY).read_text()
    history = pipeline.review.item_history(own, MONTH, MONTMAGNY)
    assert history[0].action == "modifie" and history[0].detail == {"champs": ["titre"]}


def test_a_stale_form_is_refused_and_the_edit_is_shown_back(app, own):
    """The file changed after the form was read (a hand edit): nothing written, the user's
    text shown again with what the file now says."""
    client = signed_in(app)
    data = form_data(client.get(f"/nouvelles/{MONTH}/{MONTMAGNY}/modifier").text)
    path = item_file(own, MONTMAGNY)
    meanwhile = path.read_text().replace("grands froids", "grands froids (retouché)")
    path.write_text(meanwhile, encoding="utf-8")
    data["titre"] = "Mon titre à moi"
    answer = client.post(f"/nouvelles/{MONTH}/{MONTMAGNY}/modifier", data=data)
    assert answer.status_code == 409 and "a été modifiée depuis" in answer.text
    assert "Mon titre à moi" in answer.text and "(retouché)" in answer.text
    assert path.read_text() == meanwhile
    again = form_data(answer.text)  # saved again from that page: knowingly, it overwrites
    assert again["titre"] == "Mon titre à moi"
    assert client.post(f"/nouvelles/{MONTH}/{MONTMAGNY}/modifier", data=again).status_code == 302
    assert "titre: Mon titre à moi" in path.read_text()


def test_an_invalid_field_is_shown_beside_it_and_nothing_is_written(app, own):
    client = signed_in(app)
    data = form_data(client.get(f"/nouvelles/{MONTH}/{MONTMAGNY}/modifier").text)
    before = item_file(own, MONTMAGNY).read_bytes()
    data["lien"] = "javascript:alert(1)"
    answer = client.post(f"/nouvelles/{MONTH}/{MONTMAGNY}/modifier", data=data)
    assert answer.status_code == 422 and "lien invalide" in answer.text
    assert item_file(own, MONTMAGNY).read_bytes() == before


def test_an_unreadable_item_is_listed_with_its_problem_and_can_be_fixed(app, own):
    """A file whose front matter does not validate still appears, with its error."""
    path = item_file(own, MONTMAGNY)
    path.write_text(path.read_text().replace("date: 2026-11-30", "date: 2026-02-30"))
    client = signed_in(app)
    listing = client.get(f"/nouvelles?numero={MONTH}&territoire=montmagny").text
    assert "Liste des haltes-chaleur" in listing and "date" in listing and "erreur" in listing
    assert client.get(f"/nouvelles/{MONTH}/{MONTMAGNY}").status_code == 200
    data = form_data(client.get(f"/nouvelles/{MONTH}/{MONTMAGNY}/modifier").text)
    data["date"] = "2026-11-30"
    assert client.post(f"/nouvelles/{MONTH}/{MONTMAGNY}/modifier", data=data).status_code == 302
    assert pipeline.review.read_entry(own, MONTH, MONTMAGNY).item is not None


def test_preview_renders_the_body_sanitized_without_saving(app, own):
    client = signed_in(app)
    data = form_data(client.get(f"/nouvelles/{MONTH}/{MONTMAGNY}/modifier").text)
    before = item_file(own, MONTMAGNY).read_bytes()
    data.update(corps="**Gras** <script>alert(1)</script>", previsualiser="1")
    answer = client.post(f"/nouvelles/{MONTH}/{MONTMAGNY}/modifier", data=data)
    assert "<strong>Gras</strong>" in answer.text and "<script>alert" not in answer.text
    assert item_file(own, MONTMAGNY).read_bytes() == before


# -- the security matrix ---------------------------------------------------------------

GETS = ["/nouvelles", f"/nouvelles/{MONTH}/{MONTMAGNY}", f"/nouvelles/{MONTH}/{MONTMAGNY}/modifier",
        f"/nouvelles/{MONTH}/{MONTMAGNY}/refuser"]
POSTS = [f"/nouvelles/{MONTH}/approuver", f"/nouvelles/{MONTH}/{MONTMAGNY}/approuver",
         f"/nouvelles/{MONTH}/{MONTMAGNY}/refuser", f"/nouvelles/{MONTH}/{MONTMAGNY}/deplacer",
         f"/nouvelles/{MONTH}/{MONTMAGNY}/modifier"]


@pytest.mark.parametrize("url", GETS)
def test_without_a_session_every_page_leads_to_sign_in(app, url):
    answer = app.test_client().get(url)
    assert answer.status_code == 302 and "/connexion" in answer.headers["Location"]


@pytest.mark.parametrize("url", POSTS)
def test_without_a_session_no_post_changes_anything(app, own, url):
    """Refused before any view runs (no session, hence no CSRF token either)."""
    before = item_file(own, MONTMAGNY).read_bytes()
    answer = app.test_client().post(url, data={"nouvelles": MONTMAGNY, "raison": "x",
                                               "vers": "2027-01"})
    assert answer.status_code in (302, 400)
    assert item_file(own, MONTMAGNY).read_bytes() == before


@pytest.mark.parametrize("url", POSTS)
def test_a_post_without_csrf_is_refused_and_changes_nothing(app, own, url):
    before = item_file(own, MONTMAGNY).read_bytes()
    answer = signed_in(app).post(url, data={"nouvelles": MONTMAGNY, "raison": "x",
                                            "vers": "2027-01"})
    assert answer.status_code == 400
    assert item_file(own, MONTMAGNY).read_bytes() == before


@pytest.mark.parametrize("suffix", ["", "/modifier", "/refuser"])
def test_a_relecteur_gets_403_on_another_territory(app, suffix):
    client = signed_in(app, "releve@example.org")
    assert client.get(f"/nouvelles/{MONTH}/{ELSEWHERE}{suffix}").status_code == 403
    assert client.get(f"/nouvelles/{MONTH}/{MONTMAGNY}{suffix}").status_code == 200


def test_a_relecteur_cannot_give_an_item_to_another_territory(app, own):
    client = signed_in(app, "releve@example.org")
    data = form_data(client.get(f"/nouvelles/{MONTH}/{MONTMAGNY}/modifier").text)
    before = item_file(own, MONTMAGNY).read_bytes()
    data["territoire"] = "bellechasse"
    assert client.post(f"/nouvelles/{MONTH}/{MONTMAGNY}/modifier", data=data).status_code == 403
    assert item_file(own, MONTMAGNY).read_bytes() == before


def test_a_relecteur_cannot_approve_elsewhere_nor_move(app, own):
    client = signed_in(app, "releve@example.org")
    token = token_of(client.get(f"/nouvelles?numero={MONTH}").text)
    assert client.post(f"/nouvelles/{MONTH}/{ELSEWHERE}/approuver",
                       data={"csrf_token": token}).status_code == 403
    assert client.post(f"/nouvelles/{MONTH}/approuver", data={
        "csrf_token": token, "nouvelles": [MONTMAGNY, ELSEWHERE]}).status_code == 403
    assert client.post(f"/nouvelles/{MONTH}/{MONTMAGNY}/deplacer",
                       data={"csrf_token": token, "vers": "2027-01"}).status_code == 403
    assert statut(own, ELSEWHERE) == statut(own, MONTMAGNY) == "soumis"


@pytest.mark.parametrize("path", [
    f"/nouvelles/{MONTH}/..", f"/nouvelles/{MONTH}/%2e%2e", "/nouvelles/..%2f..%2fetc/passwd",
    "/nouvelles/%2e%2e/infolettre", f"/nouvelles/{MONTH}/%2fetc%2fpasswd",
    f"/nouvelles/{MONTH}/haltes%00", "/nouvelles/2026-13/x", f"/nouvelles/{MONTH}/lien",
    f"/nouvelles/{MONTH}/%2e%2e/modifier", "/nouvelles?numero=..%2f..",
    "/nouvelles/lien-mois/x"])
def test_path_tricks_are_not_found_and_nothing_is_read(app, own, tmp_path, path):
    """A link in content/ (to a secret outside it) is never followed, as a slug or a month."""
    secret = tmp_path / "secret.md"
    secret.write_text("---\ntitre: SECRET\n---\nSECRET\n")
    os.symlink(secret, item_file(own, "lien"))
    os.symlink(tmp_path, own.paths.contenu / "lien-mois")
    answer = signed_in(app).get(path)
    assert answer.status_code == 404 and "SECRET" not in answer.text


def form_data(page: str) -> dict[str, str]:
    """Return the fields of the edit form as the browser would post them."""
    import html
    import re

    data = {name: html.unescape(value) for name, value in
            re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page)}
    for name in re.findall(r'<input[^>]*name="([^"]+)"', page):
        data.setdefault(name, "")
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected',
                           body)
        data[name] = html.unescape(next(g for g in chosen.groups() if g)) if chosen else ""
    corps = re.search(r'<textarea[^>]*name="corps"[^>]*>(.*?)</textarea>', page, re.S)
    data["corps"] = html.unescape(corps.group(1)).lstrip("\r\n")
    data.pop("prevenir", None)
    return data
