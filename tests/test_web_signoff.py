"""« Approuver le numéro » in the review app: the state of the sign-off, what changed since,
and the button that calls the same function as ``infolettre approve``."""

from __future__ import annotations

import html
import shutil
from contextlib import closing

import pytest

from infolettre import pipeline
from infolettre.cli import main
from infolettre.state import connect, state_file
from infolettre.state.signatures import SignoffStore

from infolettre.web import create_app

from .conftest import REPO, Project
from .web_send_fixtures import MONTH, PASSWORD, TRICKS, post_form, sign_in, token_of, tree
from .web_send_fixtures import clock, here, pivot, relecteur, web  # noqa: F401

PAGE = f"/approbation/{MONTH}"
TITLE = "Le jardin collectif de Montmagny a nourri 60 familles cette saison"


def current(settings):
    with closing(connect(state_file(settings.paths.donnees))) as conn:
        return SignoffStore(conn).current(MONTH)


def test_the_page_says_not_signed_then_signed_by_whom(pivot, here):
    """Before: « Pas encore approuvé »; the button signs off as the signed-in person."""
    page = pivot.get(PAGE)
    assert page.status_code == 200 and "Pas encore approuvé" in page.text
    assert "Approuver le numéro" in page.text
    done = post_form(pivot, PAGE, PAGE)
    assert done.status_code == 302 and done.headers["Location"] == PAGE
    page = pivot.get(PAGE).text
    assert "approuvé par pivot@example.org" in page
    assert "Approuvé par pivot@example.org le" in page and "Inchangé depuis" in page
    assert current(here).signed_by == "pivot@example.org"


def test_signing_off_from_the_web_equals_infolettre_approve(tmp_path, clock, capsys):
    """The row the button writes is the row « infolettre approve --par » writes for the
    same issue at the same moment (two copies of one project)."""
    rows = []
    for name, by_web in (("web", True), ("cli", False)):
        (tmp_path / name).mkdir()
        project = Project(tmp_path / name)
        shutil.copytree(REPO / "content" / MONTH, project.root / "content" / MONTH)
        settings = project.settings()
        if by_web:
            pipeline.user_add(settings, "pivot@example.org", PASSWORD, clock=clock)
            client = create_app(settings, clock=clock, testing=True).test_client()
            sign_in(client)
            assert post_form(client, PAGE, PAGE).status_code == 302
        else:
            assert main(["--config", str(project.config), "approve", MONTH, "--par",
                         "pivot@example.org"], clock=clock) == 0
        rows.append(current(settings))
    assert rows[0] is not None and rows[0] == rows[1]


def test_a_change_after_sign_off_is_shown_and_blocks_sending(pivot, here):
    """An item edited, one removed: « modifié depuis l'approbation », each named,
    and the send page's button is disabled and its POST refused."""
    post_form(pivot, PAGE, PAGE)
    folder = here.paths.contenu / MONTH
    item = folder / "jardin-collectif-montmagny.md"
    item.write_text(item.read_text(encoding="utf-8").replace("troisième saison",
                                                             "quatrième saison"),
                    encoding="utf-8")
    (folder / "popote-roulante-10000-repas.md").unlink()
    page = pivot.get(PAGE).text
    assert "modifié depuis l'approbation" in page
    assert TITLE in page and "Modifiées (1)" in page and "Retirées (1)" in page
    assert "La popote roulante franchit le cap des" in page
    send_page = pivot.get(f"/envoi/{MONTH}").text
    assert "modifié depuis l" in send_page
    assert '<button type="submit" disabled>Lancer l' in send_page
    refused = post_form(pivot, f"/envoi/{MONTH}", f"/envoi/{MONTH}")
    assert refused.status_code == 302
    assert "a changé depuis son approbation" in pivot.get(f"/envoi/{MONTH}").text
    assert not (here.paths.donnees / "envois").exists()


def test_an_issue_with_items_in_error_is_refused_in_french(pivot, here):
    """As the command: an item in error blocks the sign-off; the page lists it."""
    (here.paths.contenu / MONTH / "casse.md").write_text(
        "---\ntitre: Cassée\nstatut: approuve\n---\nTexte.\n", encoding="utf-8")
    page = pivot.get(PAGE).text
    assert "bloquent l'approbation" in page
    post_form(pivot, PAGE, PAGE)
    page = pivot.get(PAGE).text
    assert "contient des nouvelles en erreur" in page and "Pas encore approuvé" in page
    assert current(here) is None


def test_compare_names_added_removed_and_modified_items():
    """The comparison works on the per-item fingerprints each approval keeps."""
    from datetime import UTC, datetime

    from infolettre.state.signatures import Fingerprint, ItemPrint, Signoff
    a, b, c = ItemPrint("a", "A", "1"), ItemPrint("b", "B", "2"), ItemPrint("c", "C", "3")
    signed = Signoff(MONTH, "x", "s", (a, b), 2, datetime(2026, 12, 1, tzinfo=UTC), "Julie")
    changes = pipeline.compare(signed, Fingerprint(MONTH, "y", "s",
                                                   (ItemPrint("a", "A", "9"), c)))
    assert changes.modified[0].slug == "a" and changes.added == (c,)
    assert changes.removed == (b,) and not changes.settings
    assert pipeline.compare(signed, Fingerprint(MONTH, "z", "s", (b, a))).order
    assert not pipeline.compare(signed, Fingerprint(MONTH, "x", "s", (a, b))).any


# -- the security matrix -------------------------------------------------------------------

def test_without_a_session_the_page_goes_to_sign_in_and_a_post_does_nothing(web, here):
    """No session: GET sends to /connexion; a POST (no session, so no token) is refused."""
    client = web.test_client()
    answer = client.get(PAGE)
    assert answer.status_code == 302 and "/connexion" in answer.headers["Location"]
    assert client.post(PAGE).status_code == 400 and current(here) is None


def test_a_post_without_csrf_is_refused_and_signs_off_nothing(pivot, here):
    answer = pivot.post(PAGE)
    assert answer.status_code == 400 and "Formulaire expiré" in answer.text
    assert current(here) is None


def test_a_relecteur_may_neither_see_nor_sign_off(relecteur, here):
    """403 on the page and on the button (with a genuine token), no nav link to it."""
    assert relecteur.get(PAGE).status_code == 403
    answer = relecteur.post(PAGE, data={"csrf_token": token_of(relecteur.get("/").text)})
    assert answer.status_code == 403 and current(here) is None
    assert "Approbation" not in relecteur.get("/").text


@pytest.mark.parametrize("month", TRICKS)
def test_path_tricks_in_the_month_are_not_found_and_touch_nothing(pivot, here, month):
    before = tree(here.paths.donnees) | tree(here.paths.sortie)
    token = token_of(pivot.get("/").text)
    for answer in (pivot.get(f"/approbation/{month}"),
                   pivot.post(f"/approbation/{month}", data={"csrf_token": token})):
        assert answer.status_code == 404
    assert tree(here.paths.donnees) | tree(here.paths.sortie) == before


def test_a_changed_issue_already_partly_sent_needs_the_box_ticked(pivot, here):
    """As « approve --malgre-envoi »: refused (nothing approved) until the box is ticked."""
    from infolettre.deliver.ledger import Ledger, State

    post_form(pivot, PAGE, PAGE)
    first = current(here)
    with Ledger(state_file(here.paths.donnees)) as ledger:
        ledger.plan(MONTH, [("a@example.org", "complete"), ("b@example.org", "complete")])
        with ledger.transaction():
            row = ledger.read(MONTH, "a@example.org", "complete")
            ledger.write(row._replace(state=State.SENT), was=State.PENDING)
    item = here.paths.contenu / MONTH / "jardin-collectif-montmagny.md"
    item.write_text(item.read_text(encoding="utf-8").replace("troisième saison",
                                                             "quatrième saison"),
                    encoding="utf-8")
    page = pivot.get(PAGE).text
    assert 'name="malgre_envoi"' in page
    post_form(pivot, PAGE, PAGE)
    page = pivot.get(PAGE).text
    assert "Rien n'a été approuvé" in html.unescape(page) and current(here) == first
    post_form(pivot, PAGE, PAGE, malgre_envoi="oui")
    assert current(here) != first and "Inchangé depuis" in pivot.get(PAGE).text
