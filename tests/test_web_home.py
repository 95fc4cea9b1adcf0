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


def write_event(own, slug, titre, territoire, debut, fin=None, statut="soumis"):
    """Write an agenda item of the month (as a person or the intake would)."""
    when = f'debut: "{debut}"' + (f', fin: "{fin}"' if fin else "")
    organisme = next(o.nom for o in own.organizations if o.territoire == territoire)
    (own.paths.contenu / MONTH / f"{slug}.md").write_text(
        f"---\ntitre: {titre}\norganisme: {organisme}\nterritoire: {territoire}\n"
        f"rubrique: agenda\ndate: 2026-11-20\nevenement: {{{when}}}\nstatut: {statut}\n"
        f"source: fichier\n---\nUn événement.\n", encoding="utf-8")


def test_events_the_same_day_in_one_territory_are_listed_together(own):
    """Two events of one day in one territory (submitted or approved) make a group; the same
    day elsewhere, or a refused event, does not; the clash note is not repeated in « À
    vérifier »."""
    write_event(own, "a-soir", "Assemblée A", "montmagny", "2027-01-20 18:00", "2027-01-20 20:00")
    write_event(own, "b-matin", "Forum B", "montmagny", "2027-01-20 09:30", statut="approuve")
    write_event(own, "d-ailleurs", "Souper D", "bellechasse", "2027-01-20 18:00")
    write_event(own, "f-refuse", "Atelier F", "montmagny", "2027-01-20 13:00", statut="refuse")
    board = pipeline.dashboard.issue_dashboard(own, MONTH)
    groups = {(t, str(d)): [i.slug for i in items] for t, d, items in board.clashes}
    assert groups[("montmagny", "2027-01-20")] == ["b-matin", "a-soir"]
    assert not any("d-ailleurs" in slugs or "f-refuse" in slugs for slugs in groups.values())
    assert not any(p.kind == "conflit" for p, _slug in board.problems)


def test_the_home_page_names_clashes_with_links_and_hours(app, own):
    write_event(own, "a-soir", "Assemblée A", "montmagny", "2027-01-20 18:00", "2027-01-20 20:00")
    write_event(own, "b-matin", "Forum B", "montmagny", "2027-01-20 09:30")
    text = signed_in(app).get(f"/?numero={MONTH}").text
    assert f"/nouvelles/{MONTH}/a-soir" in text and f"/nouvelles/{MONTH}/b-matin" in text
    assert "Le mercredi 20 janvier 2027 (Montmagny)" in text
    assert "mercredi 20 janvier 2027, de 18 h à 20 h" in text


def test_silent_territories_and_organizations_are_named(app, own):
    """A territory whose items were all refused, and registered organizations without an
    item, are listed as silent; an organization written in another case still counts."""
    for path in (own.paths.contenu / MONTH).glob("*.md"):
        text = path.read_text(encoding="utf-8")
        if "territoire: montmagny" in text:
            path.write_text(text.replace("statut: approuve", "statut: refuse")
                            .replace("statut: soumis", "statut: refuse"), encoding="utf-8")
    board = pipeline.dashboard.issue_dashboard(own, MONTH)
    assert "montmagny" in board.silent_territories
    assert "bellechasse" not in board.silent_territories
    heard = {o.nom for o in own.organizations} - set(board.silent_organizations)
    assert heard and all(o.nom in board.silent_organizations
                         for o in own.organizations if o.territoire == "montmagny")
    text = signed_in(app).get(f"/?numero={MONTH}").text
    assert "Territoires sans nouvelle : Montmagny." in text


def test_a_relecteur_sees_silences_of_their_territory_only(own):
    board = pipeline.dashboard.issue_dashboard(own, MONTH, territoire="montmagny")
    assert board.silent_territories == []
    territories = {o.nom: o.territoire for o in own.organizations}
    assert all(territories[name] == "montmagny" for name in board.silent_organizations)


def test_failing_feeds_are_shown_to_the_pivot_with_their_error(app, own, clock):
    """A feed with failures in a row appears with its name, count and last error."""
    import dataclasses
    from contextlib import closing

    from infolettre.gather.feeds.store import FeedStore
    from infolettre.settings import FeedSource
    from infolettre.state import connect, state_file
    feed = FeedSource(url="https://ville.example.org/flux", nom="Ville de Montmagny",
                      territoire="montmagny", rubrique="nouvelles")
    ok = FeedSource(url="https://mrc.example.org/flux", nom="MRC en santé",
                    territoire="montmagny", rubrique="nouvelles")
    settings = dataclasses.replace(own, feeds=(feed, ok))
    with closing(connect(state_file(own.paths.donnees))) as conn:
        store = FeedStore(conn, clock=clock)
        store.record_failure(feed.url, feed.nom, "le serveur a répondu 503 (indisponible)")
        store.record_failure(feed.url, feed.nom, "le serveur a répondu 503 (indisponible)")
        store.record_success(ok.url, ok.nom, validators=None, entries=1, written=0)
    board = pipeline.dashboard.issue_dashboard(settings, MONTH)
    assert [(f.nom, h.echecs_consecutifs) for f, h in board.failing_feeds] == [
        ("Ville de Montmagny", 2)]
    assert pipeline.dashboard.issue_dashboard(settings, MONTH,
                                              territoire="montmagny").failing_feeds == []


def test_problems_name_the_file_from_the_project_folder(app, own):
    """A problem's place reads « content/2026-12/x.md:2 », never a temporary absolute path."""
    (own.paths.contenu / MONTH / "casse.md").write_text(
        "---\ntitre: Sans organisme\n---\nCorps.\n", encoding="utf-8")
    text = signed_in(app).get(f"/?numero={MONTH}").text
    assert f"content/{MONTH}/casse.md" in text
    assert str(own.paths.contenu) not in text


def test_the_home_page_says_where_the_signoff_stands(app, own, clock):
    """Before sign-off: « Pas encore approuvé » ; after: who and when; after a change:
    « modifié depuis l'approbation »."""
    client = signed_in(app)
    assert "Pas encore approuvé" in client.get(f"/?numero={MONTH}").text
    pipeline.approve(own, MONTH, "pivot@example.org", clock=clock)
    text = client.get(f"/?numero={MONTH}").text
    assert "Approuvé par pivot@example.org le mercredi 2 décembre 2026 à 9 h" in text
    assert "modifié depuis l'approbation" not in text
    path = own.paths.contenu / MONTH / "jardin-collectif-montmagny.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nUne phrase ajoutée.\n",
                    encoding="utf-8")
    assert "modifié depuis l'approbation" in client.get(f"/?numero={MONTH}").text


def test_edition_weights_are_shown_against_the_gmail_limit(own, clock):
    """Each edition of the preview with its weight; over the limit, marked in error."""
    import dataclasses

    from infolettre.web import create_app

    from .webfixtures import PASSWORD
    light = dataclasses.replace(own, max_email_bytes=50 * 1024)
    pipeline.user_add(light, "pivot@example.org", PASSWORD, clock=clock)
    text = signed_in(create_app(light, clock=clock, testing=True)).get(f"/?numero={MONTH}").text
    assert "Gmail coupe un message de plus de 50 Ko" in text
    weights = text[text.index('<ul class="weights">'):]
    weights = weights[:weights.index("</ul>")]
    assert weights.count("<li") == 1 + len(own.territories)
    heavy = [line for line in weights.splitlines() if 'class="error"' in line]
    assert len(heavy) == 1 and "Édition complète" in heavy[0]
