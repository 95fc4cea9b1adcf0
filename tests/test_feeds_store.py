"""What the feed watch remembers (``gather/feeds/store``), and notes added to an item file."""

from __future__ import annotations

from contextlib import closing

from infolettre.gather.feeds.model import Validators
from infolettre.gather.feeds.store import FeedStore
from infolettre.state import connect
from infolettre.content import add_note, read_item

URL = "https://exemple.org/flux"


def test_same_news_finds_a_feed_item_by_link_or_title(tmp_path):
    """What an email arriving after the feed is checked against: links over two months,
    titles within the month, never a duplicate's row, and the feed named."""
    title = "Forum régional sur le logement social : les inscriptions sont ouvertes"
    with closing(connect(tmp_path / "state.sqlite3")) as conn:
        store = FeedStore(conn)
        store.record_success(URL, "Table régionale", validators=None, entries=1, written=1)
        store.remember(URL, "guid:1", "item", "/c/2026-12/forum.md", month="2026-12",
                       lien="https://trds.example.org/forum", titre=title)
        store.remember(URL, "guid:2", "item", "/c/2026-11/vieux.md", month="2026-11",
                       lien="https://trds.example.org/vieux", titre="Un titre assez long du mois "
                       "dernier, précis")
        store.remember(URL, "guid:3", "doublon", "/c/2026-12/forum.md")
        found = store.same_news("2026-12", "Autre titre", "http://www.trds.example.org/forum/"
                                "?utm_source=courriel#haut", "2026-11")
        assert found is not None and (found.path, found.feed, found.why) == (
            "/c/2026-12/forum.md", "Table régionale", "lien")
        assert store.same_news("2026-12", title.upper() + " !", None).why == "titre"
        assert store.same_news("2026-12", "x", "https://trds.example.org/vieux",
                               "2026-11").path == "/c/2026-11/vieux.md"
        assert store.same_news("2026-12", "x", "https://trds.example.org/vieux") is None
        assert store.same_news("2027-01", title, None) is None  # titles: same month only
        assert store.same_news("2026-12", "Assemblée générale", None) is None


def test_validators_failures_and_seen_entries_survive_a_new_connection(tmp_path):
    db = tmp_path / "state.sqlite3"
    with closing(connect(db)) as conn:
        store = FeedStore(conn)
        assert store.validators(URL) == Validators()
        assert store.status(URL, "Flux").derniere_tentative is None
        store.record_success(URL, "Flux", validators=Validators('"v1"', "Tue, 24 Nov 2026"),
                             entries=12, written=3)
        assert [store.record_failure(URL, "Flux", f"panne {i}") for i in range(3)] == [1, 2, 3]
        store.remember(URL, "guid:1", "item", "content/2026-12/a.md")
    with closing(connect(db)) as conn:
        store = FeedStore(conn)
        assert store.validators(URL) == Validators('"v1"', "Tue, 24 Nov 2026")
        status = store.status(URL, "Flux")
        assert (status.echecs_consecutifs, status.derniere_erreur, status.entrees,
                status.nouvelles) == (3, "panne 2", 12, 3)
        assert store.seen(URL, "guid:1") and not store.seen(URL, "guid:2")
        assert not store.seen("https://autre.org/flux", "guid:1")  # per feed
        store.record_success(URL, "Flux", validators=None, entries=None, written=0)  # a 304
        status = store.status(URL, "Flux")
        assert status.echecs_consecutifs == 0 and status.entrees == 12
        assert store.validators(URL).etag == '"v1"'  # a 304 keeps them
        store.forget_validators(URL)
        assert store.validators(URL) == Validators()


def test_add_note_writes_a_comment_the_item_still_reads(project):
    path = project.write("a.md", "---\ntitre: Une nouvelle\norganisme: CDC des Etchemins\n"
                                 "rubrique: nouvelles\ndate: 2026-11-20\nstatut: approuve\n---\n"
                                 "Texte.\n")
    before, _ = read_item(path, project.settings(), "2026-12")
    assert add_note(path, "Aussi reçu du flux « Table » : « Une nouvelle ».")
    assert not add_note(path, "Aussi reçu du flux « Table » : « Une nouvelle ».")  # once
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n# Aussi reçu du flux « Table »")
    after, problems = read_item(path, project.settings(), "2026-12")
    assert after == before and not [p for p in problems if p.severity.value == "erreur"]


def test_add_note_leaves_a_file_it_cannot_read_alone(project):
    latin = project.write("b.md", "---\ntitre: Été\n---\n".encode("latin-1"))
    assert not add_note(latin, "note")
    assert latin.read_bytes() == "---\ntitre: Été\n---\n".encode("latin-1")
    bare = project.write("c.md", "pas d'en-tête\n")
    assert not add_note(bare, "note")


def test_submitted_agenda_or_call_without_dates_is_reviewable_but_not_approvable(project):
    base = ("---\ntitre: Souper\norganisme: CDC des Etchemins\nrubrique: {r}\n"
            "date: 2026-11-20\nstatut: {s}\n---\n")
    for rubrique in ("agenda", "financement"):
        waiting = project.write(f"{rubrique}-s.md", base.format(r=rubrique, s="soumis"))
        item, problems = read_item(waiting, project.settings(), "2026-12")
        assert item is not None and any(p.severity.value == "avertissement" for p in problems)
        approved = project.write(f"{rubrique}-a.md", base.format(r=rubrique, s="approuve"))
        item, problems = read_item(approved, project.settings(), "2026-12")
        assert item is None and any(p.severity.value == "erreur" for p in problems)
