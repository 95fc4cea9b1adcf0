"""Everything a person or a feed wrote is escaped on every page of the review app: the
templates end in ``.html.j2``, which Flask does not escape by default, so the app turns
escaping on for all of them (a hostile title once came out raw on the item pages)."""

from __future__ import annotations

from .webfixtures import app, clock, own, signed_in  # noqa: F401 - fixtures

MONTH = "2026-12"
HOSTILE = "<script>alert(1)</script> <img src=x onerror=alert(2)> {{ 7*7 }}"


def _write_hostile(own) -> None:
    path = own.paths.contenu / MONTH / "hostile.md"
    path.write_text(f"---\ntitre: \"{HOSTILE}\"\norganisme: \"<b>Org</b>\"\n"
                    "territoire: montmagny\nrubrique: nouvelles\nstatut: soumis\n---\n"
                    "Corps <script>alert(3)</script>.\n", encoding="utf-8")


def test_hostile_item_is_inert_on_every_page_that_shows_it(app, own):
    """The list, the item page, « Modifier », the home page and the sign-off page show a
    hostile title as text: no script, no event handler reaches the page."""
    _write_hostile(own)
    client = signed_in(app)
    for url in (f"/nouvelles?numero={MONTH}", f"/nouvelles/{MONTH}/hostile",
                f"/nouvelles/{MONTH}/hostile/modifier", f"/?numero={MONTH}",
                f"/approbation/{MONTH}"):
        page = client.get(url)
        assert page.status_code == 200, url
        text = page.text
        assert "<script>alert" not in text, url
        assert "<img src=x" not in text and "<b>Org</b>" not in text, url
    item = client.get(f"/nouvelles/{MONTH}/hostile").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in item
