"""The frame of the review app in chromium: sign in and out, the French refusal, the
keyboard, the language, the unsubscribe pages — and screenshots of each page."""

from __future__ import annotations

from urllib.parse import urlsplit

from infolettre.unsubscribe import load_secret, make_token

from ..test_web import unsubscribed
from .conftest import MONTH, PIVOT, capture, forgive, sign_in


def path_of(page) -> str:
    parts = urlsplit(page.url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_the_pivot_signs_in_with_the_contract_labels_and_sees_the_issue(page):
    """« Courriel », « Mot de passe », « Se connecter » open the session and lead to the
    page first asked for; the page is in Canadian French."""
    page.goto(f"/?numero={MONTH}")
    assert path_of(page).startswith("/connexion?suite=")
    assert page.locator("html").get_attribute("lang") == "fr-CA"
    capture(page, "connexion")
    sign_in(page, path=page.url)
    page.wait_for_url(f"**/?numero={MONTH}")
    assert "Numéro de décembre 2026" in page.locator("h1").inner_text()
    assert page.locator("html").get_attribute("lang") == "fr-CA"
    capture(page, "numero")


def test_a_wrong_password_shows_the_french_message_and_keeps_the_address(page, console_errors):
    sign_in(page, password="pas le bon mot de passe")
    alert = page.get_by_role("alert")
    assert "courriel ou mot de passe incorrect" in alert.inner_text()
    assert page.get_by_label("Courriel").input_value() == PIVOT
    assert path_of(page).startswith("/connexion")
    capture(page, "connexion-refusee")
    forgive(console_errors, 401)


def test_signing_out_closes_the_session(page):
    """« Se déconnecter » posts the form (with its CSRF token), says so, and the issue page
    asks for the password again."""
    sign_in(page)
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url("**/connexion")
    assert "Vous êtes déconnecté·e." in page.get_by_role("status").inner_text()
    capture(page, "deconnexion")
    page.goto("/")
    assert path_of(page).startswith("/connexion?suite=")


def test_the_sign_in_form_is_reachable_with_the_keyboard_alone(page):
    """The address field has the focus; Tab goes to the password, then to the button;
    Entrée signs in. Shift+Tab from the address reaches the « Aller au contenu » link."""
    page.goto("/connexion")
    focused = lambda: page.evaluate("document.activeElement.id || document.activeElement.textContent")  # noqa: E731
    # autofocus is applied by the browser after the load event, on its own schedule:
    # wait for it (a real failure still fails, after Playwright's timeout).
    page.wait_for_function("document.activeElement && document.activeElement.id === 'courriel'")
    assert focused() == "courriel"
    page.keyboard.press("Shift+Tab")
    assert focused().strip() == "Aller au contenu"
    page.keyboard.press("Tab")
    page.keyboard.type(PIVOT)
    page.keyboard.press("Tab")
    assert focused() == "mot_de_passe"
    page.keyboard.type("une longue phrase de passe")
    page.keyboard.press("Tab")
    assert focused().strip() == "Se connecter"
    page.keyboard.press("Enter")
    page.wait_for_url("**/")
    assert "Numéro de" in page.locator("h1").inner_text()


def test_unsubscribing_asks_first_then_the_button_unsubscribes(page, server):
    """No account: GET shows a confirmation and changes nothing; « Me désabonner » posts,
    and the address is unsubscribed in the state."""
    email = "annie.gaudreau@example.org"
    token = make_token(load_secret(server.settings.paths.donnees), email)
    page.goto(f"/desabonnement?t={token}")
    assert page.get_by_role("heading", name="Désabonnement").is_visible()
    capture(page, "desabonnement")
    assert email not in unsubscribed(server.settings)
    page.get_by_role("button", name="Me désabonner").click()
    assert email in page.get_by_role("status").inner_text()
    assert email in unsubscribed(server.settings)
    capture(page, "desabonnement-fait")


def test_a_forged_unsubscribe_link_says_so_in_french(page, server, console_errors):
    page.goto("/desabonnement?t=v1.Zm9yZ2Vk.AAAAAAAAAAAAAAAAAAAAAA")
    page.get_by_role("button", name="Me désabonner").click()
    assert "n'est pas valide" in page.get_by_role("alert").inner_text()
    assert unsubscribed(server.settings) == set()
    capture(page, "desabonnement-invalide")
    forgive(console_errors, 400)


def test_every_page_of_the_menu_loads_without_a_console_error(page):
    """Signed in as the pivot, each link of the menu opens a page with a title, in French,
    and no CSP refusal (inline script or style) or other error in the console; each is
    captured at 1280 and 375 px. Also a page that does not exist."""
    sign_in(page)
    page.wait_for_url("**/")
    links = page.locator("header nav a")
    targets = [(links.nth(i).inner_text(), links.nth(i).get_attribute("href"))
               for i in range(links.count())]
    assert targets, "le menu est vide"
    for label, href in targets:
        answer = page.goto(href)
        assert answer.status == 200, (label, href, answer.status)
        assert page.locator("h1").count() >= 1, (label, href)
        assert page.locator("html").get_attribute("lang") == "fr-CA"
        capture(page, "menu-" + (href.strip("/").split("/")[0].split("?")[0] or "accueil"))


def test_a_missing_page_is_a_french_page(page, console_errors):
    sign_in(page)
    page.wait_for_url("**/")
    answer = page.goto("/nulle-part")
    assert answer.status == 404 and "Page introuvable" in page.locator("h1").inner_text()
    capture(page, "introuvable")
    forgive(console_errors, 404)


def test_the_console_watch_catches_an_inline_style_refused_by_the_policy(page, console_errors):
    """The guard of every test is not idle: an inline <style> added to a page of the app is
    refused by its content-security policy, and the refusal reaches ``console_errors``."""
    page.goto("/connexion")
    with page.expect_console_message(lambda msg: "Content Security Policy" in msg.text):
        page.evaluate("document.head.insertAdjacentHTML('beforeend', "
                      "'<style>body { color: red }</style>')")
    assert any("Content Security Policy" in e for e in console_errors), console_errors
    assert page.evaluate("getComputedStyle(document.body).color") != "rgb(255, 0, 0)"
    console_errors.clear()
