"""The review app's frame: sign-in, sessions, CSRF, roles, security headers and the
unsubscribe pages — with Flask's test client over a throwaway project."""

from __future__ import annotations

import html
import dataclasses
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from infolettre import pipeline
from infolettre.clock import FixedClock
from infolettre.state.users import LOCK_MINUTES, MAX_FAILURES
from infolettre.unsubscribe import load_secret, make_token
from infolettre.web import create_app

PASSWORD = "une longue phrase de passe"
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=ZoneInfo("America/Toronto"))


@pytest.fixture
def clock():
    return FixedClock(NOW)


@pytest.fixture
def app(sample_here, clock):
    pipeline.user_add(sample_here, "pivot@example.org", PASSWORD, clock=clock)
    pipeline.user_add(sample_here, "releve@example.org", PASSWORD, role="relecteur",
                      territoire="montmagny", clock=clock)
    return create_app(sample_here, clock=clock, testing=True)


def token_of(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def sign_in(client, email="pivot@example.org", password=PASSWORD):
    page = client.get("/connexion").text
    return client.post("/connexion", data={"courriel": email, "mot_de_passe": password,
                                           "csrf_token": token_of(page)})


def test_every_page_but_sign_in_needs_a_session(app):
    """Not signed in: the issue page sends to the sign-in form (French labels of the
    contract), and comes back to the page asked for once signed in."""
    client = app.test_client()
    answer = client.get("/?numero=2026-12")
    assert answer.status_code == 302 and "/connexion?suite=" in answer.headers["Location"]
    form = client.get(answer.headers["Location"]).text
    assert "Courriel" in form and "Mot de passe" in form and "Se connecter" in form
    assert 'lang="fr-CA"' in form
    signed = client.post(answer.headers["Location"], data={
        "courriel": "pivot@example.org", "mot_de_passe": PASSWORD, "csrf_token": token_of(form)})
    assert signed.status_code == 302 and signed.headers["Location"] == "/?numero=2026-12"
    assert "Numéro de décembre 2026" in client.get("/?numero=2026-12").text


def test_a_wrong_password_is_refused_the_same_way_as_an_unknown_address(app):
    client = app.test_client()
    wrong = sign_in(client, password="pas le bon mot de passe")
    unknown = sign_in(client, email="personne@example.org")
    assert wrong.status_code == unknown.status_code == 401
    assert "courriel ou mot de passe incorrect" in wrong.text
    assert "courriel ou mot de passe incorrect" in unknown.text


def test_repeated_failures_lock_the_account_for_a_while(app, clock):
    """After MAX_FAILURES wrong passwords, even the right one waits LOCK_MINUTES."""
    client = app.test_client()
    for _ in range(MAX_FAILURES):
        sign_in(client, password="essai au hasard")
    locked = sign_in(client)
    assert locked.status_code == 401 and "trop d'essais" in html.unescape(locked.text)
    clock.advance(minutes=LOCK_MINUTES + 1)
    assert sign_in(client).status_code == 302


def test_a_post_without_its_csrf_token_is_refused_in_french(app):
    client = app.test_client()
    sign_in(client)
    answer = client.post("/deconnexion")
    assert answer.status_code == 400 and "Formulaire expiré" in answer.text


def test_the_next_address_never_leads_off_the_site(app):
    client = app.test_client()
    page = client.get("/connexion?suite=//evil.example/x").text
    answer = client.post("/connexion?suite=//evil.example/x", data={
        "courriel": "pivot@example.org", "mot_de_passe": PASSWORD, "csrf_token": token_of(page)})
    assert answer.headers["Location"] == "/"


def test_security_headers_and_cookie(app):
    """A policy with no inline script; the session cookie is HttpOnly and SameSite=Lax."""
    client = app.test_client()
    answer = sign_in(client)
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = client.get("/")
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert page.headers["X-Content-Type-Options"] == "nosniff"


def test_the_cookie_is_secure_behind_https(sample_here, clock):
    settings = dataclasses.replace(sample_here, application=dataclasses.replace(
        sample_here.application, url="https://infolettre.example.org"))
    pipeline.user_add(settings, "pivot@example.org", PASSWORD, clock=clock)
    client = create_app(settings, clock=clock, testing=True).test_client()
    assert "Secure" in sign_in(client).headers["Set-Cookie"]


def test_a_removed_account_is_signed_out_at_its_next_click(app, sample_here):
    client = app.test_client()
    sign_in(client)
    assert client.get("/").status_code == 200
    pipeline.user_remove(sample_here, "pivot@example.org")
    assert client.get("/").status_code == 302


def test_unsubscribe_asks_on_get_and_acts_on_a_one_click_post(app, sample_here):
    """No account needed. GET changes nothing (a link checker unsubscribes nobody); the
    RFC 8058 POST, without any CSRF token, unsubscribes the address of a genuine link."""
    token = make_token(load_secret(sample_here.paths.donnees), "annie.gaudreau@example.org")
    client = app.test_client()
    page = client.get(f"/desabonnement?t={token}")
    assert page.status_code == 200 and "Me désabonner" in page.text
    assert "annie.gaudreau@example.org" not in unsubscribed(sample_here)
    done = client.post(f"/desabonnement?t={token}", data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "annie.gaudreau@example.org" in done.text
    assert "annie.gaudreau@example.org" in unsubscribed(sample_here)


def test_a_forged_unsubscribe_link_changes_nothing(app, sample_here):
    client = app.test_client()
    answer = client.post("/desabonnement?t=v1.Zm9yZ2Vk.AAAAAAAAAAAAAAAAAAAAAA")
    assert answer.status_code == 400 and "n'est pas valide" in answer.text
    assert unsubscribed(sample_here) == set()


def test_accounts_from_the_command_line(project, monkeypatch, capsys):
    """user add reads INFOLETTRE_PASSWORD; a relecteur needs a known territory; list and
    remove say what they did; a short password is refused."""
    from infolettre.cli import main

    config = ["--config", str(project.config)]
    monkeypatch.setenv("INFOLETTRE_PASSWORD", PASSWORD)
    assert main([*config, "user", "add", "x@example.org", "--role", "relecteur"]) == 2
    assert "territoire" in capsys.readouterr().err
    assert main([*config, "user", "add", "x@example.org", "--role", "relecteur",
                 "--territoire", "nulle-part"]) == 2
    assert "territoire inconnu" in capsys.readouterr().err
    assert main([*config, "user", "add", "x@example.org", "--role", "relecteur",
                 "--territoire", "montmagny"]) == 0
    assert main([*config, "user", "list"]) == 0
    assert "x@example.org (relecteur) — montmagny" in capsys.readouterr().out
    monkeypatch.setenv("INFOLETTRE_PASSWORD", "court")
    assert main([*config, "user", "add", "y@example.org"]) == 2
    assert "trop court" in capsys.readouterr().err
    assert main([*config, "user", "remove", "x@example.org"]) == 0
    assert main([*config, "user", "remove", "x@example.org"]) == 2


def unsubscribed(settings) -> set[str]:
    from contextlib import closing

    from infolettre.state import connect, state_file
    from infolettre.unsubscribe import UnsubscribeStore

    with closing(connect(state_file(settings.paths.donnees))) as conn:
        UnsubscribeStore(conn)
        return {r[0] for r in conn.execute("SELECT courriel FROM desabonnements")}
