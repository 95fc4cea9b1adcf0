"""The published archive in chromium, opened from its folder (``file://``): every kind of
page fits a 375 px phone without sideways scrolling and logs no error; the home, an issue
and an item are captured at 375 and 1024 px (tests/browser/captures/site-*.png)."""

from __future__ import annotations

import pytest

from infolettre import permalinks

from ..site_helpers import publish_sample
from .conftest import CAPTURES, HANG_GUARD_MS

ITEM = permalinks.item_page("2026-12", "frigo-communautaire-lac-etchemin")
#: One page of each kind.
PAGES = {
    "accueil": permalinks.HOME,
    "numero": permalinks.issue_page("2026-12"),
    "edition": permalinks.edition_page("2026-12", "les-etchemins"),
    "nouvelle": ITEM,
    "agenda": permalinks.item_page("2026-12", "forum-regional-developpement-social"),
    "rubrique": permalinks.rubrique_page("agenda"),
    "territoire": permalinks.territory_page("montmagny"),
    "regional": permalinks.territory_page("regional"),
    "integrer": permalinks.embed("bellechasse"),
    "repertoire": permalinks.DIRECTORY,
    "organisme": permalinks.organization_page("cdc-de-bellechasse"),
}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    settings, _clock = publish_sample(tmp_path_factory.mktemp("archive"))
    return settings.paths.site


@pytest.fixture
def tab(browser):
    """A fresh page; the test fails on any console error or failed load."""
    context = browser.new_context(locale="fr-CA", viewport={"width": 375, "height": 800})
    context.set_default_timeout(HANG_GUARD_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("requestfailed", lambda request: errors.append(f"échec : {request.url}"))
    yield page
    context.close()
    assert errors == [], f"erreurs dans la console du navigateur : {errors}"


def _width(page) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, "
                         "document.documentElement.clientWidth]")


@pytest.mark.parametrize("name", sorted(PAGES))
def test_every_kind_of_page_fits_a_phone(tab, site, name):
    tab.goto((site / PAGES[name]).as_uri())
    scroll, client = _width(tab)
    assert scroll <= client, f"{name} : {scroll} px de contenu pour {client} px d'écran"
    # every image loads (lazy ones made eager: they are below the fold of a phone)
    broken = tab.evaluate("Promise.all(Array.from(document.images).map(i => { "
                          "i.loading = 'eager'; return i.decode().then(() => null, "
                          "() => i.src); })).then(r => r.filter(Boolean))")
    assert broken == []
    if name != "integrer":
        tab.keyboard.press("Tab")  # the first stop is the skip link, and it shows
        skip = tab.locator("a.skip")
        assert skip.evaluate("a => a === document.activeElement")
        assert skip.bounding_box()["x"] >= 0


@pytest.mark.parametrize("name", ["accueil", "numero", "nouvelle", "edition", "agenda",
                                  "repertoire", "organisme"])
def test_captures_at_375_and_1024(tab, site, name):
    CAPTURES.mkdir(parents=True, exist_ok=True)
    tab.goto((site / PAGES[name]).as_uri())
    for width in (375, 1024):
        tab.set_viewport_size({"width": width, "height": 800})
        tab.screenshot(path=str(CAPTURES / f"site-{name}-{width}.png"), full_page=True)
        scroll, client = _width(tab)
        assert scroll <= client, f"{name} à {width} px : {scroll} px"


def test_the_embed_opens_items_outside_its_frame(tab, site):
    """Absolute links in a new tab, nothing loaded from elsewhere, readable at 300 px."""
    tab.set_viewport_size({"width": 300, "height": 400})
    tab.goto((site / PAGES["integrer"]).as_uri())
    scroll, client = _width(tab)
    assert scroll <= client == 300
    CAPTURES.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(CAPTURES / "site-integrer-300.png"), full_page=True)
    links = tab.locator("a")
    assert links.count() >= 2
    for index in range(links.count()):
        link = links.nth(index)
        assert link.get_attribute("href").startswith("https://infolettre.example.org/")
        assert link.get_attribute("target") == "_blank"
        assert link.get_attribute("rel") == "noopener"
    assert tab.evaluate("document.querySelectorAll('script, link, img').length") == 0
