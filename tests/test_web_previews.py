"""« Aperçus » in the review app: the editions of the month's preview in two frames with
their own policy, the text part and the print downloads, a preview built again only when
the month changed, « Envoyer un test » into the outbox, and the security matrix."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from infolettre import pipeline
from infolettre.web.security import POLICY

from .web_send_fixtures import MONTH, TRICKS, post_form, token_of, tree
from .web_send_fixtures import clock, here, pivot, relecteur, web  # noqa: F401

PAGE = f"/apercus/{MONTH}"
ITEM = "centraide-fonds-urgence-hivernal.md"


def preview_dir(settings):
    return settings.paths.sortie.parent / "apercu" / MONTH


def test_the_page_lists_every_edition_with_its_weight_and_shows_the_chosen_one(pivot, here):
    """The complete edition first, then one per territory, each with its subject and its
    weight against 102 KB; the chosen one in two sandboxed frames (600 and 375 px, no
    script), its text part escaped in a <pre>, and the build's problems."""
    page = pivot.get(PAGE).text
    assert page.index("Édition complète") < page.index("Édition Bellechasse")
    for name in ("Édition Les Etchemins", "Édition Montmagny", "Édition Lotbinière"):
        assert f'edition={name.split()[-1].lower()}' in page or name in page
    assert "Poids (limite de Gmail : 102 Ko)" in page and " Ko</td>" in page
    assert page.count("<iframe sandbox=") == 2
    assert 'sandbox="allow-same-origin allow-popups allow-popups-to-escape-sandbox"' in page
    assert "allow-scripts" not in page
    assert 'class="preview-frame preview-600"' in page and "preview-375" in page
    assert f'src="/apercus/{MONTH}/complete.html"' in page
    assert '<pre class="preview-text">' in page and "style=" not in page
    assert "appel échu" in page  # a problem of the build (a past deadline), linked to its item
    assert f'href="/nouvelles/{MONTH}/cisss-initiatives-sante-mentale"' in page
    chosen = pivot.get(f"{PAGE}?edition=montmagny").text
    assert f'src="/apercus/{MONTH}/montmagny.html"' in chosen
    assert "Le Fil régional — décembre 2026 · Montmagny" in chosen
    text = (preview_dir(here) / "montmagny.txt").read_text(encoding="utf-8")
    assert text.splitlines()[0].replace("'", "&#39;") in chosen


def test_the_frame_serves_the_built_html_with_its_own_policy_and_other_pages_keep_theirs(
        pivot, here):
    """The email's inline styles need ``'unsafe-inline'``: its response alone gets them, no
    script-src, framed by the app only (SAMEORIGIN); every app page keeps the strict one."""
    answer = pivot.get(f"{PAGE}/les-etchemins.html")
    policy = answer.headers["Content-Security-Policy"]
    assert answer.status_code == 200 and answer.mimetype == "text/html"
    assert answer.data == (preview_dir(here) / "les-etchemins.html").read_bytes()
    assert "style-src 'self' 'unsafe-inline'" in policy and "img-src 'self' data: https:" in policy
    assert "script-src" not in policy and "default-src 'none'" in policy
    assert "frame-ancestors 'self'" in policy and "sandbox" in policy
    assert answer.headers["X-Frame-Options"] == "SAMEORIGIN"
    for url in (PAGE, "/", "/nouvelles"):
        page = pivot.get(url)
        assert page.headers["Content-Security-Policy"] == POLICY
        assert "unsafe-inline" not in page.headers["Content-Security-Policy"]
    image = pivot.get(f"{PAGE}/images/frigo-communautaire.jpg")
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    assert pivot.get(f"{PAGE}/images/absente.jpg").status_code == 404


def test_the_text_part_and_the_print_files_download_with_french_names(pivot, here):
    """Text part as text/plain UTF-8; the print PDF made when first asked (not with the
    preview: WeasyPrint takes seconds), both named « Le Fil régional 2026-12 — … »."""
    pivot.get(PAGE)
    assert not (preview_dir(here) / "print.pdf").exists()
    text = pivot.get(f"{PAGE}/lotbiniere.txt")
    assert text.status_code == 200 and text.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert "filename*=UTF-8''" + quote("Le Fil régional 2026-12 — Édition Lotbinière — "
                                       "texte.txt") in text.headers["Content-Disposition"]
    assert text.data == (preview_dir(here) / "lotbiniere.txt").read_bytes()
    pdf = pivot.get(f"{PAGE}/impression.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF-")
    assert quote("Le Fil régional 2026-12 — aperçu impression.pdf") \
        in pdf.headers["Content-Disposition"]
    assert (preview_dir(here) / "print.pdf").is_file()
    assert "(produite au premier" not in pivot.get(PAGE).text
    html = pivot.get(f"{PAGE}/impression.html")
    assert html.status_code == 200 and html.headers["Content-Disposition"].startswith("attachment")
    assert "script-src" not in html.headers["Content-Security-Policy"]


def test_the_preview_is_built_again_only_when_the_month_changed(pivot, here):
    """Shown twice with nothing changed, the preview is not rebuilt (its files keep their
    modification time); an item edited on disk is in the next page and frame, and the
    stale PDF is gone (made again when asked)."""
    pivot.get(PAGE)
    folder = preview_dir(here)
    stamp = (folder / "complete.html").stat().st_mtime_ns
    (folder / "print.pdf").write_bytes(b"%PDF-1.7 ancien")
    assert pipeline.previews.preview(here, MONTH).rebuilt is False
    pivot.get(PAGE)
    assert (folder / "complete.html").stat().st_mtime_ns == stamp
    assert (folder / "print.pdf").exists()
    path = here.paths.contenu / MONTH / ITEM
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('titre: "', 'titre: "Nouveau titre vérifié — ', 1),
                    encoding="utf-8")
    page = pivot.get(PAGE).text
    assert "Nouveau titre vérifié" in page  # in the text part
    assert "Nouveau titre vérifié" in pivot.get(f"{PAGE}/complete.html").text
    assert not (folder / "print.pdf").exists()
    assert pipeline.previews.preview(here, MONTH).rebuilt is False


def test_a_template_or_the_configuration_changing_rebuilds_the_preview(here):
    """Not only the items: the fingerprint covers the configuration and the templates."""
    first = pipeline.previews.fingerprint(here, MONTH)
    assert pipeline.previews.fingerprint(here, MONTH) == first
    renamed = here.__class__(**{**here.__dict__, "territories": {
        **here.territories, "montmagny": "Montmagny-L'Islet"}})
    assert pipeline.previews.fingerprint(renamed, MONTH) != first
    (here.paths.contenu / MONTH / "photo.jpg").write_bytes(b"\xff\xd8")
    assert pipeline.previews.fingerprint(here, MONTH) != first


def test_a_test_send_goes_to_the_signed_in_person_through_the_outbox(relecteur, here):
    """Anyone signed in may send a test, to their own address; without [smtp] it is written
    to boite_envoi/essais/…; the flash says how many editions went where."""
    answer = post_form(relecteur, PAGE, f"{PAGE}/essai", edition="montmagny")
    assert answer.status_code == 302 and answer.headers["Location"].endswith(
        f"{PAGE}?edition=montmagny")
    sent = sorted((here.paths.boite_envoi / "essais").rglob("*.eml"))
    assert len(sent) == 6
    message = sent[0].read_text(encoding="utf-8", errors="replace")
    assert "releve@example.org" in message and "[TEST]" in message
    page = relecteur.get(answer.headers["Location"]).text
    assert "Essai envoyé : 6 édition(s) à releve@example.org." in page


def test_a_test_send_refused_by_the_pipeline_says_why_in_french(pivot, here):
    """An item in error stops the test as it stops ``send --test``: the message and its fix."""
    (here.paths.contenu / MONTH / "casse.md").write_text("---\ntitre: [\n---\nx\n",
                                                         encoding="utf-8")
    answer = post_form(pivot, PAGE, f"{PAGE}/essai")
    page = pivot.get(answer.headers["Location"]).text
    assert "Essai envoyé" not in page and "erreur" in page
    assert not (here.paths.boite_envoi / "essais").exists()


# -- the security matrix -------------------------------------------------------------------

GETS = ["", "/complete.html", "/complete.txt", "/impression.pdf", "/impression.html",
        "/images/frigo-communautaire.jpg"]
EDITION_TRICKS = ["..%2f..%2finfolettre.toml", "%2e%2e", "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
                  "%2fetc%2fpasswd", "complete%00", "Complete", "print", "index",
                  "..", "images%2ffrigo-communautaire"]


def test_without_a_session_everything_goes_to_sign_in_and_nothing_is_built(web, here):
    client = web.test_client()
    for tail in GETS:
        answer = client.get(PAGE + tail)
        assert answer.status_code == 302 and "/connexion" in answer.headers["Location"]
    assert client.post(f"{PAGE}/essai").status_code == 400
    assert not preview_dir(here).exists() and not here.paths.boite_envoi.exists()


def test_a_test_send_without_csrf_is_refused(pivot, here):
    answer = pivot.post(f"{PAGE}/essai", data={"edition": "complete"})
    assert answer.status_code == 400 and "Formulaire expiré" in answer.text
    assert not here.paths.boite_envoi.exists()


def test_a_relecteur_sees_the_previews(relecteur):
    """« voir_apercus » and « envoyer_test » are for everyone signed in."""
    for tail in GETS[:3]:
        assert relecteur.get(PAGE + tail).status_code == 200
    assert "Aperçus</a>" in relecteur.get("/").text


@pytest.mark.parametrize("month", TRICKS)
def test_path_tricks_in_the_month_are_not_found_and_touch_nothing(pivot, here, month):
    token = token_of(pivot.get("/").text)  # (the home page builds the month's preview)
    before = tree(here.paths.sortie.parent)
    for tail in GETS:
        assert pivot.get(f"/apercus/{month}{tail}").status_code == 404
    assert pivot.post(f"/apercus/{month}/essai", data={"csrf_token": token}).status_code == 404
    assert tree(here.paths.sortie.parent) == before


@pytest.mark.parametrize("edition", EDITION_TRICKS)
def test_path_tricks_in_the_edition_are_not_found(pivot, here, edition):
    """An edition is a name of the built list, never a path: ``../../infolettre.toml``,
    ``%2e%2e``, absolute paths, NUL, another file of the folder → 404, nothing served."""
    pivot.get(PAGE)
    for url in (f"{PAGE}?edition={edition}", f"{PAGE}/{edition}.html", f"{PAGE}/{edition}.txt",
                f"{PAGE}/images/{edition}", f"{PAGE}/images/..%2fcomplete.html"):
        answer = pivot.get(url)
        assert answer.status_code == 404, url
        assert b"[application]" not in answer.data and b"root:" not in answer.data


def test_an_absolute_path_as_edition_is_not_found(pivot):
    pivot.get(PAGE)
    for url in (f"{PAGE}//etc/passwd.html", f"{PAGE}?edition=/etc/passwd",
                f"{PAGE}?edition=" + quote(str(pivot.application.config[
                    "INFOLETTRE_SETTINGS"].source))):
        assert pivot.get(url).status_code == 404, url
