"""« Aperçus » in chromium: the chosen edition in two frames 600 and 375 px wide, loaded with
its styles and its photo under the frame's own policy, no policy violation in the app's page
(the console is listened to), another edition chosen, « Envoyer un test » — captured."""

from __future__ import annotations

from .conftest import MONTH, PIVOT, capture, sign_in


def frame_state(page, index: int) -> dict:
    """Return what the ``index``-th frame of the page shows (its width, title, photo)."""
    frame = page.locator("iframe").nth(index).element_handle().content_frame()
    frame.wait_for_load_state("load")
    return frame.evaluate("""() => ({
        width: document.documentElement.clientWidth,
        text: document.body.innerText,
        photos: Array.from(document.images).map(i => i.complete && i.naturalWidth > 0),
        styled: getComputedStyle(document.body).margin === '0px'})""")


def test_the_pivot_sees_each_edition_at_600_and_375_px_and_sends_a_test(page, server):
    sign_in(page)
    page.wait_for_url("**/")
    page.locator("header nav").get_by_role("link", name="Aperçus").click()
    page.wait_for_url(f"**/apercus/{MONTH}")
    frames = page.locator("iframe")
    assert frames.count() == 2
    for index, width in ((0, 600), (1, 375)):
        frames.nth(index).wait_for(state="visible")
        assert frames.nth(index).evaluate("f => f.clientWidth") == width
        assert frames.nth(index).get_attribute("sandbox").split() == [
            "allow-same-origin", "allow-popups", "allow-popups-to-escape-sandbox"]
        shown = frame_state(page, index)
        assert shown["width"] == width and "Fil régional" in shown["text"]
        assert shown["photos"] and all(shown["photos"])  # served from the preview's images/
        assert shown["styled"]  # the email's own <style> applied (the frame's policy)
    assert "Partie texte" in page.get_by_role("heading", name="Partie texte").inner_text()
    capture(page, "apercus")

    page.get_by_role("link", name="Édition Montmagny").click()
    page.wait_for_url(f"**/apercus/{MONTH}?edition=montmagny")
    assert "Montmagny" in frame_state(page, 1)["text"]
    page.get_by_role("button", name="Envoyer un test").click()
    page.wait_for_url(f"**/apercus/{MONTH}?edition=montmagny")
    assert f"Essai envoyé : 6 édition(s) à {PIVOT}." in page.get_by_role("status").inner_text()
    assert len(list((server.settings.paths.boite_envoi / "essais").rglob("*.eml"))) == 6
    capture(page, "apercus-essai")
