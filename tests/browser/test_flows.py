"""The pivot's month in chromium: approve, edit (and a stale form refused without loss),
refuse with a reason, approve a selection, sign off the issue — each through the labels of
the contract, each checked in the files and the state, each page captured."""

from __future__ import annotations

import re

import pytest

from infolettre import pipeline

from .conftest import MONTH, RELECTEUR, capture, forgive, sign_in

SOUMIS = "atelier-cv-jeunes-saint-agapit"  # soumis, Lotbinière
SOUMIS_MONTMAGNY = "haltes-chaleur-montmagny"


@pytest.fixture
def pivot(page):
    """The pivot, signed in, on « Les nouvelles »."""
    sign_in(page)
    page.wait_for_url("**/")
    page.locator("header nav").get_by_role("link", name="Les nouvelles").click()
    page.wait_for_url("**/nouvelles**")
    return page


def status_of(server, slug: str) -> str:
    text = (server.settings.paths.contenu / MONTH / f"{slug}.md").read_text(encoding="utf-8")
    return re.search(r"(?m)^statut: *(\S+)", text).group(1)


def row_of(page, slug: str):
    return page.locator("tr").filter(has=page.locator(f'input[value="{slug}"]'))


def test_the_pivot_approves_one_item_from_the_list(pivot, server):
    capture(pivot, "nouvelles")
    assert status_of(server, SOUMIS) == "soumis"
    row_of(pivot, SOUMIS).get_by_role("button", name="Approuver").click()
    assert "est approuvée" in pivot.get_by_role("status").inner_text()
    assert status_of(server, SOUMIS) == "approuve"


def test_a_stale_edit_is_refused_and_the_edit_stays_in_the_form(pivot, server, console_errors):
    """The file changes on disk between opening « Modifier » and « Enregistrer » (a feed
    note, another person): the save is refused in French, the file keeps the other change,
    and the pivot's new title is still in the form."""
    row_of(pivot, SOUMIS).get_by_role("link", name="Modifier").click()
    pivot.wait_for_url(f"**/nouvelles/{MONTH}/{SOUMIS}/modifier?retour=liste")
    capture(pivot, "modifier")
    pivot.get_by_label("Titre").fill("Atelier CV : titre corrigé par la pivot")
    path = server.settings.paths.contenu / MONTH / f"{SOUMIS}.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nAjout fait à la main.\n",
                    encoding="utf-8")
    pivot.get_by_role("button", name="Enregistrer").click()
    alert = pivot.get_by_role("alert").first
    assert "a été modifiée depuis que vous l'avez ouverte" in alert.inner_text()
    assert "rien n'a été enregistré" in alert.inner_text()
    assert pivot.get_by_label("Titre").input_value() == "Atelier CV : titre corrigé par la pivot"
    text = path.read_text(encoding="utf-8")
    assert "Ajout fait à la main." in text and "titre corrigé" not in text
    capture(pivot, "modifier-perime")
    forgive(console_errors, 409)


def test_an_edit_is_saved_and_shown_in_the_history(pivot, server):
    """« Modifier » from the list, « Enregistrer »: back on the list at the item (two
    actions per fix), the new title there; the change is in the item's history."""
    row_of(pivot, SOUMIS).get_by_role("link", name="Modifier").click()
    pivot.get_by_label("Titre").fill("Atelier CV pour les 16-35 ans de Lotbinière")
    pivot.get_by_role("button", name="Enregistrer").click()
    pivot.wait_for_url(f"**/nouvelles?numero={MONTH}#n-{SOUMIS}")
    assert "Nouvelle enregistrée" in pivot.get_by_role("status").inner_text()
    row_of(pivot, SOUMIS).get_by_role("link", name="Atelier CV pour les 16-35 ans").click()
    pivot.wait_for_url(f"**/nouvelles/{MONTH}/{SOUMIS}")
    assert "titre" in pivot.locator(".history").inner_text()
    path = server.settings.paths.contenu / MONTH / f"{SOUMIS}.md"
    assert "Atelier CV pour les 16-35 ans de Lotbinière" in path.read_text(encoding="utf-8")
    capture(pivot, "nouvelle")


def test_the_pivot_refuses_an_item_with_a_reason(pivot, server, console_errors):
    """« Refuser » asks for the reason (required: empty, the page says so), then refuses;
    the reason is in the item's history."""
    row_of(pivot, SOUMIS).get_by_role("link", name="Refuser").click()
    capture(pivot, "refuser")
    pivot.get_by_label("Raison du refus").fill("Déjà annoncé le mois dernier.")
    pivot.get_by_role("button", name="Refuser").click()
    pivot.wait_for_url(f"**/nouvelles/{MONTH}/{SOUMIS}")
    assert "est refusée" in pivot.get_by_role("status").inner_text()
    assert "Déjà annoncé le mois dernier." in pivot.locator(".history").inner_text()
    assert status_of(server, SOUMIS) == "refuse"


def test_the_pivot_approves_a_selection_in_one_submission(pivot, server):
    for slug in (SOUMIS, SOUMIS_MONTMAGNY):
        row_of(pivot, slug).locator('input[type="checkbox"]').check()
    pivot.get_by_role("button", name="Approuver la sélection").click()
    assert "2 nouvelle(s) approuvée(s)" in pivot.get_by_role("status").inner_text()
    assert status_of(server, SOUMIS) == status_of(server, SOUMIS_MONTMAGNY) == "approuve"


def test_the_pivot_approves_every_clean_submission_with_one_click(pivot, server):
    """« Approuver les N nouvelles soumises sans problème »: one click, N approved, the
    button gone (an item with a warning staying « soumis » is tested in test_web_ready)."""
    button = pivot.get_by_role("button", name=re.compile(r"Approuver les \d+ nouvelles soumises"))
    count = int(re.search(r"\d+", button.inner_text()).group(0))
    button.click()
    assert f"{count} nouvelle(s) approuvée(s)" in pivot.get_by_role("status").inner_text()
    assert pivot.locator("form.sans-probleme").count() == 0
    entries = [e for _k, _t, found in pipeline.review.list_items(server.settings, MONTH)
               for e in found]
    assert not any(e.ready for e in entries) and status_of(server, SOUMIS) == "approuve"


def test_the_pivot_signs_off_the_issue(pivot, server):
    """« Approbation » then « Approuver le numéro »: the page says who approved, and the
    state has the sign-off (the same row as « infolettre approve »)."""
    from contextlib import closing

    from infolettre.state import connect, state_file
    from infolettre.state.signatures import SignoffStore

    pivot.locator("header nav").get_by_role("link", name="Approbation").click()
    capture(pivot, "approbation")
    pivot.get_by_role("button", name="Approuver le numéro").click()
    assert "Approuvé par pivot@example.org" in pivot.locator("main").inner_text()
    capture(pivot, "approbation-faite")
    with closing(connect(state_file(server.settings.paths.donnees))) as conn:
        signed = SignoffStore(conn).current(MONTH)
    assert signed is not None and signed.signed_by == "pivot@example.org"


def test_a_relecteur_sees_no_sign_off_and_may_not_approve_elsewhere(page, server,
                                                                    console_errors):
    """A Montmagny relecteur has no « Approbation » in the menu, and the sign-off page
    answers 403 in French."""
    sign_in(page, email=RELECTEUR)
    page.wait_for_url("**/")
    assert page.locator("header nav").get_by_role("link", name="Approbation").count() == 0
    answer = page.goto(f"/approbation/{MONTH}")
    assert answer.status == 403 and "Action non permise" in page.locator("h1").inner_text()
    capture(page, "interdit")
    forgive(console_errors, 403)
