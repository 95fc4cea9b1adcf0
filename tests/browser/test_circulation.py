"""« Circulation » in chromium: a generated year, the report with its charts, the screen
captured, then printed (print media, US Letter): no menu, each territory on one page."""

from __future__ import annotations

from ..circulation_year import write_year
from .conftest import CAPTURES, capture, sign_in

LETTER_HEIGHT_PX = 11 * 96  # a US Letter page, in CSS pixels


def test_the_report_reads_on_screen_and_prints_for_a_table_meeting(page, server):
    write_year(server.settings)
    sign_in(page, path="/circulation")
    page.wait_for_url("**/circulation")
    page.locator("header nav").get_by_role("link", name="Circulation").click()
    page.wait_for_url("**/circulation")
    charts = page.get_by_role("img", name="Nouvelles de Bellechasse, par numéro")
    assert charts.count() == 1
    assert "décembre 2026" in charts.locator("desc").text_content()
    page.get_by_label("Numéros comptés").select_option("12")
    page.get_by_role("button", name="Afficher").click()
    page.wait_for_url("**/circulation?mois=12")
    assert "12 numéros, de janvier 2026 à décembre 2026" in page.locator("main").inner_text()
    capture(page, "circulation")

    page.emulate_media(media="print")
    assert not page.locator("header.top").is_visible()
    assert not page.locator("form.circ-choose").is_visible()
    blocks = page.locator("section.circ-territory")
    assert blocks.count() == 6
    for n in range(blocks.count()):
        block = blocks.nth(n)
        assert block.evaluate("e => getComputedStyle(e).breakInside") == "avoid"
        assert block.bounding_box()["height"] < LETTER_HEIGHT_PX * 0.8  # fits on a page
    CAPTURES.mkdir(parents=True, exist_ok=True)
    pdf = page.pdf(path=str(CAPTURES / "circulation.pdf"), prefer_css_page_size=True)
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") >= 2
