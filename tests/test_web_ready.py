"""The pivot's short path through a clean month: « Approuver les nouvelles soumises sans
problème » in one submission, and « Modifier » from the list coming back to the list."""

from __future__ import annotations

import re

from infolettre import pipeline

from .test_web_items import MONTH, MONTMAGNY, form_data, item_file, statut
from .webfixtures import app, clock, own, signed_in, token_of  # noqa: F401


def ready_form(page: str) -> tuple[str, list[str]]:
    """Return the « sans problème » form's button text and the slugs it carries."""
    form = re.search(r'<form[^>]*class="sans-probleme".*?</form>', page, re.S).group(0)
    button = re.search(r"<button[^>]*>(.*?)</button>", form, re.S).group(1)
    return button, re.findall(r'name="nouvelles" value="([^"]+)"', form)


def test_the_button_carries_exactly_the_submitted_items_without_problems(app, own):
    """Submitted, valid, no error or warning: in; approved, held, warned items: out."""
    page = signed_in(app).get(f"/nouvelles?numero={MONTH}").text
    button, slugs = ready_form(page)
    entries = [e for _k, _t, found in pipeline.review.list_items(own, MONTH) for e in found]
    expected = [e.slug for e in entries if e.statut == "soumis" and e.item is not None
                and not [p for p in e.problems if p.severity.value != "note"]]
    assert slugs == expected and len(slugs) >= 2
    assert f"Approuver les {len(slugs)} nouvelles soumises sans problème" in button
    assert not any(e.ready for e in entries if e.statut != "soumis")


def test_one_submission_approves_them_and_records_each(app, own):
    client = signed_in(app)
    page = client.get(f"/nouvelles?numero={MONTH}").text
    _button, slugs = ready_form(page)
    answer = client.post(f"/nouvelles/{MONTH}/approuver", data={
        "csrf_token": token_of(page), "sans_probleme": "1", "nouvelles": slugs})
    assert answer.status_code == 302
    assert all(statut(own, slug) == "approuve" for slug in slugs)
    assert all(pipeline.review.item_history(own, MONTH, slug)[0].action == "approuve"
               for slug in slugs)
    assert 'class="sans-probleme"' not in client.get(f"/nouvelles?numero={MONTH}").text


def test_an_item_that_changed_since_the_list_is_not_approved_and_said_so(app, own):
    """The list was read, then a hand edit broke one item: it stays « soumis », the
    others are approved, and the pivot is told how many to look at."""
    client = signed_in(app)
    page = client.get(f"/nouvelles?numero={MONTH}").text
    _button, slugs = ready_form(page)
    broken = slugs[0]
    path = item_file(own, broken)
    path.write_text(path.read_text(encoding="utf-8").replace("rubrique: ", "rubrique: x", 1),
                    encoding="utf-8")
    answer = client.post(f"/nouvelles/{MONTH}/approuver", data={
        "csrf_token": token_of(page), "sans_probleme": "1", "nouvelles": slugs},
        follow_redirects=True)
    assert statut(own, broken) == "soumis"
    assert all(statut(own, slug) == "approuve" for slug in slugs[1:])
    assert "1 nouvelle(s) de la liste ont changé depuis" in answer.text


def test_a_relecteur_button_holds_only_their_territory(app, own):
    page = signed_in(app, "releve@example.org").get(f"/nouvelles?numero={MONTH}").text
    _button, slugs = ready_form(page)
    assert slugs and all(pipeline.review.read_entry(own, MONTH, s).territoire == "montmagny"
                         for s in slugs)


def test_modifier_from_the_list_comes_back_to_the_list_at_the_item(app, own):
    """« Modifier » on a row, « Enregistrer »: back on the list at that row (two actions
    per fix); from the item's page it still goes back to the item's page."""
    client = signed_in(app)
    page = client.get(f"/nouvelles?numero={MONTH}").text
    link = f"/nouvelles/{MONTH}/{MONTMAGNY}/modifier?retour=liste"
    assert link in page
    form = client.get(link).text
    assert f'action="{link}"' in form
    data = form_data(form)
    data.update(titre="Haltes-chaleur de Montmagny")
    answer = client.post(link, data=data)
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith(f"/nouvelles?numero={MONTH}#n-{MONTMAGNY}")
    assert f'id="n-{MONTMAGNY}"' in client.get(f"/nouvelles?numero={MONTH}").text
    data = form_data(client.get(f"/nouvelles/{MONTH}/{MONTMAGNY}/modifier").text)
    data.update(titre="Haltes-chaleur à Montmagny")
    answer = client.post(f"/nouvelles/{MONTH}/{MONTMAGNY}/modifier", data=data)
    assert answer.headers["Location"].endswith(f"/nouvelles/{MONTH}/{MONTMAGNY}")
