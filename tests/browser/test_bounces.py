"""« Adresses suspendues » in chromium: two addresses suspended by bounces, the page with
why, the bounces unfolded, « Réactiver » — checked in the state, each page captured."""

from __future__ import annotations

import re
from contextlib import closing
from datetime import UTC, datetime

from infolettre.clock import FixedClock
from infolettre.state import connect, state_file
from infolettre.state.bounces import BounceRecord, BounceStore

from .conftest import capture, sign_in

RECEIVED = datetime(2026, 12, 2, 4, 30, tzinfo=UTC)
DEAD = "disparue@example.net"
FULL = "pleine@example.org"


def suspend(settings) -> None:
    with closing(connect(state_file(settings.paths.donnees))) as conn:
        store = BounceStore(conn, clock=FixedClock(RECEIVED))
        words = "smtp; 550 5.1.1 <disparue@example.net>: Recipient address rejected: User unknown"
        store.record(BounceRecord(DEAD, "2026-12", "definitif", "<a@mx>", RECEIVED, "5.1.1",
                                  words))
        store.suspend(DEAD, "definitif", "2026-12", words)
        for month in ("2026-10", "2026-11", "2026-12"):
            store.record(BounceRecord(FULL, month, "temporaire", f"<{month}@mx>", RECEIVED,
                                      "4.2.2", "smtp; 452 4.2.2 Mailbox full"))
        store.suspend(FULL, "temporaires", "2026-12", "smtp; 452 4.2.2 Mailbox full")


def test_the_pivot_sees_why_and_reactivates(page, server):
    suspend(server.settings)
    sign_in(page)
    page.wait_for_url("**/")
    page.locator("header nav").get_by_role("link", name="Adresses suspendues").click()
    page.wait_for_url("**/rebonds")
    table = page.locator("table.held").inner_text()
    assert DEAD in table and "rebond définitif" in table and "User unknown" in table
    assert "rebonds temporaires à 3 numéros de suite" in table
    page.get_by_text("3 rebonds").click()  # the bounces unfold (no script: <details>)
    assert "Mailbox full" in page.locator("details[open]").inner_text()
    capture(page, "rebonds")
    page.get_by_role("button", name=re.compile(f"Réactiver {re.escape(FULL)}")).click()
    page.wait_for_url("**/rebonds")
    assert f"{FULL} est réactivée" in page.get_by_role("status").inner_text()
    assert FULL not in page.locator("table.held").inner_text()
    capture(page, "rebonds-apres")
    with closing(connect(state_file(server.settings.paths.donnees))) as conn:
        store = BounceStore(conn)
        assert not store.suspension(FULL).suspended and store.suspension(DEAD).suspended
