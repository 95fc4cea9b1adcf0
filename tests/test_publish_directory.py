"""The directory of organizations on the published site (« le lieu commun », issue 18): an
index by territory and table, one page per registered organization with its public contact
and its items across issues, and never an address that submits (``courriels``)."""

from __future__ import annotations

import dataclasses
import html
import re

import pytest

from infolettre import permalinks, pipeline
from infolettre.publish.directory import Listing
from infolettre.settings import Organization

from .site_helpers import broken_links, pages, publish_sample, withdraw_and_republish

ETCHEMINS = "cdc-des-etchemins"
BELLECHASSE = "cdc-de-bellechasse"
#: A private address that must never reach the site, and the public keys that must.
PRIVATE = "lucie.personnelle@courriel.example"
NEWCOMER = Organization(
    nom="Écho des Appalaches", courriels=(PRIVATE,), territoire="les-appalaches",
    table="Table de concertation en développement social des Appalaches",
    site_web="https://echo.example.org/nous-joindre", courriel_public="bonjour@echo.example.org",
    telephone_public="418 555-0199", description="Journal communautaire des Appalaches.")


@pytest.fixture
def published(tmp_path):
    settings, clock = publish_sample(tmp_path)
    return settings, clock, settings.paths.site


def _read(site, path):
    """The page's text, entities decoded."""
    return html.unescape((site / path).read_text(encoding="utf-8"))


def _item_links(text):
    """The item pages a page links to, in order: [(month, slug)]."""
    return re.findall(r'href="(?:\.\./)+(\d{4}-\d{2})/nouvelles/([^"]+)\.html"', text)


def _with(settings, *organizations):
    return dataclasses.replace(settings, organizations=organizations)


def test_an_index_and_a_page_for_every_registered_organization(published):
    settings, _clock, site = published
    slugs = permalinks.organization_slugs(o.nom for o in settings.organizations)
    assert slugs["CDC des Etchemins"] == ETCHEMINS
    assert slugs["CDC Ici Montmagny-L'Islet"] == "cdc-ici-montmagny-l-islet"
    assert slugs["Centraide Québec et Chaudière-Appalaches"] == (
        "centraide-quebec-et-chaudiere-appalaches")
    assert len(set(slugs.values())) == len(settings.organizations)
    index = _read(site, permalinks.DIRECTORY)
    for organization in settings.organizations:
        path = permalinks.organization_page(slugs[organization.nom])
        assert (site / path).is_file()
        assert f'href="../{path}">{organization.nom}</a>' in index
    # by territory (regional first, then the configuration's order), tables as headings
    headings = re.findall(r'<h2 id="t-([^"]+)">', index)
    assert headings == ["regional", *settings.territories]
    bellechasse = index[index.index('id="t-bellechasse"'):index.index('id="t-les-appalaches"')]
    assert bellechasse.index("<h3>Table de développement social de Bellechasse</h3>") < \
        bellechasse.index("CDC de Bellechasse</a>") < \
        bellechasse.index("<h3>Autres organismes</h3>") < \
        bellechasse.index("Entraide Bellechasse</a>")
    assert "4 nouvelles publiées" in bellechasse
    assert broken_links(site) == []
    parsed = pages(site)
    for path in (permalinks.DIRECTORY, permalinks.organization_page(ETCHEMINS)):
        assert parsed[path].lang == "fr-CA" and parsed[path].headings.count(1) == 1
        assert "<script" not in (site / path).read_text(encoding="utf-8")


def test_the_directory_is_in_the_navigation_and_on_the_home_page(published):
    _settings, _clock, site = published
    home = _read(site, permalinks.HOME)
    assert '<a href="organismes/index.html">Consulter le répertoire des organismes</a>' in home
    for path in (permalinks.HOME, permalinks.item_page("2026-11", "tournee-alliance-bilan"),
                 permalinks.territory_page("montmagny")):
        nav = _read(site, path).split("</nav>")[0]
        assert permalinks.relative(path, permalinks.DIRECTORY) in nav
    index = _read(site, permalinks.DIRECTORY)
    assert '<a href="../organismes/index.html" aria-current="page">Les organismes</a>' in index


def test_an_organization_page_has_its_public_contact_and_its_items_newest_first(published):
    settings, _clock, site = published
    text = _read(site, permalinks.organization_page(BELLECHASSE))
    assert "<h1>CDC de Bellechasse</h1>" in text
    assert "Corporation de développement communautaire : regroupe" in text
    assert '<a href="../territoires/bellechasse.html">Bellechasse</a>' in text
    assert "<dd>Table de développement social de Bellechasse</dd>" in text
    assert ('<a href="https://cdc-bellechasse.example.org">https://cdc-bellechasse.example.org'
            '</a>') in text
    assert '<a href="mailto:info@cdc-bellechasse.example.org">' in text
    assert '<a href="tel:+14185550142">418 555-0142</a>' in text
    etchemins = _read(site, permalinks.organization_page(ETCHEMINS))
    links = _item_links(etchemins)
    assert [month for month, _slug in links] == ["2026-12"] * 3 + ["2026-11"]
    assert ("2026-11", "comite-citoyen-frigo-communautaire") in links
    assert ("2026-12", "frigo-communautaire-lac-etchemin") in links
    assert "Novembre 2026</a> · " in etchemins and "Décembre 2026</a> · " in etchemins
    quiet = _read(site, permalinks.organization_page("cdc-de-lotbiniere"))
    assert "Site web" not in quiet and "mailto:" not in quiet and "tel:" not in quiet
    # an item's page links to its organization's page
    item = _read(site, permalinks.item_page("2026-12", "frigo-communautaire-lac-etchemin"))
    assert '<dd><a href="../../organismes/cdc-des-etchemins.html">CDC des Etchemins</a></dd>' \
        in item


def test_submission_addresses_never_reach_the_site(published):
    """``courriels`` say who may submit: not one is published, in any file (pages, feeds,
    calendars, embeds), unless the organization gave the same address as its public one."""
    settings, clock, site = published
    settings = _with(settings, *settings.organizations, NEWCOMER)
    pipeline.publish(settings, clock=clock)
    public = {o.courriel_public for o in settings.organizations if o.courriel_public}
    private = {a for o in settings.organizations for a in o.courriels} - public
    assert PRIVATE in private and len(private) >= 13
    files = [p for p in site.rglob("*") if p.is_file()]
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace").lower()
        assert not [a for a in private if a in text], path
    page = _read(site, permalinks.organization_page("echo-des-appalaches"))
    for shown in ("bonjour@echo.example.org", "https://echo.example.org/nous-joindre",
                  "418 555-0199", "Journal communautaire des Appalaches."):
        assert shown in page


def test_an_organization_added_later_shows_up_and_says_kindly_it_has_no_item(published):
    """Added to the register after the issues were published: the next publication (even
    without a month) gives it its page; only the index and that page are written."""
    settings, clock, site = published
    result = pipeline.publish(_with(settings, *settings.organizations, NEWCOMER), clock=clock)
    page = permalinks.organization_page("echo-des-appalaches")
    assert set(result.written) == {permalinks.DIRECTORY, page}
    text = _read(site, page)
    assert ("Aucune nouvelle de cet organisme n’a encore paru dans le bulletin. Ses prochaines "
            "nouvelles s’afficheront ici, dès leur publication.") in text
    assert _item_links(text) == []
    index = _read(site, permalinks.DIRECTORY)
    appalaches = index[index.index('id="t-les-appalaches"'):index.index('id="t-les-etchemins"')]
    table = appalaches[appalaches.index("<h3>Table de concertation"):
                       appalaches.index("<h3>Autres organismes</h3>")]
    assert "CDC des Appalaches</a>" in table and "Écho des Appalaches</a>" in table
    assert "aucune nouvelle publiée pour l’instant" in table
    assert broken_links(site) == []


def test_a_renamed_organization_has_its_new_page_at_the_next_publish(published):
    """The register renames an organization: the index names it under its new name at the
    next publication. A change of case only keeps its page's address and its items (items
    match the register case ignored); the old page's file stays, as every published file."""
    settings, clock, site = published
    renamed = [dataclasses.replace(o, nom="Entraide Bellechasse et environs")
               if o.nom == "Entraide Bellechasse" else
               dataclasses.replace(o, nom="CDC DES ETCHEMINS") if o.nom == "CDC des Etchemins"
               else o for o in settings.organizations]
    pipeline.publish(_with(settings, *renamed), clock=clock)
    index = _read(site, permalinks.DIRECTORY)
    assert "Entraide Bellechasse et environs</a>" in index
    assert "entraide-bellechasse.html" not in index
    assert (site / permalinks.organization_page("entraide-bellechasse")).is_file()
    new = _read(site, permalinks.organization_page("entraide-bellechasse-et-environs"))
    assert "<h1>Entraide Bellechasse et environs</h1>" in new
    etchemins = _read(site, permalinks.organization_page(ETCHEMINS))
    assert "<h1>CDC DES ETCHEMINS</h1>" in etchemins and len(_item_links(etchemins)) == 4
    assert broken_links(site) == []


def test_a_withdrawn_item_is_not_listed_but_keeps_its_page(published):
    settings, clock, site = published
    result = withdraw_and_republish(settings, clock, "frigo-communautaire-lac-etchemin")
    assert result.counts.withdrawn == 1
    assert (site / permalinks.item_page("2026-12", "frigo-communautaire-lac-etchemin")).is_file()
    text = _read(site, permalinks.organization_page(ETCHEMINS))
    assert "frigo-communautaire-lac-etchemin" not in text
    assert len(_item_links(text)) == 3
    assert "3 nouvelles publiées" in _read(site, permalinks.DIRECTORY)
    assert broken_links(site) == []


def test_an_organization_left_out_of_the_register_is_listed_nowhere(published):
    """Its items keep their pages, but the directory (built from the register) no longer
    links it, and no other organization's page lists its items."""
    settings, clock, site = published
    kept = [o for o in settings.organizations if o.nom != "CDC des Etchemins"]
    pipeline.publish(_with(settings, *kept), clock=clock)
    index = _read(site, permalinks.DIRECTORY)
    assert "CDC des Etchemins</a>" not in index and ETCHEMINS not in index
    for path in (site / "organismes").glob("*.html"):
        if path.stem != ETCHEMINS:  # its old file stays, as every published file
            assert "frigo-communautaire-lac-etchemin" not in path.read_text(encoding="utf-8")
    item = _read(site, permalinks.item_page("2026-12", "frigo-communautaire-lac-etchemin"))
    assert "<dd>CDC des Etchemins</dd>" in item  # named, no longer linked
    assert broken_links(site) == []


def test_slugs_fold_accents_and_never_collide():
    names = ["Écho", "Maison de la famille", "Echo", "ÉCHO!", "Index", "***", "Œuvre d’entraide",
             "Un nom " + "très long " * 12]
    slugs = permalinks.organization_slugs(names)
    assert slugs["Écho"] == "echo"
    assert slugs["Maison de la famille"] == "maison-de-la-famille"
    assert slugs["Œuvre d’entraide"] == "oeuvre-d-entraide"
    assert re.fullmatch(r"echo-[0-9a-f]{6}", slugs["Echo"])
    assert re.fullmatch(r"echo-[0-9a-f]{6}", slugs["ÉCHO!"])
    assert re.fullmatch(r"index-[0-9a-f]{6}", slugs["Index"])  # not the directory's index
    assert re.fullmatch(r"organisme-[0-9a-f]{6}", slugs["***"])
    assert len(slugs["Un nom " + "très long " * 12]) <= permalinks.ORGANIZATION_SLUG_MAX
    assert len(set(slugs.values())) == len(names)
    for slug in slugs.values():
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug)
    # stable: the same names give the same slugs; one added at the end moves no other
    assert permalinks.organization_slugs(names) == slugs
    more = permalinks.organization_slugs([*names, "Echo.", "Nouvel organisme"])
    assert {name: more[name] for name in names} == slugs
    assert more["Nouvel organisme"] == "nouvel-organisme"
    assert more["Echo."] not in slugs.values()


@pytest.mark.parametrize("written, href", [
    ("418 555-0142", "tel:+14185550142"),
    ("(418) 555-0142", "tel:+14185550142"),
    ("+1 418 555-0142", "tel:+14185550142"),
    ("1 800 555-0100", "tel:18005550100"),
    ("418 555-0142, poste 12", None),  # shown as written, not dialed wrong
    ("sur rendez-vous", None),
])
def test_a_public_phone_is_dialable_only_when_it_is_a_number(written, href):
    listing = Listing(dataclasses.replace(NEWCOMER, telephone_public=written), "echo", ())
    assert listing.phone_href == href
