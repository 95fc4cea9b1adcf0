"""Every edition of the sample issue as a reader's phone and desktop show it (chromium).

The build of the sample (with a logo, as ``[infolettre] logo`` gives one) is opened from its
files at 375 px (a phone) and 600 px (the email's width): nothing may be wider than the
window (a phone would scroll sideways), every photo and the logo keep the place their
``width``/``height`` give them, and at 375 px each link of the footer (and « Voir dans le
navigateur ») is a tap target at least 44 px high. Screenshots are saved to be looked at:
tests/browser/captures/edition-<slug>-<width>.png.
"""

from __future__ import annotations

import dataclasses

import pytest

from infolettre import pipeline

from .conftest import CAPTURES, HANG_GUARD_MS, MONTH, copy_sample

WIDTHS = (375, 600)
#: Elements wider than the window, or reaching past its right edge (1 px of rounding).
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  return Array.from(document.body.querySelectorAll('*')).filter(e => {
    const box = e.getBoundingClientRect();
    return box.width > 0 && (box.width > width + 1 || box.right > width + 1);
  }).map(e => e.tagName + '.' + (e.className || '') + ' '
         + Math.round(e.getBoundingClientRect().width) + ' px : '
         + (e.textContent || '').trim().slice(0, 60));
}"""
TAPS = """() => Array.from(document.querySelectorAll('a.tap')).map(a => {
  const box = a.getBoundingClientRect();
  return {text: a.textContent.trim(), height: box.height, width: box.width};
})"""
IMAGES = """() => Array.from(document.images).map(i => ({
  src: i.getAttribute('src'), alt: i.alt, loaded: i.complete && i.naturalWidth > 0,
  width: i.getAttribute('width'), height: i.getAttribute('height'),
  ratio: i.getBoundingClientRect().width / i.getBoundingClientRect().height,
  natural: i.naturalWidth / i.naturalHeight}))"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The sample issue built into a temporary folder, with a 300 × 80 PNG logo."""
    from PIL import Image

    root = tmp_path_factory.mktemp("editions")
    settings = copy_sample(root)
    logo = root / "logo.png"
    Image.new("RGB", (300, 80), (27, 73, 101)).save(logo)
    settings = dataclasses.replace(settings, identity=dataclasses.replace(
        settings.identity, logo=logo))
    return pipeline.build(settings, MONTH, pdf=False)


@pytest.fixture
def tab(browser):
    context = browser.new_context(locale="fr-CA", viewport={"width": 600, "height": 900})
    context.set_default_timeout(HANG_GUARD_MS)
    page = context.new_page()
    yield page
    context.close()


def test_every_edition_fits_a_phone_and_its_links_can_be_tapped(tab, built):
    CAPTURES.mkdir(parents=True, exist_ok=True)
    editions = built.rendered.editions
    assert len(editions) == 6
    for edition in editions:
        path = built.out_dir / f"{edition.slug}.html"
        for width in WIDTHS:
            tab.set_viewport_size({"width": width, "height": 900})
            tab.goto(path.as_uri())
            tab.wait_for_load_state("load")
            where = f"{edition.slug} à {width} px"
            sizes = tab.evaluate("[document.documentElement.scrollWidth, "
                                 "document.documentElement.clientWidth]")
            assert sizes[0] <= sizes[1], f"{where} : la page défile de côté ({sizes})"
            assert tab.evaluate(OVERFLOW) == [], where
            images = tab.evaluate(IMAGES)
            assert images, where
            for image in images:
                assert image["alt"].strip() and image["loaded"], (where, image)
                assert image["width"] and image["height"], (where, image)
                assert abs(image["ratio"] - image["natural"]) < 0.03, (where, image)
            if width == 375:
                taps = tab.evaluate(TAPS)
                names = {t["text"] for t in taps}
                assert {"Voir dans le navigateur", "se désabonner"} <= names, where
                small = [t for t in taps if t["height"] < 44]
                assert small == [], f"{where} : liens trop petits pour le doigt {small}"
            tab.screenshot(path=str(CAPTURES / f"edition-{edition.slug}-{width}.png"),
                           full_page=True)
