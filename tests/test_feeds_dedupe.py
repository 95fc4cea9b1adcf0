"""Same news, other source: canonical links and near-identical titles (``gather/feeds/dedupe``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from infolettre.gather.feeds.dedupe import (DuplicateIndex, Known, canonical_url,
                                            normalized_title, titles_match)


@pytest.mark.parametrize(("a", "b"), [
    ("https://www.Exemple.org/nouvelles/a/?utm_source=fb&utm_medium=x#haut",
     "http://exemple.org/nouvelles/a"),
    ("https://exemple.org/p?id=3&lang=fr&fbclid=IwAR0", "https://exemple.org/p?lang=fr&id=3"),
    ("https://exemple.org:443/p", "https://EXEMPLE.org/p/"),
    ("https://exemple.org//a//b", "https://exemple.org/a/b"),
    ("https://exemple.org/p?mc_cid=1&mc_eid=2&gclid=3", "https://exemple.org/p"),
])
def test_same_page_gives_the_same_canonical_url(a, b):
    assert canonical_url(a) == canonical_url(b)


@pytest.mark.parametrize(("a", "b"), [
    ("https://exemple.org/p?id=3", "https://exemple.org/p?id=4"),  # real parameters count
    ("https://exemple.org/a", "https://exemple.org/b"),
    ("https://exemple.org:8080/a", "https://exemple.org/a"),
    ("https://exemple.org/a", "https://autre.org/a"),
])
def test_different_pages_stay_different(a, b):
    assert canonical_url(a) != canonical_url(b)


@pytest.mark.parametrize("url", [None, "", "javascript:alert(1)", "mailto:a@b.org", "/relatif",
                                 "https://[::1", "data:text/html,x"])
def test_no_canonical_form_for_what_is_not_a_web_link(url):
    assert canonical_url(url) is None


def test_titles_ignore_case_accents_and_punctuation():
    a = normalized_title(
        "Lancement du Répertoire régional des ressources en sécurité alimentaire !")
    b = normalized_title(
        "lancement du repertoire regional des ressources en securite alimentaire")
    assert a == b and titles_match(a, b)


def test_near_identical_titles_match_but_short_or_different_ones_do_not():
    long = normalized_title(
        "Forum régional sur le logement social : les inscriptions sont ouvertes")
    typo = normalized_title("Forum régional sur le logement social : les inscriptions sont ouverte")
    other = normalized_title("Forum régional sur le transport collectif : inscriptions ouvertes")
    assert titles_match(long, typo)
    assert not titles_match(long, other)
    generic = normalized_title("Assemblée générale annuelle")  # two organizations, two items
    assert not titles_match(generic, generic)


def test_titles_whose_numbers_differ_are_different_news():
    """A weekly or numbered series: nearly the same words, never the same news."""
    twelve = normalized_title("Café-rencontre des proches aidants du 12 novembre à Rimouski")
    nineteen = normalized_title("Café-rencontre des proches aidants du 19 novembre à Rimouski")
    assert not titles_match(twelve, nineteen)
    third = normalized_title("Bulletin de la Table régionale en développement social n° 3")
    fourth = normalized_title("Bulletin de la Table régionale en développement social n° 4")
    assert not titles_match(third, fourth)
    assert titles_match(twelve, normalized_title(
        "Café-rencontre des proches aidants du 12 novembre, à Rimouski !"))


def test_index_finds_by_link_first_then_title_only_in_the_same_month(tmp_path: Path):
    index = DuplicateIndex()
    old = Known(tmp_path / "2026-11/a.md", "Un titre tout à fait précis du mois dernier",
                "https://exemple.org/a", "un courriel")
    new = Known(tmp_path / "2026-12/b.md", "Portes ouvertes au centre communautaire de Lévis",
                "https://exemple.org/b?utm_campaign=z", "le flux « X »")
    index.add(old, same_month=False)
    index.add(new)
    assert index.find("Autre titre", "http://www.exemple.org/a/") == (old, "lien")
    assert index.find("Portes ouvertes au centre communautaire de Levis", None) == (new, "titre")
    assert index.find("Un titre tout à fait précis du mois dernier", None) is None
    assert index.find("Rien à voir avec les autres nouvelles du mois", "https://x.org/") is None


def test_the_same_title_twice_in_one_feed_is_two_news_across_feeds_one(tmp_path: Path):
    """A municipality's recurring « Avis public » (same title, other link) is new each time;
    the same title from another feed, or the same link from the same feed, is a duplicate."""
    title = "Avis public : consultation sur le règlement de zonage"
    index = DuplicateIndex()
    first = Known(tmp_path / "2026-12/avis.md", title, "https://ville.example/avis/101",
                  "le flux « Ville »", "Ville")
    index.add(first)
    assert index.find(title, "https://ville.example/avis/102", feed="Ville") is None
    assert index.find(title, "https://ville.example/avis/101", feed="Ville") == (first, "lien")
    assert index.find(title, "https://mrc.example/relais", feed="MRC") == (first, "titre")
    assert index.find(title, None) == (first, "titre")  # not from a feed: another source
