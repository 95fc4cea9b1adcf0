"""« Le numéro », the home page: counts, problems, held items, per role, with bad months."""

from __future__ import annotations

from infolettre import pipeline

from .webfixtures import app, clock, own, signed_in  # noqa: F401

MONTH = "2026-12"


def test_the_dashboard_counts_match_the_item_files(own):
    """Counts by status equal the statuses written in the month's files."""
    board = pipeline.dashboard.issue_dashboard(own, MONTH)
    entries = [e for _k, _t, f in pipeline.review.list_items(own, MONTH) for e in f]
    assert board.total == len(entries) > 0
    assert board.by_status["soumis"] == sum(e.statut == "soumis" for e in entries)


def test_a_relecteur_sees_only_their_territory(own):
    """Restricting to a territory counts only its items."""
    board = pipeline.dashboard.issue_dashboard(own, MONTH, territoire="montmagny")
    assert set(board.by_territory) == {"montmagny"}


def test_the_home_page_links_counts_to_the_filtered_list(app):
    """The pivot's home shows counts linking to /nouvelles and the sign-off link."""
    page = signed_in(app).get(f"/?numero={MONTH}")
    assert page.status_code == 200
    assert "statut=soumis" in page.text and f"/approbation/{MONTH}" in page.text


def test_a_relecteur_has_no_signoff_link(app):
    page = signed_in(app, "releve@example.org").get(f"/?numero={MONTH}")
    assert page.status_code == 200 and "/approbation/" not in page.text


def test_no_session_redirects_to_login(app):
    page = app.test_client().get("/")
    assert page.status_code == 302 and "/connexion" in page.headers["Location"]


def test_path_tricks_in_numero_are_404(app):
    client = signed_in(app)
    for bad in ("..", "%2e%2e", "2026-13", "%00", "../2026-12"):
        assert client.get(f"/?numero={bad}").status_code == 404


def test_hostile_titles_of_held_items_are_escaped(app, own):
    """A held item's title with a script tag and Jinja braces is shown as text."""
    path = own.paths.contenu / MONTH / "hostile.md"
    path.write_text("---\ntitre: \"<script>alert(1)</script> {{ 7*7 }}\"\nstatut: retenu\n"
                    "organisme: X\n---\nCorps.\n", encoding="utf-8")
    text = signed_in(app).get(f"/?numero={MONTH}").text
    assert "<script>alert(1)" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; {{ 7*7 }}" in text
