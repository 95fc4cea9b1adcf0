"""« Courriels retenus » in chromium: two messages held by a real mail intake run (an
unknown sender, a failed DMARC), the list with why, one message, « Accepter » with the
organization guessed — checked in the file and the journal, each page captured."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from infolettre import pipeline
from infolettre.clock import FixedClock
from infolettre.gather.intake import process_raw
from infolettre.state import connect, state_file

from .conftest import MONTH, capture, sign_in

MAIL = Path(__file__).parent.parent / "data" / "mail"
RECEIVED = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def receive(settings, name: str, replace: dict[bytes, bytes]) -> str:
    raw = (MAIL / f"{name}.eml").read_bytes()
    for old, new in replace.items():
        raw = raw.replace(old, new)
    with connect(state_file(settings.paths.donnees)) as conn:
        result = process_raw(raw, settings, source="test", conn=conn, month=MONTH,
                             received=RECEIVED, clock=FixedClock(RECEIVED))
    return result.path.stem


def test_the_pivot_reads_a_held_message_and_accepts_it(page, server):
    settings = server.settings
    stranger = receive(settings, "unknown_sender", {
        b"Inconnu <quelquun@ailleurs.example.com>":
            b"CDC des Etchemins <benevole@cdc-etchemins.example.org>",
        b"<case@example.org>": b"<stranger@example.org>"})
    receive(settings, "forged_known_dmarc_fail", {
        b"Subject: Ouverture d'un frigo communautaire": b"Subject: Collecte de fonds urgente",
        b"<case@example.org>": b"<forged@example.org>"})
    sign_in(page)
    page.wait_for_url("**/")
    page.locator("header nav").get_by_role("link", name=re.compile("Courriels retenus")).click()
    page.wait_for_url("**/retenus")
    assert "(2)" in page.locator("header nav").inner_text()
    assert "Expéditeur possiblement usurpé" in page.locator("table.held").inner_text()
    capture(page, "retenus")
    page.get_by_role("link", name="Ouverture d'un frigo communautaire").click()
    page.wait_for_url(f"**/retenus/{MONTH}/{stranger}")
    assert "benevole@cdc-etchemins.example.org" in page.locator(".held-sender").inner_text()
    assert page.get_by_label("Organisme", exact=True).input_value() == "CDC des Etchemins"
    assert not page.get_by_label(re.compile("Prévenir l'expéditeur")).is_checked()
    capture(page, "retenu")
    page.get_by_role("button", name="Accepter").click()
    page.wait_for_url("**/retenus")
    assert "est acceptée" in page.get_by_role("status").inner_text()
    text = (settings.paths.contenu / MONTH / f"{stranger}.md").read_text(encoding="utf-8")
    assert "statut: soumis" in text and "organisme: CDC des Etchemins" in text
    [row] = pipeline.review.item_history(settings, MONTH, stranger)
    assert (row.who, row.action) == ("pivot@example.org", "accepte")
    assert "(1)" in page.locator("header nav").inner_text()
    capture(page, "retenus-apres")
