"""« Adresses suspendues » in the review app: the pivot sees why, and reactivates."""

from __future__ import annotations

from contextlib import closing
from datetime import datetime, timezone

import pytest

from infolettre.state import connect, state_file
from infolettre.state.bounces import BounceRecord, BounceStore

from .webfixtures import app, clock, own, signed_in, token_of  # noqa: F401

DEAD = "disparue@example.net"
DIAGNOSTIC = "smtp; 550 5.1.1 <disparue@example.net>: Recipient address rejected: User unknown"


@pytest.fixture
def suspended(own, clock):
    """One address suspended by a hard bounce of December 2026, with its record."""
    with closing(connect(state_file(own.paths.donnees))) as conn:
        store = BounceStore(conn, clock=clock)
        store.record(BounceRecord(DEAD, "2026-12", "definitif", "<dsn-1@mx.example.net>",
                                  datetime(2026, 12, 2, 4, 30, tzinfo=timezone.utc), "5.1.1",
                                  DIAGNOSTIC))
        store.suspend(DEAD, "definitif", "2026-12", DIAGNOSTIC)
    return DEAD


def test_the_pivot_sees_each_suspended_address_with_why(app, suspended):
    page = signed_in(app).get("/rebonds")
    assert page.status_code == 200
    text = page.text
    assert DEAD in text and "rebond définitif" in text
    assert "User unknown" in text and "5.1.1" in text
    assert "décembre 2026" in text and "Réactiver" in text
    assert 'href="/rebonds"' in signed_in(app).get("/").text  # in the pivot's menu


def test_reactivate_lifts_the_suspension_and_says_so(app, own, suspended):
    pivot = signed_in(app)
    token = token_of(pivot.get("/rebonds").text)
    answer = pivot.post("/rebonds/reactiver", data={"adresse": DEAD, "csrf_token": token},
                        follow_redirects=True)
    assert f"{DEAD} est réactivée" in answer.text
    assert "Aucune adresse suspendue." in answer.text
    with closing(connect(state_file(own.paths.donnees))) as conn:
        assert not BounceStore(conn).suspension(DEAD).suspended
    again = pivot.post("/rebonds/reactiver", data={"adresse": DEAD, "csrf_token": token},
                       follow_redirects=True)
    assert "déjà été réactivée" in again.text


def test_a_post_without_the_csrf_token_changes_nothing(app, own, suspended):
    pivot = signed_in(app)
    assert pivot.post("/rebonds/reactiver", data={"adresse": DEAD}).status_code == 400
    with closing(connect(state_file(own.paths.donnees))) as conn:
        assert BounceStore(conn).suspension(DEAD).suspended


def test_the_list_downloads_as_csv(app, suspended):
    answer = signed_in(app).get("/rebonds/adresses-suspendues.csv")
    assert answer.status_code == 200 and "attachment" in answer.headers["Content-Disposition"]
    text = answer.data.decode("utf-8-sig")
    assert DEAD in text and "rebond définitif" in text


def test_a_relecteur_may_not_see_nor_reactivate(app, own, suspended):
    relecteur = signed_in(app, "releve@example.org")
    assert relecteur.get("/rebonds").status_code == 403
    assert relecteur.get("/rebonds/adresses-suspendues.csv").status_code == 403
    assert 'href="/rebonds"' not in relecteur.get("/").text
    with closing(connect(state_file(own.paths.donnees))) as conn:
        assert BounceStore(conn).suspension(DEAD).suspended


def test_without_any_bounce_the_page_says_so(app):
    page = signed_in(app).get("/rebonds").text
    assert "Aucune adresse suspendue." in page
